//! Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`), the subset nimbus runs:
//! items from the state input (`ItemsPath` / JSONata `Items`), `ItemSelector`,
//! `MaxConcurrency`, `ToleratedFailureCount/Percentage`, `Label`, and `ItemBatcher`
//! (`MaxItemsPerBatch`, `MaxInputBytesPerBatch`, `BatchInput` → `{"BatchInput": …, "Items": [...]}`,
//! as https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html shows).
//! The items run through the inline Map machinery inside the parent execution; child
//! executions, Map Run resources (DescribeMapRun / ListMapRuns / UpdateMapRun, MapRun* history
//! events), `ItemReader` and `ResultWriter` are refused with "… is not supported by nimbus".
//! Kept apart from run.rs so the engine file stays small.

use super::lang::Failure;
use crate::definition::State;
use serde_json::{json, Value};

/// Refuses the distributed-Map fields nimbus does not run yet.
pub fn check_supported(st: &State) -> Result<(), Failure> {
    for field in ["ItemReader", "ResultWriter"] {
        if st.field(field).is_some() {
            return Err(Failure::runtime(format!("The Map state '{}' uses {field} (distributed Map), which is not supported by nimbus", st.name)));
        }
    }
    if let Some(b) = st.field("ItemBatcher") {
        for field in ["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"] {
            if b.get(field).is_some() {
                return Err(Failure::runtime(format!("The Map state '{}' uses ItemBatcher.{field}, which is not supported by nimbus", st.name)));
            }
        }
    }
    Ok(())
}

/// Groups the (already selected) items into batches as `ItemBatcher` says; without an
/// `ItemBatcher` each item is its own input. `batch_input` is the rendered `BatchInput`.
pub fn batch(st: &State, items: Vec<Value>, batch_input: Option<Value>) -> Result<Vec<Value>, Failure> {
    let Some(batcher) = st.field("ItemBatcher") else { return Ok(items) };
    let max_items = batcher.get("MaxItemsPerBatch").and_then(Value::as_u64).map(|n| n as usize);
    let max_bytes = batcher.get("MaxInputBytesPerBatch").and_then(Value::as_u64).map(|n| n as usize);
    if max_items.is_none() && max_bytes.is_none() {
        return Err(Failure::runtime(format!("The Map state '{}' has an ItemBatcher with neither MaxItemsPerBatch nor MaxInputBytesPerBatch", st.name)));
    }
    let wrap = |items: Vec<Value>| match &batch_input {
        Some(b) => json!({ "BatchInput": b, "Items": items }),
        None => json!({ "Items": items }),
    };
    let mut batches = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for item in items {
        let full_by_count = max_items.is_some_and(|m| current.len() >= m.max(1));
        let full_by_bytes = max_bytes.is_some_and(|m| {
            !current.is_empty() && {
                let mut trial = current.clone();
                trial.push(item.clone());
                wrap(trial).to_string().len() > m
            }
        });
        if full_by_count || full_by_bytes {
            batches.push(wrap(std::mem::take(&mut current)));
        }
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(wrap(current));
    }
    Ok(batches)
}
