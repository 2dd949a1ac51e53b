//! Browser CORS against a bucket's `CORSConfiguration`: the first rule whose origin,
//! method and requested headers all match decides the headers of the answer; a preflight
//! no rule allows is refused with S3's `AccessForbidden`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>

use nimbus_core::AwsError;
use serde_json::Value;

/// S3's answer to a preflight no rule allows (the typo is AWS's).
const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// A preflight or request to a bucket without a CORS configuration.
pub fn not_enabled(method: &str, resource_type: &str) -> AwsError {
    forbidden("CORSResponse: CORS is not enabled for this bucket.", method, resource_type)
}

fn forbidden(message: &str, method: &str, resource_type: &str) -> AwsError {
    let mut e = AwsError::new("AccessForbidden", 403, message);
    e.members.insert("Method".into(), method.into());
    e.members.insert("ResourceType".into(), resource_type.into());
    e
}

/// `*` at most once in a pattern, matching any run of characters; case-insensitive when `fold`.
fn wildcard(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t) = if fold { (pattern.to_ascii_lowercase(), text.to_ascii_lowercase()) } else { (pattern.to_string(), text.to_string()) };
    match p.split_once('*') {
        None => p == t,
        Some((head, tail)) => t.len() >= head.len() + tail.len() && t.starts_with(head) && t.ends_with(tail),
    }
}

fn strings<'a>(rule: &'a Value, member: &str) -> impl Iterator<Item = &'a str> {
    rule.get(member).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// The headers for a request from `origin` asking for `method` and `asked` headers (lower
/// case), by the first matching rule of `CORSRules`; `Err` when none matches.
pub fn evaluate(config: &Value, origin: &str, method: &str, asked: &[String], resource_type: &str) -> Result<Vec<(String, String)>, AwsError> {
    let rules = config.get("CORSRules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for rule in rules {
        let Some(allowed_origin) = strings(rule, "AllowedOrigins").find(|o| wildcard(o, origin, false)) else { continue };
        if !strings(rule, "AllowedMethods").any(|m| m == method) {
            continue;
        }
        if !asked.iter().all(|h| strings(rule, "AllowedHeaders").any(|a| wildcard(a, h, true))) {
            continue;
        }
        let mut out = Vec::new();
        if allowed_origin == "*" {
            out.push(("Access-Control-Allow-Origin".to_string(), "*".to_string()));
        } else {
            out.push(("Access-Control-Allow-Origin".to_string(), origin.to_string()));
            out.push(("Access-Control-Allow-Credentials".to_string(), "true".to_string()));
        }
        out.push(("Access-Control-Allow-Methods".to_string(), strings(rule, "AllowedMethods").collect::<Vec<_>>().join(", ")));
        if !asked.is_empty() {
            out.push(("Access-Control-Allow-Headers".to_string(), asked.join(", ")));
        }
        let expose: Vec<&str> = strings(rule, "ExposeHeaders").collect();
        if !expose.is_empty() {
            out.push(("Access-Control-Expose-Headers".to_string(), expose.join(", ")));
        }
        if let Some(age) = rule.get("MaxAgeSeconds").and_then(Value::as_i64) {
            out.push(("Access-Control-Max-Age".to_string(), age.to_string()));
        }
        out.push(("Vary".to_string(), "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_string()));
        return Ok(out);
    }
    Err(forbidden(NOT_ALLOWED, method, resource_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Value {
        json!({"CORSRules": [
            {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["x-amz-*", "Content-Type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
        ]})
    }

    #[test]
    fn the_first_matching_rule_answers() {
        let h = evaluate(&config(), "https://app.example.com", "PUT", &["content-type".into(), "x-amz-date".into()], "OBJECT").expect("allowed");
        assert!(h.contains(&("Access-Control-Allow-Origin".into(), "https://app.example.com".into())));
        assert!(h.contains(&("Access-Control-Allow-Methods".into(), "GET, PUT".into())));
        assert!(h.contains(&("Access-Control-Allow-Headers".into(), "content-type, x-amz-date".into())));
        assert!(h.contains(&("Access-Control-Expose-Headers".into(), "ETag".into())));
        assert!(h.contains(&("Access-Control-Max-Age".into(), "300".into())));
        let any = evaluate(&config(), "https://other.org", "GET", &[], "OBJECT").expect("second rule");
        assert!(any.contains(&("Access-Control-Allow-Origin".into(), "*".into())));
    }

    #[test]
    fn what_no_rule_allows_is_refused() {
        let e = evaluate(&config(), "https://other.org", "PUT", &[], "OBJECT").expect_err("no PUT for others");
        assert_eq!((e.code.as_ref(), e.status), ("AccessForbidden", 403));
        assert!(evaluate(&config(), "https://app.example.com", "PUT", &["authorization-x".into()], "OBJECT").is_err());
        assert!(evaluate(&json!({}), "https://a", "GET", &[], "BUCKET").is_err());
    }
}
