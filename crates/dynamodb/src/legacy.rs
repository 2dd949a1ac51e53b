//! The legacy (pre-expression) parameters: AttributesToGet, KeyConditions, QueryFilter,
//! ScanFilter, Expected, AttributeUpdates and ConditionalOperator. Each is validated as
//! AWS validates it (arity and types of AttributeValueList, Exists / Value rules, the
//! AttributeUpdates actions) and then rewritten into the equivalent expression text,
//! with generated placeholders (`#legacy0`, `:legacy0`, …) added to a private copy of
//! the request's ExpressionAttributeNames / Values. The rewritten request then takes the
//! ordinary expression path, so evaluation and most errors live in one place.

use crate::api::{DeleteItemInput, Expressions, GetItemInput, Legacy, PutItemInput, QueryInput, UpdateItemInput};
use crate::errors::{DdbError, DdbResult};
use crate::exprs::Subs;
use nimbus_dynamodb_expr::AttributeValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

const OPERATORS: &str = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

fn invalid(msg: impl std::fmt::Display) -> DdbError {
    DdbError::validation(format!("One or more parameter values were invalid: {msg}"))
}

fn present(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_null())
}

/// The request's substitutions plus the generated ones.
struct Gen {
    names: HashMap<String, String>,
    values: HashMap<String, Value>,
    next_name: usize,
    next_value: usize,
}

impl Gen {
    fn new(e: &Expressions) -> Gen {
        Gen {
            names: e.expression_attribute_names.clone().unwrap_or_default(),
            values: e.expression_attribute_values.clone().unwrap_or_default(),
            next_name: 0,
            next_value: 0,
        }
    }

    fn name(&mut self, attr: &str) -> String {
        loop {
            let key = format!("#legacy{}", self.next_name);
            self.next_name += 1;
            if !self.names.contains_key(&key) {
                self.names.insert(key.clone(), attr.to_string());
                return key;
            }
        }
    }

    fn value(&mut self, v: &Value) -> String {
        loop {
            let key = format!(":legacy{}", self.next_value);
            self.next_value += 1;
            if !self.values.contains_key(&key) {
                self.values.insert(key.clone(), v.clone());
                return key;
            }
        }
    }

    fn into_exprs(self) -> Expressions {
        Expressions {
            expression_attribute_names: (!self.names.is_empty()).then_some(self.names),
            expression_attribute_values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

/// "Can not use both expression and non-expression parameters in the same request", and
/// ExpressionAttributeNames / Values without any expression.
fn check_mix(legacy: &[(&str, bool)], exprs: &[(&str, bool)], e: &Expressions) -> DdbResult<bool> {
    let non: Vec<&str> = legacy.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
    let with: Vec<&str> = exprs.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
    if non.is_empty() {
        return Ok(false);
    }
    if !with.is_empty() {
        return Err(DdbError::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            non.join(", "),
            with.join(", ")
        )));
    }
    Subs::new(e)?.require_expression(false)?;
    Ok(true)
}

fn conditional_operator(l: &Legacy) -> DdbResult<&'static str> {
    match l.conditional_operator.as_ref() {
        None | Some(Value::Null) => Ok("AND"),
        Some(Value::String(s)) if s == "AND" => Ok("AND"),
        Some(Value::String(s)) if s == "OR" => Ok("OR"),
        Some(other) => {
            let text = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
            Err(DdbError::validation(format!(
                "1 validation error detected: Value '{text}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]"
            )))
        }
    }
}

/// A map parameter's entries in request order (null entries are ignored, as AWS does).
fn entries<'a>(v: &'a Value, param: &str) -> DdbResult<Vec<(&'a String, &'a Map<String, Value>)>> {
    let map = v.as_object().ok_or_else(|| DdbError::validation(format!("{param} must be a map")))?;
    let mut out = Vec::new();
    for (k, e) in map {
        match e {
            Value::Null => {}
            Value::Object(o) => out.push((k, o)),
            _ => return Err(DdbError::validation(format!("{param} must be a map of attribute names to structures"))),
        }
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// One validated comparison: operator and its values (JSON for the placeholders,
/// decoded for the checks).
struct Cmp {
    op: String,
    values: Vec<Value>,
}

fn decode(v: &Value) -> DdbResult<AttributeValue> {
    AttributeValue::from_json(v).map_err(|e| {
        if e.0.starts_with("One or more parameter values were invalid") {
            DdbError::Validation(e.0)
        } else {
            invalid(e.0)
        }
    })
}

/// Operator, AttributeValueList arity and types, BETWEEN bounds, as AWS checks them.
/// `expected`: the entry is an Expected one (a missing list has its own message).
fn comparison(param: &str, attr: &str, op: Option<&Value>, list: Option<&Value>, expected: bool) -> DdbResult<Cmp> {
    let op = match op {
        None | Some(Value::Null) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value null at '{}.{attr}.member.comparisonOperator' failed to satisfy constraint: Member must not be null",
                lower_first(param)
            )))
        }
        Some(v) => v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
    };
    let arity: (usize, usize) = match op.as_str() {
        "NULL" | "NOT_NULL" => (0, 0),
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "BEGINS_WITH" => (1, 1),
        "IN" => (1, usize::MAX),
        "BETWEEN" => (2, 2),
        _ => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{op}' at '{}.{attr}.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: {OPERATORS}",
                lower_first(param)
            )))
        }
    };
    let values: Vec<Value> = match list {
        None | Some(Value::Null) => {
            if expected && arity.0 > 0 {
                return Err(invalid(format!("Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {attr}")));
            }
            Vec::new()
        }
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(DdbError::validation(format!("AttributeValueList of {param} must be a list"))),
    };
    let decoded: Vec<AttributeValue> = values.iter().map(decode).collect::<DdbResult<_>>()?;
    if decoded.len() < arity.0 || decoded.len() > arity.1 {
        return Err(invalid(format!("Invalid number of argument(s) for the {op} ComparisonOperator")));
    }
    if op == "BETWEEN" && decoded[0].type_name() != decoded[1].type_name() {
        return Err(invalid("AttributeValues inside AttributeValueList must be of same type"));
    }
    let allowed: &[&str] = match op.as_str() {
        "EQ" | "NE" | "NULL" | "NOT_NULL" => &[],
        "CONTAINS" | "NOT_CONTAINS" => &["S", "N", "B", "BOOL", "NULL"],
        "BEGINS_WITH" => &["S", "B"],
        _ => &["S", "N", "B"],
    };
    if !allowed.is_empty() {
        if let Some(bad) = decoded.iter().find(|v| !allowed.contains(&v.type_name())) {
            return Err(invalid(format!("ComparisonOperator {op} is not valid for {} AttributeValue type", bad.type_name())));
        }
    }
    if op == "BETWEEN" && decoded[0].key_cmp(&decoded[1]) == Some(Ordering::Greater) {
        return Err(DdbError::validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"));
    }
    Ok(Cmp { op, values })
}

/// The condition-language text of one comparison on a top-level attribute.
fn cmp_text(g: &mut Gen, attr: &str, c: &Cmp) -> String {
    let n = g.name(attr);
    let mut vals: Vec<String> = c.values.iter().map(|v| g.value(v)).collect();
    let first = vals.first().cloned().unwrap_or_default();
    match c.op.as_str() {
        "EQ" => format!("{n} = {first}"),
        "NE" => format!("{n} <> {first}"),
        "LT" => format!("{n} < {first}"),
        "LE" => format!("{n} <= {first}"),
        "GT" => format!("{n} > {first}"),
        "GE" => format!("{n} >= {first}"),
        "NULL" => format!("attribute_not_exists({n})"),
        "NOT_NULL" => format!("attribute_exists({n})"),
        "CONTAINS" => format!("contains({n}, {first})"),
        "NOT_CONTAINS" => format!("(attribute_exists({n}) AND NOT contains({n}, {first}))"),
        "BEGINS_WITH" => format!("begins_with({n}, {first})"),
        "IN" => format!("{n} IN ({})", vals.join(", ")),
        _ => {
            let high = vals.pop().unwrap_or_default();
            format!("{n} BETWEEN {first} AND {high}")
        }
    }
}

/// QueryFilter / ScanFilter / KeyConditions entries (Condition structures).
fn conditions(param: &str, v: &Value) -> DdbResult<Vec<(String, Cmp)>> {
    entries(v, param)?
        .into_iter()
        .map(|(attr, o)| Ok((attr.clone(), comparison(param, attr, o.get("ComparisonOperator"), o.get("AttributeValueList"), false)?)))
        .collect()
}

fn join(g: &mut Gen, conds: &[(String, Cmp)], op: &str) -> Option<String> {
    let parts: Vec<String> = conds.iter().map(|(a, c)| cmp_text(g, a, c)).collect();
    (!parts.is_empty()).then(|| parts.join(&format!(" {op} ")))
}

/// AttributesToGet as ProjectionExpression text.
fn attributes_to_get(g: &mut Gen, v: &Value) -> DdbResult<Option<String>> {
    let list = v.as_array().ok_or_else(|| DdbError::validation("AttributesToGet must be a list"))?;
    if list.is_empty() {
        return Err(DdbError::validation(
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for a in list {
        let a = a.as_str().ok_or_else(|| DdbError::validation("AttributesToGet must be a list of strings"))?;
        if seen.contains(&a) {
            return Err(invalid(format!("Duplicate value in attribute name: {a}")));
        }
        seen.push(a);
    }
    let parts: Vec<String> = seen.into_iter().map(|a| g.name(a)).collect();
    Ok(Some(parts.join(", ")))
}

/// Expected as ConditionExpression text.
fn expected(g: &mut Gen, v: &Value, joiner: &str) -> DdbResult<Option<String>> {
    let mut parts = Vec::new();
    for (attr, o) in entries(v, "Expected")? {
        let value = o.get("Value").filter(|v| !v.is_null());
        let list = o.get("AttributeValueList").filter(|v| !v.is_null());
        let exists = match o.get("Exists") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(DdbError::validation("Exists must be a boolean")),
        };
        let op = o.get("ComparisonOperator").filter(|v| !v.is_null());
        if value.is_some() && list.is_some() {
            return Err(invalid(format!("Value and AttributeValueList cannot be used together for Attribute: {attr}")));
        }
        match op {
            None => {
                if list.is_some() {
                    return Err(invalid(format!("AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}")));
                }
                match (exists, value) {
                    (Some(false), Some(_)) => return Err(invalid(format!("Value cannot be used when Exists is false for Attribute: {attr}"))),
                    (Some(false), None) => {
                        let n = g.name(attr);
                        parts.push(format!("attribute_not_exists({n})"));
                    }
                    (e, None) => {
                        let e = e.map(|b| b.to_string()).unwrap_or_else(|| "null".into());
                        return Err(invalid(format!("Value must be provided when Exists is {e} for Attribute: {attr}")));
                    }
                    (_, Some(v)) => {
                        decode(v)?;
                        let n = g.name(attr);
                        let val = g.value(v);
                        parts.push(format!("{n} = {val}"));
                    }
                }
            }
            Some(op) => {
                if exists.is_some() {
                    return Err(invalid(format!("Exists and ComparisonOperator cannot be used together for Attribute: {attr}")));
                }
                let single;
                let list = match value {
                    Some(v) => {
                        single = Value::Array(vec![v.clone()]);
                        Some(&single)
                    }
                    None => list,
                };
                let c = comparison("Expected", attr, Some(op), list, true)?;
                parts.push(cmp_text(g, attr, &c));
            }
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join(&format!(" {joiner} "))))
}

/// AttributeUpdates as UpdateExpression text.
fn attribute_updates(g: &mut Gen, v: &Value) -> DdbResult<Option<String>> {
    let (mut set, mut remove, mut add, mut delete) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (attr, o) in entries(v, "AttributeUpdates")? {
        let action = match o.get("Action") {
            None | Some(Value::Null) => "PUT".to_string(),
            Some(a) => a.as_str().map(str::to_string).unwrap_or_else(|| a.to_string()),
        };
        if !["PUT", "ADD", "DELETE"].contains(&action.as_str()) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{action}' at 'attributeUpdates.{attr}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )));
        }
        let value = o.get("Value").filter(|v| !v.is_null());
        let decoded = value.map(decode).transpose()?;
        match (action.as_str(), value, decoded) {
            ("DELETE", None, _) => remove.push(g.name(attr)),
            (_, None, _) => return Err(invalid("Only DELETE action is allowed when no attribute value is specified")),
            ("PUT", Some(v), _) => {
                let n = g.name(attr);
                set.push(format!("{n} = {}", g.value(v)));
            }
            ("ADD", Some(v), Some(d)) => {
                if !matches!(d, AttributeValue::N(_) | AttributeValue::SS(_) | AttributeValue::NS(_) | AttributeValue::BS(_)) {
                    return Err(invalid(format!("ADD action is not supported for the type {}", d.type_name())));
                }
                let n = g.name(attr);
                add.push(format!("{n} {}", g.value(v)));
            }
            (_, Some(v), Some(d)) => {
                if !matches!(d, AttributeValue::SS(_) | AttributeValue::NS(_) | AttributeValue::BS(_)) {
                    return Err(invalid(format!("DELETE action with value is not supported for the type {}", d.type_name())));
                }
                let n = g.name(attr);
                delete.push(format!("{n} {}", g.value(v)));
            }
            _ => unreachable!("a value always decodes or errors"),
        }
    }
    let mut clauses = Vec::new();
    for (kw, list) in [("SET", set), ("REMOVE", remove), ("ADD", add), ("DELETE", delete)] {
        if !list.is_empty() {
            clauses.push(format!("{kw} {}", list.join(", ")));
        }
    }
    Ok((!clauses.is_empty()).then(|| clauses.join(" ")))
}

// ---- per operation ----

pub fn get(input: &GetItemInput) -> DdbResult<Cow<'_, GetItemInput>> {
    let l = &input.legacy;
    if !check_mix(&[("AttributesToGet", present(&l.attributes_to_get))], &[("ProjectionExpression", input.projection_expression.is_some())], &input.exprs)? {
        return Ok(Cow::Borrowed(input));
    }
    let mut g = Gen::new(&input.exprs);
    let mut out = input.clone();
    if let Some(a) = l.attributes_to_get.as_ref().filter(|v| !v.is_null()) {
        out.projection_expression = attributes_to_get(&mut g, a)?;
    }
    out.exprs = g.into_exprs();
    out.legacy = Legacy::default();
    Ok(Cow::Owned(out))
}

/// `Expected` and `ConditionalOperator`, the legacy parameters PutItem and DeleteItem share:
/// `None` when the request uses neither, else its condition expression and the expression
/// names and values that go with it.
fn expected_condition(l: &Legacy, condition: Option<&String>, exprs: &Expressions) -> DdbResult<Option<(Option<String>, Expressions)>> {
    let legacy = [("Expected", present(&l.expected)), ("ConditionalOperator", present(&l.conditional_operator))];
    if !check_mix(&legacy, &[("ConditionExpression", condition.is_some())], exprs)? {
        return Ok(None);
    }
    let mut g = Gen::new(exprs);
    let joiner = conditional_operator(l)?;
    let condition = match l.expected.as_ref().filter(|v| !v.is_null()) {
        Some(e) => expected(&mut g, e, joiner)?,
        None => condition.cloned(),
    };
    Ok(Some((condition, g.into_exprs())))
}

pub fn put(input: &PutItemInput) -> DdbResult<Cow<'_, PutItemInput>> {
    let Some((condition_expression, exprs)) = expected_condition(&input.legacy, input.condition_expression.as_ref(), &input.exprs)? else {
        return Ok(Cow::Borrowed(input));
    };
    Ok(Cow::Owned(PutItemInput { condition_expression, exprs, legacy: Legacy::default(), ..input.clone() }))
}

pub fn delete(input: &DeleteItemInput) -> DdbResult<Cow<'_, DeleteItemInput>> {
    let Some((condition_expression, exprs)) = expected_condition(&input.legacy, input.condition_expression.as_ref(), &input.exprs)? else {
        return Ok(Cow::Borrowed(input));
    };
    Ok(Cow::Owned(DeleteItemInput { condition_expression, exprs, legacy: Legacy::default(), ..input.clone() }))
}

pub fn update(input: &UpdateItemInput) -> DdbResult<Cow<'_, UpdateItemInput>> {
    let l = &input.legacy;
    let legacy = [
        ("AttributeUpdates", present(&l.attribute_updates)),
        ("Expected", present(&l.expected)),
        ("ConditionalOperator", present(&l.conditional_operator)),
    ];
    let exprs = [("UpdateExpression", input.update_expression.is_some()), ("ConditionExpression", input.condition_expression.is_some())];
    if !check_mix(&legacy, &exprs, &input.exprs)? {
        return Ok(Cow::Borrowed(input));
    }
    let mut g = Gen::new(&input.exprs);
    let mut out = input.clone();
    let joiner = conditional_operator(l)?;
    if let Some(u) = l.attribute_updates.as_ref().filter(|v| !v.is_null()) {
        out.update_expression = attribute_updates(&mut g, u)?;
    }
    if let Some(e) = l.expected.as_ref().filter(|v| !v.is_null()) {
        out.condition_expression = expected(&mut g, e, joiner)?;
    }
    out.exprs = g.into_exprs();
    out.legacy = Legacy::default();
    Ok(Cow::Owned(out))
}

/// Query (`query`) or Scan. The rewritten input keeps its `legacy` part (Query checks
/// QueryFilter's attributes against the key schema).
pub fn read(input: &QueryInput, query: bool) -> DdbResult<Cow<'_, QueryInput>> {
    let l = &input.legacy;
    let kc_expr = input.key_condition_expression.is_some();
    let mut legacy = vec![("AttributesToGet", present(&l.attributes_to_get))];
    if query {
        legacy.push(("QueryFilter", present(&l.query_filter)));
    } else {
        legacy.push(("ScanFilter", present(&l.scan_filter)));
    }
    legacy.push(("ConditionalOperator", present(&l.conditional_operator)));
    // AWS accepts KeyConditions alongside a FilterExpression / ProjectionExpression;
    // only KeyConditionExpression conflicts with it.
    if query && kc_expr {
        legacy.push(("KeyConditions", present(&l.key_conditions)));
    }
    let mut exprs = vec![("ProjectionExpression", input.projection_expression.is_some()), ("FilterExpression", input.filter_expression.is_some())];
    if query {
        exprs.push(("KeyConditionExpression", kc_expr));
    }
    let key_conditions = query && present(&l.key_conditions);
    let any_legacy = legacy.iter().any(|(_, p)| *p) || key_conditions;
    if !any_legacy {
        return Ok(Cow::Borrowed(input));
    }
    check_mix(&legacy, &exprs, &input.exprs)?;
    if !exprs.iter().any(|(_, p)| *p) {
        Subs::new(&input.exprs)?.require_expression(false)?;
    }
    if let (Some(a), Some(s)) = (l.attributes_to_get.as_ref().filter(|v| !v.is_null()), input.select.as_deref()) {
        if s != "SPECIFIC_ATTRIBUTES" && a.is_array() {
            return Err(DdbError::validation(format!("Cannot specify the AttributesToGet when choosing to get {s}")));
        }
    }
    let mut g = Gen::new(&input.exprs);
    let mut out = input.clone();
    if let Some(a) = l.attributes_to_get.as_ref().filter(|v| !v.is_null()) {
        out.projection_expression = attributes_to_get(&mut g, a)?;
    }
    let joiner = conditional_operator(l)?;
    let filter = if query { &l.query_filter } else { &l.scan_filter };
    if let Some(f) = filter.as_ref().filter(|v| !v.is_null()) {
        let conds = conditions(if query { "QueryFilter" } else { "ScanFilter" }, f)?;
        out.filter_expression = join(&mut g, &conds, joiner);
    }
    if key_conditions {
        let conds = conditions("KeyConditions", l.key_conditions.as_ref().unwrap_or(&Value::Null))?;
        // At most one per key attribute: 2 for a table, 8 for a global index with
        // multi-attribute keys (`check_key_condition_count` holds a view to its own).
        if conds.is_empty() || conds.len() > 2 * crate::keys::MAX_KEY_PART_ATTRIBUTES {
            return Err(conditions_length());
        }
        if conds.iter().any(|(_, c)| !["EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN"].contains(&c.op.as_str())) {
            return Err(DdbError::validation("Attempted conditional constraint is not an indexable operation"));
        }
        out.key_condition_expression = join(&mut g, &conds, "AND");
    }
    out.exprs = g.into_exprs();
    Ok(Cow::Owned(out))
}

fn conditions_length() -> DdbError {
    DdbError::validation("Conditions can be of length 1 or 2 only")
}

/// KeyConditions may hold one condition per key attribute of the queried view (two for
/// a table or local index).
pub fn check_key_condition_count(l: &Legacy, key_attributes: usize) -> DdbResult<()> {
    match &l.key_conditions {
        Some(Value::Object(m)) if m.len() > key_attributes.max(2) => Err(conditions_length()),
        _ => Ok(()),
    }
}

/// QueryFilter may not name the queried view's key attributes.
pub fn check_query_filter(l: &Legacy, key_names: &[&str]) -> DdbResult<()> {
    if let Some(Value::Object(m)) = &l.query_filter {
        if let Some(k) = m.keys().find(|k| key_names.contains(&k.as_str())) {
            return Err(DdbError::validation(format!("QueryFilter can only contain non-primary key attributes: Primary key attribute: {k}")));
        }
    }
    Ok(())
}
