//! Where functions send X-Ray segments: the address of nimbus's X-Ray daemon socket (UDP)
//! and of the endpoint that answers the SDKs' sampling calls (nimbus's own port, TCP),
//! which a function's environment gets as `AWS_XRAY_DAEMON_ADDRESS`
//! (`udp:127.0.0.1:2000 tcp:127.0.0.1:4566`). The binary sets it once, after binding the
//! daemon socket; `None` when the daemon is off.
//! <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>

use crate::service::LambdaService;
use std::net::SocketAddr;
use std::sync::OnceLock;

/// One per process, as the daemon socket is (set by the binary).
static DAEMON: OnceLock<(SocketAddr, SocketAddr)> = OnceLock::new();

impl LambdaService {
    /// The daemon's UDP address and nimbus's TCP address (sampling rules and targets).
    pub fn set_xray_daemon_address(&self, udp: SocketAddr, tcp: SocketAddr) {
        let _ = DAEMON.set((udp, tcp));
    }

    /// `AWS_XRAY_DAEMON_ADDRESS`'s value for functions: `udp:<addr> tcp:<addr>`, or
    /// `None` when the daemon is off.
    pub fn xray_daemon_address(&self) -> Option<String> {
        address()
    }
}

/// The daemon's UDP address (`_AWS_XRAY_DAEMON_ADDRESS` / `_AWS_XRAY_DAEMON_PORT`).
pub fn udp() -> Option<SocketAddr> {
    DAEMON.get().map(|(udp, _)| *udp)
}

/// The same, for code without the service at hand (environment setup).
pub fn address() -> Option<String> {
    DAEMON.get().map(|(udp, tcp)| format!("udp:{udp} tcp:{tcp}"))
}
