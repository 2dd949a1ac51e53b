//! Pagination tokens.
//!
//! Events are ordered by a key `(timestamp, seq)`. GetLogEvents' tokens look like AWS's:
//! `f/<56 digits>/s` ("events after this key") and `b/<56 digits>/s` ("events before
//! this key"). FilterLogEvents' token is an opaque encoding of the last key returned;
//! the Describe* tokens encode the last item returned.

use crate::errors::{LogsError, LogsResult};
use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// An event's place in its stream's order.
pub type EventKey = (u64, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Events whose key is greater.
    After(EventKey),
    /// Events whose key is smaller.
    Before(EventKey),
}

fn invalid() -> LogsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into())
}

fn digits(k: EventKey) -> String {
    format!("{:020}{:036}", k.0, k.1)
}

/// FilterLogEvents' `eventId`: 56 digits, unique per event.
pub fn event_id(k: EventKey) -> String {
    digits(k)
}

pub fn forward(k: EventKey) -> String {
    format!("f/{}/s", digits(k))
}

pub fn backward(k: EventKey) -> String {
    format!("b/{}/s", digits(k))
}

/// The key just before `k` (so "after it" includes `k`).
pub fn pred(k: EventKey) -> EventKey {
    match k {
        (0, 0) => (0, 0),
        (t, 0) => (t - 1, u64::MAX),
        (t, s) => (t, s - 1),
    }
}

/// The key just after `k` (so "before it" includes `k`).
pub fn succ(k: EventKey) -> EventKey {
    match k {
        (t, u64::MAX) => (t.saturating_add(1), 0),
        (t, s) => (t, s + 1),
    }
}

/// Reads a GetLogEvents token (`f/…` or `b/…`).
pub fn parse_event_token(token: &str) -> LogsResult<Position> {
    let (dir, rest) = token.split_at_checked(2).ok_or_else(invalid)?;
    let body = rest.strip_suffix("/s").unwrap_or(rest);
    if body.len() != 56 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let ts = body[..20].parse::<u64>().map_err(|_| invalid())?;
    let seq = body[20..].parse::<u64>().map_err(|_| invalid())?;
    match dir {
        "f/" => Ok(Position::After((ts, seq))),
        "b/" => Ok(Position::Before((ts, seq))),
        _ => Err(invalid()),
    }
}

/// FilterLogEvents' token after the event with key `k`.
pub fn filter_token(k: EventKey) -> String {
    B64.encode(format!("e:{}:{}", k.0, k.1))
}

pub fn parse_filter_token(token: &str) -> LogsResult<EventKey> {
    let text = B64.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
    let mut parts = text.strip_prefix("e:").ok_or_else(invalid)?.splitn(2, ':');
    let ts = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
    let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
    Ok((ts, seq))
}

/// A Describe* token after an item whose sort key is `key` and name is `name`.
pub fn item_token(key: u64, name: &str) -> String {
    B64.encode(format!("{key}\n{name}"))
}

pub fn parse_item_token(token: &str) -> LogsResult<(u64, String)> {
    let text = B64.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
    let (key, name) = text.split_once('\n').ok_or_else(invalid)?;
    Ok((key.parse().map_err(|_| invalid())?, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_tokens_round_trip() {
        assert_eq!(parse_event_token(&forward((5, 7))).ok(), Some(Position::After((5, 7))));
        assert_eq!(parse_event_token(&backward((5, 7))).ok(), Some(Position::Before((5, 7))));
        assert!(parse_event_token("x/123").is_err());
        assert_eq!(parse_filter_token(&filter_token((1, 2))).ok(), Some((1, 2)));
        assert_eq!(parse_item_token(&item_token(3, "a/b")).ok(), Some((3, "a/b".to_string())));
        assert!(pred((1, 0)) < (1, 0) && succ((1, 5)) > (1, 5));
    }
}
