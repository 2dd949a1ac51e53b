//! BatchGetItem (up to 100 keys, 16 MB per response, the rest in UnprocessedKeys) and
//! BatchWriteItem (up to 25 puts and deletes; every request validated before any is
//! written; each item written atomically on its own).

use crate::api::*;
use crate::capacity::{check_mode, consumed, read_units, write_units};
use crate::engine::{Submitted, Txn};
use crate::errors::{DdbError, DdbResult};
use crate::ops_items::written_bytes;
use crate::service::DynamoDbService;
use crate::write::{delete_op, put_op, Action, WriteOp};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

const MAX_GET_KEYS: usize = 100;
const MAX_WRITES: usize = 25;
const MAX_GET_BYTES: usize = 16 * 1024 * 1024;

/// A PutRequest's item must carry every key attribute with its declared type; AWS's
/// BatchWriteItem says so with the key-schema message rather than PutItem's
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html>).
fn put_key_matches(schema: &crate::keys::KeySchema, item: &nimbus_dynamodb_expr::Item) -> DdbResult<()> {
    for (name, t) in schema.attributes() {
        if !item.get(name).is_some_and(|v| t.matches(v)) {
            return Err(DdbError::validation("The provided key element does not match the schema"));
        }
    }
    Ok(())
}

impl DynamoDbService {
    pub(crate) fn batch_get_item(&self, ctx: &RequestContext, input: BatchGetItemInput) -> DdbResult<Value> {
        check_mode(input.return_consumed_capacity.as_deref())?;
        let requests = input.request_items.0;
        if requests.is_empty() {
            return Err(DdbError::validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let total: usize = requests.iter().map(|(_, r)| r.keys.len()).sum();
        if total > MAX_GET_KEYS {
            return Err(DdbError::validation("Too many items requested for the BatchGetItem call"));
        }
        let mut tables = Vec::new();
        for (name, r) in &requests {
            if r.keys.is_empty() {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '[]' at 'requestItems.{name}.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
                )));
            }
            let mut seen = Vec::new();
            for k in &r.keys {
                if seen.contains(&k) {
                    return Err(DdbError::validation("Provided list of item keys contains duplicates"));
                }
                seen.push(k);
            }
            tables.push(self.table(ctx, name)?);
        }
        let mut responses = Map::new();
        let mut unprocessed = Map::new();
        let mut capacity = Vec::new();
        let mut bytes = 0usize;
        for ((name, r), table) in requests.iter().zip(tables) {
            let mut items = Vec::new();
            let mut left = Vec::new();
            // Each key is charged on its own, rounded up to 4 KB (a missing item costs
            // the minimum), then summed per table.
            let mut table_units = 0.0;
            for key in &r.keys {
                if bytes >= MAX_GET_BYTES {
                    left.push(key.clone());
                    continue;
                }
                let get = GetItemInput {
                    table_name: name.clone(),
                    key: key.clone(),
                    projection_expression: r.projection_expression.clone(),
                    consistent_read: r.consistent_read,
                    return_consumed_capacity: None,
                    exprs: r.exprs.clone(),
                    legacy: r.legacy.clone(),
                };
                let (found, _) = self.read_one(&table, &get)?;
                let size = found.as_ref().map(|f| f.1).unwrap_or(0);
                table_units += read_units(size, r.consistent_read.unwrap_or(false));
                if let Some((item, size)) = found {
                    bytes += size;
                    items.push(item);
                }
            }
            responses.insert(name.clone(), Value::Array(items));
            if !left.is_empty() {
                let mut u = json!({ "Keys": left });
                if let Some(p) = &r.projection_expression {
                    u["ProjectionExpression"] = json!(p);
                }
                if let Some(a) = r.legacy.attributes_to_get.as_ref().filter(|a| !a.is_null()) {
                    u["AttributesToGet"] = a.clone();
                }
                if let Some(n) = &r.exprs.expression_attribute_names {
                    u["ExpressionAttributeNames"] = json!(n);
                }
                if let Some(c) = r.consistent_read {
                    u["ConsistentRead"] = json!(c);
                }
                unprocessed.insert(name.clone(), u);
            }
            if let Some(c) = consumed(input.return_consumed_capacity.as_deref(), name, table_units, true) {
                capacity.push(c);
            }
        }
        let mut out = json!({ "Responses": responses, "UnprocessedKeys": unprocessed });
        if !capacity.is_empty() {
            out["ConsumedCapacity"] = Value::Array(capacity);
        }
        Ok(out)
    }

    pub(crate) async fn batch_write_item(&self, ctx: &RequestContext, input: BatchWriteItemInput) -> DdbResult<Value> {
        check_mode(input.return_consumed_capacity.as_deref())?;
        let requests = input.request_items.0;
        let total: usize = requests.iter().map(|(_, r)| r.len()).sum();
        if requests.is_empty() || total > MAX_WRITES || requests.iter().any(|(_, r)| r.is_empty()) {
            return Err(DdbError::validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
            ));
        }
        // Decode and validate everything first.
        let mut plans = Vec::new();
        for (name, reqs) in &requests {
            let table = self.table(ctx, name)?;
            let mut ops: Vec<WriteOp> = Vec::new();
            for r in reqs {
                let op = match (&r.put_request, &r.delete_request) {
                    (Some(p), None) => put_op(&PutItemInput { table_name: name.clone(), item: p.item.clone(), ..Default::default() })?,
                    (None, Some(d)) => delete_op(&DeleteItemInput { table_name: name.clone(), key: d.key.clone(), ..Default::default() })?,
                    _ => {
                        return Err(DdbError::validation(
                            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                        ))
                    }
                };
                ops.push(op);
            }
            {
                let st = table.state.lock();
                let mut keys = Vec::new();
                for op in &ops {
                    if let Action::Put(item) = &op.action {
                        put_key_matches(&st.def.key, item)?;
                    }
                    let key = op.key(&st.def.key)?;
                    if let Action::Put(item) = &op.action {
                        if nimbus_dynamodb_expr::value::item_size(item) > crate::write::MAX_ITEM_BYTES {
                            return Err(DdbError::validation("Item size has exceeded the maximum allowed size"));
                        }
                        st.validate_index_keys(item)?;
                    }
                    if keys.contains(&key) {
                        return Err(DdbError::validation("Provided list of item keys contains duplicates"));
                    }
                    keys.push(key);
                }
            }
            plans.push((name.clone(), table, ops));
        }
        let mut waits: Vec<Submitted> = Vec::new();
        let mut capacity = Vec::new();
        let mut metrics = Map::new();
        for (name, table, ops) in plans {
            let mut txn = Txn::of(ctx);
            let mut units = 0.0;
            let mut table_metrics = Vec::new();
            {
                let mut st = table.state.lock();
                if st.deleted {
                    return Err(DdbError::table_not_found());
                }
                for op in &ops {
                    let applied = op.evaluate(&st)?;
                    units += write_units(written_bytes(&applied));
                    if let Some(m) = crate::ops_items::collection_metrics(&st, &applied, input.return_item_collection_metrics.as_deref()) {
                        table_metrics.push(m);
                    }
                    self.engine.change(&mut st, &applied.key, applied.new.clone(), false, &mut txn);
                }
                waits.push(self.engine.submit(txn));
            }
            if let Some(c) = consumed(input.return_consumed_capacity.as_deref(), &name, units, false) {
                capacity.push(c);
            }
            if !table_metrics.is_empty() {
                metrics.insert(name, Value::Array(table_metrics));
            }
        }
        for w in waits {
            w.wait().await?;
        }
        let mut out = json!({ "UnprocessedItems": {} });
        if !capacity.is_empty() {
            out["ConsumedCapacity"] = Value::Array(capacity);
        }
        if !metrics.is_empty() {
            out["ItemCollectionMetrics"] = Value::Object(metrics);
        }
        Ok(out)
    }
}
