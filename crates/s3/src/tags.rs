//! Object and bucket tag sets: the `x-amz-tagging` header's URL-encoded form, the
//! `<Tagging><TagSet>` document's decoded value, and S3's limits (10 tags per object,
//! 50 per bucket, keys up to 128 characters, values up to 256, no duplicate keys).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html>

use crate::errors::{S3Error, S3Result};
use serde_json::{json, Value};

pub const OBJECT_TAG_LIMIT: usize = 10;
pub const BUCKET_TAG_LIMIT: usize = 50;

fn invalid_tag(message: &str) -> S3Error {
    S3Error::with("InvalidTag", 400, message, &[])
}

/// `k1=v1&k2=v2` (the `x-amz-tagging` header).
pub fn parse_header(header: &str) -> S3Result<Vec<(String, String)>> {
    let tags: Vec<(String, String)> = form_urlencoded::parse(header.as_bytes()).into_owned().collect();
    validate(&tags, OBJECT_TAG_LIMIT)?;
    Ok(tags)
}

/// The `Tagging` member of a Put*Tagging input.
pub fn from_document(tagging: Option<&Value>, limit: usize) -> S3Result<Vec<(String, String)>> {
    let Some(set) = tagging.and_then(|t| t.get("TagSet")).and_then(Value::as_array) else {
        return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
    };
    let mut tags = Vec::new();
    for t in set {
        let (Some(k), Some(v)) = (t.get("Key").and_then(Value::as_str), t.get("Value").and_then(Value::as_str)) else {
            return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
        };
        tags.push((k.to_string(), v.to_string()));
    }
    validate(&tags, limit)?;
    Ok(tags)
}

pub fn validate(tags: &[(String, String)], limit: usize) -> S3Result<()> {
    if tags.len() > limit {
        return Err(if limit == OBJECT_TAG_LIMIT {
            S3Error::with("BadRequest", 400, "Object tags cannot be greater than 10", &[])
        } else {
            invalid_tag("Bucket tag count cannot be greater than 50")
        });
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if v.chars().count() > 256 {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if k.starts_with("aws:") {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(invalid_tag("Cannot provide multiple Tags with the same key"));
        }
    }
    Ok(())
}

/// The `TagSet` value of a Get*Tagging output.
pub fn to_document(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}
