//! Account settings and the sizing knobs that depend on them: DescribeAccountSettings /
//! UpdateAccountSettings (the minimum throughput billing commitment, stored per account
//! and region, with its 24-hour minimum: disabling earlier leaves it
//! `ENABLED_UNTIL_EARLIEST_ALLOWED_END`, and enabling again cancels that), UpdateMaxRecordSize
//! (records up to 10 MiB) and UpdateStreamWarmThroughput (on-demand streams of an account
//! with a commitment). nimbus applies a change at once, so the stream stays ACTIVE and the
//! warm throughput's current value is its target.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateAccountSettings.html>
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_MinimumThroughputBillingCommitmentInput.html>
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateMaxRecordSize.html>
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateStreamWarmThroughput.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{int_in, secs, KinesisService};
use crate::store::Change;
use crate::stream::StreamMeta;
use nimbus_core::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A commitment cannot end before it has run this long.
const COMMITMENT_MINIMUM_MS: u64 = 24 * 3_600_000;
/// "Scale to more than 10 GiBps for an on-demand stream" is refused.
const MAX_WARM_THROUGHPUT_MIBPS: i64 = 10 * 1024;

/// The stored commitment of one account in one region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Commitment {
    started_ms: Option<u64>,
    /// Set when disabling was asked for: the commitment ends then (or ended).
    ends_ms: Option<u64>,
}

impl Commitment {
    fn earliest_end_ms(&self) -> Option<u64> {
        self.started_ms.map(|s| s + COMMITMENT_MINIMUM_MS)
    }

    fn enabled_at(&self, now_ms: u64) -> bool {
        self.started_ms.is_some() && self.ends_ms.is_none_or(|end| now_ms < end)
    }

    /// `MinimumThroughputBillingCommitmentOutput` at `now_ms`.
    fn output(&self, now_ms: u64) -> Value {
        let Some(started) = self.started_ms else { return json!({ "Status": "DISABLED" }) };
        let status = match self.ends_ms {
            None => "ENABLED",
            Some(end) if now_ms < end => "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
            Some(_) => "DISABLED",
        };
        let mut out = json!({ "Status": status, "StartedAt": secs(started) });
        if let Some(earliest) = self.earliest_end_ms() {
            out["EarliestAllowedEndAt"] = secs(earliest);
        }
        if let Some(end) = self.ends_ms.filter(|end| now_ms >= *end) {
            out["EndedAt"] = secs(end);
        }
        out
    }
}

fn scope(ctx: &RequestContext) -> String {
    format!("{}/{}", ctx.account_id, ctx.region)
}

/// `WarmThroughput` of a stream, when it has one.
pub fn warm_throughput_json(meta: &StreamMeta) -> Option<Value> {
    meta.warm_throughput_mibps.filter(|_| meta.mode == "ON_DEMAND").map(|t| json!({ "TargetMiBps": t, "CurrentMiBps": t }))
}

impl KinesisService {
    fn commitment(&self, ctx: &RequestContext) -> KinesisResult<Commitment> {
        let doc = self.store.account_settings(&scope(ctx)).map_err(|e| KinesisError::Internal(e.to_string()))?;
        Ok(doc.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default())
    }

    /// Whether the account has a minimum throughput billing commitment now.
    pub(crate) fn commitment_enabled(&self, ctx: &RequestContext) -> KinesisResult<bool> {
        Ok(self.commitment(ctx)?.enabled_at(self.clock.now_ms()))
    }

    pub(crate) fn describe_account_settings(&self, ctx: &RequestContext) -> KinesisResult<Value> {
        let now = self.clock.now_ms();
        Ok(json!({ "MinimumThroughputBillingCommitment": self.commitment(ctx)?.output(now) }))
    }

    pub(crate) async fn update_account_settings(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let wanted = input.get("MinimumThroughputBillingCommitment").ok_or_else(|| KinesisError::missing("minimumThroughputBillingCommitment"))?;
        let status = wanted.get("Status").and_then(Value::as_str).ok_or_else(|| KinesisError::missing("minimumThroughputBillingCommitment.status"))?;
        let now = self.clock.now_ms();
        let mut c = self.commitment(ctx)?;
        match status {
            "ENABLED" if c.enabled_at(now) => c.ends_ms = None,
            "ENABLED" => c = Commitment { started_ms: Some(now), ends_ms: None },
            "DISABLED" if c.enabled_at(now) => c.ends_ms = Some(c.earliest_end_ms().unwrap_or(now).max(now)),
            "DISABLED" => {}
            other => return Err(KinesisError::constraint(other, "minimumThroughputBillingCommitment.status", "Member must satisfy enum value set: [ENABLED, DISABLED]")),
        }
        let doc = serde_json::to_string(&c).map_err(|e| KinesisError::Internal(e.to_string()))?;
        self.store.apply(Change::AccountSettings { scope: scope(ctx), doc }).wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({ "MinimumThroughputBillingCommitment": c.output(now) }))
    }

    pub(crate) async fn update_max_record_size(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let kib = int_in(input, "MaxRecordSizeInKiB", 1024, 10240)?.ok_or_else(|| KinesisError::missing("maxRecordSizeInKiB"))?;
        let handle = self.stream(ctx, input)?;
        let pending = {
            let mut st = handle.state.lock();
            st.meta.max_record_kib = Some(kib as u32);
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn update_stream_warm_throughput(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let target = int_in(input, "WarmThroughputMiBps", 0, i64::MAX)?.ok_or_else(|| KinesisError::missing("warmThroughputMiBps"))?;
        let handle = self.stream(ctx, input)?;
        check_warm_throughput(self, ctx, &handle.state.lock().meta.mode, target)?;
        let (pending, out) = {
            let mut st = handle.state.lock();
            st.meta.warm_throughput_mibps = Some(target as u32);
            let out = json!({ "StreamARN": st.meta.arn(), "StreamName": st.meta.name, "WarmThroughput": warm_throughput_json(&st.meta) });
            (self.save_meta(&st.meta), out)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(out)
    }
}

/// Warm throughput is for on-demand streams of accounts with a commitment, up to 10 GiBps
/// (CreateStream's `WarmThroughputMiBps` and UpdateStreamWarmThroughput).
pub(crate) fn check_warm_throughput(service: &KinesisService, ctx: &RequestContext, mode: &str, target: i64) -> KinesisResult<()> {
    if mode != "ON_DEMAND" {
        return Err(KinesisError::InvalidArgument("Warm throughput can only be configured for streams in ON_DEMAND mode.".into()));
    }
    if !service.commitment_enabled(ctx)? {
        return Err(KinesisError::InvalidArgument("Warm throughput can only be configured when MinimumThroughputBillingCommitment is enabled for the account.".into()));
    }
    if target > MAX_WARM_THROUGHPUT_MIBPS {
        return Err(KinesisError::LimitExceeded(format!("Warm throughput of {target} MiBps exceeds the maximum of {MAX_WARM_THROUGHPUT_MIBPS} MiBps for an on-demand stream.")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabling_inside_the_first_day_waits_for_its_end() {
        let c = Commitment { started_ms: Some(1_000), ends_ms: Some(1_000 + COMMITMENT_MINIMUM_MS) };
        assert_eq!(c.output(5_000)["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END");
        assert!(c.enabled_at(5_000));
        let after = c.output(2_000 + COMMITMENT_MINIMUM_MS);
        assert_eq!(after["Status"], "DISABLED");
        assert_eq!(after["EndedAt"], secs(1_000 + COMMITMENT_MINIMUM_MS));
        assert_eq!(Commitment::default().output(0), json!({ "Status": "DISABLED" }));
    }
}
