//! Receipt handles: opaque to clients, they name the queue, the message and which receive
//! issued them (so FIFO queues can tell an expired handle from the current one).

use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub queue: u64,
    pub seq: u64,
    pub nonce: u64,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl Receipt {
    pub fn encode(&self) -> String {
        let salt: u64 = rand::random();
        B64.encode(format!("nimbus1:{}:{}:{}:{salt:016x}", self.queue, self.seq, self.nonce))
    }

    pub fn decode(handle: &str) -> Option<Receipt> {
        let raw = B64.decode(handle.trim()).ok()?;
        let text = std::str::from_utf8(&raw).ok()?;
        let mut parts = text.split(':');
        if parts.next()? != "nimbus1" {
            return None;
        }
        let queue = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        let nonce = parts.next()?.parse().ok()?;
        parts.next()?;
        Some(Receipt { queue, seq, nonce })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let r = Receipt { queue: 3, seq: 99, nonce: 2 };
        let h = r.encode();
        assert_ne!(h, r.encode(), "each handle differs");
        assert_eq!(Receipt::decode(&h), Some(r));
        assert_eq!(Receipt::decode("garbage"), None);
        assert_eq!(Receipt::decode(""), None);
    }
}
