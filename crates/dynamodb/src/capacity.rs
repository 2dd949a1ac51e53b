//! ConsumedCapacity as AWS reports it: read units per 4 KB (half for eventually
//! consistent reads), write units per 1 KB, doubled inside transactions.

use serde_json::{json, Value};

pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// The ConsumedCapacity member for `mode` (TOTAL / INDEXES), or None.
pub fn consumed(mode: Option<&str>, table: &str, units: f64, read: bool) -> Option<Value> {
    consumed_on(mode, table, None, units, read)
}

/// The same for a read of one view: with INDEXES, a read of an index reports its units
/// under `GlobalSecondaryIndexes` / `LocalSecondaryIndexes` and none under `Table`
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ConsumedCapacity.html>).
/// `index` is (name, global).
pub fn consumed_on(mode: Option<&str>, table: &str, index: Option<(&str, bool)>, units: f64, read: bool) -> Option<Value> {
    let kind = if read { "ReadCapacityUnits" } else { "WriteCapacityUnits" };
    match (mode, index) {
        (Some("TOTAL"), _) => Some(json!({"TableName": table, "CapacityUnits": units, kind: units})),
        (Some("INDEXES"), None) => Some(json!({"TableName": table, "CapacityUnits": units, kind: units, "Table": {"CapacityUnits": units, kind: units}})),
        (Some("INDEXES"), Some((name, global))) => {
            let group = if global { "GlobalSecondaryIndexes" } else { "LocalSecondaryIndexes" };
            Some(json!({
                "TableName": table, "CapacityUnits": units, kind: units,
                "Table": {"CapacityUnits": 0.0, kind: 0.0},
                group: {name: {"CapacityUnits": units, kind: units}},
            }))
        }
        _ => None,
    }
}

pub fn check_mode(mode: Option<&str>) -> Result<(), crate::errors::DdbError> {
    match mode {
        None | Some("NONE" | "TOTAL" | "INDEXES") => Ok(()),
        Some(other) => Err(crate::errors::DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        ))),
    }
}
