//! Publish and PublishBatch: the checks (target, size, Subject, MessageStructure,
//! MessageAttributes, FIFO group and deduplication), the fan-out to the topic's confirmed
//! subscriptions whose filter policy matches, and the durable hand-off to the delivery
//! worker before the call answers.
//! https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
//! https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html

use crate::arns;
use crate::delivery::Delivery;
use crate::envelope::{self, Notification};
use crate::errors::{SnsError, SnsResult};
use crate::message_attrs::{self, Attributes};
use crate::registry::{Subscription, Topic};
use crate::service::{required, Call, Sns};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};

/// 256 KB: a message with its attributes, and a whole batch.
pub const MAX_SIZE: usize = 262_144;
const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

/// One message to publish, as Publish or a PublishBatch entry gives it.
pub struct Entry {
    pub message: String,
    pub subject: Option<String>,
    pub structure: Option<String>,
    pub attributes: Attributes,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    /// The publisher's trace header, carried by every delivery.
    pub trace: Option<String>,
}

impl Entry {
    pub fn read(input: &Value) -> SnsResult<Entry> {
        let text = |n: &str| input.get(n).and_then(Value::as_str).map(str::to_string);
        Ok(Entry {
            message: text("Message").unwrap_or_default(),
            subject: text("Subject"),
            structure: text("MessageStructure"),
            attributes: message_attrs::parse(input.get("MessageAttributes"))?,
            group_id: text("MessageGroupId"),
            dedup_id: text("MessageDeduplicationId"),
            trace: None,
        })
    }

    pub fn size(&self) -> usize {
        self.message.len() + message_attrs::size(&self.attributes)
    }
}

/// The per-protocol messages of a `MessageStructure=json` message, or the one message.
struct Bodies {
    default: String,
    per_protocol: Option<Map<String, Value>>,
}

impl Bodies {
    fn for_protocol(&self, protocol: &str) -> &str {
        self.per_protocol.as_ref().and_then(|m| m.get(protocol)).and_then(Value::as_str).unwrap_or(&self.default)
    }
}

fn check(topic: &Topic, e: &Entry) -> SnsResult<Bodies> {
    if e.message.is_empty() {
        return Err(SnsError::invalid("Empty message"));
    }
    if e.size() > MAX_SIZE {
        return Err(SnsError::invalid("Message too long"));
    }
    if let Some(s) = &e.subject {
        if s.is_empty() || s.chars().count() > 100 || !s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
            return Err(SnsError::invalid("Subject"));
        }
    }
    if topic.fifo {
        if e.group_id.as_deref().is_none_or(str::is_empty) {
            return Err(SnsError::invalid("The MessageGroupId parameter is required for FIFO topics"));
        }
        let content_based = topic.attributes.get("ContentBasedDeduplication").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if e.dedup_id.is_none() && !content_based {
            return Err(SnsError::invalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"));
        }
    } else if e.dedup_id.is_some() {
        return Err(SnsError::invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"));
    }
    for (name, v) in [("MessageGroupId", &e.group_id), ("MessageDeduplicationId", &e.dedup_id)] {
        if let Some(v) = v {
            if v.is_empty() || v.len() > 128 || !v.chars().all(|c| c.is_ascii_graphic()) {
                return Err(SnsError::invalid(format!("{name} Reason: Invalid value")));
            }
        }
    }
    match e.structure.as_deref() {
        None => Ok(Bodies { default: e.message.clone(), per_protocol: None }),
        Some("json") => {
            let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&e.message) else {
                return Err(SnsError::invalid("Message Structure - JSON message body failed to parse"));
            };
            let Some(default) = m.get("default").and_then(Value::as_str).map(str::to_string) else {
                return Err(SnsError::invalid("Message Structure - No default entry in JSON message body"));
            };
            Ok(Bodies { default, per_protocol: Some(m) })
        }
        Some(_) => Err(SnsError::invalid("MessageStructure")),
    }
}

/// What a publish answered.
pub struct Published {
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// Publishes one checked-or-not entry to a topic.
pub async fn publish_to(sns: &Sns, topic: &Topic, e: Entry) -> SnsResult<Published> {
    let bodies = check(topic, &e)?;
    let now = sns.clock.now_ms();
    let message_id = nimbus_core::ids::uuid();
    let dedup_id = if topic.fifo { Some(e.dedup_id.clone().unwrap_or_else(|| hex(&Sha256::digest(e.message.as_bytes())))) } else { None };
    if let Some(d) = &dedup_id {
        if let Some(previous) = sns.dedup.claim(&topic.arn, d, now, now + DEDUP_WINDOW_MS, &message_id) {
            return Ok(previous);
        }
    }
    let out = fan_out(sns, topic, &e, &bodies, now, message_id, dedup_id.as_deref()).await;
    if out.is_ok() {
        crate::metrics::published(&sns.deliveries.metrics, &topic.account, &topic.region, &topic.name, e.size());
    }
    if let Some(d) = &dedup_id {
        match &out {
            Ok(p) => sns.dedup.settle(&topic.arn, d, p).await,
            Err(_) => sns.dedup.release(&topic.arn, d),
        }
    }
    out
}

/// Builds and durably hands over the deliveries of one accepted publish.
async fn fan_out(sns: &Sns, topic: &Topic, e: &Entry, bodies: &Bodies, now: u64, message_id: String, dedup_id: Option<&str>) -> SnsResult<Published> {
    let sequence_number = if topic.fifo {
        let n = sns.registry.update_topic(&topic.arn, |t| {
            t.sequence += 1;
            Ok(t.sequence)
        });
        Some(format!("{}", 10_000_000_000_000_000_000u128 + n.await? as u128))
    } else {
        None
    };
    let timestamp = envelope::timestamp(now);
    let signature_version = topic.attributes.get("SignatureVersion").cloned().unwrap_or_else(|| "1".into());
    let targets: Vec<Subscription> = {
        // The body is parsed once, and only if a MessageBody-scope filter asks.
        let parsed_body = std::cell::OnceCell::new();
        let body_event = || parsed_body.get_or_init(|| serde_json::from_str::<Value>(&bodies.default).unwrap_or(Value::Null)).clone();
        let attr_event = message_attrs::filter_event(&e.attributes);
        sns.registry
            .subscribers(&topic.arn)
            .into_iter()
            .filter(|(sub, filter)| sub.confirmed && filter.as_ref().is_none_or(|f| f.matches(&attr_event, &body_event)))
            .map(|(sub, _)| sub)
            .collect()
    };
    let wants_signature = |sub: &Subscription| !(sub.raw() || sub.protocol == "email");
    // One signature per distinct message (MessageStructure=json may give several), made
    // on a blocking thread: an RSA-2048 signature is milliseconds of CPU.
    let to_sign: BTreeSet<String> = targets.iter().filter(|s| wants_signature(s)).map(|s| bodies.for_protocol(&s.protocol).to_string()).collect();
    let signatures: HashMap<String, String> = if to_sign.is_empty() {
        HashMap::new()
    } else {
        let (signing, version, id, subject, ts, arn) = (sns.signing.clone(), signature_version.clone(), message_id.clone(), e.subject.clone(), timestamp.clone(), topic.arn.clone());
        tokio::task::spawn_blocking(move || {
            to_sign.into_iter().map(|m| {
                let sig = envelope::signature(&signing, &version, &m, &id, subject.as_deref(), &ts, &arn);
                (m, sig)
            })
            .collect()
        })
        .await
        .map_err(|e| SnsError::Internal(format!("signing failed: {e}")))?
    };
    let mut batch = Vec::new();
    for sub in targets {
        let message = bodies.for_protocol(&sub.protocol);
        let signature = if wants_signature(&sub) { signatures.get(message).cloned().unwrap_or_default() } else { String::new() };
        let n = Notification {
            message_id: &message_id,
            topic_arn: &topic.arn,
            subject: e.subject.as_deref(),
            message,
            timestamp: &timestamp,
            attributes: &e.attributes,
            signature_version: &signature_version,
            sequence_number: sequence_number.as_deref(),
            endpoint: &sns.endpoint,
            signature: &signature,
        };
        let body = match sub.protocol.as_str() {
            "sqs" => {
                let mut input = Map::new();
                if sub.raw() {
                    input.insert("MessageBody".into(), n.message.into());
                    if !e.attributes.is_empty() {
                        input.insert("MessageAttributes".into(), Value::Object(message_attrs::for_sqs(&e.attributes)));
                    }
                } else {
                    input.insert("MessageBody".into(), envelope::envelope(&n, &sub.arn).to_string().into());
                }
                if sub.endpoint.ends_with(".fifo") {
                    input.insert("MessageGroupId".into(), e.group_id.clone().unwrap_or_default().into());
                    input.insert("MessageDeduplicationId".into(), dedup_id.unwrap_or_default().into());
                }
                Value::Object(input)
            }
            "lambda" => envelope::lambda_event(&n, &sub.arn),
            _ => {
                // email, email-json: recorded for inspection; http(s) recorded and POSTed.
                let shown = match sub.protocol.as_str() {
                    "email" => Value::from(n.message),
                    _ if sub.raw() => Value::from(n.message),
                    _ => envelope::envelope(&n, &sub.arn),
                };
                sns.record(&sub, "Notification", shown.clone());
                if matches!(sub.protocol.as_str(), "http" | "https") {
                    let payload = match shown {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let mut d = sns.http_delivery(&sub, "Notification", &message_id, payload, sub.raw());
                    d.trace = e.trace.clone();
                    batch.push(d);
                }
                continue;
            }
        };
        batch.push(Delivery {
            id: nimbus_core::ids::uuid(),
            seq: sns.deliveries.next_seq(),
            account: topic.account.clone(),
            subscription_arn: sub.arn.clone(),
            protocol: sub.protocol.clone(),
            endpoint: sub.endpoint.clone(),
            body,
            policy: None,
            attempts: 0,
            next_ms: now,
            group: None,
            trace: e.trace.clone(),
        });
    }
    sns.deliveries.accept(&sns.registry, batch).await?;
    Ok(Published { message_id, sequence_number })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The topic a Publish targets: TopicArn or TargetArn; phone numbers and mobile
/// endpoints are not supported.
fn target(call: &Call<'_>, input: &Value) -> SnsResult<Topic> {
    if input.get("PhoneNumber").and_then(Value::as_str).is_some() {
        return Err(SnsError::NotSupported("Publishing SMS messages (PhoneNumber)".into()));
    }
    let (arn, member) = match (input.get("TopicArn").and_then(Value::as_str), input.get("TargetArn").and_then(Value::as_str)) {
        (Some(t), _) => (t, "TopicArn"),
        (None, Some(t)) if t.contains(":endpoint/") => return Err(SnsError::NotSupported("Publishing to mobile push endpoints (TargetArn)".into())),
        (None, Some(t)) => (t, "TargetArn"),
        (None, None) => return Err(SnsError::invalid("TopicArn or TargetArn Reason: no value for required parameter")),
    };
    arns::topic(arn, member)?;
    call.sns.registry.topic(arn)
}

pub async fn publish(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let topic = target(call, &input)?;
    if input.get("Message").is_none() {
        return Err(SnsError::invalid("Message Reason: no value for required parameter"));
    }
    let mut entry = Entry::read(&input)?;
    entry.trace = call.trace.clone();
    let p = publish_to(call.sns, &topic, entry).await?;
    let mut out = json!({ "MessageId": p.message_id });
    if let Some(s) = p.sequence_number {
        out["SequenceNumber"] = Value::from(s);
    }
    Ok(out)
}

pub async fn publish_batch(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let topic = {
        let arn = required(&input, "TopicArn")?;
        arns::topic(&arn, "TopicArn")?;
        call.sns.registry.topic(&arn)?
    };
    let entries = input.get("PublishBatchRequestEntries").and_then(Value::as_array).cloned().unwrap_or_default();
    if entries.is_empty() {
        return Err(SnsError::EmptyBatchRequest);
    }
    if entries.len() > 10 {
        return Err(SnsError::TooManyEntriesInBatchRequest);
    }
    let mut ids = HashSet::new();
    for e in &entries {
        let id = e.get("Id").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() || id.len() > 80 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(SnsError::InvalidBatchEntryId);
        }
        if !ids.insert(id.to_string()) {
            return Err(SnsError::BatchEntryIdsNotDistinct);
        }
    }
    let mut read = Vec::new();
    let mut total = 0;
    for e in &entries {
        let id = e.get("Id").and_then(Value::as_str).unwrap_or("").to_string();
        let entry = Entry::read(e).map(|mut en| {
            en.trace = call.trace.clone();
            en
        });
        total += entry.as_ref().map_or(0, Entry::size);
        read.push((id, entry));
    }
    if total > MAX_SIZE {
        return Err(SnsError::BatchRequestTooLong);
    }
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, entry) in read {
        match entry {
            Ok(entry) => match publish_to(call.sns, &topic, entry).await {
                Ok(p) => {
                    let mut ok = json!({ "Id": id, "MessageId": p.message_id });
                    if let Some(s) = p.sequence_number {
                        ok["SequenceNumber"] = Value::from(s);
                    }
                    successful.push(ok);
                }
                Err(e) => failed.push(failure(&id, e)),
            },
            Err(e) => failed.push(failure(&id, e)),
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

fn failure(id: &str, e: SnsError) -> Value {
    let e = nimbus_core::AwsError::from(e);
    json!({ "Id": id, "Code": e.code, "Message": e.message, "SenderFault": e.status < 500 })
}
