//! A bucket's lifecycle configuration: PutBucketLifecycleConfiguration's rules parsed and
//! checked as S3 checks them (MalformedXML, InvalidArgument, InvalidRequest), rendered back
//! for GetBucketLifecycleConfiguration, and the arithmetic of expiration: which rules apply
//! to an object (prefix, tags, size), when it expires (S3 adds the days to the creation time
//! and rounds up to the next midnight UTC), and the `x-amz-expiration` header. The timer
//! that acts on it is `lifecycle_timer.rs`. Transitions are stored, not applied (nimbus has
//! one storage class).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html>

use crate::errors::S3Error;
use serde_json::{json, Value};

pub const DAY_MS: u64 = 86_400_000;
const MAX_RULES: usize = 1000;

/// Which objects a rule applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub prefix: String,
    pub tags: Vec<(String, String)>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

impl Filter {
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        key.starts_with(&self.prefix)
            && self.tags.iter().all(|t| tags.contains(t))
            && self.size_greater_than.is_none_or(|n| size > n)
            && self.size_less_than.is_none_or(|n| size < n)
    }
}

/// When current versions expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiration {
    Days(u64),
    /// Epoch milliseconds of a midnight UTC.
    Date(u64),
    ExpiredObjectDeleteMarker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    pub expiration: Option<Expiration>,
    /// `NoncurrentVersionExpiration`: (NoncurrentDays, NewerNoncurrentVersions).
    pub noncurrent: Option<(u64, Option<u64>)>,
    pub abort_multipart_days: Option<u64>,
}

/// The whole configuration: the rules as checked, and the document to answer Get with.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleConfig {
    pub rules: Vec<Rule>,
    /// GetBucketLifecycleConfiguration's `Rules` (IDs filled in).
    pub document: Value,
}

fn malformed() -> S3Error {
    S3Error::other("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
}

fn bad(message: &str, name: &str, value: &str) -> S3Error {
    S3Error::BadArgument { message: message.into(), name: name.into(), value: value.into() }
}

fn invalid_request(message: &str) -> S3Error {
    S3Error::other("InvalidRequest", 400, message)
}

/// A positive whole number of days (`what` names the element in S3's message).
fn positive(v: Option<&Value>, what: &str, action: &str) -> Result<Option<u64>, S3Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n > 0 => Ok(Some(n as u64)),
            _ => Err(bad(&format!("'{what}' for {action} action must be a positive integer"), what, &v.to_string())),
        },
    }
}

/// A `Date` as the codec decodes it (epoch seconds) or as text.
fn date_ms(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|s| *s >= 0.0).map(|s| (s * 1000.0) as u64),
        Value::String(s) => nimbus_core::time::parse_iso8601(s),
        _ => None,
    }
}

fn tag_of(v: &Value) -> Result<(String, String), S3Error> {
    let k = v.get("Key").and_then(Value::as_str).ok_or_else(malformed)?;
    let val = v.get("Value").and_then(Value::as_str).ok_or_else(malformed)?;
    Ok((k.to_string(), val.to_string()))
}

fn size(v: Option<&Value>) -> Result<Option<u64>, S3Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(malformed),
    }
}

fn parse_filter(rule: &Value) -> Result<Filter, S3Error> {
    let (filter, legacy) = (rule.get("Filter"), rule.get("Prefix"));
    match (filter, legacy) {
        (Some(_), Some(_)) | (None, None) => Err(malformed()),
        (None, Some(p)) => Ok(Filter { prefix: p.as_str().ok_or_else(malformed)?.to_string(), ..Default::default() }),
        (Some(f), None) => {
            let present = ["Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"].iter().filter(|m| f.get(**m).is_some()).count();
            if present > 1 {
                return Err(malformed());
            }
            let mut out = Filter {
                prefix: f.get("Prefix").and_then(Value::as_str).unwrap_or_default().to_string(),
                size_greater_than: size(f.get("ObjectSizeGreaterThan"))?,
                size_less_than: size(f.get("ObjectSizeLessThan"))?,
                ..Default::default()
            };
            if let Some(t) = f.get("Tag") {
                out.tags.push(tag_of(t)?);
            }
            if let Some(and) = f.get("And") {
                out.prefix = and.get("Prefix").and_then(Value::as_str).unwrap_or_default().to_string();
                for t in and.get("Tags").and_then(Value::as_array).into_iter().flatten() {
                    out.tags.push(tag_of(t)?);
                }
                out.size_greater_than = size(and.get("ObjectSizeGreaterThan"))?;
                out.size_less_than = size(and.get("ObjectSizeLessThan"))?;
            }
            if let (Some(g), Some(l)) = (out.size_greater_than, out.size_less_than) {
                if g >= l {
                    return Err(bad("ObjectSizeGreaterThan must be less than ObjectSizeLessThan", "ObjectSizeGreaterThan", &g.to_string()));
                }
            }
            Ok(out)
        }
    }
}

fn parse_rule(rule: &Value) -> Result<Rule, S3Error> {
    let id = match rule.get("ID").and_then(Value::as_str) {
        Some(id) if id.len() > 255 => return Err(bad("ID length should not exceed allowed limit of 255", "ID", id)),
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(nimbus_core::ids::uuid())
        }
    };
    let enabled = match rule.get("Status").and_then(Value::as_str) {
        Some("Enabled") => true,
        Some("Disabled") => false,
        _ => return Err(malformed()),
    };
    let filter = parse_filter(rule)?;
    let expiration = match rule.get("Expiration") {
        None => None,
        Some(e) => {
            let days = positive(e.get("Days"), "Days", "Expiration")?;
            let date = e.get("Date").map(|d| date_ms(d).ok_or_else(malformed)).transpose()?;
            let marker = e.get("ExpiredObjectDeleteMarker").and_then(Value::as_bool);
            match (days, date, marker) {
                (Some(d), None, None) => Some(Expiration::Days(d)),
                (None, Some(t), None) => {
                    if t % DAY_MS != 0 {
                        return Err(bad("'Date' must be at midnight GMT", "Date", &nimbus_core::time::iso8601(t)));
                    }
                    Some(Expiration::Date(t))
                }
                (None, None, Some(true)) => {
                    if !filter.tags.is_empty() {
                        return Err(invalid_request("ExpiredObjectDeleteMarker cannot be specified with tags."));
                    }
                    Some(Expiration::ExpiredObjectDeleteMarker)
                }
                (None, None, Some(false)) => None,
                (Some(_) | None, Some(_) | None, Some(_)) => return Err(invalid_request("ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.")),
                _ => return Err(malformed()),
            }
        }
    };
    let noncurrent = match rule.get("NoncurrentVersionExpiration") {
        None => None,
        Some(n) => {
            let days = positive(n.get("NoncurrentDays"), "NoncurrentDays", "NoncurrentVersionExpiration")?.ok_or_else(malformed)?;
            let newer = match n.get("NewerNoncurrentVersions") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_u64() {
                    Some(k) if (1..=100).contains(&k) => Some(k),
                    _ => return Err(bad("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100", "NewerNoncurrentVersions", &v.to_string())),
                },
            };
            Some((days, newer))
        }
    };
    let abort_multipart_days = match rule.get("AbortIncompleteMultipartUpload") {
        None => None,
        Some(a) => {
            let d = positive(a.get("DaysAfterInitiation"), "DaysAfterInitiation", "AbortIncompleteMultipartUpload")?.ok_or_else(malformed)?;
            if !filter.tags.is_empty() || filter.size_greater_than.is_some() || filter.size_less_than.is_some() {
                return Err(invalid_request("AbortIncompleteMultipartUpload cannot be specified with Tags."));
            }
            Some(d)
        }
    };
    let transitions = rule.get("Transitions").and_then(Value::as_array).is_some_and(|a| !a.is_empty())
        || rule.get("NoncurrentVersionTransitions").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if expiration.is_none() && noncurrent.is_none() && abort_multipart_days.is_none() && !transitions && rule.get("Expiration").is_none() {
        return Err(invalid_request("At least one action needs to be specified in a rule"));
    }
    Ok(Rule { id, enabled, filter, expiration, noncurrent, abort_multipart_days })
}

impl LifecycleConfig {
    /// Parses and checks PutBucketLifecycleConfiguration's `LifecycleConfiguration`.
    pub fn parse(doc: Option<&Value>) -> Result<LifecycleConfig, S3Error> {
        let rules_in = doc.and_then(|d| d.get("Rules")).and_then(Value::as_array).ok_or_else(malformed)?;
        if rules_in.is_empty() || rules_in.len() > MAX_RULES {
            return Err(malformed());
        }
        let mut rules = Vec::with_capacity(rules_in.len());
        let mut document = Vec::with_capacity(rules_in.len());
        for r in rules_in {
            let rule = parse_rule(r)?;
            if rules.iter().any(|x: &Rule| x.id == rule.id) {
                return Err(bad("Rule ID must be unique. Found same ID for more than one rule", "ID", &rule.id));
            }
            let mut shown = r.clone();
            shown["ID"] = json!(rule.id);
            document.push(shown);
            rules.push(rule);
        }
        Ok(LifecycleConfig { rules, document: Value::Array(document) })
    }

    /// Reads back a stored configuration (its `Rules` document).
    pub fn from_document(document: &Value) -> Result<LifecycleConfig, S3Error> {
        LifecycleConfig::parse(Some(&json!({ "Rules": document })))
    }

    /// The enabled rules that expire current versions and apply to an object, with its
    /// expiry time: the earliest wins (`x-amz-expiration`, the timer).
    pub fn current_expiry(&self, key: &str, size: u64, tags: &[(String, String)], created_ms: u64) -> Option<(u64, &Rule)> {
        self.rules
            .iter()
            .filter(|r| r.enabled && r.filter.matches(key, size, tags))
            .filter_map(|r| match r.expiration {
                Some(Expiration::Days(d)) => Some((round_up_to_midnight(created_ms + d * DAY_MS), r)),
                Some(Expiration::Date(t)) => Some((t, r)),
                _ => None,
            })
            .min_by_key(|(t, _)| *t)
    }

    /// Whether any rule uses tags (the timer then needs each object's tags).
    pub fn uses_tags(&self) -> bool {
        self.rules.iter().any(|r| !r.filter.tags.is_empty())
    }
}

/// S3 rounds an expiry up to the next midnight UTC (a time already at midnight stays).
pub fn round_up_to_midnight(ms: u64) -> u64 {
    ms.div_ceil(DAY_MS) * DAY_MS
}

/// The midnight UTC after `ms`: the only times at which a rule's action can fall due.
pub fn next_midnight(ms: u64) -> u64 {
    (ms / DAY_MS + 1) * DAY_MS
}

/// `x-amz-expiration: expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`.
pub fn expiration_header(expiry_ms: u64, rule_id: &str) -> String {
    format!("expiry-date=\"{}\", rule-id=\"{}\"", nimbus_core::time::http_date(expiry_ms), rule_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: S3Error) -> (String, String) {
        let a: nimbus_core::AwsError = e.into();
        (a.code.to_string(), a.message)
    }

    fn one(rule: Value) -> Result<LifecycleConfig, S3Error> {
        LifecycleConfig::parse(Some(&json!({ "Rules": [rule] })))
    }

    #[test]
    fn expiry_rounds_up_to_midnight() {
        let c = one(json!({"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1}})).expect("valid");
        // 2023-11-14T22:13:20Z + 1 day → 2023-11-16T00:00:00Z
        let (t, r) = c.current_expiry("logs/a", 1, &[], 1_700_000_000_000).expect("applies");
        assert_eq!(nimbus_core::time::iso8601(t), "2023-11-16T00:00:00Z");
        assert_eq!(r.id, "r");
        assert!(c.current_expiry("other/a", 1, &[], 0).is_none());
        assert_eq!(expiration_header(t, "r"), "expiry-date=\"Thu, 16 Nov 2023 00:00:00 GMT\", rule-id=\"r\"");
        assert_eq!(next_midnight(DAY_MS), 2 * DAY_MS);
        assert_eq!(round_up_to_midnight(DAY_MS), DAY_MS);
    }

    #[test]
    fn filters_by_tags_and_size() {
        let c = one(json!({"ID": "r", "Status": "Enabled", "Filter": {"And": {"Prefix": "a", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 10}}, "Expiration": {"Days": 2}})).expect("valid");
        let tags = vec![("k".to_string(), "v".to_string())];
        assert!(c.current_expiry("ab", 11, &tags, 0).is_some());
        assert!(c.current_expiry("ab", 10, &tags, 0).is_none());
        assert!(c.current_expiry("ab", 11, &[], 0).is_none());
        assert!(c.uses_tags());
    }

    #[test]
    fn bad_rules_answer_s3s_errors() {
        assert_eq!(code(LifecycleConfig::parse(None).unwrap_err()).0, "MalformedXML");
        assert_eq!(code(one(json!({"Status": "On", "Filter": {}, "Expiration": {"Days": 1}})).unwrap_err()).0, "MalformedXML");
        assert_eq!(code(one(json!({"Status": "Enabled", "Expiration": {"Days": 1}})).unwrap_err()).0, "MalformedXML");
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}})).unwrap_err()).0, "MalformedXML");
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}})).unwrap_err()), ("InvalidArgument".into(), "'Days' for Expiration action must be a positive integer".into()));
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {}, "Expiration": {"Date": 1_700_000_000}})).unwrap_err()).1, "'Date' must be at midnight GMT");
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {}})).unwrap_err()), ("InvalidRequest".into(), "At least one action needs to be specified in a rule".into()));
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": true}})).unwrap_err()).0, "InvalidRequest");
        assert_eq!(code(one(json!({"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})).unwrap_err()).0, "InvalidRequest");
        let dup = LifecycleConfig::parse(Some(&json!({"Rules": [
            {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}},
            {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2}}
        ]})));
        assert_eq!(code(dup.unwrap_err()).1, "Rule ID must be unique. Found same ID for more than one rule");
        let ok = one(json!({"Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}, "Expiration": {"ExpiredObjectDeleteMarker": true}})).expect("valid");
        assert_eq!(ok.rules[0].noncurrent, Some((3, Some(2))));
        assert!(!ok.document[0]["ID"].as_str().unwrap_or_default().is_empty());
        let back = LifecycleConfig::from_document(&ok.document).expect("reads back");
        assert_eq!(back.rules, ok.rules);
    }
}
