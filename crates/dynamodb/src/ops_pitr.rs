//! Point-in-time recovery: UpdateContinuousBackups, DescribeContinuousBackups and
//! RestoreTableToPointInTime, on nimbus's clock. While recovery is enabled every change of
//! the table is also logged in the store (same durable batch as the change); a restore
//! reads the newest entry of each key at or before the requested time. The log keeps
//! what the window (RecoveryPeriodInDays, 1–35, default 35) can need: older entries that
//! a later one supersedes are trimmed by the TTL sweeper's pass.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html>

use crate::api::*;
use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::schema::{validate_table_name, RestoredFrom, TableDef};
use crate::service::{table_name_of, DynamoDbService};
use crate::time::epoch_seconds;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const DEFAULT_PERIOD_DAYS: u32 = 35;
const DAY_MS: u64 = 86_400_000;

/// The window a restore may ask for: from the later of enabling and the period's start,
/// to now.
fn window(def: &TableDef, now_ms: u64) -> Option<(u64, u64)> {
    let p = def.pitr.as_ref()?;
    Some((p.enabled_ms.max(now_ms.saturating_sub(p.period_days as u64 * DAY_MS)), now_ms))
}

fn continuous_backups(def: &TableDef, now_ms: u64) -> Value {
    let pitr = match (&def.pitr, window(def, now_ms)) {
        (Some(p), Some((earliest, latest))) => json!({
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": p.period_days,
            "EarliestRestorableDateTime": epoch_seconds(earliest),
            "LatestRestorableDateTime": epoch_seconds(latest),
        }),
        _ => json!({ "PointInTimeRecoveryStatus": "DISABLED" }),
    };
    json!({ "ContinuousBackupsDescription": { "ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr } })
}

impl DynamoDbService {
    pub(crate) fn describe_continuous_backups(&self, ctx: &RequestContext, input: TableNameInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        validate_table_name(name, "tableName")?;
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::TableNotFoundForBackups(name.to_string()))?;
        let st = table.state.lock();
        Ok(continuous_backups(&st.def, self.engine.clock.now_ms()))
    }

    pub(crate) async fn update_continuous_backups(&self, ctx: &RequestContext, input: UpdateContinuousBackupsInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        validate_table_name(name, "tableName")?;
        let spec = input.point_in_time_recovery_specification.ok_or_else(|| {
            DdbError::validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
        })?;
        let enabled = spec.point_in_time_recovery_enabled.ok_or_else(|| {
            DdbError::validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
        })?;
        let days = match spec.recovery_period_in_days {
            None => DEFAULT_PERIOD_DAYS,
            Some(d) if (1..=35).contains(&d) => d as u32,
            Some(d) => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{d}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value {} 35",
                    if d < 1 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
                )))
            }
        };
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::TableNotFoundForBackups(name.to_string()))?;
        let mut txn = Txn::default();
        let out = {
            let mut st = table.state.lock();
            self.engine.set_pitr(&mut st, enabled.then_some(days), &mut txn)?;
            continuous_backups(&st.def, self.engine.clock.now_ms())
        };
        self.engine.submit(txn).wait().await?;
        Ok(out)
    }

    pub(crate) async fn restore_table_to_point_in_time(&self, ctx: &RequestContext, input: RestoreTableToPointInTimeInput) -> DdbResult<Value> {
        let name = match (&input.source_table_arn, &input.source_table_name) {
            (Some(arn), _) => table_name_of(arn)?.to_string(),
            (None, Some(n)) => n.clone(),
            (None, None) => return Err(DdbError::validation("Either SourceTableArn or SourceTableName must be specified")),
        };
        let table = self.engine.table(&ctx.account_id, &ctx.region, &name).ok_or_else(|| DdbError::TableNotFoundForBackups(name.clone()))?;
        let now = self.engine.clock.now_ms();
        let latest = input.use_latest_restorable_time.unwrap_or(false);
        if latest && input.restore_date_time.is_some() {
            return Err(DdbError::validation("Only one of RestoreDateTime or UseLatestRestorableTime can be specified"));
        }
        let (source, items, at_ms) = {
            let st = table.state.lock();
            let Some((earliest, newest)) = window(&st.def, now) else {
                return Err(DdbError::PointInTimeRecoveryUnavailable(format!("Point in time recovery is not enabled for table '{name}'")));
            };
            let at_ms = match input.restore_date_time {
                _ if latest => newest,
                Some(t) => (t * 1000.0).round() as u64,
                None => return Err(DdbError::validation("RestoreDateTime must be specified when UseLatestRestorableTime is false")),
            };
            if at_ms < earliest || at_ms > newest {
                return Err(DdbError::InvalidRestoreTime(
                    "Restore time must be between the earliest restorable date time and the latest restorable date time".into(),
                ));
            }
            (st.def.clone(), self.engine.pitr_items(&st, at_ms)?, at_ms)
        };
        let from = RestoredFrom { backup_arn: None, source_table_arn: source.arn(), at_ms };
        self.restore(ctx, &source, &input.target_table_name, &input.overrides, items, from).await
    }
}
