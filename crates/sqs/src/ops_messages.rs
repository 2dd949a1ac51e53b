//! Message operations: send (single and batch), receive, delete, change visibility.
//! Validation here follows AWS's order and wording; the state changes happen in the engine.

use crate::api::*;
use crate::engine::{Engine, Queue, ReceiveRequest};
use crate::errors::{SqsError, SqsResult};
use crate::message::{self, attribute_selected, md5_hex, md5_of_attributes, AttributeValue, Attributes};
use crate::queue::{NewMessage, Received};
use crate::receipt::Receipt;
use crate::service::SqsService;
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

const MAX_BATCH_BYTES: usize = 1_048_576;

const NO_DEDUP_ID: &str = "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly";

/// A batch result: `Failed` is left out when empty, as AWS does.
fn batch_result(successful: Vec<Value>, failed: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("Successful".into(), Value::Array(successful));
    if !failed.is_empty() {
        out.insert("Failed".into(), Value::Array(failed));
    }
    Value::Object(out)
}

fn valid_batch_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a batch's entry ids: present, well formed, distinct, at most ten.
fn check_batch_ids<'a>(ids: impl Iterator<Item = Option<&'a str>>, count: usize, entry_name: &'static str) -> SqsResult<()> {
    if count == 0 {
        return Err(SqsError::EmptyBatchRequest(entry_name));
    }
    if count > 10 {
        return Err(SqsError::TooManyEntriesInBatchRequest(count));
    }
    let mut seen = HashSet::new();
    for id in ids {
        let id = id.unwrap_or("");
        if !valid_batch_id(id) {
            return Err(SqsError::InvalidBatchEntryId);
        }
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id.to_string()));
        }
    }
    Ok(())
}

/// Group and deduplication ids: 1–128 alphanumeric or punctuation characters.
fn check_token(name: &str, value: &str) -> SqsResult<()> {
    if value.is_empty() || value.len() > 128 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SqsError::invalid_value(
            name,
            value,
            &format!("{name} can only include alphanumeric and punctuation characters. 1 to 128 in length."),
        ));
    }
    Ok(())
}

fn batch_error(id: &str, err: SqsError) -> Value {
    let aws: AwsError = err.into();
    let aws = crate::errors::sqs_names(aws);
    json!({ "Id": id, "SenderFault": aws.status < 500, "Code": aws.wire_query_code(), "Message": aws.message })
}

struct Prepared {
    message: NewMessage,
    /// Attributes were sent, so the response carries their digest.
    md5_attributes: Option<String>,
    md5_system: Option<String>,
    md5_body: String,
}

impl SqsService {
    /// Validates one message against its queue and computes its digests.
    /// `trace_id`: the request's `X-Amzn-Trace-Id` header, the message's AWSTraceHeader
    /// unless the message sets that system attribute itself.
    fn prepare(&self, sender_id: &str, trace_id: Option<&str>, queue: &Queue, input: SendMessage) -> SqsResult<Prepared> {
        let (fifo, max_size, queue_delay, content_dedup) = {
            let st = queue.state.lock();
            (st.fifo(), st.max_message_size() as usize, st.delay_s(), st.content_based_dedup())
        };
        let body = input.message_body.filter(|b| !b.is_empty()).ok_or_else(|| SqsError::MissingParameter("MessageBody".into()))?;
        let delay = match input.delay_seconds {
            None => queue_delay,
            // FIFO queues take no per-message delay; an explicit 0 leaves the queue's.
            Some(0) if fifo => queue_delay,
            Some(d) if fifo => {
                return Err(SqsError::invalid_value("DelaySeconds", d, "The request include parameter that is not valid for this queue type."))
            }
            Some(d) if !(0..=900).contains(&d) => {
                return Err(SqsError::invalid_value("DelaySeconds", d, "DelaySeconds must be >= 0 and <= 900."))
            }
            Some(d) => d as u64,
        };
        message::check_body(&body)?;
        let attributes: Attributes = input.message_attributes.unwrap_or_default();
        let attr_size = message::check_attributes(&attributes)?;
        let size = body.len() + attr_size;
        if size > max_size {
            return Err(SqsError::InvalidParameterValue(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
            )));
        }
        let system: BTreeMap<String, AttributeValue> = input.message_system_attributes.unwrap_or_default();
        for (name, v) in &system {
            if name != "AWSTraceHeader" || v.data_type != "String" || v.string_value.as_deref().map(str::is_empty).unwrap_or(true) {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Message system attribute name '{name}' is invalid. The only supported message system attribute is AWSTraceHeader, of type String."
                )));
            }
        }
        let (group_id, dedup_id) = if fifo {
            let group = input.message_group_id.ok_or_else(|| SqsError::MissingParameter("MessageGroupId".into()))?;
            check_token("MessageGroupId", &group)?;
            let dedup = match input.message_deduplication_id {
                Some(d) => {
                    check_token("MessageDeduplicationId", &d)?;
                    d
                }
                None if content_dedup => content_dedup_id(&body),
                None => return Err(SqsError::InvalidParameterValue(NO_DEDUP_ID.into())),
            };
            (Some(group), Some(dedup))
        } else {
            if let Some(d) = &input.message_deduplication_id {
                return Err(SqsError::invalid_value("MessageDeduplicationId", d, "The request include parameter that is not valid for this queue type."));
            }
            if let Some(g) = &input.message_group_id {
                check_token("MessageGroupId", g)?;
            }
            (input.message_group_id, None)
        };
        let md5_body = md5_hex(body.as_bytes());
        let md5_attributes = md5_of_attributes(&attributes);
        let md5_system = md5_of_attributes(&system);
        let trace_header = system.get("AWSTraceHeader").and_then(|v| v.string_value.clone()).or_else(|| trace_id.map(str::to_string));
        Ok(Prepared {
            message: NewMessage {
                body: Arc::from(body),
                attributes: Arc::new(attributes),
                md5_body: md5_body.clone(),
                md5_attributes: md5_attributes.clone(),
                trace_header,
                md5_system: md5_system.clone(),
                sender_id: sender_id.to_string(),
                delay_ms: delay * 1000,
                group_id,
                dedup_id,
                carried: None,
                size,
            },
            md5_attributes,
            md5_system,
            md5_body,
        })
    }

    pub(crate) async fn send_message(&self, ctx: &RequestContext, input: SendMessage) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.send_to(&ctx.access_key_id, ctx.trace_id.as_deref(), &queue, input).await
    }

    /// SendMessage on a known queue: the checks, the send, SendMessage's output.
    pub(crate) async fn send_to(&self, sender_id: &str, trace_id: Option<&str>, queue: &Arc<Queue>, input: SendMessage) -> SqsResult<Value> {
        let p = self.prepare(sender_id, trace_id, queue, input)?;
        let (md5_body, md5_attributes, md5_system) = (p.md5_body, p.md5_attributes, p.md5_system);
        let sent = self.engine.send(queue, vec![p.message]).await?;
        let sent = sent.into_iter().next().ok_or_else(|| SqsError::Internal("send produced no result".into()))?;
        let mut out = Map::new();
        out.insert("MD5OfMessageBody".into(), md5_body.into());
        if let Some(m) = md5_attributes {
            out.insert("MD5OfMessageAttributes".into(), m.into());
        }
        if let Some(m) = md5_system {
            out.insert("MD5OfMessageSystemAttributes".into(), m.into());
        }
        out.insert("MessageId".into(), sent.message_id.into());
        if let Some(s) = sent.sequence_number {
            out.insert("SequenceNumber".into(), s.into());
        }
        Ok(Value::Object(out))
    }

    pub(crate) async fn send_message_batch(&self, ctx: &RequestContext, input: SendMessageBatch) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()), entries.len(), "SendMessageBatchRequestEntry")?;
        let (fifo, content_dedup) = {
            let st = queue.state.lock();
            (st.fifo(), st.content_based_dedup())
        };
        if fifo && entries.iter().any(|e| e.message_group_id.is_none()) {
            return Err(SqsError::InvalidParameterValue("The request must contain the parameter MessageGroupId.".into()));
        }
        // Like a missing group id, a missing deduplication id fails the whole batch.
        if fifo && !content_dedup && entries.iter().any(|e| e.message_deduplication_id.is_none()) {
            return Err(SqsError::InvalidParameterValue(NO_DEDUP_ID.into()));
        }
        let total: usize = entries
            .iter()
            .map(|e| {
                e.message_body.as_ref().map(|b| b.len()).unwrap_or(0)
                    + e.message_attributes
                        .as_ref()
                        .map(|a| a.iter().map(|(k, v)| k.len() + v.data_type.len() + v.string_value.as_ref().map(|s| s.len()).unwrap_or(0) + v.binary_value.as_ref().map(|b| b.len() * 3 / 4).unwrap_or(0)).sum())
                        .unwrap_or(0)
            })
            .sum();
        if total > MAX_BATCH_BYTES {
            return Err(SqsError::BatchRequestTooLong { limit: MAX_BATCH_BYTES, sent: total });
        }
        let mut failed = Vec::new();
        let mut ok = Vec::new();
        for e in entries {
            let id = e.id.clone().unwrap_or_default();
            let single = SendMessage {
                queue_url: None,
                message_body: e.message_body,
                delay_seconds: e.delay_seconds,
                message_attributes: e.message_attributes,
                message_system_attributes: e.message_system_attributes,
                message_deduplication_id: e.message_deduplication_id,
                message_group_id: e.message_group_id,
            };
            match self.prepare(&ctx.access_key_id, ctx.trace_id.as_deref(), &queue, single) {
                Ok(p) => ok.push((id, p)),
                Err(err) => failed.push(batch_error(&id, err)),
            }
        }
        let mut results = Vec::new();
        if !ok.is_empty() {
            let (ids, prepared): (Vec<String>, Vec<Prepared>) = ok.into_iter().unzip();
            let digests: Vec<(String, Option<String>, Option<String>)> = prepared.iter().map(|p| (p.md5_body.clone(), p.md5_attributes.clone(), p.md5_system.clone())).collect();
            let sent = self.engine.send(&queue, prepared.into_iter().map(|p| p.message).collect()).await?;
            for ((id, (md5_body, md5_attributes, md5_system)), s) in ids.into_iter().zip(digests).zip(sent) {
                let mut entry = Map::new();
                entry.insert("Id".into(), id.into());
                entry.insert("MessageId".into(), s.message_id.into());
                entry.insert("MD5OfMessageBody".into(), md5_body.into());
                if let Some(m) = md5_attributes {
                    entry.insert("MD5OfMessageAttributes".into(), m.into());
                }
                if let Some(m) = md5_system {
                    entry.insert("MD5OfMessageSystemAttributes".into(), m.into());
                }
                if let Some(n) = s.sequence_number {
                    entry.insert("SequenceNumber".into(), n.into());
                }
                results.push(Value::Object(entry));
            }
        }
        Ok(batch_result(results, failed))
    }

    /// A send from another service (Lambda destinations, dead-letter queues), validated
    /// like any SendMessage.
    pub(crate) async fn send_internal(&self, queue_arn: &str, body: String, attributes: Vec<(String, String)>, trace: Option<&str>) -> SqsResult<String> {
        let queue = self.engine.get_by_arn(queue_arn).ok_or(SqsError::QueueDoesNotExist)?;
        let fifo = queue.state.lock().fifo();
        let attributes: Attributes = attributes
            .into_iter()
            .map(|(k, v)| (k, AttributeValue { string_value: Some(v), data_type: "String".into(), ..AttributeValue::default() }))
            .collect();
        let input = SendMessage {
            message_body: Some(body),
            message_attributes: if attributes.is_empty() { None } else { Some(attributes) },
            // FIFO queues need a group; one group keeps the producer's order.
            message_group_id: if fifo { Some("nimbus".into()) } else { None },
            message_deduplication_id: if fifo { Some(nimbus_core::ids::uuid()) } else { None },
            ..SendMessage::default()
        };
        let p = self.prepare(&queue.key.account, trace, &queue, input)?;
        let sent = self.engine.send(&queue, vec![p.message]).await?;
        sent.into_iter().next().map(|s| s.message_id).ok_or_else(|| SqsError::Internal("send produced no result".into()))
    }

    pub(crate) async fn receive_message(&self, ctx: &RequestContext, input: ReceiveMessage) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.receive_from(&queue, input).await
    }

    /// ReceiveMessage on a known queue (also API Gateway's SQS-ReceiveMessage integrations).
    pub(crate) async fn receive_from(&self, queue: &Arc<Queue>, input: ReceiveMessage) -> SqsResult<Value> {
        let queue = queue.clone();
        let max = match input.max_number_of_messages {
            None => 1,
            Some(n) if (1..=10).contains(&n) => n as usize,
            Some(n) => return Err(SqsError::invalid_value("MaxNumberOfMessages", n, "Must be between 1 and 10, if provided.")),
        };
        let (default_vt, default_wait, fifo) = {
            let st = queue.state.lock();
            (st.visibility_timeout_s(), st.receive_wait_s(), st.fifo())
        };
        let vt = match input.visibility_timeout {
            None => default_vt,
            Some(v) if (0..=43_200).contains(&v) => v as u64,
            Some(v) => return Err(SqsError::invalid_value("VisibilityTimeout", v, "Must be >= 0 and <= 43200, if provided.")),
        };
        let wait = match input.wait_time_seconds {
            None => default_wait,
            Some(w) if (0..=20).contains(&w) => w as u64,
            Some(w) => return Err(SqsError::invalid_value("WaitTimeSeconds", w, "Must be >= 0 and <= 20, if provided.")),
        };
        let attempt_id = match input.receive_request_attempt_id {
            Some(a) if fifo => {
                check_token("ReceiveRequestAttemptId", &a)?;
                Some(a)
            }
            _ => None,
        };
        let mut system_names = input.attribute_names.unwrap_or_default();
        system_names.extend(input.message_system_attribute_names.unwrap_or_default());
        let attribute_filters = input.message_attribute_names.unwrap_or_default();
        let got = self.engine.receive(&queue, ReceiveRequest { max, visibility_ms: vt * 1000, wait_ms: wait * 1000, attempt_id }).await?;
        if got.is_empty() {
            return Ok(json!({}));
        }
        let messages: Vec<Value> = got.iter().map(|r| render_message(queue.id, r, &system_names, &attribute_filters)).collect();
        Ok(json!({ "Messages": messages }))
    }

    /// Resolves a receipt handle against the queue it was sent to.
    fn receipt(queue: &Queue, handle: Option<&str>) -> SqsResult<Receipt> {
        let handle = handle.filter(|h| !h.is_empty()).ok_or_else(|| SqsError::MissingParameter("ReceiptHandle".into()))?;
        match Receipt::decode(handle) {
            Some(r) if r.queue == queue.id => Ok(r),
            _ => Err(SqsError::ReceiptHandleIsInvalid(handle.to_string())),
        }
    }

    pub(crate) async fn delete_one(&self, queue: &Queue, handle: Option<&str>) -> SqsResult<()> {
        let r = Self::receipt(queue, handle)?;
        let now = self.engine.now();
        let pending = {
            let mut st = queue.state.lock();
            let mut muts = Vec::new();
            if !st.delete(now, r.seq, r.nonce, &mut muts) {
                return Err(SqsError::invalid_value("ReceiptHandle", handle.unwrap_or(""), "The receipt handle has expired."));
            }
            self.engine.apply(muts)
        };
        Engine::commit(pending).await?;
        crate::metrics::deleted(&self.engine, queue);
        Ok(())
    }

    pub(crate) async fn delete_message(&self, ctx: &RequestContext, input: DeleteMessage) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.delete_one(&queue, input.receipt_handle.as_deref()).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_message_batch(&self, ctx: &RequestContext, input: HandleBatch) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()), entries.len(), "DeleteMessageBatchRequestEntry")?;
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for e in entries {
            let id = e.id.unwrap_or_default();
            match self.delete_one(&queue, e.receipt_handle.as_deref()).await {
                Ok(()) => ok.push(json!({ "Id": id })),
                Err(err) => failed.push(batch_error(&id, err)),
            }
        }
        Ok(batch_result(ok, failed))
    }

    async fn change_visibility_one(&self, queue: &Queue, handle: Option<&str>, timeout: Option<i64>) -> SqsResult<()> {
        let r = Self::receipt(queue, handle)?;
        let handle = handle.unwrap_or("");
        let timeout = timeout.ok_or_else(|| SqsError::MissingParameter("VisibilityTimeout".into()))?;
        if !(0..=43_200).contains(&timeout) {
            return Err(SqsError::invalid_value("VisibilityTimeout", timeout, "VisibilityTimeout must be an integer between 0 and 43200"));
        }
        let now = self.engine.now();
        let pending = {
            let mut st = queue.state.lock();
            let mut muts = Vec::new();
            match st.change_visibility(now, r.seq, r.nonce, timeout as u64, &mut muts) {
                Err(()) => {
                    return Err(SqsError::invalid_value("ReceiptHandle", handle, "Message does not exist or is not available for visibility timeout change."))
                }
                Ok(false) => {
                    return Err(SqsError::invalid_value(
                        "VisibilityTimeout",
                        timeout,
                        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                    ))
                }
                Ok(true) => self.engine.apply(muts),
            }
        };
        Engine::commit(pending).await?;
        if timeout == 0 {
            queue.notify.notify_waiters();
        }
        Ok(())
    }

    pub(crate) async fn change_message_visibility(&self, ctx: &RequestContext, input: ChangeMessageVisibility) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.change_visibility_one(&queue, input.receipt_handle.as_deref(), input.visibility_timeout).await?;
        Ok(json!({}))
    }

    pub(crate) async fn change_message_visibility_batch(&self, ctx: &RequestContext, input: HandleBatch) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()), entries.len(), "ChangeMessageVisibilityBatchRequestEntry")?;
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for e in entries {
            let id = e.id.unwrap_or_default();
            match self.change_visibility_one(&queue, e.receipt_handle.as_deref(), e.visibility_timeout).await {
                Ok(()) => ok.push(json!({ "Id": id })),
                Err(err) => failed.push(batch_error(&id, err)),
            }
        }
        Ok(batch_result(ok, failed))
    }
}

/// SHA-256 of the body, hex: the deduplication id content-based deduplication uses.
fn content_dedup_id(body: &str) -> String {
    message::hex(&Sha256::digest(body.as_bytes()))
}

pub(crate) fn render_message(queue_id: u64, r: &Received, system_names: &[String], filters: &[String]) -> Value {
    let m = &r.message;
    let mut out = Map::new();
    out.insert("MessageId".into(), m.message_id.clone().into());
    out.insert("ReceiptHandle".into(), Receipt { queue: queue_id, seq: m.seq, nonce: m.nonce }.encode().into());
    out.insert("MD5OfBody".into(), m.md5_body.clone().into());
    out.insert("Body".into(), Value::String(m.body.to_string()));
    let all = system_names.iter().any(|n| n == "All");
    let wants = |n: &str| all || system_names.iter().any(|s| s == n);
    let mut attrs = Map::new();
    if wants("SenderId") {
        attrs.insert("SenderId".into(), m.sender_id.clone().into());
    }
    if wants("SentTimestamp") {
        attrs.insert("SentTimestamp".into(), m.sent_ms.to_string().into());
    }
    if wants("ApproximateReceiveCount") {
        attrs.insert("ApproximateReceiveCount".into(), m.receive_count.to_string().into());
    }
    if wants("ApproximateFirstReceiveTimestamp") {
        attrs.insert("ApproximateFirstReceiveTimestamp".into(), m.first_receive_ms.unwrap_or(0).to_string().into());
    }
    if let (true, Some(s)) = (wants("SequenceNumber"), &m.sequence_number) {
        attrs.insert("SequenceNumber".into(), s.clone().into());
    }
    if let (true, Some(s)) = (wants("MessageDeduplicationId"), &m.dedup_id) {
        attrs.insert("MessageDeduplicationId".into(), s.clone().into());
    }
    if let (true, Some(s)) = (wants("MessageGroupId"), &m.group_id) {
        attrs.insert("MessageGroupId".into(), s.clone().into());
    }
    if let (true, Some(s)) = (wants("AWSTraceHeader"), &m.trace_header) {
        attrs.insert("AWSTraceHeader".into(), s.clone().into());
    }
    if let (true, Some(s)) = (wants("DeadLetterQueueSourceArn"), &m.dead_letter_source) {
        attrs.insert("DeadLetterQueueSourceArn".into(), s.clone().into());
    }
    if !attrs.is_empty() {
        out.insert("Attributes".into(), Value::Object(attrs));
    }
    let selected: Attributes = m.attributes.iter().filter(|(k, _)| attribute_selected(filters, k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(md5) = md5_of_attributes(&selected) {
        out.insert("MD5OfMessageAttributes".into(), md5.into());
        out.insert("MessageAttributes".into(), serde_json::to_value(&selected).unwrap_or(Value::Null));
    }
    out.into()
}
