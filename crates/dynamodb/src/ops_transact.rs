//! TransactWriteItems and TransactGetItems: every table involved is locked (in table id
//! order, so concurrent transactions cannot deadlock), all conditions are evaluated, and
//! either every change goes to the store in one batch or none does and the caller gets
//! TransactionCanceledException with one reason per action, in request order.
//! ClientRequestToken makes a write transaction idempotent for 10 minutes (tokens are
//! kept in memory). TransactGetItems reads each item under its table's lock in turn.

use crate::api::*;
use crate::capacity::{check_mode, consumed, read_units, write_units};
use crate::engine::{Table, TokenRecord, Txn};
use crate::errors::{DdbError, DdbResult};
use crate::ops_items::written_bytes;
use crate::service::DynamoDbService;
use crate::table::TableState;
use crate::write::{delete_op, put_op, update_op, Action, WriteOp};
use nimbus_core::RequestContext;
use nimbus_dynamodb_expr::value::item_size;
use parking_lot::MutexGuard;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const MAX_ACTIONS: usize = 100;
const TOKEN_WINDOW_MS: u64 = 10 * 60 * 1000;
const MAX_TOKEN_CHARS: usize = 36;
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// Locks the distinct tables in id order; returns the guards and, per request entry, the
/// index of its table's guard.
fn lock_all<'a>(tables: &'a [Arc<Table>]) -> (Vec<MutexGuard<'a, TableState>>, Vec<usize>) {
    let mut order: Vec<usize> = (0..tables.len()).collect();
    order.sort_by_key(|i| tables[*i].id);
    let mut guards = Vec::new();
    let mut slot_of_id: BTreeMap<u64, usize> = BTreeMap::new();
    for i in order {
        if !slot_of_id.contains_key(&tables[i].id) {
            slot_of_id.insert(tables[i].id, guards.len());
            guards.push(tables[i].state.lock());
        }
    }
    let slots = tables.iter().map(|t| slot_of_id[&t.id]).collect();
    (guards, slots)
}

/// 1 to MAX_ACTIONS actions per transaction, as AWS validates; returns the count.
fn check_action_count(n: usize) -> DdbResult<usize> {
    if n == 0 || n > MAX_ACTIONS {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {} {MAX_ACTIONS}",
            if n == 0 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
        )));
    }
    Ok(n)
}

/// ClientRequestToken: 1 to 36 characters
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).
fn check_token(t: &str) -> DdbResult<()> {
    let n = t.chars().count();
    if n == 0 || n > MAX_TOKEN_CHARS {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '{t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length {} {MAX_TOKEN_CHARS}",
            if n == 0 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
        )));
    }
    Ok(())
}

/// "The aggregate size of the items in the transaction cannot exceed 4 MB": the items
/// put plus the keys of the other actions, checked before any condition.
fn check_aggregate_size(ops: &[WriteOp]) -> DdbResult<()> {
    let total: usize = ops
        .iter()
        .map(|op| match &op.action {
            Action::Put(item) => item_size(item),
            _ => item_size(&op.key_item),
        })
        .sum();
    if total > MAX_TRANSACTION_BYTES {
        return Err(DdbError::validation("Transaction request cannot be larger than 4 MB"));
    }
    Ok(())
}

impl DynamoDbService {
    pub(crate) async fn transact_write_items(&self, ctx: &RequestContext, input: TransactWriteItemsInput, fingerprint: String) -> DdbResult<Value> {
        check_mode(input.return_consumed_capacity.as_deref())?;
        let n = check_action_count(input.transact_items.len())?;
        if let Some(t) = &input.client_request_token {
            check_token(t)?;
        }
        let token_key = input.client_request_token.as_ref().map(|t| (ctx.account_id.clone(), t.clone()));
        if let Some(k) = &token_key {
            let now = self.engine.clock.now_ms();
            if let Some(rec) = self.engine.tokens.lock().get(k).filter(|r| r.expires_ms > now) {
                if rec.fingerprint != fingerprint {
                    return Err(DdbError::IdempotentParameterMismatch(
                        "The request uses the same client token as a previous, but non-identical request.".into(),
                    ));
                }
                return Ok(rec.response.clone());
            }
        }
        let mut ops: Vec<WriteOp> = Vec::with_capacity(n);
        for item in &input.transact_items {
            let op = match (&item.condition_check, &item.put, &item.delete, &item.update) {
                (Some(c), None, None, None) => update_op(c, true)?,
                (None, Some(p), None, None) => put_op(p)?,
                (None, None, Some(d), None) => delete_op(d)?,
                (None, None, None, Some(u)) => update_op(u, false)?,
                _ => return Err(DdbError::validation("TransactItems can only contain one of Check, Put, Update or Delete")),
            };
            ops.push(op);
        }
        check_aggregate_size(&ops)?;
        let tables: Vec<Arc<Table>> = ops.iter().map(|op| self.table(ctx, &op.table_name)).collect::<DdbResult<_>>()?;
        let mut txn = Txn::of(ctx);
        let (submitted, response) = {
            let (mut guards, slots) = lock_all(&tables);
            if guards.iter().any(|g| g.deleted) {
                return Err(DdbError::table_not_found());
            }
            let mut seen = Vec::new();
            for (op, slot) in ops.iter().zip(&slots) {
                let key = op.key(&guards[*slot].def.key)?;
                if seen.contains(&(tables[*slot].id, key.clone())) {
                    return Err(DdbError::validation("Transaction request cannot include multiple operations on one item"));
                }
                seen.push((tables[*slot].id, key));
            }
            let mut reasons = Vec::with_capacity(n);
            let mut applied = Vec::with_capacity(n);
            let mut failed = false;
            for (op, slot) in ops.iter().zip(&slots) {
                match op.evaluate(&guards[*slot]) {
                    Ok(a) => {
                        reasons.push(json!({"Code": "None"}));
                        applied.push(Some(a));
                    }
                    Err(DdbError::ConditionalCheckFailed(item)) => {
                        failed = true;
                        let mut r = json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
                        if let Some(i) = item {
                            r["Item"] = i;
                        }
                        reasons.push(r);
                        applied.push(None);
                    }
                    Err(DdbError::Validation(m)) => {
                        failed = true;
                        reasons.push(json!({"Code": "ValidationError", "Message": m}));
                        applied.push(None);
                    }
                    Err(other) => return Err(other),
                }
            }
            if failed {
                return Err(DdbError::TransactionCanceled(reasons));
            }
            let mut units: BTreeMap<String, f64> = BTreeMap::new();
            for ((op, slot), a) in ops.iter().zip(&slots).zip(applied.into_iter().flatten()) {
                let st = &mut guards[*slot];
                *units.entry(st.def.name.clone()).or_default() += 2.0 * write_units(written_bytes(&a));
                if !matches!(op.action, Action::Check) {
                    self.engine.change(st, &a.key, a.new.clone(), false, &mut txn);
                }
            }
            let mut out = json!({});
            let caps: Vec<Value> = units.iter().filter_map(|(t, u)| consumed(input.return_consumed_capacity.as_deref(), t, *u, false)).collect();
            if !caps.is_empty() {
                out["ConsumedCapacity"] = Value::Array(caps);
            }
            (self.engine.submit(txn), out)
        };
        submitted.wait().await?;
        if let Some(k) = token_key {
            let expires_ms = self.engine.clock.now_ms() + TOKEN_WINDOW_MS;
            self.engine.tokens.lock().insert(k, TokenRecord { expires_ms, fingerprint, response: response.clone() });
        }
        Ok(response)
    }

    pub(crate) fn transact_get_items(&self, ctx: &RequestContext, input: TransactGetItemsInput) -> DdbResult<Value> {
        check_mode(input.return_consumed_capacity.as_deref())?;
        let n = check_action_count(input.transact_items.len())?;
        let gets: Vec<&GetItemInput> = input
            .transact_items
            .iter()
            .map(|t| t.get.as_ref().ok_or_else(|| DdbError::validation("TransactItems can only contain Get")))
            .collect::<DdbResult<_>>()?;
        let tables: Vec<Arc<Table>> = gets.iter().map(|g| self.table(ctx, &g.table_name)).collect::<DdbResult<_>>()?;
        let mut responses = Vec::with_capacity(n);
        let mut units: BTreeMap<String, f64> = BTreeMap::new();
        for (get, table) in gets.iter().zip(&tables) {
            let (found, name) = self.read_one(table, get)?;
            let size = found.as_ref().map(|f| f.1).unwrap_or(0);
            *units.entry(name).or_default() += 2.0 * read_units(size, true);
            responses.push(match found {
                Some((item, _)) => json!({ "Item": item }),
                None => json!({}),
            });
        }
        let mut out = json!({ "Responses": responses });
        let caps: Vec<Value> = units.iter().filter_map(|(t, u)| consumed(input.return_consumed_capacity.as_deref(), t, *u, true)).collect();
        if !caps.is_empty() {
            out["ConsumedCapacity"] = Value::Array(caps);
        }
        Ok(out)
    }
}
