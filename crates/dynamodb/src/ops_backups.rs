//! On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup and
//! RestoreTableFromBackup, with AWS's errors (TableNotFoundException,
//! BackupNotFoundException, TableAlreadyExistsException). A backup is consistent: it is
//! taken under the table's lock, in one durable batch. A restored table gets the
//! source's keys, indexes, billing and items, but — as on AWS — no stream, TTL, tags or
//! point-in-time recovery settings.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableFromBackup.html>

use crate::api::*;
use crate::backups::{description, details, summary, valid_name};
use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::schema::{describe, parse_throughput, validate_table_name, RestoredFrom, TableDef};
use crate::service::{table_name_of, DynamoDbService};
use nimbus_core::RequestContext;
use nimbus_dynamodb_expr::Item;
use serde_json::{json, Value};
use std::sync::Arc;

impl DynamoDbService {
    pub(crate) async fn create_backup(&self, ctx: &RequestContext, input: CreateBackupInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        validate_table_name(name, "tableName")?;
        if !valid_name(&input.backup_name) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{}' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+, and have length between 3 and 255",
                input.backup_name
            )));
        }
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::TableNotFoundForBackups(name.to_string()))?;
        let mut txn = Txn::default();
        let meta = {
            let st = table.state.lock();
            self.engine.create_backup(&st, &input.backup_name, &mut txn)
        };
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "BackupDetails": details(&meta, "CREATING") }))
    }

    fn backup(&self, ctx: &RequestContext, arn: &str) -> DdbResult<crate::backups::Backup> {
        let found = self.engine.backups.lock().get(arn).cloned();
        found
            .filter(|b| b.meta.table.account == ctx.account_id && b.meta.table.region == ctx.region)
            .ok_or_else(|| DdbError::BackupNotFound(arn.to_string()))
    }

    pub(crate) fn describe_backup(&self, ctx: &RequestContext, input: BackupArnInput) -> DdbResult<Value> {
        let backup = self.backup(ctx, &input.backup_arn)?;
        Ok(json!({ "BackupDescription": description(&backup.meta, "AVAILABLE") }))
    }

    pub(crate) async fn delete_backup(&self, ctx: &RequestContext, input: BackupArnInput) -> DdbResult<Value> {
        self.backup(ctx, &input.backup_arn)?;
        let mut txn = Txn::default();
        let meta = self.engine.delete_backup(&input.backup_arn, &mut txn).ok_or_else(|| DdbError::BackupNotFound(input.backup_arn.clone()))?;
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "BackupDescription": description(&meta, "DELETED") }))
    }

    pub(crate) fn list_backups(&self, ctx: &RequestContext, input: ListBackupsInput) -> DdbResult<Value> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {} 100",
                if limit < 1 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
            )));
        }
        let kind = input.backup_type.as_deref().unwrap_or("USER");
        if !["USER", "SYSTEM", "AWS_BACKUP", "ALL"].contains(&kind) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{kind}' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]"
            )));
        }
        // nimbus makes only USER backups: SYSTEM and AWS_BACKUP list nothing.
        if !matches!(kind, "USER" | "ALL") {
            return Ok(json!({ "BackupSummaries": [] }));
        }
        let table = input.table_name.as_deref().map(table_name_of).transpose()?;
        let (lower, upper) = (input.time_range_lower_bound.map(|s| s * 1000.0), input.time_range_upper_bound.map(|s| s * 1000.0));
        let backups = self.engine.backups.lock();
        let all: Vec<&crate::backups::Backup> = backups
            .values()
            .filter(|b| b.meta.table.account == ctx.account_id && b.meta.table.region == ctx.region)
            .filter(|b| table.is_none_or(|t| b.meta.table.name == t))
            .filter(|b| lower.is_none_or(|l| b.meta.created_ms as f64 >= l) && upper.is_none_or(|u| (b.meta.created_ms as f64) < u))
            .collect();
        let mut ordered = all;
        ordered.sort_by(|a, b| (a.meta.created_ms, &a.meta.arn).cmp(&(b.meta.created_ms, &b.meta.arn)));
        let start = match &input.exclusive_start_backup_arn {
            Some(arn) => ordered.iter().position(|b| &b.meta.arn == arn).map_or(0, |i| i + 1),
            None => 0,
        };
        let page: Vec<&crate::backups::Backup> = ordered.iter().skip(start).take(limit as usize).copied().collect();
        let mut out = json!({ "BackupSummaries": page.iter().map(|b| summary(&b.meta)).collect::<Vec<_>>() });
        if ordered.len() > start + page.len() {
            if let Some(last) = page.last() {
                out["LastEvaluatedBackupArn"] = json!(last.meta.arn);
            }
        }
        Ok(out)
    }

    pub(crate) async fn restore_table_from_backup(&self, ctx: &RequestContext, input: RestoreTableFromBackupInput) -> DdbResult<Value> {
        let backup = self.backup(ctx, &input.backup_arn)?;
        let items = self.engine.backup_items(&backup)?;
        let from = RestoredFrom { backup_arn: Some(backup.meta.arn.clone()), source_table_arn: backup.meta.table.arn(), at_ms: backup.meta.created_ms };
        self.restore(ctx, &backup.meta.table, &input.target_table_name, &input.overrides, items, from).await
    }

    /// Creates `target` from `source`'s definition and `items`, with the overrides
    /// applied; what AWS does not restore (stream, TTL, tags, point-in-time recovery) is
    /// left off.
    pub(crate) async fn restore(
        &self,
        ctx: &RequestContext,
        source: &TableDef,
        target: &str,
        overrides: &RestoreOverrides,
        items: Vec<Arc<Item>>,
        from: RestoredFrom,
    ) -> DdbResult<Value> {
        validate_table_name(target, "targetTableName")?;
        for (given, what) in [
            (overrides.global_secondary_index_override.is_some(), "GlobalSecondaryIndexOverride"),
            (overrides.local_secondary_index_override.is_some(), "LocalSecondaryIndexOverride"),
            (overrides.sse_specification_override.is_some(), "SSESpecificationOverride"),
        ] {
            if given {
                return Err(DdbError::unsupported(what));
            }
        }
        if self.engine.table(&ctx.account_id, &ctx.region, target).is_some() {
            return Err(DdbError::TableAlreadyExists(target.to_string()));
        }
        let mut def = source.clone();
        def.name = target.to_string();
        def.table_id = nimbus_core::ids::uuid();
        def.created_ms = self.engine.clock.now_ms();
        def.stream = None;
        def.latest_stream = None;
        def.tags = Default::default();
        def.ttl_attribute = None;
        def.pitr = None;
        def.kinesis = Vec::new();
        def.restored = Some(from);
        match overrides.billing_mode_override.as_deref() {
            None => {}
            Some("PAY_PER_REQUEST") => def.pay_per_request = true,
            Some("PROVISIONED") => def.pay_per_request = false,
            Some(other) => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
                )))
            }
        }
        if let Some(t) = &overrides.provisioned_throughput_override {
            def.throughput = parse_throughput(t)?;
        }
        let mut txn = Txn::default();
        let table = self.engine.create_table(def, None, &mut txn)?;
        let out = {
            let mut st = table.state.lock();
            for item in items {
                if let Some(key) = st.def.key.key_of(&item) {
                    self.engine.change(&mut st, &key, Some(item), false, &mut txn);
                }
            }
            let counts = st.counts();
            describe(&st.def, "CREATING", &counts, &|_| "CREATING")
        };
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "TableDescription": out }))
    }
}
