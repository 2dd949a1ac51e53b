//! On-demand backups: what a backup is (the source table's definition and its items at
//! the moment of CreateBackup), its ARN and the shapes AWS answers with
//! (`BackupDetails`, `BackupSummary`, `BackupDescription`). The items themselves live in
//! the store (`ddb_backup_items`) and are read back only to restore; memory holds the
//! metadata (with `--in-memory`, the items too: there is no store to read them from).
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Backup-and-Restore.html>

use crate::schema::{Counts, TableDef};
use crate::time::epoch_seconds;
use nimbus_dynamodb_expr::Item;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupMeta {
    pub id: u64,
    pub arn: String,
    pub name: String,
    /// The source table as it was (its name, ARN, id, keys, indexes, billing).
    pub table: TableDef,
    pub created_ms: u64,
    pub item_count: u64,
    pub size_bytes: u64,
}

/// A backup in the registry.
#[derive(Clone)]
pub struct Backup {
    pub meta: Arc<BackupMeta>,
    /// The items, when the store cannot give them back (`--in-memory`).
    pub items: Option<Arc<Vec<Arc<Item>>>>,
}

/// `arn:aws:dynamodb:<region>:<account>:table/<name>/backup/<13-digit ms>-<8 hex>`, as
/// AWS forms backup ARNs.
pub fn backup_arn(table: &TableDef, created_ms: u64) -> String {
    format!("{}/backup/{:013}-{:08x}", table.arn(), created_ms, rand::random::<u32>())
}

/// Backup names: 3 to 255 characters of `[a-zA-Z0-9_.-]` (the model's pattern).
pub fn valid_name(name: &str) -> bool {
    (3..=255).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

pub fn details(m: &BackupMeta, status: &str) -> Value {
    json!({
        "BackupArn": m.arn,
        "BackupName": m.name,
        "BackupSizeBytes": m.size_bytes,
        "BackupStatus": status,
        "BackupType": "USER",
        "BackupCreationDateTime": epoch_seconds(m.created_ms),
    })
}

pub fn summary(m: &BackupMeta) -> Value {
    json!({
        "TableName": m.table.name,
        "TableId": m.table.table_id,
        "TableArn": m.table.arn(),
        "BackupArn": m.arn,
        "BackupName": m.name,
        "BackupCreationDateTime": epoch_seconds(m.created_ms),
        "BackupStatus": "AVAILABLE",
        "BackupType": "USER",
        "BackupSizeBytes": m.size_bytes,
    })
}

/// `BackupDescription`: the backup, its source table and the table's features.
pub fn description(m: &BackupMeta, status: &str) -> Value {
    let counts = Counts { item_count: m.item_count, size_bytes: m.size_bytes, ..Default::default() };
    let table = crate::schema::describe(&m.table, "ACTIVE", &counts, &|_| "ACTIVE");
    let mut source = json!({
        "TableName": m.table.name,
        "TableId": m.table.table_id,
        "TableArn": m.table.arn(),
        "TableSizeBytes": m.size_bytes,
        "KeySchema": table["KeySchema"],
        "TableCreationDateTime": epoch_seconds(m.table.created_ms),
        "ProvisionedThroughput": table["ProvisionedThroughput"],
        "ItemCount": m.item_count,
        "BillingMode": if m.table.pay_per_request { "PAY_PER_REQUEST" } else { "PROVISIONED" },
    });
    if let Some(c) = &m.table.table_class {
        source["TableClass"] = json!(c);
    }
    let mut features = json!({});
    for (from, to) in [("LocalSecondaryIndexes", "LocalSecondaryIndexes"), ("GlobalSecondaryIndexes", "GlobalSecondaryIndexes")] {
        if let Some(Value::Array(indexes)) = table.get(from) {
            let kept: Vec<Value> = indexes
                .iter()
                .map(|i| {
                    let mut out = json!({"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]});
                    if let Some(t) = i.get("ProvisionedThroughput") {
                        out["ProvisionedThroughput"] = t.clone();
                    }
                    out
                })
                .collect();
            features[to] = Value::Array(kept);
        }
    }
    if let Some(s) = table.get("StreamSpecification") {
        features["StreamDescription"] = s.clone();
    }
    if let Some(attr) = &m.table.ttl_attribute {
        features["TimeToLiveDescription"] = json!({"TimeToLiveStatus": "ENABLED", "AttributeName": attr});
    }
    if let Some(s) = table.get("SSEDescription") {
        features["SSEDescription"] = s.clone();
    }
    json!({
        "BackupDetails": details(m, status),
        "SourceTableDetails": source,
        "SourceTableFeatureDetails": features,
    })
}
