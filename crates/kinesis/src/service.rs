//! The Kinesis service as the router sees it: the vendored model, the registry of streams
//! (by account, region and name, and by the internal id that iterators carry), dispatch
//! of operations to the `ops_*` files, and the input helpers they share. Operations
//! nimbus does not implement answer "… is not supported by nimbus".

use crate::errors::{KinesisError, KinesisResult};
use crate::store::{Change, Store};
use crate::stream::{StreamHandle, StreamMeta};
use nimbus_core::internal::KeyService;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::storage::Durability;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/kinesis-2013-12-02.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Kinesis model parses"))
}

/// (account, region, stream name).
pub type StreamKey = (String, String, String);

#[derive(Default)]
pub struct Registry {
    pub by_name: HashMap<StreamKey, Arc<StreamHandle>>,
    pub by_id: HashMap<i64, Arc<StreamHandle>>,
}

pub struct KinesisService {
    pub(crate) clock: Clock,
    pub(crate) store: Arc<Store>,
    pub(crate) registry: Arc<RwLock<Registry>>,
    pub(crate) next_id: AtomicI64,
    pub(crate) keys: OnceLock<Arc<dyn KeyService>>,
    /// The last SubscribeToShard of each (consumer ARN, shard), for the 5-second rule.
    pub(crate) subscriptions: parking_lot::Mutex<HashMap<(String, u32), u64>>,
    /// Per-shard throughput limits (on unless `--kinesis-no-throughput-limits`).
    pub(crate) throughput_limits: AtomicBool,
}

impl KinesisService {
    /// Opens `<data dir>/kinesis.db` (`None`: in memory) and reads the streams back.
    pub fn open(
        db: Option<&Path>,
        durability: Durability,
        clock: Clock,
    ) -> Result<KinesisService, String> {
        let store = Store::open(db, durability).map_err(|e| e.to_string())?;
        let mut registry = Registry::default();
        let mut max_id = 0;
        for loaded in store.take_loaded() {
            max_id = max_id.max(loaded.meta.id);
            let key = (
                loaded.meta.account.clone(),
                loaded.meta.region.clone(),
                loaded.meta.name.clone(),
            );
            let handle = Arc::new(StreamHandle::new(
                loaded.meta,
                loaded.next_position,
                loaded.tails,
            ));
            registry.by_id.insert(handle.id, handle.clone());
            registry.by_name.insert(key, handle);
        }
        let service = KinesisService {
            clock,
            store: Arc::new(store),
            registry: Arc::new(RwLock::new(registry)),
            next_id: AtomicI64::new(max_id + 1),
            keys: OnceLock::new(),
            throughput_limits: AtomicBool::new(true),
            subscriptions: parking_lot::Mutex::new(HashMap::new()),
        };
        crate::retention::start_sweeper(&service);
        Ok(service)
    }

    /// KMS for StartStreamEncryption (set by the binary).
    pub fn set_key_service(&self, keys: Arc<dyn KeyService>) {
        let _ = self.keys.set(keys);
    }

    /// Turns the per-shard throughput limits on or off (`--kinesis-no-throughput-limits`).
    pub fn set_throughput_limits(&self, on: bool) {
        self.throughput_limits.store(on, Ordering::Relaxed);
    }

    /// This service as Lambda's event source (`StreamSource`).
    pub fn stream_source(self: &Arc<Self>) -> Arc<dyn nimbus_core::internal::StreamSource> {
        self.clone()
    }

    /// This service as other services' Kinesis destination (`RecordSink`).
    pub fn record_sink(self: &Arc<Self>) -> Arc<dyn nimbus_core::internal::RecordSink> {
        self.clone()
    }

    pub(crate) fn limits_on(&self) -> bool {
        self.throughput_limits.load(Ordering::Relaxed)
    }

    /// The stream an input names by `StreamName` or `StreamARN`.
    pub(crate) fn stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Arc<StreamHandle>> {
        let key = stream_key(ctx, input)?;
        self.registry
            .read()
            .by_name
            .get(&key)
            .cloned()
            .ok_or_else(|| KinesisError::stream_not_found(&key.2, &key.0))
    }

    pub(crate) fn stream_by_key(&self, key: &StreamKey) -> Option<Arc<StreamHandle>> {
        self.registry.read().by_name.get(key).cloned()
    }

    pub(crate) fn stream_by_arn(&self, arn: &str) -> Option<Arc<StreamHandle>> {
        let key = parse_stream_arn(arn)?;
        self.stream_by_key(&key)
    }

    /// Writes the stream's description (call with its lock held, await after).
    pub(crate) fn save_meta(&self, meta: &StreamMeta) -> nimbus_core::storage::Pending {
        let doc = serde_json::to_string(meta).unwrap_or_default();
        self.store.apply(Change::Meta { id: meta.id, doc })
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> KinesisResult<Value> {
        match op {
            "CreateStream" => self.create_stream(ctx, &input).await,
            "DeleteStream" => self.delete_stream(ctx, &input).await,
            "DescribeStream" => self.describe_stream(ctx, &input),
            "DescribeStreamSummary" => self.describe_stream_summary(ctx, &input),
            "ListStreams" => self.list_streams(ctx, &input),
            "ListShards" => self.list_shards(ctx, &input),
            "DescribeLimits" => self.describe_limits(ctx),
            "UpdateStreamMode" => self.update_stream_mode(ctx, &input).await,
            "PutResourcePolicy" => self.put_resource_policy(ctx, &input).await,
            "GetResourcePolicy" => self.get_resource_policy(ctx, &input),
            "DeleteResourcePolicy" => self.delete_resource_policy(ctx, &input).await,
            "PutRecord" => self.put_record(ctx, &input).await,
            "PutRecords" => self.put_records(ctx, &input).await,
            "GetShardIterator" => self.get_shard_iterator(ctx, &input),
            "GetRecords" => self.get_records(ctx, &input),
            "IncreaseStreamRetentionPeriod" => self.change_retention(ctx, &input, true).await,
            "DecreaseStreamRetentionPeriod" => self.change_retention(ctx, &input, false).await,
            "AddTagsToStream" => self.add_tags_to_stream(ctx, &input).await,
            "RemoveTagsFromStream" => self.remove_tags_from_stream(ctx, &input).await,
            "ListTagsForStream" => self.list_tags_for_stream(ctx, &input),
            "TagResource" => self.tag_resource(ctx, &input).await,
            "UntagResource" => self.untag_resource(ctx, &input).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, &input),
            "StartStreamEncryption" => self.start_encryption(ctx, &input).await,
            "StopStreamEncryption" => self.stop_encryption(ctx, &input).await,
            "UpdateShardCount" => self.update_shard_count(ctx, &input).await,
            "SplitShard" => self.split_shard(ctx, &input).await,
            "MergeShards" => self.merge_shards(ctx, &input).await,
            "RegisterStreamConsumer" => self.register_consumer(ctx, &input).await,
            "DescribeStreamConsumer" => self.describe_consumer(ctx, &input),
            "ListStreamConsumers" => self.list_consumers(ctx, &input),
            "DeregisterStreamConsumer" => self.deregister_consumer(ctx, &input).await,
            "EnableEnhancedMonitoring" => self.enhanced_monitoring(ctx, &input, true).await,
            "DisableEnhancedMonitoring" => self.enhanced_monitoring(ctx, &input, false).await,
            "DescribeAccountSettings" => self.describe_account_settings(ctx),
            "UpdateAccountSettings" => self.update_account_settings(ctx, &input).await,
            "UpdateMaxRecordSize" => self.update_max_record_size(ctx, &input).await,
            "UpdateStreamWarmThroughput" => self.update_stream_warm_throughput(ctx, &input).await,
            other => Err(KinesisError::NotSupported(format!(
                "The Kinesis operation {other}"
            ))),
        }
    }
}

impl AwsService for KinesisService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            self.dispatch(ctx, operation, input)
                .await
                .map_err(AwsError::from)
        })
    }

    /// SubscribeToShard answers with an event stream.
    fn streams_output(&self, operation: &str) -> bool {
        operation == "SubscribeToShard"
    }

    fn call_streaming<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value, _body: Option<nimbus_core::service::BodyStream>) -> BoxFuture<'a, Result<nimbus_core::service::Streamed, AwsError>> {
        Box::pin(async move {
            if operation == "SubscribeToShard" {
                return self.subscribe_to_shard(&input).map_err(AwsError::from);
            }
            self.call(ctx, operation, input).await.map(nimbus_core::service::Streamed::value)
        })
    }
}

/// (account, region, name) from an ARN `arn:aws:kinesis:<region>:<account>:stream/<name>`
/// (a consumer ARN's stream part too).
pub fn parse_stream_arn(arn: &str) -> Option<StreamKey> {
    let mut parts = arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some("kinesis"),
        Some(region),
        Some(account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    let name = resource.strip_prefix("stream/")?;
    let name = name.split('/').next()?;
    (!name.is_empty()).then(|| (account.to_string(), region.to_string(), name.to_string()))
}

/// The stream an input names: `StreamARN` (its own account and region) or `StreamName`
/// (the caller's).
pub fn stream_key(ctx: &RequestContext, input: &Value) -> KinesisResult<StreamKey> {
    if let Some(arn) = s(input, "StreamARN") {
        let key = parse_stream_arn(arn).filter(|k| !arn.contains("/consumer/") && valid_stream_name(&k.2)).ok_or_else(|| {
            KinesisError::constraint(arn, "streamARN", "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
        })?;
        if let Some(name) = s(input, "StreamName") {
            if name != key.2 {
                return Err(KinesisError::InvalidArgument(format!(
                    "StreamName {name} does not match the stream name in StreamARN {arn}."
                )));
            }
        }
        return Ok(key);
    }
    match s(input, "StreamName") {
        Some(name) => {
            check_stream_name(name)?;
            Ok((ctx.account_id.clone(), ctx.region.clone(), name.to_string()))
        }
        None => Err(KinesisError::InvalidArgument(
            "Either StreamName or StreamARN must be provided.".into(),
        )),
    }
}

pub fn valid_stream_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

pub fn check_stream_name(name: &str) -> KinesisResult<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(KinesisError::constraint(
            name,
            "streamName",
            "Member must have length less than or equal to 128",
        ));
    }
    if !valid_stream_name(name) {
        return Err(KinesisError::constraint(
            name,
            "streamName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ));
    }
    Ok(())
}

/// A string member.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A required string member.
pub(crate) fn req<'a>(input: &'a Value, member: &str) -> KinesisResult<&'a str> {
    s(input, member).ok_or_else(|| KinesisError::missing(&lower_first(member)))
}

/// An optional integer member within `min..=max`.
pub(crate) fn int_in(
    input: &Value,
    member: &str,
    min: i64,
    max: i64,
) -> KinesisResult<Option<i64>> {
    match input.get(member).and_then(Value::as_i64) {
        None => Ok(None),
        Some(v) if v < min => Err(KinesisError::constraint(
            v,
            &lower_first(member),
            &format!("Member must have value greater than or equal to {min}"),
        )),
        Some(v) if v > max => Err(KinesisError::constraint(
            v,
            &lower_first(member),
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(v) => Ok(Some(v)),
    }
}

/// A timestamp member (epoch seconds, as the JSON protocol sends it; ISO-8601 text too), in ms.
pub(crate) fn timestamp_ms(input: &Value, member: &str) -> Option<u64> {
    match input.get(member)? {
        Value::Number(n) => n.as_f64().map(|s| (s.max(0.0) * 1000.0).round() as u64),
        Value::String(t) => t
            .parse::<f64>()
            .ok()
            .map(|s| (s.max(0.0) * 1000.0).round() as u64)
            .or_else(|| nimbus_core::time::parse_iso8601(t)),
        _ => None,
    }
}

/// AWS names members in validation messages with a lower-case first letter.
pub(crate) fn lower_first(member: &str) -> String {
    let mut c = member.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Epoch seconds as the JSON protocol writes timestamps.
pub(crate) fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// An opaque NextToken for a position in a listing, tied to the stream or account it lists.
pub(crate) fn token(scope: &str, position: &str, now_ms: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(format!("nimbus-kinesis|{scope}|{position}|{now_ms}"))
}

/// A NextToken's position, if it belongs to `scope`. Tokens expire after 300 seconds
/// (ExpiredNextTokenException).
pub(crate) fn untoken(scope: &str, token: &str, now_ms: u64) -> KinesisResult<String> {
    use base64::Engine;
    let invalid = || KinesisError::InvalidArgument(format!("Invalid NextToken: {token}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.rsplitn(3, '|');
    let (Some(issued), Some(position), Some(head)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if head != format!("nimbus-kinesis|{scope}") {
        return Err(invalid());
    }
    let issued: u64 = issued.parse().map_err(|_| invalid())?;
    if now_ms.saturating_sub(issued) > 300_000 {
        return Err(KinesisError::ExpiredNextToken(format!(
            "The timestamp on NextToken has expired: {token}"
        )));
    }
    Ok(position.to_string())
}
