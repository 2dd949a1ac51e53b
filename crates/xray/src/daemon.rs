//! The X-Ray daemon's UDP segment protocol, served by nimbus itself: each datagram is a
//! header line `{"format": "json", "version": 1}`, a newline, and one segment or
//! subsegment document. The X-Ray SDKs and the ADOT/OpenTelemetry X-Ray exporter send
//! there (`AWS_XRAY_DAEMON_ADDRESS`); documents go through the same checks and recorder
//! as PutTraceSegments. Nothing is answered (UDP).
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-daemon>

use crate::recorder::Recorder;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// The largest datagram read (the SDKs keep theirs under 64 kB).
const MAX_DATAGRAM: usize = 65_535;

/// Splits a datagram into its header and document, checking the header.
pub fn split(datagram: &[u8]) -> Option<&[u8]> {
    let nl = datagram.iter().position(|b| *b == b'\n')?;
    let header: Value = serde_json::from_slice(&datagram[..nl]).ok()?;
    if header.get("format").and_then(Value::as_str) != Some("json") || header.get("version").and_then(Value::as_i64) != Some(1) {
        return None;
    }
    Some(&datagram[nl + 1..])
}

/// Binds `addr` and serves it in the background; returns the bound address (a port of 0
/// picks one).
pub async fn start(addr: SocketAddr, recorder: Arc<Recorder>) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind(addr).await?;
    let local = socket.local_addr()?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let n = match socket.recv_from(&mut buf).await {
                Ok((n, _)) => n,
                Err(e) => {
                    tracing::debug!(error = %e, "X-Ray daemon: receive failed");
                    continue;
                }
            };
            match split(&buf[..n]).map(serde_json::from_slice::<Value>) {
                Some(Ok(doc)) => recorder.offer_value(doc),
                _ => {
                    recorder.invalid.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!("X-Ray daemon: a datagram without the JSON header or document was dropped");
                }
            }
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_header_line() {
        assert_eq!(split(b"{\"format\": \"json\", \"version\": 1}\n{\"a\":1}"), Some(&b"{\"a\":1}"[..]));
        assert_eq!(split(b"{\"format\": \"xml\", \"version\": 1}\n{}"), None);
        assert_eq!(split(b"{\"a\":1}"), None);
    }
}
