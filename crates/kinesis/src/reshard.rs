//! Resharding: SplitShard, MergeShards and UpdateShardCount (UNIFORM_SCALING). The
//! parents are closed at the stream's current position (their `EndingSequenceNumber`),
//! the children open there with `ParentShardId` / `AdjacentParentShardId`, so every child
//! record comes after every parent record. Closed shards stay readable to their end, where
//! GetRecords answers `ChildShards`. The stream is ACTIVE again at once.
//! <https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-resharding.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::keys;
use crate::service::{req, KinesisService};
use crate::stream::{ShardMeta, StreamState};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

impl KinesisService {
    /// An open shard of the stream, by id, with AWS's errors.
    fn open_shard(st: &StreamState, shard_id: &str) -> KinesisResult<ShardMeta> {
        let meta = &st.meta;
        let shard = keys::shard_index(shard_id)
            .and_then(|i| meta.shard(i))
            .ok_or_else(|| KinesisError::shard_not_found(shard_id, &meta.name, &meta.account))?;
        if !shard.is_open() {
            return Err(KinesisError::ResourceInUse(format!(
                "Shard {shard_id} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
                meta.name, meta.account
            )));
        }
        Ok(shard.clone())
    }

    fn provisioned_only(st: &StreamState, op: &str) -> KinesisResult<()> {
        if st.meta.mode == "ON_DEMAND" {
            return Err(KinesisError::Validation(format!(
                "{op} is not supported for stream {} under account {} in ON_DEMAND capacity mode.",
                st.meta.name, st.meta.account
            )));
        }
        Ok(())
    }

    /// Closes `parents` and opens `children` (start, end, parents) at the current position.
    fn reshape(
        &self,
        st: &mut StreamState,
        parents: &[u32],
        children: Vec<(u128, u128, Vec<u32>)>,
    ) {
        let now = self.clock.now_ms();
        let at = st.next_position;
        for sh in st
            .meta
            .shards
            .iter_mut()
            .filter(|s| parents.contains(&s.index))
        {
            sh.closed = Some((now, at));
        }
        let first = st.meta.next_shard_index();
        for (index, (start_hash, end_hash, ps)) in (first..).zip(children) {
            st.meta.shards.push(ShardMeta {
                index,
                parent: ps.first().copied(),
                adjacent_parent: ps.get(1).copied(),
                more_parents: ps.iter().skip(2).copied().collect(),
                start_hash,
                end_hash,
                created_ms: now,
                first_position: at,
                closed: None,
            });
        }
    }

    pub(crate) async fn split_shard(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let shard_id = req(input, "ShardToSplit")?;
        let text = req(input, "NewStartingHashKey")?;
        let handle = self.stream(ctx, input)?;
        let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
        self.check_shard_limit(&account, &region, 1)?;
        let pending = {
            let mut st = handle.state.lock();
            Self::provisioned_only(&st, "SplitShard")?;
            let shard = Self::open_shard(&st, shard_id)?;
            let split = keys::parse_hash_key(text).filter(|k| *k > shard.start_hash.saturating_add(1) && *k < shard.end_hash).ok_or_else(|| {
                KinesisError::InvalidArgument(format!(
                    "NewStartingHashKey {text} used in SplitShard() on shard {shard_id} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
                    st.meta.name, st.meta.account, shard.start_hash, shard.end_hash
                ))
            })?;
            self.reshape(
                &mut st,
                &[shard.index],
                vec![
                    (shard.start_hash, split - 1, vec![shard.index]),
                    (split, shard.end_hash, vec![shard.index]),
                ],
            );
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn merge_shards(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let first_id = req(input, "ShardToMerge")?;
        let second_id = req(input, "AdjacentShardToMerge")?;
        let handle = self.stream(ctx, input)?;
        let pending = {
            let mut st = handle.state.lock();
            Self::provisioned_only(&st, "MergeShards")?;
            let a = Self::open_shard(&st, first_id)?;
            let b = Self::open_shard(&st, second_id)?;
            let adjacent = a.end_hash.checked_add(1) == Some(b.start_hash)
                || b.end_hash.checked_add(1) == Some(a.start_hash);
            if !adjacent {
                return Err(KinesisError::InvalidArgument(format!(
                    "Shards {first_id} and {second_id} in stream {} under account {} are not an adjacent pair of shards eligible for merging",
                    st.meta.name, st.meta.account
                )));
            }
            self.reshape(
                &mut st,
                &[a.index, b.index],
                vec![(
                    a.start_hash.min(b.start_hash),
                    a.end_hash.max(b.end_hash),
                    vec![a.index, b.index],
                )],
            );
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn update_shard_count(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let target = input
            .get("TargetShardCount")
            .and_then(Value::as_i64)
            .ok_or_else(|| KinesisError::missing("targetShardCount"))?;
        if target < 1 {
            return Err(KinesisError::constraint(
                target,
                "targetShardCount",
                "Member must have value greater than or equal to 1",
            ));
        }
        match req(input, "ScalingType")? {
            "UNIFORM_SCALING" => {}
            other => {
                return Err(KinesisError::constraint(
                    other,
                    "scalingType",
                    "Member must satisfy enum value set: [UNIFORM_SCALING]",
                ))
            }
        }
        let handle = self.stream(ctx, input)?;
        let current = handle.state.lock().meta.open_shards().count() as i64;
        if target > current {
            self.check_shard_limit(&ctx.account_id, &ctx.region, (target - current) as u32)?;
        }
        let (out, pending) = {
            let mut st = handle.state.lock();
            Self::provisioned_only(&st, "UpdateShardCount")?;
            let current = st.meta.open_shards().count() as i64;
            if target > current * 2 {
                return Err(KinesisError::InvalidArgument(format!(
                    "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target * 2 < current {
                return Err(KinesisError::InvalidArgument(format!(
                    "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            let out = json!({ "StreamName": st.meta.name, "StreamARN": st.meta.arn(), "CurrentShardCount": current, "TargetShardCount": target });
            if target == current {
                return Ok(out);
            }
            let mut open: Vec<ShardMeta> = st.meta.open_shards().cloned().collect();
            open.sort_by_key(|s| s.start_hash);
            let children = keys::even_ranges(target as u32)
                .into_iter()
                .map(|(start, end)| {
                    let parents = open
                        .iter()
                        .filter(|p| p.start_hash <= end && start <= p.end_hash)
                        .map(|p| p.index)
                        .collect();
                    (start, end, parents)
                })
                .collect();
            let parents: Vec<u32> = open.iter().map(|s| s.index).collect();
            self.reshape(&mut st, &parents, children);
            (out, self.save_meta(&st.meta))
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(out)
    }
}
