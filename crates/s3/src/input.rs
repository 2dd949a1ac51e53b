//! Reading members of a decoded operation input (`serde_json::Value` shaped like the
//! model's input shape).

use crate::errors::{S3Error, S3Result};
use serde_json::Value;

/// A string member, if present.
pub fn opt_str<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A required string member (the router always fills URI labels).
pub fn req_str<'a>(input: &'a Value, name: &str) -> S3Result<&'a str> {
    opt_str(input, name).ok_or_else(|| S3Error::with("InvalidRequest", 400, format!("Missing required parameter {name}"), &[]))
}

/// An ETag as compared: without surrounding quotes (and a weak `W/` prefix).
pub fn bare_etag(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

/// Whether an `If-Match` / `If-None-Match` list (`"a", "b"` or `*`) names `etag`.
pub fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|e| e == "*" || bare_etag(e) == etag)
}
