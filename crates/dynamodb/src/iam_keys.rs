//! What the IAM authorizer (`--auth iam`) needs of DynamoDB's own data
//! (`nimbus_core::internal::ResourcePolicies`): a table's tags (`aws:ResourceTag/<key>`)
//! and the fine-grained access condition keys of a request on a table or index, which need
//! its key schema (DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained
//! access control"):
//!
//! - `dynamodb:LeadingKeys`: the partition key values the request names (a key, an item,
//!   a Query's partition key equality; the index's partition key for a Query on an index);
//! - `dynamodb:Attributes`: the top-level attribute names the request reads, writes or
//!   evaluates (keys, items, projections, update / condition / filter / key condition
//!   expressions, and the legacy parameters' attribute names);
//! - `dynamodb:Select`: the request's `Select`; a read without one is `SPECIFIC_ATTRIBUTES`
//!   when it has a projection, else `ALL_ATTRIBUTES` (`ALL_PROJECTED_ATTRIBUTES` on an
//!   index), so `StringEqualsIfExists` on `SPECIFIC_ATTRIBUTES` refuses a read of every
//!   attribute, as the guide's examples intend;
//! - `dynamodb:ReturnValues`: the request's `ReturnValues`, when given.
//!
//! Batch and transaction requests contribute the parts naming this table. PartiQL
//! statements contribute nothing (not derived yet: docs/iam.md).

use crate::service::DynamoDbService;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const READS: &[&str] = &["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"];

impl nimbus_core::internal::ResourcePolicies for DynamoDbService {
    fn policy_of(&self, _arn: &str) -> Option<String> {
        None
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        let Some((account, region, table, _)) = parse_arn(arn) else { return Vec::new() };
        let Some(t) = self.engine.table(account, region, table) else { return Vec::new() };
        let st = t.state.lock();
        st.def.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn condition_keys(&self, arn: &str, operation: &str, input: &Value) -> Vec<(String, Vec<String>)> {
        let Some((account, region, table, index)) = parse_arn(arn) else { return Vec::new() };
        let Some(t) = self.engine.table(account, region, table) else { return Vec::new() };
        let (hash, key_names): (Vec<String>, Vec<String>) = {
            let st = t.state.lock();
            let def = &st.def;
            let schema = match index {
                Some(i) => match def.gsis.iter().chain(def.lsis.iter()).find(|x| x.name == i) {
                    Some(x) => &x.key,
                    None => return Vec::new(),
                },
                None => &def.key,
            };
            (schema.hash_names().into_iter().map(String::from).collect(), def.key.names().into_iter().chain(schema.names()).map(String::from).collect())
        };
        let parts = parts_for(operation, input, table);
        let mut leading: BTreeSet<String> = BTreeSet::new();
        let mut attributes: BTreeSet<String> = BTreeSet::new();
        let mut projected = false;
        for p in &parts {
            let names = p.get("ExpressionAttributeNames").and_then(Value::as_object).cloned().unwrap_or_default();
            for member in ["Key", "Item"] {
                if let Some(item) = p.get(member).and_then(Value::as_object) {
                    attributes.extend(item.keys().cloned());
                    leading.extend(hash.iter().filter_map(|h| item.get(h)).filter_map(scalar_text));
                }
            }
            for keys in p.get("Keys").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object) {
                attributes.extend(keys.keys().cloned());
                leading.extend(hash.iter().filter_map(|h| keys.get(h)).filter_map(scalar_text));
            }
            for member in ["ProjectionExpression", "UpdateExpression", "ConditionExpression", "FilterExpression", "KeyConditionExpression"] {
                if let Some(text) = p.get(member).and_then(Value::as_str) {
                    attributes.extend(top_level_names(text, &names));
                    projected |= member == "ProjectionExpression";
                }
            }
            if let Some(list) = p.get("AttributesToGet").and_then(Value::as_array) {
                attributes.extend(list.iter().filter_map(Value::as_str).map(String::from));
                projected = true;
            }
            for member in ["AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter"] {
                if let Some(m) = p.get(member).and_then(Value::as_object) {
                    attributes.extend(m.keys().cloned());
                }
            }
            if operation == "Query" {
                leading.extend(query_partition_values(p, &hash, &names));
            }
        }
        if operation == "Query" && !attributes.is_empty() {
            // A Query always reads the key attributes of what it queries.
            attributes.extend(key_names);
        }
        let mut out = Vec::new();
        if !leading.is_empty() {
            out.push(("dynamodb:LeadingKeys".to_string(), leading.into_iter().collect()));
        }
        if !attributes.is_empty() {
            out.push(("dynamodb:Attributes".to_string(), attributes.into_iter().collect()));
        }
        if READS.contains(&operation) {
            let select = match input.get("Select").and_then(Value::as_str) {
                Some(s) => s.to_string(),
                None if projected => "SPECIFIC_ATTRIBUTES".into(),
                None if index.is_some() => "ALL_PROJECTED_ATTRIBUTES".into(),
                None => "ALL_ATTRIBUTES".into(),
            };
            out.push(("dynamodb:Select".to_string(), vec![select]));
        }
        if let Some(rv) = input.get("ReturnValues").and_then(Value::as_str) {
            out.push(("dynamodb:ReturnValues".to_string(), vec![rv.to_string()]));
        }
        out
    }
}

/// `arn:aws:dynamodb:<region>:<account>:table/<name>[/index/<index>]` → parts.
fn parse_arn(arn: &str) -> Option<(&str, &str, &str, Option<&str>)> {
    let rest = arn.strip_prefix("arn:aws:dynamodb:")?;
    let mut it = rest.splitn(3, ':');
    let (region, account, resource) = (it.next()?, it.next()?, it.next()?);
    let mut segs = resource.strip_prefix("table/")?.split('/');
    let table = segs.next()?;
    let index = match (segs.next(), segs.next()) {
        (Some("index"), Some(i)) => Some(i),
        (None, _) => None,
        _ => return None,
    };
    Some((account, region, table, index))
}

/// The parts of a request that act on `table`: the request itself, or the entries of a
/// batch or transaction whose table is `table`.
fn parts_for(operation: &str, input: &Value, table: &str) -> Vec<Map<String, Value>> {
    let named = |v: &Value| v.get("TableName").and_then(Value::as_str).is_some_and(|t| t == table || t.ends_with(&format!(":table/{table}")));
    let this_table = |m: &Map<String, Value>| m.iter().find(|(k, _)| *k == table || k.ends_with(&format!(":table/{table}"))).map(|(_, v)| v.clone());
    match operation {
        "BatchGetItem" => input.get("RequestItems").and_then(Value::as_object).and_then(this_table).and_then(|v| v.as_object().cloned()).into_iter().collect(),
        "BatchWriteItem" => input
            .get("RequestItems")
            .and_then(Value::as_object)
            .and_then(this_table)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|w| w.get("PutRequest").or_else(|| w.get("DeleteRequest")).and_then(Value::as_object).cloned())
            .collect(),
        "TransactGetItems" | "TransactWriteItems" => input
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| ["Get", "Put", "Update", "Delete", "ConditionCheck"].iter().find_map(|k| t.get(*k)))
            .filter(|p| named(p))
            .filter_map(|p| p.as_object().cloned())
            .collect(),
        _ => input.as_object().cloned().into_iter().collect(),
    }
}

/// A key attribute value as the condition key compares it: the scalar's text (`S`, `N`,
/// or `B` as its base64 form).
fn scalar_text(v: &Value) -> Option<String> {
    ["S", "N", "B"].iter().find_map(|t| v.get(*t).and_then(Value::as_str)).map(String::from)
}

/// The partition key value(s) of a Query: `KeyConditions` (legacy) or the equality on the
/// partition key in `KeyConditionExpression`.
fn query_partition_values(p: &Map<String, Value>, hash: &[String], names: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(kc) = p.get("KeyConditions").and_then(Value::as_object) {
        for h in hash {
            if let Some(v) = kc.get(h).and_then(|c| c.get("AttributeValueList")).and_then(|l| l.get(0)).and_then(scalar_text) {
                out.push(v);
            }
        }
    }
    let Some(text) = p.get("KeyConditionExpression").and_then(Value::as_str) else { return out };
    let values = p.get("ExpressionAttributeValues").and_then(Value::as_object);
    let tokens = tokens(text);
    for w in tokens.windows(3) {
        let (a, op, b) = (&w[0], &w[1], &w[2]);
        if op != "=" {
            continue;
        }
        let (name, value) = if b.starts_with(':') { (a, b) } else if a.starts_with(':') { (b, a) } else { continue };
        let name = resolve(name, names);
        if hash.iter().any(|h| Some(h.as_str()) == name.as_deref()) {
            if let Some(v) = values.and_then(|vs| vs.get(value.as_str())).and_then(scalar_text) {
                out.push(v);
            }
        }
    }
    out
}

fn resolve(token: &str, names: &Map<String, Value>) -> Option<String> {
    if token.starts_with('#') {
        names.get(token).and_then(Value::as_str).map(String::from)
    } else if token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        Some(token.to_string())
    } else {
        None
    }
}

/// Words of an expression: names (`a`, `#n`), values (`:v`), and one-character symbols;
/// `<=`, `>=`, `<>` as one token.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '#' || c == ':' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if (c == '<' || c == '>') && chars.get(i + 1).is_some_and(|n| *n == '=' || *n == '>') {
            out.push(chars[i..i + 2].iter().collect());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"];

/// The first element of each document path an expression names (`a.b[1]` → `a`, `#n`
/// through ExpressionAttributeNames); function names, keywords and values are skipped.
fn top_level_names(text: &str, names: &Map<String, Value>) -> Vec<String> {
    let t = tokens(text);
    let mut out = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        let nested = i > 0 && t[i - 1] == ".";
        let function = t.get(i + 1).is_some_and(|n| n == "(") && !tok.starts_with('#');
        let keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(tok));
        let digits = tok.chars().all(|c| c.is_ascii_digit());
        if nested || function || keyword || digits || tok.starts_with(':') {
            continue;
        }
        if let Some(name) = resolve(tok, names) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expression_names_are_top_level_and_resolved() {
        let names = json!({"#s": "status", "#n": "nested"});
        let names = names.as_object().unwrap();
        assert_eq!(top_level_names("SET a = if_not_exists(b, :z), #s = :v REMOVE c.d[2] ADD #n :one", names), vec!["a", "b", "status", "c", "nested"]);
        assert_eq!(top_level_names("attribute_exists(pk) AND size(tags) > :n OR NOT x BETWEEN :a AND :b", names), vec!["pk", "tags", "x"]);
        assert_eq!(top_level_names("pk, info.rating, list[0]", names), vec!["pk", "info", "list"]);
    }

    #[test]
    fn query_partition_equality_either_way_round() {
        let p = json!({"KeyConditionExpression": ":u = #p AND sk >= :s", "ExpressionAttributeNames": {"#p": "pk"},
                       "ExpressionAttributeValues": {":u": {"S": "alice"}, ":s": {"N": "3"}}});
        let p = p.as_object().unwrap();
        let names = p["ExpressionAttributeNames"].as_object().unwrap();
        assert_eq!(query_partition_values(p, &["pk".to_string()], names), vec!["alice"]);
        assert_eq!(query_partition_values(p, &["other".to_string()], names), Vec::<String>::new());
    }

    #[test]
    fn arns_name_table_and_index() {
        assert_eq!(parse_arn("arn:aws:dynamodb:us-east-1:000000000000:table/T"), Some(("000000000000", "us-east-1", "T", None)));
        assert_eq!(parse_arn("arn:aws:dynamodb:us-east-1:000000000000:table/T/index/I"), Some(("000000000000", "us-east-1", "T", Some("I"))));
        assert_eq!(parse_arn("arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/x"), None);
    }
}
