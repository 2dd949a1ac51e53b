//! Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers, DeregisterStreamConsumer. A consumer's ARN is its stream's ARN
//! with `/consumer/<name>:<creation epoch seconds>`, as AWS forms it; consumers are ACTIVE
//! at once; at most 20 per stream.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{int_in, parse_stream_arn, req, s, secs, token, untoken, KinesisService};
use crate::stream::{Consumer, StreamHandle};
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

pub const MAX_CONSUMERS: usize = 20;

fn consumer_json(c: &Consumer) -> Value {
    json!({ "ConsumerName": c.name, "ConsumerARN": c.arn, "ConsumerStatus": "ACTIVE", "ConsumerCreationTimestamp": secs(c.created_ms) })
}

fn check_name(name: &str) -> KinesisResult<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(KinesisError::constraint(
            name,
            "consumerName",
            "Member must have length less than or equal to 128",
        ));
    }
    if !crate::service::valid_stream_name(name) {
        return Err(KinesisError::constraint(
            name,
            "consumerName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ));
    }
    Ok(())
}

impl KinesisService {
    fn stream_of_arn(&self, arn: &str, member: &str) -> KinesisResult<Arc<StreamHandle>> {
        let key = parse_stream_arn(arn).ok_or_else(|| KinesisError::constraint(arn, member, "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"))?;
        self.stream_by_key(&key)
            .ok_or_else(|| KinesisError::stream_not_found(&key.2, &key.0))
    }

    /// The consumer an input names: `ConsumerARN`, or `StreamARN` and `ConsumerName`.
    fn named_consumer(&self, input: &Value) -> KinesisResult<(Arc<StreamHandle>, Consumer)> {
        if let Some(arn) = s(input, "ConsumerARN") {
            let handle = self.stream_of_arn(arn, "consumerARN")?;
            return match consumer_where(&handle, |c| c.arn == arn) {
                Some(c) => Ok((handle, c)),
                None => Err(KinesisError::ResourceNotFound(format!(
                    "Consumer {arn} not found."
                ))),
            };
        }
        let stream_arn = s(input, "StreamARN").ok_or_else(|| {
            KinesisError::InvalidArgument(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.".into(),
            )
        })?;
        let name = s(input, "ConsumerName").ok_or_else(|| {
            KinesisError::InvalidArgument(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.".into(),
            )
        })?;
        let handle = self.stream_of_arn(stream_arn, "streamARN")?;
        match consumer_where(&handle, |c| c.name == name) {
            Some(c) => Ok((handle, c)),
            None => Err(KinesisError::ResourceNotFound(format!(
                "Consumer {name} under stream {stream_arn} not found."
            ))),
        }
    }

    pub(crate) async fn register_consumer(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let stream_arn = req(input, "StreamARN")?;
        let name = req(input, "ConsumerName")?;
        check_name(name)?;
        let handle = self.stream_of_arn(stream_arn, "streamARN")?;
        let (consumer, pending) = {
            let mut st = handle.state.lock();
            if st.meta.consumers.iter().any(|c| c.name == name) {
                return Err(KinesisError::ResourceInUse(format!(
                    "Consumer {name} under stream {} already exists.",
                    st.meta.arn()
                )));
            }
            if st.meta.consumers.len() >= MAX_CONSUMERS {
                return Err(KinesisError::LimitExceeded(format!("Stream {} under account {} has reached the limit of {MAX_CONSUMERS} registered consumers.", st.meta.name, st.meta.account)));
            }
            let now = self.clock.now_ms();
            let consumer = Consumer {
                name: name.to_string(),
                arn: format!("{}/consumer/{name}:{}", st.meta.arn(), now / 1000),
                created_ms: now,
            };
            st.meta.consumers.push(consumer.clone());
            (consumer, self.save_meta(&st.meta))
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({ "Consumer": consumer_json(&consumer) }))
    }

    pub(crate) fn describe_consumer(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let (handle, c) = self.named_consumer(input)?;
        let mut v = consumer_json(&c);
        v["StreamARN"] = json!(handle.state.lock().meta.arn());
        Ok(json!({ "ConsumerDescription": v }))
    }

    pub(crate) fn list_consumers(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let stream_arn = req(input, "StreamARN")?;
        let max = int_in(input, "MaxResults", 1, 10_000)?.unwrap_or(100) as usize;
        let handle = self.stream_of_arn(stream_arn, "streamARN")?;
        let now = self.clock.now_ms();
        let scope = format!("consumers/{stream_arn}");
        let skip: usize = match s(input, "NextToken") {
            Some(t) => untoken(&scope, t, now)?
                .parse()
                .map_err(|_| KinesisError::InvalidArgument(format!("Invalid NextToken: {t}")))?,
            None => 0,
        };
        let st = handle.state.lock();
        let all = &st.meta.consumers;
        let page: Vec<Value> = all.iter().skip(skip).take(max).map(consumer_json).collect();
        let mut out = json!({ "Consumers": page });
        if skip + max < all.len() {
            out["NextToken"] = json!(token(&scope, &(skip + max).to_string(), now));
        }
        Ok(out)
    }

    pub(crate) async fn deregister_consumer(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let (handle, c) = self.named_consumer(input)?;
        let pending = {
            let mut st = handle.state.lock();
            st.meta.consumers.retain(|x| x.arn != c.arn);
            st.meta.policies.remove(&c.arn);
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    /// Whether the consumer ARN names a registered consumer.
    pub(crate) fn consumer_registered(&self, arn: &str) -> bool {
        self.stream_by_arn(arn)
            .is_some_and(|h| h.state.lock().meta.consumers.iter().any(|c| c.arn == arn))
    }
}

/// The stream's first consumer that `matches`.
fn consumer_where(handle: &StreamHandle, matches: impl Fn(&Consumer) -> bool) -> Option<Consumer> {
    handle.state.lock().meta.consumers.iter().find(|c| matches(c)).cloned()
}
