//! SQS as an event source for Lambda (`nimbus_core::internal::QueueSource`): receives in
//! the shape of Lambda's SQS event record, waiting by notification like a long poll.

use crate::engine::ReceiveRequest;
use crate::ops_messages::render_message;
use crate::service::SqsService;
use nimbus_core::internal::{PolledMessage, QueueFacts, QueueSource};
use nimbus_core::service::BoxFuture;
use serde_json::{json, Map, Value};

impl QueueSource for SqsService {
    fn facts(&self, queue_arn: &str) -> Result<QueueFacts, String> {
        let q = self.engine.get_by_arn(queue_arn).ok_or_else(|| format!("queue {queue_arn} does not exist"))?;
        let st = q.state.lock();
        Ok(QueueFacts { fifo: st.fifo(), visibility_timeout_s: st.visibility_timeout_s() })
    }

    fn receive<'a>(&'a self, queue_arn: &'a str, max: usize, wait_ms: u64) -> BoxFuture<'a, Result<Vec<PolledMessage>, String>> {
        Box::pin(async move {
            let q = self.engine.get_by_arn(queue_arn).ok_or_else(|| format!("queue {queue_arn} does not exist"))?;
            let visibility_ms = q.state.lock().visibility_timeout_s() * 1000;
            let got = self
                .engine
                .receive(&q, ReceiveRequest { max, visibility_ms, wait_ms, attempt_id: None })
                .await
                .map_err(|e| format!("{e:?}"))?;
            let all = vec!["All".to_string()];
            Ok(got.iter().map(|r| to_record(render_message(q.id, r, &all, &all))).collect())
        })
    }

    fn delete<'a>(&'a self, queue_arn: &'a str, receipt_handles: Vec<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let q = self.engine.get_by_arn(queue_arn).ok_or_else(|| format!("queue {queue_arn} does not exist"))?;
            for h in receipt_handles {
                self.delete_one(&q, Some(&h)).await.map_err(|e| format!("{e:?}"))?;
            }
            Ok(())
        })
    }
}

/// From the API's message shape to the event record's: camel-case message attributes
/// with empty list members, as Lambda writes them.
fn to_record(m: Value) -> PolledMessage {
    let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let attributes = m.get("Attributes").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut message_attributes = Map::new();
    if let Some(attrs) = m.get("MessageAttributes").and_then(Value::as_object) {
        for (name, v) in attrs {
            let mut a = json!({ "stringListValues": [], "binaryListValues": [], "dataType": v.get("DataType").cloned().unwrap_or(Value::Null) });
            if let Some(s) = v.get("StringValue") {
                a["stringValue"] = s.clone();
            }
            if let Some(b) = v.get("BinaryValue") {
                a["binaryValue"] = b.clone();
            }
            message_attributes.insert(name.clone(), a);
        }
    }
    PolledMessage {
        message_id: text("MessageId"),
        receipt_handle: text("ReceiptHandle"),
        body: text("Body"),
        md5_of_body: text("MD5OfBody"),
        attributes,
        message_attributes,
    }
}

/// A queue's `Policy` attribute, for the IAM authorizer (`--auth iam`).
impl nimbus_core::internal::ResourcePolicies for SqsService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let q = self.engine.get_by_arn(arn)?;
        let policy = q.state.lock().record.attributes.get("Policy").cloned();
        policy.filter(|p| !p.is_empty())
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        let Some(q) = self.engine.get_by_arn(arn) else { return Vec::new() };
        let st = q.state.lock();
        st.record.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}
