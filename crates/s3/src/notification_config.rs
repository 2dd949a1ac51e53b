//! A bucket's NotificationConfiguration: parsed from PutBucketNotificationConfiguration's
//! decoded input, checked as S3 checks it (event names, filter rules, ARNs, overlapping
//! configurations), rendered back for GetBucketNotificationConfiguration, and matched
//! against an object event. Whether each destination exists is asked of the destination
//! services by `notify.rs`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html>

use crate::errors::S3Error;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The event types a configuration may name.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html>
pub const EVENT_TYPES: &[&str] = &[
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
];

/// Where a configuration's events go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    Queue(String),
    Topic(String),
    Function(String),
}

impl Destination {
    pub fn arn(&self) -> &str {
        match self {
            Destination::Queue(a) | Destination::Topic(a) | Destination::Function(a) => a,
        }
    }

    /// The ARN member of the configuration (`QueueArn`, …), as errors name it.
    fn member(&self) -> &'static str {
        match self {
            Destination::Queue(_) => "QueueArn",
            Destination::Topic(_) => "TopicArn",
            Destination::Function(_) => "LambdaFunctionArn",
        }
    }

    fn service(&self) -> &'static str {
        match self {
            Destination::Queue(_) => "sqs",
            Destination::Topic(_) => "sns",
            Destination::Function(_) => "lambda",
        }
    }
}

/// One Queue/Topic/LambdaFunction configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub destination: Destination,
    /// As given (`s3:ObjectCreated:*`, …).
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl Target {
    /// Whether an event (`ObjectCreated:Put`, without `s3:`) on `key` goes to this target.
    pub fn matches(&self, event_name: &str, key: &str) -> bool {
        self.events.iter().any(|e| event_matches(e, event_name))
            && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }
}

/// `s3:ObjectCreated:*` matches `ObjectCreated:Put`; an exact name matches itself.
pub fn event_matches(configured: &str, event_name: &str) -> bool {
    let configured = configured.strip_prefix("s3:").unwrap_or(configured);
    match configured.strip_suffix('*') {
        Some(family) => event_name.starts_with(family),
        None => configured == event_name,
    }
}

/// A bucket's whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationConfig {
    pub targets: Vec<Target>,
    /// `EventBridgeConfiguration` present: every event also goes to the default bus.
    pub event_bridge: bool,
}

fn invalid_argument(message: &str, name: &str, value: &str) -> S3Error {
    S3Error::BadArgument { message: message.to_string(), name: name.to_string(), value: value.to_string() }
}

fn malformed() -> S3Error {
    S3Error::other("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// A generated `Id`: S3 answers a base64 string for a configuration sent without one.
fn generated_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(nimbus_core::ids::uuid())
}

impl NotificationConfig {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && !self.event_bridge
    }

    /// Parses and checks PutBucketNotificationConfiguration's `NotificationConfiguration`.
    pub fn parse(doc: &Value) -> Result<NotificationConfig, S3Error> {
        let mut config = NotificationConfig { targets: Vec::new(), event_bridge: doc.get("EventBridgeConfiguration").is_some() };
        for (list, arn_member, make) in [
            ("QueueConfigurations", "QueueArn", Destination::Queue as fn(String) -> Destination),
            ("TopicConfigurations", "TopicArn", Destination::Topic),
            ("LambdaFunctionConfigurations", "LambdaFunctionArn", Destination::Function),
        ] {
            let Some(items) = doc.get(list) else { continue };
            let items = items.as_array().ok_or_else(malformed)?;
            for item in items {
                config.targets.push(parse_target(item, arn_member, make)?);
            }
        }
        check_overlaps(&config.targets)?;
        Ok(config)
    }

    /// GetBucketNotificationConfiguration's output.
    pub fn render(&self) -> Value {
        let mut out = serde_json::Map::new();
        for t in &self.targets {
            let (list, member) = match t.destination {
                Destination::Queue(_) => ("QueueConfigurations", "QueueArn"),
                Destination::Topic(_) => ("TopicConfigurations", "TopicArn"),
                Destination::Function(_) => ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
            };
            let mut item = json!({ "Id": t.id, member: t.destination.arn(), "Events": t.events });
            let mut rules = Vec::new();
            if let Some(p) = &t.prefix {
                rules.push(json!({ "Name": "Prefix", "Value": p }));
            }
            if let Some(s) = &t.suffix {
                rules.push(json!({ "Name": "Suffix", "Value": s }));
            }
            if !rules.is_empty() {
                item["Filter"] = json!({ "Key": { "FilterRules": rules } });
            }
            if let Some(a) = out.entry(list).or_insert_with(|| json!([])).as_array_mut() {
                a.push(item);
            }
        }
        if self.event_bridge {
            out.insert("EventBridgeConfiguration".into(), json!({}));
        }
        Value::Object(out)
    }
}

fn parse_target(item: &Value, arn_member: &str, make: fn(String) -> Destination) -> Result<Target, S3Error> {
    let arn = item.get(arn_member).and_then(Value::as_str).ok_or_else(malformed)?;
    let destination = make(arn.to_string());
    check_arn(&destination)?;
    let events: Vec<String> = match item.get("Events") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().map(|e| e.as_str().map(str::to_string).ok_or_else(malformed)).collect::<Result<_, _>>()?,
        _ => return Err(malformed()),
    };
    for e in &events {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(invalid_argument("The event is not supported for notifications", "Event", e));
        }
    }
    let (mut prefix, mut suffix) = (None, None);
    let rules = item.pointer("/Filter/Key/FilterRules").and_then(Value::as_array).cloned().unwrap_or_default();
    for rule in &rules {
        let name = rule.get("Name").and_then(Value::as_str).unwrap_or_default();
        let value = rule.get("Value").and_then(Value::as_str).unwrap_or_default();
        let slot = match name.to_ascii_lowercase().as_str() {
            "prefix" => &mut prefix,
            "suffix" => &mut suffix,
            _ => return Err(invalid_argument("filter rule name must be either prefix or suffix", "FilterRule", name)),
        };
        if slot.is_some() {
            return Err(invalid_argument(&format!("Cannot specify more than one {} rule in a filter.", name.to_ascii_lowercase()), "FilterRule", name));
        }
        if value.is_empty() {
            // S3 keeps no rule for an empty value.
            continue;
        }
        *slot = Some(value.to_string());
    }
    let id = item.get("Id").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).unwrap_or_else(generated_id);
    Ok(Target { id, destination, events, prefix, suffix })
}

/// `arn:aws:<service>:<region>:<account>:<name>` (a function ARN may carry a qualifier).
fn check_arn(d: &Destination) -> Result<(), S3Error> {
    let parts: Vec<&str> = d.arn().split(':').collect();
    let well_formed = match (d, parts.as_slice()) {
        (Destination::Function(_), ["arn", partition, "lambda", region, account, "function", name, ..]) => {
            partition.starts_with("aws") && !region.is_empty() && account.len() == 12 && !name.is_empty() && parts.len() <= 8
        }
        (Destination::Queue(_) | Destination::Topic(_), ["arn", partition, service, region, account, name]) => {
            partition.starts_with("aws") && *service == d.service() && !region.is_empty() && account.len() == 12 && !name.is_empty()
        }
        _ => false,
    };
    if well_formed {
        Ok(())
    } else {
        Err(invalid_argument("The ARN is not well formed", d.member(), d.arn()))
    }
}

/// Two configurations may not both take one event of one key: S3 refuses configurations
/// sharing an event type whose prefixes and suffixes overlap (one a prefix / suffix of the
/// other, or absent).
fn check_overlaps(targets: &[Target]) -> Result<(), S3Error> {
    for (i, a) in targets.iter().enumerate() {
        for b in &targets[i + 1..] {
            let Some((ea, eb)) = a.events.iter().flat_map(|x| b.events.iter().map(move |y| (x, y))).find(|(x, y)| events_overlap(x, y)) else { continue };
            if a.prefix.is_none() && a.suffix.is_none() && b.prefix.is_none() && b.suffix.is_none() {
                return Err(invalid_argument("Configurations overlap. Configurations on the same bucket cannot share a common event type.", "Event", &format!("{ea}, {eb}")));
            }
            let prefixes = overlap(a.prefix.as_deref(), b.prefix.as_deref(), |x, y| x.starts_with(y) || y.starts_with(x));
            let suffixes = overlap(a.suffix.as_deref(), b.suffix.as_deref(), |x, y| x.ends_with(y) || y.ends_with(x));
            if prefixes && suffixes {
                return Err(invalid_argument(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.",
                    "Event",
                    &format!("{ea}, {eb}"),
                ));
            }
        }
    }
    Ok(())
}

fn overlap(a: Option<&str>, b: Option<&str>, f: impl Fn(&str, &str) -> bool) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => f(x, y),
        _ => true,
    }
}

/// Whether two configured event types share an event (`s3:ObjectCreated:*` and
/// `s3:ObjectCreated:Put` do).
fn events_overlap(a: &str, b: &str) -> bool {
    let family = |e: &str| e.strip_suffix('*').map(str::to_string);
    match (family(a), family(b)) {
        (Some(fa), Some(fb)) => fa.starts_with(&fb) || fb.starts_with(&fa),
        (Some(fa), None) => b.starts_with(&fa),
        (None, Some(fb)) => a.starts_with(&fb),
        (None, None) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(arn: &str, events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Value {
        let mut rules = Vec::new();
        if let Some(p) = prefix {
            rules.push(json!({"Name": "prefix", "Value": p}));
        }
        if let Some(s) = suffix {
            rules.push(json!({"Name": "Suffix", "Value": s}));
        }
        json!({"QueueArn": arn, "Events": events, "Filter": {"Key": {"FilterRules": rules}}})
    }

    const Q: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    fn code_of(e: S3Error) -> (String, String) {
        let a: nimbus_core::AwsError = e.into();
        (a.code.to_string(), a.message)
    }

    #[test]
    fn parses_renders_and_matches() {
        let doc = json!({
            "QueueConfigurations": [q(Q, &["s3:ObjectCreated:*"], Some("in/"), Some(".jpg"))],
            "LambdaFunctionConfigurations": [{"Id": "fn", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f", "Events": ["s3:ObjectRemoved:Delete"]}],
            "EventBridgeConfiguration": {}
        });
        let c = NotificationConfig::parse(&doc).expect("valid");
        assert!(c.event_bridge);
        assert_eq!(c.targets.len(), 2);
        assert!(c.targets[0].matches("ObjectCreated:Put", "in/a.jpg"));
        assert!(!c.targets[0].matches("ObjectCreated:Put", "out/a.jpg"));
        assert!(!c.targets[0].matches("ObjectCreated:Put", "in/a.png"));
        assert!(!c.targets[0].matches("ObjectRemoved:Delete", "in/a.jpg"));
        assert!(c.targets[1].matches("ObjectRemoved:Delete", "x"));
        assert!(!c.targets[1].matches("ObjectRemoved:DeleteMarkerCreated", "x"));
        let r = c.render();
        assert_eq!(r["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"], json!([{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".jpg"}]));
        assert_eq!(r["LambdaFunctionConfigurations"][0]["Id"], "fn");
        assert_eq!(r["EventBridgeConfiguration"], json!({}));
        assert!(!r["QueueConfigurations"][0]["Id"].as_str().unwrap_or_default().is_empty());
        let back = NotificationConfig::parse(&r).expect("round trip");
        assert_eq!(back.targets[1], c.targets[1]);
    }

    #[test]
    fn bad_configurations_answer_s3s_errors() {
        let bad_event = json!({"QueueConfigurations": [q(Q, &["s3:ObjectCreated:Foo"], None, None)]});
        assert_eq!(code_of(NotificationConfig::parse(&bad_event).unwrap_err()), ("InvalidArgument".into(), "The event is not supported for notifications".into()));
        let bad_arn = json!({"QueueConfigurations": [q("arn:aws:sns:us-east-1:000000000000:t", &["s3:ObjectCreated:*"], None, None)]});
        assert_eq!(code_of(NotificationConfig::parse(&bad_arn).unwrap_err()).1, "The ARN is not well formed");
        let same = json!({"QueueConfigurations": [q(Q, &["s3:ObjectCreated:*"], None, None), q(Q, &["s3:ObjectCreated:Put"], None, None)]});
        assert!(code_of(NotificationConfig::parse(&same).unwrap_err()).1.starts_with("Configurations overlap."));
        let ambiguous = json!({"QueueConfigurations": [q(Q, &["s3:ObjectCreated:*"], Some("a/"), None), q(Q, &["s3:ObjectCreated:Put"], Some("a/b"), None)]});
        assert!(code_of(NotificationConfig::parse(&ambiguous).unwrap_err()).1.starts_with("Configuration is ambiguously defined."));
        let disjoint = json!({"QueueConfigurations": [q(Q, &["s3:ObjectCreated:*"], Some("a/"), None), q(Q, &["s3:ObjectCreated:*"], Some("b/"), None), q(Q, &["s3:ObjectRemoved:*"], None, None)]});
        assert!(NotificationConfig::parse(&disjoint).is_ok());
        let suffixes = json!({"QueueConfigurations": [q(Q, &["s3:ObjectCreated:*"], None, Some(".jpg")), q(Q, &["s3:ObjectCreated:*"], None, Some(".png"))]});
        assert!(NotificationConfig::parse(&suffixes).is_ok());
        let two_prefixes = json!({"QueueConfigurations": [{"QueueArn": Q, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "Prefix", "Value": "b"}]}}}]});
        assert!(code_of(NotificationConfig::parse(&two_prefixes).unwrap_err()).1.starts_with("Cannot specify more than one prefix rule"));
        let bad_rule = json!({"QueueConfigurations": [{"QueueArn": Q, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "a"}]}}}]});
        assert_eq!(code_of(NotificationConfig::parse(&bad_rule).unwrap_err()).0, "InvalidArgument");
        assert!(NotificationConfig::parse(&json!({})).expect("empty").is_empty());
    }
}
