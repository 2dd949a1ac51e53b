//! One item write, decoded and evaluated: the shared core of PutItem, UpdateItem,
//! DeleteItem, BatchWriteItem and TransactWriteItems. Parsing happens without the table
//! lock; evaluation (condition, update, limits) runs under it and produces the new item.

use crate::api::{DeleteItemInput, PutItemInput, UpdateItemInput};
use crate::errors::{DdbError, DdbResult};
use crate::exprs::{check_used, non_empty, Subs};
use crate::keys::{KeySchema, PKey};
use crate::table::TableState;
use nimbus_dynamodb_expr::expr::{parse_condition, parse_update, Condition, Update};
use nimbus_dynamodb_expr::value::{item_from_json, item_size, item_to_json};
use nimbus_dynamodb_expr::Item;
use serde_json::Value;
use std::sync::Arc;

pub const MAX_ITEM_BYTES: usize = 400 * 1024;

pub enum Action {
    Put(Item),
    Delete,
    Update(Option<Update>),
    Check,
}

pub struct WriteOp {
    pub table_name: String,
    /// The request's key (for Put: the item's key attributes).
    pub key_item: Item,
    pub action: Action,
    pub condition: Option<Condition>,
    pub return_values: String,
    pub old_on_failure: bool,
}

pub struct Applied {
    pub key: PKey,
    pub old: Option<Arc<Item>>,
    /// The item after the write (None: absent). Equal to `old` for a condition check.
    pub new: Option<Arc<Item>>,
    /// Top-level attributes an update touched.
    pub changed: Vec<String>,
}

fn parse_cond(text: Option<&str>, subs: &Subs) -> DdbResult<Option<Condition>> {
    let s = subs.get();
    let cond = match non_empty(text, "ConditionExpression")? {
        Some(t) => Some(parse_condition(t, &s)?),
        None => None,
    };
    check_used(&s)?;
    Ok(cond)
}

fn rv_failure(v: Option<&str>) -> DdbResult<bool> {
    match v {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

fn item_arg(v: &Value, what: &str) -> DdbResult<Item> {
    if v.is_null() {
        return Err(DdbError::validation(format!("1 validation error detected: Value null at '{what}' failed to satisfy constraint: Member must not be null")));
    }
    Ok(item_from_json(v)?)
}

/// The condition and `ReturnValues` (NONE or ALL_OLD) of a PutItem or DeleteItem.
fn condition_and_return_values(exprs: &crate::api::Expressions, condition: Option<&str>, return_values: Option<&str>) -> DdbResult<(Option<Condition>, String)> {
    let subs = Subs::new(exprs)?;
    subs.require_expression(condition.is_some())?;
    let condition = parse_cond(condition, &subs)?;
    let rv = return_values.unwrap_or("NONE").to_string();
    if rv != "NONE" && rv != "ALL_OLD" {
        return Err(DdbError::validation("Return values set to invalid value"));
    }
    Ok((condition, rv))
}

/// Attribute names are 1 to 65,535 bytes long
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes>).
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 65_535;

fn check_attribute_names(item: &Item) -> DdbResult<()> {
    for name in item.keys() {
        if name.is_empty() {
            return Err(DdbError::validation("One or more parameter values were invalid: An attribute name in the item is empty"));
        }
        if name.len() > MAX_ATTRIBUTE_NAME_BYTES {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Size of an attribute name has exceeded the maximum size limit of {MAX_ATTRIBUTE_NAME_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

pub fn put_op(input: &PutItemInput) -> DdbResult<WriteOp> {
    let rewritten = crate::legacy::put(input)?;
    let input: &PutItemInput = &rewritten;
    let item = item_arg(&input.item, "item")?;
    check_attribute_names(&item)?;
    let (condition, rv) = condition_and_return_values(&input.exprs, input.condition_expression.as_deref(), input.return_values.as_deref())?;
    Ok(WriteOp {
        table_name: input.table_name.clone(),
        key_item: Item::new(),
        action: Action::Put(item),
        condition,
        return_values: rv,
        old_on_failure: rv_failure(input.return_values_on_condition_check_failure.as_deref())?,
    })
}

pub fn delete_op(input: &DeleteItemInput) -> DdbResult<WriteOp> {
    let rewritten = crate::legacy::delete(input)?;
    let input: &DeleteItemInput = &rewritten;
    let key = item_arg(&input.key, "key")?;
    let (condition, rv) = condition_and_return_values(&input.exprs, input.condition_expression.as_deref(), input.return_values.as_deref())?;
    Ok(WriteOp {
        table_name: input.table_name.clone(),
        key_item: key,
        action: Action::Delete,
        condition,
        return_values: rv,
        old_on_failure: rv_failure(input.return_values_on_condition_check_failure.as_deref())?,
    })
}

/// UpdateItem, or a transaction's ConditionCheck when `check` (which requires a
/// condition and takes no update).
pub fn update_op(input: &UpdateItemInput, check: bool) -> DdbResult<WriteOp> {
    let rewritten = crate::legacy::update(input)?;
    let input: &UpdateItemInput = &rewritten;
    let key = item_arg(&input.key, "key")?;
    let subs = Subs::new(&input.exprs)?;
    subs.require_expression(input.condition_expression.is_some() || input.update_expression.is_some())?;
    let s = subs.get();
    let update = match non_empty(input.update_expression.as_deref(), "UpdateExpression")? {
        Some(t) if !check => Some(parse_update(t, &s)?),
        _ => None,
    };
    let condition = match non_empty(input.condition_expression.as_deref(), "ConditionExpression")? {
        Some(t) => Some(parse_condition(t, &s)?),
        None if check => return Err(DdbError::validation("The expression can not be empty;")),
        None => None,
    };
    check_used(&s)?;
    let rv = input.return_values.clone().unwrap_or_else(|| "NONE".into());
    if !["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&rv.as_str()) {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '{rv}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )));
    }
    Ok(WriteOp {
        table_name: input.table_name.clone(),
        key_item: key,
        action: if check { Action::Check } else { Action::Update(update) },
        condition,
        return_values: rv,
        old_on_failure: rv_failure(input.return_values_on_condition_check_failure.as_deref())?,
    })
}

impl WriteOp {
    /// The primary key this op addresses, validated against the table's schema.
    pub fn key(&self, schema: &KeySchema) -> DdbResult<PKey> {
        match &self.action {
            Action::Put(item) => {
                schema.validate_item_keys(item)?;
                schema.key_of(item).ok_or_else(|| DdbError::validation("The provided key element does not match the schema"))
            }
            _ => schema.validate_key(&self.key_item),
        }
    }

    /// Evaluates against the table's current state: condition, then the new item.
    pub fn evaluate(&self, st: &TableState) -> DdbResult<Applied> {
        let key = self.key(&st.def.key)?;
        let old = st.get(&key).cloned();
        if let Some(cond) = &self.condition {
            let empty = Item::new();
            if !cond.eval(old.as_deref().unwrap_or(&empty))? {
                let item = if self.old_on_failure { old.as_deref().map(item_to_json) } else { None };
                return Err(DdbError::ConditionalCheckFailed(item));
            }
        }
        let (new, changed) = match &self.action {
            Action::Put(item) => {
                if item_size(item) > MAX_ITEM_BYTES {
                    return Err(DdbError::validation("Item size has exceeded the maximum allowed size"));
                }
                st.validate_index_keys(item)?;
                (Some(Arc::new(item.clone())), Vec::new())
            }
            Action::Delete => (None, Vec::new()),
            Action::Check => (old.clone(), Vec::new()),
            Action::Update(update) => {
                let mut item = old.as_deref().cloned().unwrap_or_else(|| self.key_item.clone());
                let changed = match update {
                    Some(u) => u.apply(&mut item, &st.def.key.names())?,
                    None => Vec::new(),
                };
                if item_size(&item) > MAX_ITEM_BYTES {
                    return Err(DdbError::validation("Item size to update has exceeded the maximum allowed size"));
                }
                // An update of a missing item that leaves only its key (REMOVE / DELETE
                // actions alone) creates nothing, as on AWS.
                if old.is_none() && update.is_some() && item.len() == self.key_item.len() {
                    return Ok(Applied { key, old, new: None, changed: Vec::new() });
                }
                st.validate_index_keys(&item)?;
                (Some(Arc::new(item)), changed)
            }
        };
        Ok(Applied { key, old, new, changed })
    }

    /// The `Attributes` ReturnValues asks for, if any.
    pub fn attributes(&self, a: &Applied) -> Option<Value> {
        let pick = |item: &Option<Arc<Item>>| -> Option<Item> {
            let item = item.as_deref()?;
            Some(a.changed.iter().filter_map(|n| item.get(n).map(|v| (n.clone(), v.clone()))).collect())
        };
        let out: Option<Item> = match self.return_values.as_str() {
            "ALL_OLD" => a.old.as_deref().cloned(),
            "ALL_NEW" => a.new.as_deref().cloned(),
            "UPDATED_OLD" => pick(&a.old),
            "UPDATED_NEW" => pick(&a.new),
            _ => None,
        };
        out.filter(|i| !i.is_empty()).map(|i| item_to_json(&i))
    }
}
