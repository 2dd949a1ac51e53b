//! Single-item operations: PutItem, UpdateItem, DeleteItem (conditions, ReturnValues,
//! capacity, item collection metrics) and GetItem.

use crate::api::*;
use crate::capacity::{check_mode, consumed, read_units, write_units};
use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::exprs::{check_used, non_empty, Subs};
use crate::service::DynamoDbService;
use crate::table::TableState;
use crate::write::{delete_op, put_op, update_op, Action, Applied, WriteOp};
use nimbus_core::RequestContext;
use nimbus_dynamodb_expr::expr::{parse_projection, project};
use nimbus_dynamodb_expr::value::{item_from_json, item_size, item_to_json};
use serde_json::{json, Value};

/// ItemCollectionMetrics for tables with local secondary indexes.
pub fn collection_metrics(st: &TableState, a: &Applied, mode: Option<&str>) -> Option<Value> {
    if mode != Some("SIZE") || st.def.lsis.is_empty() {
        return None;
    }
    let item = a.new.as_deref().or(a.old.as_deref())?;
    let hash = st.def.key.first_hash();
    let v = item.get(hash)?;
    Some(json!({ "ItemCollectionKey": { hash: v.to_json() }, "SizeEstimateRangeGB": [0.0, 1.0] }))
}

pub fn written_bytes(a: &Applied) -> usize {
    let old = a.old.as_deref().map(item_size).unwrap_or(0);
    let new = a.new.as_deref().map(item_size).unwrap_or(0);
    old.max(new)
}

impl DynamoDbService {
    async fn single_write(&self, ctx: &RequestContext, op: WriteOp, rcc: Option<String>, ricm: Option<String>) -> DdbResult<Value> {
        check_mode(rcc.as_deref())?;
        let table = self.table(ctx, &op.table_name)?;
        let mut txn = Txn::of(ctx);
        let mut out = {
            let mut st = table.state.lock();
            if st.deleted {
                return Err(DdbError::table_not_found());
            }
            let applied = op.evaluate(&st)?;
            let mut out = json!({});
            if let Some(attrs) = op.attributes(&applied) {
                out["Attributes"] = attrs;
            }
            if let Some(c) = consumed(rcc.as_deref(), &st.def.name, write_units(written_bytes(&applied)), false) {
                out["ConsumedCapacity"] = c;
            }
            if let Some(m) = collection_metrics(&st, &applied, ricm.as_deref()) {
                out["ItemCollectionMetrics"] = m;
            }
            if !matches!(op.action, Action::Check) {
                self.engine.change(&mut st, &applied.key, applied.new.clone(), false, &mut txn);
            }
            out
        };
        self.engine.submit(txn).wait().await?;
        if out.as_object().is_some_and(|o| o.is_empty()) {
            out = json!({});
        }
        Ok(out)
    }

    pub(crate) async fn put_item(&self, ctx: &RequestContext, input: PutItemInput) -> DdbResult<Value> {
        let op = put_op(&input)?;
        self.single_write(ctx, op, input.return_consumed_capacity, input.return_item_collection_metrics).await
    }

    pub(crate) async fn delete_item(&self, ctx: &RequestContext, input: DeleteItemInput) -> DdbResult<Value> {
        let op = delete_op(&input)?;
        self.single_write(ctx, op, input.return_consumed_capacity, input.return_item_collection_metrics).await
    }

    pub(crate) async fn update_item(&self, ctx: &RequestContext, input: UpdateItemInput) -> DdbResult<Value> {
        let op = update_op(&input, false)?;
        self.single_write(ctx, op, input.return_consumed_capacity, input.return_item_collection_metrics).await
    }

    pub(crate) fn get_item(&self, ctx: &RequestContext, input: GetItemInput) -> DdbResult<Value> {
        check_mode(input.return_consumed_capacity.as_deref())?;
        let table = self.table(ctx, &input.table_name)?;
        let (item, name) = self.read_one(&table, &input)?;
        let mut out = json!({});
        let consistent = input.consistent_read.unwrap_or(false);
        if let Some(item) = item {
            if let Some(c) = consumed(input.return_consumed_capacity.as_deref(), &name, read_units(item.1, consistent), true) {
                out["ConsumedCapacity"] = c;
            }
            out["Item"] = item.0;
        } else if let Some(c) = consumed(input.return_consumed_capacity.as_deref(), &name, read_units(0, consistent), true) {
            out["ConsumedCapacity"] = c;
        }
        Ok(out)
    }

    /// Reads one item by key with an optional projection: (item JSON, full item size).
    pub(crate) fn read_one(&self, table: &crate::engine::Table, input: &GetItemInput) -> DdbResult<(Option<(Value, usize)>, String)> {
        let rewritten = crate::legacy::get(input)?;
        let input: &GetItemInput = &rewritten;
        let key = if input.key.is_null() {
            return Err(DdbError::validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null"));
        } else {
            item_from_json(&input.key)?
        };
        let subs = Subs::new(&input.exprs)?;
        subs.require_expression(input.projection_expression.is_some())?;
        let s = subs.get();
        let paths = match non_empty(input.projection_expression.as_deref(), "ProjectionExpression")? {
            Some(p) => Some(parse_projection(p, &s)?),
            None => None,
        };
        check_used(&s)?;
        let st = table.state.lock();
        if st.deleted {
            return Err(DdbError::table_not_found());
        }
        let pkey = st.def.key.validate_key(&key)?;
        let found = st.get(&pkey).map(|item| {
            let size = item_size(item);
            let v = match &paths {
                Some(p) => item_to_json(&project(p, item)),
                None => item_to_json(item),
            };
            (v, size)
        });
        Ok((found, st.def.name.clone()))
    }
}
