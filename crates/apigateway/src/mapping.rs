//! HTTP APIs' parameter mapping ("Transform API requests and responses for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html):
//! the value language (`$request.header.x`, `${request.body.a.b}`, `$context.x`,
//! `$stageVariables.x`, `$response.header.x`, literal text and mixtures), the checks
//! Create/UpdateIntegration apply to `RequestParameters` / `ResponseParameters`, and
//! applying them to a request on its way to the integration and to the integration's answer.

use crate::context::Facts;
use http::HeaderMap;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Headers no mapping may name (the page's "Reserved headers"); a trailing `*` is a prefix.
const RESERVED: &[&str] = &[
    "access-control-*", "apigw-*", "authorization", "connection", "content-encoding", "content-length", "content-location", "forwarded", "keep-alive", "origin",
    "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "x-amz-*", "x-amzn-*", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-proto", "via",
];

pub fn is_reserved(header: &str) -> bool {
    let h = header.to_ascii_lowercase();
    RESERVED.iter().any(|r| match r.strip_suffix('*') {
        Some(prefix) => h.starts_with(prefix),
        None => h == *r,
    })
}

/// One reference in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Var {
    RequestHeader(String),
    RequestQuery(String),
    RequestBody(Option<String>),
    RequestPath(Option<String>),
    ResponseHeader(String),
    ResponseBody(Option<String>),
    Context(String),
    Stage(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// Which side of the integration a value is evaluated on: requests read `$request.*`,
/// responses `$response.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

fn var_of(expr: &str, side: Side) -> Option<Var> {
    let named = |rest: &str| (!rest.is_empty()).then(|| rest.to_string());
    if let Some(rest) = expr.strip_prefix("request.") {
        if side != Side::Request {
            return None;
        }
        if rest == "body" {
            return Some(Var::RequestBody(None));
        }
        if rest == "path" {
            return Some(Var::RequestPath(None));
        }
        if let Some(n) = rest.strip_prefix("header.") {
            return named(n).map(Var::RequestHeader);
        }
        if let Some(n) = rest.strip_prefix("querystring.") {
            return named(n).map(Var::RequestQuery);
        }
        if let Some(n) = rest.strip_prefix("body.") {
            return named(n).map(|n| Var::RequestBody(Some(n)));
        }
        if let Some(n) = rest.strip_prefix("path.") {
            return named(n).map(|n| Var::RequestPath(Some(n)));
        }
        return None;
    }
    if let Some(rest) = expr.strip_prefix("response.") {
        if side != Side::Response {
            return None;
        }
        if rest == "body" {
            return Some(Var::ResponseBody(None));
        }
        if let Some(n) = rest.strip_prefix("header.") {
            return named(n).map(Var::ResponseHeader);
        }
        if let Some(n) = rest.strip_prefix("body.") {
            return named(n).map(|n| Var::ResponseBody(Some(n)));
        }
        return None;
    }
    if let Some(n) = expr.strip_prefix("context.") {
        // "Only the special characters . and _ are supported."
        let ok = !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        return ok.then(|| Var::Context(n.to_string()));
    }
    if let Some(n) = expr.strip_prefix("stageVariables.") {
        return named(n).map(Var::Stage);
    }
    None
}

/// Splits a value into text and references: `${…}` up to its brace, or a bare `$name…`
/// over letters, digits, `.`, `_`, `-`, `[`, `]` (a trailing `.` is text). A reference
/// under `request`, `response`, `context` or `stageVariables` that names nothing known is
/// an error; any other `$` is text.
fn parse(value: &str, side: Side) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (expr, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}').ok_or_else(|| value.to_string())?;
            (&inner[..end], end + 2)
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']'))).unwrap_or(after.len());
            let expr = after[..len].trim_end_matches('.');
            (expr, expr.len())
        };
        let root = expr.split('.').next().unwrap_or_default();
        if !matches!(root, "request" | "response" | "context" | "stageVariables") {
            // Not a reference (`$5`, `$foo`): text.
            text.push('$');
            rest = after;
            continue;
        }
        let var = var_of(expr, side).ok_or_else(|| value.to_string())?;
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text)));
        }
        parts.push(Part::Var(var));
        rest = &after[consumed..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

/// An integration's answer as response values read it: headers and body.
pub type Answered<'a> = (&'a [(String, String)], &'a [u8]);

/// What values read.
pub struct Source<'a> {
    pub body: &'a [u8],
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    /// The request path without the stage.
    pub path: &'a str,
    pub path_parameters: &'a HashMap<String, String>,
    pub stage_variables: &'a Map<String, Value>,
    pub facts: &'a Facts,
    /// The integration's answer, for response parameters.
    pub response: Option<Answered<'a>>,
}

/// A JSON path's value (`a.b`, `a[0].b`, `$.a`); strings as their text, others as JSON.
fn json_path(body: &[u8], path: &str) -> Option<String> {
    let root: Value = serde_json::from_slice(body).ok()?;
    let mut v = &root;
    let path = path.strip_prefix("$.").unwrap_or(path);
    for step in path.split('.') {
        let (name, indexes) = step.split_once('[').map_or((step, ""), |(n, i)| (n, i));
        if !name.is_empty() {
            v = v.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            v = v.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn query_values(query: &str, name: &str) -> Option<String> {
    let values: Vec<String> = crate::event::form_pairs(query).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn header_values(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn lookup(var: &Var, src: &Source) -> Option<String> {
    match var {
        Var::RequestHeader(n) => header_values(src.headers, n),
        Var::RequestQuery(n) => query_values(src.query, n),
        Var::RequestBody(None) => Some(String::from_utf8_lossy(src.body).into_owned()),
        Var::RequestBody(Some(p)) => json_path(src.body, p),
        Var::RequestPath(None) => Some(src.path.to_string()),
        Var::RequestPath(Some(n)) => src.path_parameters.get(n).cloned(),
        Var::ResponseHeader(n) => {
            let (headers, _) = src.response?;
            let values: Vec<&str> = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str()).collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        Var::ResponseBody(None) => src.response.map(|(_, b)| String::from_utf8_lossy(b).into_owned()),
        Var::ResponseBody(Some(p)) => json_path(src.response?.1, p),
        Var::Context(n) => src.facts.get(n),
        Var::Stage(n) => src.stage_variables.get(n).and_then(Value::as_str).map(str::to_string),
    }
}

/// A value's text; `None` when it is a single reference naming nothing (the parameter is
/// left out). In a mixture a missing reference is empty text.
pub fn evaluate(value: &str, side: Side, src: &Source) -> Option<String> {
    let parts = parse(value, side).ok()?;
    if let [Part::Var(v)] = parts.as_slice() {
        return lookup(v, src);
    }
    Some(
        parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Var(v) => lookup(v, src).unwrap_or_default(),
            })
            .collect(),
    )
}

/// AWS's BadRequestException wording for a mapping it refuses.
fn invalid(detail: String) -> String {
    format!("Invalid mapping expression specified: Validation Result: warnings : [], errors : [{detail}]")
}

/// Checks a value's references for `side`.
pub fn check_value(value: &str, side: Side) -> Result<(), String> {
    parse(value, side).map(|_| ()).map_err(|v| invalid(format!("Invalid mapping expression specified: {v}")))
}

enum Target {
    Header(String),
    Query(String),
    Path,
    Status,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Append,
    Overwrite,
    Remove,
}

fn destination(key: &str) -> Option<(Action, Target)> {
    let (action, place) = key.split_once(':')?;
    let action = match action {
        "append" => Action::Append,
        "overwrite" => Action::Overwrite,
        "remove" => Action::Remove,
        _ => return None,
    };
    let name_ok = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let target = if let Some(h) = place.strip_prefix("header.") {
        Target::Header(name_ok(h).then(|| h.to_string())?)
    } else if let Some(q) = place.strip_prefix("querystring.") {
        Target::Query(name_ok(q).then(|| q.to_string())?)
    } else if place == "path" && action == Action::Overwrite {
        Target::Path
    } else if place == "statuscode" && action == Action::Overwrite {
        Target::Status
    } else {
        return None;
    };
    Some((action, target))
}

/// `RequestParameters` of an HTTP API's HTTP_PROXY or Lambda integration: keys
/// `append|overwrite|remove:header.<name>`, `append|overwrite|remove:querystring.<name>`,
/// `overwrite:path`; values in the request language; reserved headers refused.
pub fn check_request_parameters(params: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in params {
        let bad_key = || invalid(format!("Invalid Request Actioned Parameter destination specified: {key}"));
        match destination(key).ok_or_else(bad_key)? {
            (_, Target::Header(h)) if is_reserved(&h) => return Err(invalid(format!("Reserved header specified: {h}"))),
            (_, Target::Status) => return Err(bad_key()),
            _ => {}
        }
        let value = value.as_str().ok_or_else(|| invalid(format!("Invalid mapping expression specified: {value}")))?;
        check_value(value, Side::Request)?;
    }
    Ok(())
}

/// `ResponseParameters`: status codes 200-599 mapping to `append|overwrite|remove:header.<name>`
/// and `overwrite:statuscode` (a status 200-599, or a reference) in the response language.
pub fn check_response_parameters(params: &Map<String, Value>) -> Result<(), String> {
    for (code, mappings) in params {
        if !code.parse::<u16>().is_ok_and(|c| (200..=599).contains(&c)) {
            return Err(format!("Invalid ResponseParameters key: {code}. The selection key must be a valid HTTP status code within the range of 200-599."));
        }
        let Some(mappings) = mappings.as_object() else { return Err(format!("ResponseParameters for {code} must be a map")) };
        for (key, value) in mappings {
            let bad_key = || invalid(format!("Invalid Response Actioned Parameter destination specified: {key}"));
            let value = value.as_str().ok_or_else(|| invalid(format!("Invalid mapping expression specified: {value}")))?;
            match destination(key).ok_or_else(bad_key)? {
                (_, Target::Header(h)) if is_reserved(&h) => return Err(invalid(format!("Reserved header specified: {h}"))),
                (_, Target::Query(_) | Target::Path) => return Err(bad_key()),
                (_, Target::Status) if !value.contains('$') && !value.parse::<u16>().is_ok_and(|c| (200..=599).contains(&c)) => {
                    return Err(invalid(format!("Invalid status code specified: {value}")));
                }
                _ => {}
            }
            check_value(value, Side::Response)?;
        }
    }
    Ok(())
}

/// UpdateIntegration's merge of a parameter map: an empty value removes its key (AWS's
/// "Remove configured parameter mappings" example), others set it.
pub fn merge(stored: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (k, v) in update {
        let empty = v.as_str() == Some("") || v.as_object().is_some_and(Map::is_empty);
        if empty {
            stored.remove(k);
        } else {
            stored.insert(k.clone(), v.clone());
        }
    }
}

/// A request on its way to the integration, as parameter mapping changes it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Lower-case names, in order.
    pub headers: Vec<(String, String)>,
}

/// Applies `RequestParameters` (values from the original request), overwrites first, then
/// appends, then removes.
pub fn apply_request(params: &Map<String, Value>, src: &Source, out: &mut Outgoing) {
    let mut steps: Vec<(Action, Target, Option<String>)> = params
        .iter()
        .filter_map(|(k, v)| {
            let (action, target) = destination(k)?;
            let value = if action == Action::Remove { None } else { Some(evaluate(v.as_str()?, Side::Request, src)?) };
            Some((action, target, value))
        })
        .collect();
    steps.sort_by_key(|(a, _, _)| match a {
        Action::Overwrite => 0,
        Action::Append => 1,
        Action::Remove => 2,
    });
    for (action, target, value) in steps {
        match (target, value) {
            (Target::Header(h), value) => edit(&mut out.headers, &h.to_ascii_lowercase(), action, value, true),
            (Target::Query(q), value) => edit(&mut out.query, &q, action, value, false),
            (Target::Path, Some(p)) => out.path = if p.starts_with('/') { p } else { format!("/{p}") },
            _ => {}
        }
    }
}

fn edit(list: &mut Vec<(String, String)>, name: &str, action: Action, value: Option<String>, fold_case: bool) {
    let same = |k: &String| if fold_case { k.eq_ignore_ascii_case(name) } else { k == name };
    match (action, value) {
        (Action::Remove, _) => list.retain(|(k, _)| !same(k)),
        (Action::Overwrite, Some(v)) => {
            list.retain(|(k, _)| !same(k));
            list.push((name.to_string(), v));
        }
        (Action::Append, Some(v)) => match list.iter_mut().find(|(k, _)| same(k)) {
            // Headers join with commas; a query string gets one more value.
            Some((_, existing)) if fold_case => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => list.push((name.to_string(), v)),
        },
        _ => {}
    }
}

/// Applies the `ResponseParameters` for `status` to an answer: headers and the status code.
pub fn apply_response(params: &Map<String, Value>, status: &mut u16, headers: &mut Vec<(String, String)>, src: &Source) {
    let Some(mappings) = params.get(&status.to_string()).and_then(Value::as_object) else { return };
    let mut new_status = None;
    let mut steps = Vec::new();
    for (k, v) in mappings {
        let Some((action, target)) = destination(k) else { continue };
        let value = if action == Action::Remove { None } else { v.as_str().and_then(|v| evaluate(v, Side::Response, src)) };
        match target {
            Target::Status => new_status = value.and_then(|v| v.trim().parse::<u16>().ok()).filter(|c| (100..=599).contains(c)),
            Target::Header(h) => steps.push((action, h.to_ascii_lowercase(), value)),
            _ => {}
        }
    }
    steps.sort_by_key(|(a, _, _)| *a as u8 != Action::Overwrite as u8);
    for (action, name, value) in steps {
        edit(headers, &name, action, value, true);
    }
    if let Some(s) = new_status {
        *status = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts { request_id: "rid=".into(), stage: "prod".into(), ..Facts::default() }
    }

    #[test]
    fn values_mix_text_and_references() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", "1".parse().expect("value"));
        headers.append("x-a", "2".parse().expect("value"));
        let params = HashMap::from([("id".to_string(), "42".to_string())]);
        let stage = Map::from_iter([("env".to_string(), Value::from("dev"))]);
        let f = facts();
        let src = Source { body: br#"{"a":{"b":[{"c":"deep"}]},"n":3}"#, headers: &headers, query: "q=1&q=2", path: "/pets/42", path_parameters: &params, stage_variables: &stage, facts: &f, response: None };
        let ev = |v: &str| evaluate(v, Side::Request, &src);
        assert_eq!(ev("$request.header.X-A").as_deref(), Some("1,2"));
        assert_eq!(ev("$request.querystring.q").as_deref(), Some("1,2"));
        assert_eq!(ev("$request.body.a.b[0].c").as_deref(), Some("deep"));
        assert_eq!(ev("$request.body.n").as_deref(), Some("3"));
        assert_eq!(ev("$request.path").as_deref(), Some("/pets/42"));
        assert_eq!(ev("${request.path.id}-${stageVariables.env}").as_deref(), Some("42-dev"));
        assert_eq!(ev("id $request.path.id in $context.stage.").as_deref(), Some("id 42 in prod."));
        assert_eq!(ev("costs $5").as_deref(), Some("costs $5"));
        assert_eq!(ev("$request.header.missing"), None);
        assert_eq!(ev("plain"), Some("plain".into()));
    }

    #[test]
    fn checks_keys_values_and_reserved_headers() {
        let req = |k: &str, v: &str| check_request_parameters(&Map::from_iter([(k.to_string(), Value::from(v))]));
        assert!(req("append:header.x-id", "$context.requestId").is_ok());
        assert!(req("overwrite:path", "/v2/${request.path.id}").is_ok());
        assert!(req("remove:querystring.q", "''").is_ok());
        assert!(req("replace:header.x", "1").is_err());
        assert!(req("append:path", "/x").is_err());
        assert!(req("overwrite:statuscode", "202").is_err());
        assert!(req("overwrite:header.Authorization", "x").unwrap_err().contains("Reserved header"));
        assert!(req("overwrite:header.x-amz-date", "x").is_err());
        assert!(req("overwrite:header.x", "$request.cookie.a").is_err());
        assert!(req("overwrite:header.x", "$response.header.a").is_err());
        let resp = |code: &str, k: &str, v: &str| check_response_parameters(&Map::from_iter([(code.to_string(), serde_json::json!({ k: v }))]));
        assert!(resp("200", "overwrite:statuscode", "202").is_ok());
        assert!(resp("500", "append:header.x", "$response.header.y").is_ok());
        assert!(resp("200", "overwrite:statuscode", "abc").is_err());
        assert!(resp("600", "overwrite:statuscode", "202").is_err());
        assert!(resp("200", "overwrite:querystring.a", "1").is_err());
        assert!(resp("200", "append:header.x", "$request.header.y").is_err());
    }

    #[test]
    fn applies_request_and_response_mappings() {
        let headers = HeaderMap::new();
        let params = HashMap::new();
        let stage = Map::new();
        let f = facts();
        let src = Source { body: b"", headers: &headers, query: "", path: "/a", path_parameters: &params, stage_variables: &stage, facts: &f, response: None };
        let mut out = Outgoing { path: "/a".into(), query: vec![("q".into(), "1".into()), ("gone".into(), "x".into())], headers: vec![("x-old".into(), "o".into())] };
        let map = serde_json::json!({"append:header.x-old": "n", "overwrite:querystring.q": "2", "append:querystring.q": "3", "remove:querystring.gone": "''", "overwrite:path": "b/c"});
        apply_request(map.as_object().expect("map"), &src, &mut out);
        assert_eq!(out.headers, vec![("x-old".to_string(), "o,n".to_string())]);
        assert_eq!(out.query, vec![("q".to_string(), "2".to_string()), ("q".to_string(), "3".to_string())]);
        assert_eq!(out.path, "/b/c");

        let answer = vec![("x-up".to_string(), "u".to_string()), ("x-drop".to_string(), "d".to_string())];
        let body = br#"{"id":"m1"}"#;
        let src = Source { response: Some((&answer, body)), ..src };
        let map = serde_json::json!({"200": {"overwrite:statuscode": "202", "overwrite:header.x-id": "$response.body.id", "remove:header.x-drop": "''", "append:header.x-up": "$context.requestId"}});
        let (mut status, mut h) = (200, answer.clone());
        apply_response(map.as_object().expect("map"), &mut status, &mut h, &src);
        assert_eq!(status, 202);
        assert_eq!(h, vec![("x-up".to_string(), "u,rid=".to_string()), ("x-id".to_string(), "m1".to_string())]);
        let (mut status, mut h) = (404, answer.clone());
        apply_response(map.as_object().expect("map"), &mut status, &mut h, &src);
        assert_eq!((status, h), (404, answer));
    }
}
