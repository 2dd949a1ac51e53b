//! HTTP body compression: request bodies sent with `Content-Encoding: gzip` or `deflate`
//! (the SDKs' request-compression feature,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html>) are
//! inflated before decoding, and a service that compresses responses (DynamoDB) gets
//! them gzip- or deflate-encoded when the client's `Accept-Encoding` allows it and the
//! body is at least 4 KB, DynamoDB's threshold. The choice among the client's encodings
//! follows DynamoDB's: highest q-value wins, an encoding named explicitly beats `*`, and
//! among equals the one listed first (`*` alone means gzip).

use std::io::{Read, Write};

/// Responses this large (bytes) or larger are compressed when the client accepts it.
pub const RESPONSE_THRESHOLD: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gzip,
    /// zlib-wrapped deflate, as HTTP's `deflate` means.
    Deflate,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported Content-Encoding: {0}")]
    Unsupported(String),
    #[error("request body is not valid {0} data")]
    Corrupt(&'static str),
    #[error("decompressed request body is too large")]
    TooLarge,
}

/// The request body with every `Content-Encoding` (applied in order) undone; `identity`
/// and an absent header leave it as is. The result may not exceed `max` bytes.
pub fn decode_request(content_encoding: Option<&str>, body: bytes::Bytes, max: usize) -> Result<bytes::Bytes, DecodeError> {
    let Some(header) = content_encoding else { return Ok(body) };
    let mut body = body;
    // Encodings are listed in the order they were applied; undo them last first.
    let codings: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect();
    for coding in codings.iter().rev() {
        body = match coding.as_str() {
            "identity" => body,
            // The SDKs append `aws-chunked` for streaming uploads; bodies here are whole.
            "aws-chunked" => body,
            "gzip" | "x-gzip" => inflate(flate2::read::GzDecoder::new(&body[..]), max, "gzip")?,
            "deflate" => inflate(flate2::read::ZlibDecoder::new(&body[..]), max, "deflate")?,
            other => return Err(DecodeError::Unsupported(other.to_string())),
        };
    }
    Ok(body)
}

fn inflate(reader: impl Read, max: usize, what: &'static str) -> Result<bytes::Bytes, DecodeError> {
    let mut out = Vec::new();
    let read = reader.take(max as u64 + 1).read_to_end(&mut out).map_err(|_| DecodeError::Corrupt(what))?;
    if read > max {
        return Err(DecodeError::TooLarge);
    }
    Ok(bytes::Bytes::from(out))
}

/// Compresses a response body.
pub fn encode(enc: Encoding, body: &[u8]) -> Vec<u8> {
    let level = flate2::Compression::default();
    let result = match enc {
        Encoding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
            w.write_all(body).and_then(|_| w.finish())
        }
        Encoding::Deflate => {
            let mut w = flate2::write::ZlibEncoder::new(Vec::with_capacity(body.len() / 4), level);
            w.write_all(body).and_then(|_| w.finish())
        }
    };
    // Writing to a Vec cannot fail.
    result.unwrap_or_default()
}

/// One `Accept-Encoding` entry: coding name and q-value (the first `q` parameter; an
/// unreadable one counts as 1, above 1 as 1, below 0 as 0).
fn parse_entry(entry: &str) -> Option<(String, f64)> {
    let mut parts = entry.split(';');
    let name = parts.next()?.trim().to_ascii_lowercase();
    let is_token = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if !is_token {
        return None;
    }
    let mut q = 1.0;
    for p in parts {
        let Some((k, v)) = p.split_once('=') else { continue };
        if k.trim().eq_ignore_ascii_case("q") {
            q = v.trim().parse::<f64>().unwrap_or(1.0).clamp(0.0, 1.0);
            break;
        }
    }
    Some((name, q))
}

/// The encoding to answer with, if any, for a request's `Accept-Encoding`.
pub fn choose(accept_encoding: &str) -> Option<Encoding> {
    let entries: Vec<(String, f64)> = accept_encoding.split(',').filter_map(parse_entry).collect();
    let star = entries.iter().filter(|(n, _)| n == "*").map(|(_, q)| *q).fold(None, |a: Option<f64>, q| Some(a.map_or(q, |a| a.max(q))));
    // (q, explicitly named, position) per supported encoding.
    let rank = |name: &str| -> Option<(f64, bool, usize)> {
        let explicit = entries.iter().enumerate().filter(|(_, (n, _))| n == name).map(|(i, (_, q))| (*q, i)).fold(None, |a: Option<(f64, usize)>, (q, i)| {
            Some(match a {
                Some((aq, ai)) if aq >= q => (aq, ai),
                _ => (q, i),
            })
        });
        match (explicit, star) {
            (Some((q, i)), _) => Some((q, true, i)),
            (None, Some(q)) => Some((q, false, usize::MAX)),
            (None, None) => None,
        }
    };
    let mut best: Option<(Encoding, (f64, bool, usize))> = None;
    for enc in [Encoding::Gzip, Encoding::Deflate] {
        let Some(r) = rank(enc.name()).filter(|r| r.0 > 0.0) else { continue };
        let better = match &best {
            None => true,
            Some((_, b)) => r.0 > b.0 || (r.0 == b.0 && r.1 && !b.1) || (r.0 == b.0 && r.1 == b.1 && r.2 < b.2),
        };
        if better {
            best = Some((enc, r));
        }
    }
    best.map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases DynamoDB was observed to answer (ScyllaDB's Alternator test suite records them).
    #[test]
    fn chooses_as_dynamodb_does() {
        let cases: [(&str, Option<Encoding>); 22] = [
            ("identity", None),
            ("", None),
            ("br", None),
            ("x-gzip", None),
            ("gzip, deflate", Some(Encoding::Gzip)),
            ("br, identity, deflate, gzip", Some(Encoding::Deflate)),
            ("GZIP, identity", Some(Encoding::Gzip)),
            ("dog, gzip ,, cat", Some(Encoding::Gzip)),
            ("gzip;q=0.8, deflate;q=0.5", Some(Encoding::Gzip)),
            ("br, gzip;q=0, deflate; q = 0.5 , identity;q=0", Some(Encoding::Deflate)),
            ("*", Some(Encoding::Gzip)),
            ("*, deflate;q=0.5", Some(Encoding::Gzip)),
            ("*, deflate", Some(Encoding::Deflate)),
            ("*, gzip;q=0.5", Some(Encoding::Deflate)),
            ("gzip ;q=0", None),
            ("*;q=0", None),
            ("\"gzip\"", None),
            ("gzip br", None),
            ("deflate;q=0.5, gzip;q=1;q=0.2", Some(Encoding::Gzip)),
            ("deflate;q=-0.5,gzip;q=0.2", Some(Encoding::Gzip)),
            ("gzip;q=0, gzip;q=1, gzip;q=0", Some(Encoding::Gzip)),
            ("br,identity;q=0.5,gzip;q=0.0001", Some(Encoding::Gzip)),
        ];
        for (header, want) in cases {
            assert_eq!(choose(header), want, "{header:?}");
        }
    }

    #[test]
    fn round_trips_and_bounds_requests() {
        let body = b"{\"TableName\":\"t\"}".repeat(100);
        for enc in [Encoding::Gzip, Encoding::Deflate] {
            let packed = bytes::Bytes::from(encode(enc, &body));
            assert_eq!(&decode_request(Some(enc.name()), packed.clone(), 1 << 20).unwrap()[..], &body[..]);
            assert!(matches!(decode_request(Some(enc.name()), packed, 100), Err(DecodeError::TooLarge)));
        }
        assert!(matches!(decode_request(Some("gzip"), bytes::Bytes::from_static(b"nope"), 100), Err(DecodeError::Corrupt(_))));
        assert!(matches!(decode_request(Some("br"), bytes::Bytes::from_static(b"x"), 100), Err(DecodeError::Unsupported(_))));
    }
}
