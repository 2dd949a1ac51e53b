//! The stream operations: CreateStream (provisioned with `ShardCount`, or on-demand with
//! AWS's four initial shards), DeleteStream, DescribeStream (shards paginated),
//! DescribeStreamSummary, ListStreams, ListShards (NextToken, ExclusiveStartShardId and
//! the ShardFilter types), DescribeLimits and Enable/DisableEnhancedMonitoring.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Operations.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::keys;
use crate::limits;
use crate::service::{
    check_stream_name, int_in, req, s, secs, stream_key, timestamp_ms, token, untoken,
    KinesisService,
};
use crate::store::Change;
use crate::stream::{ShardMeta, StreamHandle, StreamMeta};
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// On-demand streams start with four shards, as on AWS.
pub const ON_DEMAND_SHARDS: u32 = 4;
pub const DEFAULT_RETENTION_HOURS: u32 = 24;

/// One shard as DescribeStream and ListShards show it.
pub fn shard_json(meta: &StreamMeta, shard: &ShardMeta) -> Value {
    let mut v = json!({
        "ShardId": shard.id(),
        "HashKeyRange": { "StartingHashKey": shard.start_hash.to_string(), "EndingHashKey": shard.end_hash.to_string() },
        "SequenceNumberRange": { "StartingSequenceNumber": keys::sequence_number(meta.created_ms, shard.index, shard.first_position) },
    });
    if let Some(p) = shard.parent {
        v["ParentShardId"] = json!(keys::shard_id(p));
    }
    if let Some(p) = shard.adjacent_parent {
        v["AdjacentParentShardId"] = json!(keys::shard_id(p));
    }
    if let Some((_, closed_at)) = shard.closed {
        let last = closed_at.saturating_sub(1).max(shard.first_position);
        v["SequenceNumberRange"]["EndingSequenceNumber"] =
            json!(keys::sequence_number(meta.created_ms, shard.index, last));
    }
    v
}

/// Whether a closed shard is still listed (AWS drops closed shards once their records are
/// past the retention period).
pub fn listed(meta: &StreamMeta, shard: &ShardMeta, now_ms: u64) -> bool {
    match shard.closed {
        Some((closed_ms, _)) => closed_ms + meta.retention_ms() > now_ms,
        None => true,
    }
}

fn mode_json(meta: &StreamMeta) -> Value {
    json!({ "StreamMode": meta.mode })
}

fn monitoring_json(meta: &StreamMeta) -> Value {
    json!([{ "ShardLevelMetrics": meta.shard_level_metrics }])
}

impl KinesisService {
    /// Open shards and on-demand streams of an account in a region.
    fn account_usage(&self, account: &str, region: &str) -> (u32, u32) {
        let reg = self.registry.read();
        let mut shards = 0;
        let mut on_demand = 0;
        for ((a, r, _), h) in &reg.by_name {
            if a == account && r == region {
                let st = h.state.lock();
                shards += st.meta.open_shards().count() as u32;
                on_demand += u32::from(st.meta.mode == "ON_DEMAND");
            }
        }
        (shards, on_demand)
    }

    /// LimitExceededException when `additional` more open shards would pass the account's limit.
    pub(crate) fn check_shard_limit(
        &self,
        account: &str,
        region: &str,
        additional: u32,
    ) -> KinesisResult<()> {
        let (current, _) = self.account_usage(account, region);
        let limit = limits::shard_limit(region);
        if current + additional > limit {
            return Err(KinesisError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {account} in {region}. Current shard count for the account: {current}. Limit: {limit}. Number of additional shards that would have resulted from this request: {additional}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
            )));
        }
        Ok(())
    }

    pub(crate) async fn create_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let name = req(input, "StreamName")?;
        check_stream_name(name)?;
        let shard_count = int_in(input, "ShardCount", 1, 100_000)?;
        let mode = input
            .pointer("/StreamModeDetails/StreamMode")
            .and_then(Value::as_str);
        let (mode, count) = match (mode, shard_count) {
            (Some("ON_DEMAND"), Some(_)) => {
                return Err(KinesisError::InvalidArgument(
                    "ShardCount cannot be specified for a stream in ON_DEMAND mode.".into(),
                ))
            }
            (Some("ON_DEMAND"), None) | (None, None) => ("ON_DEMAND", ON_DEMAND_SHARDS),
            (Some("PROVISIONED") | None, Some(n)) => ("PROVISIONED", n as u32),
            (Some("PROVISIONED"), None) => {
                return Err(KinesisError::InvalidArgument(
                    "ShardCount is required for a stream in PROVISIONED mode.".into(),
                ))
            }
            (Some(other), _) => {
                return Err(KinesisError::constraint(
                    other,
                    "streamModeDetails.streamMode",
                    "Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]",
                ))
            }
        };
        let tags = tag_map(input.get("Tags"))?;
        let max_record_kib = int_in(input, "MaxRecordSizeInKiB", 1024, 10240)?.map(|k| k as u32);
        let warm = int_in(input, "WarmThroughputMiBps", 0, i64::MAX)?;
        if let Some(target) = warm {
            crate::account::check_warm_throughput(self, ctx, mode, target)?;
        }
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        let key = (account.clone(), region.clone(), name.to_string());
        self.check_shard_limit(&account, &region, count)?;
        if mode == "ON_DEMAND"
            && self.account_usage(&account, &region).1 >= limits::ON_DEMAND_STREAM_LIMIT
        {
            return Err(KinesisError::LimitExceeded(format!(
                "This request would exceed the on-demand stream count limit for the account {account} in {region}. Limit: {}.",
                limits::ON_DEMAND_STREAM_LIMIT
            )));
        }
        let now = self.clock.now_ms();
        let pending = {
            let mut reg = self.registry.write();
            if reg.by_name.contains_key(&key) {
                return Err(KinesisError::ResourceInUse(format!(
                    "Stream {name} under account {account} already exists."
                )));
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let shards = keys::even_ranges(count)
                .into_iter()
                .enumerate()
                .map(|(i, (start_hash, end_hash))| ShardMeta {
                    index: i as u32,
                    parent: None,
                    adjacent_parent: None,
                    more_parents: Vec::new(),
                    start_hash,
                    end_hash,
                    created_ms: now,
                    first_position: 0,
                    closed: None,
                })
                .collect();
            let meta = StreamMeta {
                id,
                account: account.clone(),
                region: region.clone(),
                name: name.to_string(),
                created_ms: now,
                mode: mode.to_string(),
                retention_hours: DEFAULT_RETENTION_HOURS,
                encryption_key: None,
                tags,
                shards,
                consumers: Vec::new(),
                shard_level_metrics: Vec::new(),
                policies: BTreeMap::new(),
                max_record_kib,
                warm_throughput_mibps: warm.map(|t| t as u32),
            };
            let pending = self.save_meta(&meta);
            let handle = Arc::new(StreamHandle::new(meta, 0, HashMap::new()));
            reg.by_id.insert(id, handle.clone());
            reg.by_name.insert(key, handle);
            pending
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let key = stream_key(ctx, input)?;
        let enforce = input
            .get("EnforceConsumerDeletion")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let pending = {
            let mut reg = self.registry.write();
            let handle = reg
                .by_name
                .get(&key)
                .cloned()
                .ok_or_else(|| KinesisError::stream_not_found(&key.2, &key.0))?;
            let mut st = handle.state.lock();
            if !st.meta.consumers.is_empty() && !enforce {
                return Err(KinesisError::ResourceInUse(format!(
                    "Stream {} under account {} has registered consumers. Deregister them, or set EnforceConsumerDeletion to delete the stream with its consumers.",
                    key.2, key.0
                )));
            }
            st.deleted = true;
            reg.by_name.remove(&key);
            reg.by_id.remove(&handle.id);
            let pending = self.store.apply(Change::Delete {
                stream_id: handle.id,
            });
            // Waiting readers see the stream go.
            handle.appended.send_modify(|v| *v = v.wrapping_add(0));
            pending
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) fn describe_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.stream(ctx, input)?;
        // "If you specify a value greater than 100, at most 100 results are returned."
        let limit = int_in(input, "Limit", 1, 10_000)?.unwrap_or(100).min(100) as usize;
        let after = exclusive_start_shard(input)?;
        let now = self.clock.now_ms();
        let st = handle.state.lock();
        let meta = &st.meta;
        let shards: Vec<&ShardMeta> = meta
            .shards
            .iter()
            .filter(|sh| listed(meta, sh, now) && after.is_none_or(|a| sh.index > a))
            .collect();
        let page: Vec<Value> = shards
            .iter()
            .take(limit)
            .map(|sh| shard_json(meta, sh))
            .collect();
        let mut description = json!({
            "StreamName": meta.name,
            "StreamARN": meta.arn(),
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": mode_json(meta),
            "Shards": page,
            "HasMoreShards": shards.len() > limit,
            "RetentionPeriodHours": meta.retention_hours,
            "StreamCreationTimestamp": secs(meta.created_ms),
            "EnhancedMonitoring": monitoring_json(meta),
            "EncryptionType": meta.encryption_type(),
        });
        if let Some(k) = &meta.encryption_key {
            description["KeyId"] = json!(k);
        }
        Ok(json!({ "StreamDescription": description }))
    }

    pub(crate) fn describe_stream_summary(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.stream(ctx, input)?;
        let st = handle.state.lock();
        let meta = &st.meta;
        let mut summary = json!({
            "StreamName": meta.name,
            "StreamARN": meta.arn(),
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": mode_json(meta),
            "RetentionPeriodHours": meta.retention_hours,
            "StreamCreationTimestamp": secs(meta.created_ms),
            "EnhancedMonitoring": monitoring_json(meta),
            "EncryptionType": meta.encryption_type(),
            "OpenShardCount": meta.open_shards().count(),
            "ConsumerCount": meta.consumers.len(),
            "MaxRecordSizeInKiB": meta.max_record_kib(),
        });
        if let Some(k) = &meta.encryption_key {
            summary["KeyId"] = json!(k);
        }
        if let Some(w) = crate::account::warm_throughput_json(meta) {
            summary["WarmThroughput"] = w;
        }
        Ok(json!({ "StreamDescriptionSummary": summary }))
    }

    pub(crate) fn list_streams(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        // "If you specify a value greater than 100, at most 100 results are returned."
        let limit = int_in(input, "Limit", 1, 10_000)?.unwrap_or(100).min(100) as usize;
        let now = self.clock.now_ms();
        let scope = format!("streams/{}/{}", ctx.account_id, ctx.region);
        let after = match s(input, "NextToken") {
            Some(t) => Some(untoken(&scope, t, now)?),
            None => s(input, "ExclusiveStartStreamName").map(str::to_string),
        };
        let mut streams: Vec<(String, Value)> = {
            let reg = self.registry.read();
            reg.by_name
                .iter()
                .filter(|((a, r, n), _)| *a == ctx.account_id && *r == ctx.region && after.as_ref().is_none_or(|x| n > x))
                .map(|((_, _, n), h)| {
                    let st = h.state.lock();
                    let m = &st.meta;
                    (n.clone(), json!({ "StreamName": m.name, "StreamARN": m.arn(), "StreamStatus": "ACTIVE", "StreamModeDetails": mode_json(m), "StreamCreationTimestamp": secs(m.created_ms) }))
                })
                .collect()
        };
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        let more = streams.len() > limit;
        streams.truncate(limit);
        let mut out = json!({
            "StreamNames": streams.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "HasMoreStreams": more,
            "StreamSummaries": streams.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        });
        if more {
            if let Some((last, _)) = streams.last() {
                out["NextToken"] = json!(token(&scope, last, now));
            }
        }
        Ok(out)
    }

    pub(crate) fn list_shards(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let now = self.clock.now_ms();
        let max = int_in(input, "MaxResults", 1, 10_000)?.unwrap_or(1000) as usize;
        let (handle, after) = match s(input, "NextToken") {
            Some(t) => {
                // The token names the stream; AWS refuses the other ways of naming where to
                // start beside it (boto3's ListShards paginator trips on this on AWS too:
                // botocore issue 2009).
                for member in ["StreamName", "StreamARN", "ExclusiveStartShardId", "StreamCreationTimestamp"] {
                    if input.get(member).is_some() {
                        return Err(KinesisError::InvalidArgument(format!("NextToken and {member} cannot be provided together.")));
                    }
                }
                // The token names the stream (by its internal id) and the last shard listed.
                let position = untoken("shards", t, now)?;
                let (id, last) = position.split_once('/').ok_or_else(|| {
                    KinesisError::InvalidArgument(format!("Invalid NextToken: {t}"))
                })?;
                let id: i64 = id.parse().map_err(|_| {
                    KinesisError::InvalidArgument(format!("Invalid NextToken: {t}"))
                })?;
                let handle = self
                    .registry
                    .read()
                    .by_id
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| {
                        KinesisError::ResourceNotFound(format!(
                            "Stream for NextToken {t} not found."
                        ))
                    })?;
                (handle, last.parse::<u32>().ok())
            }
            None => {
                let handle = self.stream(ctx, input)?;
                (handle, exclusive_start_shard(input)?)
            }
        };
        let st = handle.state.lock();
        let meta = &st.meta;
        if let Some(created) = timestamp_ms(input, "StreamCreationTimestamp") {
            if created / 1000 != meta.created_ms / 1000 {
                return Err(KinesisError::stream_not_found(&meta.name, &meta.account));
            }
        }
        let filter = shard_filter(input, meta, now)?;
        let shards: Vec<&ShardMeta> = meta
            .shards
            .iter()
            .filter(|sh| listed(meta, sh, now) && after.is_none_or(|a| sh.index > a) && filter(sh))
            .collect();
        let page: Vec<&ShardMeta> = shards.iter().take(max).copied().collect();
        let mut out =
            json!({ "Shards": page.iter().map(|sh| shard_json(meta, sh)).collect::<Vec<_>>() });
        if shards.len() > max {
            if let Some(last) = page.last() {
                out["NextToken"] =
                    json!(token("shards", &format!("{}/{}", meta.id, last.index), now));
            }
        }
        Ok(out)
    }

    /// UpdateStreamMode: PROVISIONED ↔ ON_DEMAND; the open shards stay as they are.
    /// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateStreamMode.html>
    pub(crate) async fn update_stream_mode(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        req(input, "StreamARN")?;
        let mode = input.pointer("/StreamModeDetails/StreamMode").and_then(Value::as_str).ok_or_else(|| KinesisError::missing("streamModeDetails"))?;
        if mode != "ON_DEMAND" && mode != "PROVISIONED" {
            return Err(KinesisError::constraint(mode, "streamModeDetails.streamMode", "Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]"));
        }
        let handle = self.stream(ctx, input)?;
        let (account, region) = {
            let st = handle.state.lock();
            (st.meta.account.clone(), st.meta.region.clone())
        };
        if mode == "ON_DEMAND" && handle.state.lock().meta.mode != "ON_DEMAND" && self.account_usage(&account, &region).1 >= limits::ON_DEMAND_STREAM_LIMIT {
            return Err(KinesisError::LimitExceeded(format!("This request would exceed the on-demand stream count limit for the account {account} in {region}. Limit: {}.", limits::ON_DEMAND_STREAM_LIMIT)));
        }
        let pending = {
            let mut st = handle.state.lock();
            st.meta.mode = mode.to_string();
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) fn describe_limits(&self, ctx: &RequestContext) -> KinesisResult<Value> {
        let (open, on_demand) = self.account_usage(&ctx.account_id, &ctx.region);
        Ok(json!({
            "ShardLimit": limits::shard_limit(&ctx.region),
            "OpenShardCount": open,
            "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": limits::ON_DEMAND_STREAM_LIMIT,
        }))
    }

    pub(crate) async fn enhanced_monitoring(
        &self,
        ctx: &RequestContext,
        input: &Value,
        enable: bool,
    ) -> KinesisResult<Value> {
        const ALL: [&str; 7] = [
            "IncomingBytes",
            "IncomingRecords",
            "OutgoingBytes",
            "OutgoingRecords",
            "WriteProvisionedThroughputExceeded",
            "ReadProvisionedThroughputExceeded",
            "IteratorAgeMilliseconds",
        ];
        let asked: Vec<String> = input
            .get("ShardLevelMetrics")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if asked.is_empty() {
            return Err(KinesisError::missing("shardLevelMetrics"));
        }
        let mut named = Vec::new();
        for m in &asked {
            if m == "ALL" {
                named.extend(ALL.iter().map(|s| s.to_string()));
            } else if ALL.contains(&m.as_str()) {
                named.push(m.clone());
            } else {
                return Err(KinesisError::constraint(format!("[{}]", asked.join(", ")), "shardLevelMetrics", "Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]"));
            }
        }
        let handle = self.stream(ctx, input)?;
        let (out, pending) = {
            let mut st = handle.state.lock();
            let current = st.meta.shard_level_metrics.clone();
            let mut desired: Vec<String> = if enable {
                current
                    .iter()
                    .cloned()
                    .chain(named.iter().cloned())
                    .collect()
            } else {
                current
                    .iter()
                    .filter(|m| !named.contains(m))
                    .cloned()
                    .collect()
            };
            desired.sort();
            desired.dedup();
            st.meta.shard_level_metrics = desired.clone();
            let out = json!({ "StreamName": st.meta.name, "StreamARN": st.meta.arn(), "CurrentShardLevelMetrics": current, "DesiredShardLevelMetrics": desired });
            (out, self.save_meta(&st.meta))
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(out)
    }
}

/// A test on shards (ListShards' filter).
type ShardTest = Box<dyn Fn(&ShardMeta) -> bool>;

/// ListShards' `ShardFilter` as a test on shards.
/// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ShardFilter.html>
/// The shard index of `ExclusiveStartShardId` (DescribeStream, ListShards), if given.
fn exclusive_start_shard(input: &Value) -> KinesisResult<Option<u32>> {
    let Some(id) = s(input, "ExclusiveStartShardId") else { return Ok(None) };
    keys::shard_index(id).map(Some).ok_or_else(|| {
        KinesisError::constraint(id, "exclusiveStartShardId", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    })
}

fn shard_filter(
    input: &Value,
    meta: &StreamMeta,
    now: u64,
) -> KinesisResult<ShardTest> {
    let Some(filter) = input.get("ShardFilter") else {
        return Ok(Box::new(|_| true));
    };
    let kind = req(filter, "Type").map_err(|_| KinesisError::missing("shardFilter.type"))?;
    let open_at =
        |t: u64| move |sh: &ShardMeta| sh.created_ms <= t && sh.closed.is_none_or(|(c, _)| c > t);
    let trim_horizon = now.saturating_sub(meta.retention_ms()).max(meta.created_ms);
    Ok(match kind {
        "AFTER_SHARD_ID" => {
            let id = s(filter, "ShardId").ok_or_else(|| KinesisError::InvalidArgument("ShardId must be provided for the AFTER_SHARD_ID shard filter type.".into()))?;
            let after = keys::shard_index(id).ok_or_else(|| KinesisError::InvalidArgument(format!("Invalid ShardId {id}.")))?;
            Box::new(move |sh| sh.index > after)
        }
        "AT_TRIM_HORIZON" => Box::new(open_at(trim_horizon)),
        "FROM_TRIM_HORIZON" => Box::new(|_| true),
        "AT_LATEST" => Box::new(|sh| sh.is_open()),
        "AT_TIMESTAMP" | "FROM_TIMESTAMP" => {
            let t = timestamp_ms(filter, "Timestamp").ok_or_else(|| KinesisError::InvalidArgument(format!("Timestamp must be provided for the {kind} shard filter type.")))?.max(meta.created_ms);
            if kind == "AT_TIMESTAMP" {
                Box::new(open_at(t))
            } else {
                Box::new(move |sh: &ShardMeta| sh.closed.is_none_or(|(c, _)| c > t))
            }
        }
        other => return Err(KinesisError::constraint(other, "shardFilter.type", "Member must satisfy enum value set: [AT_TRIM_HORIZON, AT_TIMESTAMP, AT_LATEST, FROM_TIMESTAMP, AFTER_SHARD_ID, FROM_TRIM_HORIZON]")),
    })
}

/// CreateStream's and TagResource's `Tags` map (at most 50, keys 1–128, values ≤ 256).
pub fn tag_map(v: Option<&Value>) -> KinesisResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, v) in m {
            out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    crate::ops_tags::check_tags(&out)?;
    Ok(out)
}
