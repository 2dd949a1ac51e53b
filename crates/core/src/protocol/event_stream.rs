//! The AWS event stream framing (`application/vnd.amazon.eventstream`) for responses that
//! are a stream of events (Kinesis SubscribeToShard): each message is a prelude (total and
//! header lengths, their CRC32), typed headers (`:message-type`, `:event-type` or
//! `:exception-type`, `:content-type`), the payload, and a CRC32 of it all.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html> (the format)
//!
//! [`channel`] gives a service a sender of messages and the response body that carries
//! them out as they are sent; the body ends when the sender is dropped.

use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::Frame;
use std::pin::Pin;
use std::task::{Context, Poll};

pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// One message with string headers.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut head = BytesMut::new();
    for (name, value) in headers {
        head.put_u8(name.len() as u8);
        head.put_slice(name.as_bytes());
        // Value type 7: a string, with a 2-byte length.
        head.put_u8(7);
        head.put_u16(value.len() as u16);
        head.put_slice(value.as_bytes());
    }
    let total = 12 + head.len() + payload.len() + 4;
    let mut out = BytesMut::with_capacity(total);
    out.put_u32(total as u32);
    out.put_u32(head.len() as u32);
    let prelude_crc = crc32fast::hash(&out[..8]);
    out.put_u32(prelude_crc);
    out.put_slice(&head);
    out.put_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.put_u32(message_crc);
    out.freeze()
}

/// An event of the operation's event stream (`:event-type` is the member's name, or
/// `initial-response` for the operation's other output members) with a JSON payload.
pub fn event(event_type: &str, payload: &[u8]) -> Bytes {
    message(&[(":message-type", "event"), (":event-type", event_type), (":content-type", "application/json")], payload)
}

/// A modelled error ending the stream (`ResourceNotFoundException`, …), payload `{"message": …}`.
pub fn exception(exception_type: &str, message_text: &str) -> Bytes {
    let payload = serde_json::json!({ "message": message_text }).to_string();
    message(&[(":message-type", "exception"), (":exception-type", exception_type), (":content-type", "application/json")], payload.as_bytes())
}

/// A response body fed by a channel of encoded messages.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

/// A sender of messages and the body that streams them (`capacity` messages buffered).
pub fn channel(capacity: usize) -> (tokio::sync::mpsc::Sender<Bytes>, crate::service::BodyStream) {
    use http_body_util::BodyExt;
    let (tx, rx) = tokio::sync::mpsc::channel(capacity);
    (tx, ChannelBody(rx).boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_framed_with_lengths_and_checksums() {
        let m = message(&[(":message-type", "event")], b"{}");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        assert_eq!(headers, 1 + 13 + 1 + 2 + 5);
        assert_eq!(u32::from_be_bytes(m[8..12].try_into().unwrap()), crc32fast::hash(&m[..8]));
        assert_eq!(&m[12 + headers..total - 4], b"{}");
        assert_eq!(u32::from_be_bytes(m[total - 4..].try_into().unwrap()), crc32fast::hash(&m[..total - 4]));
    }
}
