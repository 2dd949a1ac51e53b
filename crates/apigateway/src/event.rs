//! Lambda proxy integrations' payload formats 2.0 and 1.0: the event API Gateway sends the
//! function and how the function's answer becomes the HTTP response
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).

use base64::Engine;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What the event is built from.
pub struct Incoming<'a> {
    pub api_id: &'a str,
    pub account_id: &'a str,
    pub stage: &'a str,
    pub route_key: &'a str,
    pub method: &'a str,
    /// The path as the client sent it, with the stage prefix for a named stage.
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub host: &'a str,
    pub source_ip: String,
    pub path_parameters: HashMap<String, String>,
    pub stage_variables: Map<String, Value>,
    pub request_id: &'a str,
    pub now_ms: u64,
}

/// Bodies of these content types reach the function as text; others base64-encoded.
fn is_text(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("javascript") || ct.starts_with("application/x-www-form-urlencoded")
}

/// `12/Mar/2020:19:03:58 +0000`, the request time as the event shows it.
pub fn clf_time(ms: u64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms / 1000;
    let (y, m, d) = nimbus_core::time::civil_from_days((secs / 86400) as i64);
    let t = secs % 86400;
    format!("{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000", MONTHS[(m as usize).saturating_sub(1) % 12], t / 3600, t % 3600 / 60, t % 60)
}

/// Header names in lower case, repeated values joined with commas; cookies apart.
fn headers_and_cookies(headers: &HeaderMap) -> (Map<String, Value>, Vec<String>) {
    let mut out: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(v.split(';').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        match out.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                out.insert(name.as_str().to_string(), Value::String(v));
            }
        }
    }
    (out, cookies)
}

/// Query parameters, repeated ones joined with commas.
fn query_parameters(raw: &str) -> Map<String, Value> {
    let mut out: Map<String, Value> = Map::new();
    for (k, v) in form_pairs(raw) {
        match out.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                out.insert(k, Value::String(v));
            }
        }
    }
    out
}

/// A query string's (or form's) decoded pairs, in order.
pub fn form_pairs(raw: &str) -> Vec<(String, String)> {
    let dec = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    raw.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').map(|(k, v)| (dec(k), dec(v))).unwrap_or_else(|| (dec(p), String::new()))).collect()
}

/// The version 2.0 event.
pub fn event_v2(i: &Incoming) -> Value {
    let (headers, cookies) = headers_and_cookies(i.headers);
    let user_agent = i.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let domain_prefix = i.host.split('.').next().unwrap_or(i.host);
    let mut e = json!({
        "version": "2.0",
        "routeKey": i.route_key,
        "rawPath": i.raw_path,
        "rawQueryString": i.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": i.account_id,
            "apiId": i.api_id,
            "domainName": i.host,
            "domainPrefix": domain_prefix,
            "http": { "method": i.method, "path": i.raw_path, "protocol": "HTTP/1.1", "sourceIp": i.source_ip, "userAgent": user_agent },
            "requestId": i.request_id,
            "routeKey": i.route_key,
            "stage": i.stage,
            "time": clf_time(i.now_ms),
            "timeEpoch": i.now_ms,
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        e["cookies"] = json!(cookies);
    }
    if !i.raw_query.is_empty() {
        e["queryStringParameters"] = Value::Object(query_parameters(i.raw_query));
    }
    if !i.path_parameters.is_empty() {
        e["pathParameters"] = json!(i.path_parameters);
    }
    if !i.stage_variables.is_empty() {
        e["stageVariables"] = Value::Object(i.stage_variables.clone());
    }
    if !i.body.is_empty() {
        match std::str::from_utf8(i.body) {
            Ok(text) if is_text(i.headers) => e["body"] = json!(text),
            _ => {
                e["body"] = json!(B64.encode(i.body));
                e["isBase64Encoded"] = json!(true);
            }
        }
    }
    e
}

/// Headers as 1.0 has them twice: the last value of each, and every value in a list.
pub(crate) fn headers_v1(headers: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let v = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        single.insert(name.as_str().to_string(), v.clone());
        match multi.get_mut(name.as_str()) {
            Some(Value::Array(list)) => list.push(v),
            _ => {
                multi.insert(name.as_str().to_string(), Value::Array(vec![v]));
            }
        }
    }
    (single, multi)
}

pub(crate) fn query_v1(raw: &str) -> (Value, Value) {
    if raw.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in form_pairs(raw) {
        single.insert(k.clone(), Value::String(v.clone()));
        match multi.get_mut(&k) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            _ => {
                multi.insert(k, Value::Array(vec![Value::String(v)]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

/// The version 1.0 event (REST API proxy shape): `resource` is the route's path
/// (`/pets/{id}`, or `$default`), absent members are `null`.
pub fn event_v1(i: &Incoming) -> Value {
    let (headers, multi_headers) = headers_v1(i.headers);
    let (query, multi_query) = query_v1(i.raw_query);
    let resource = i.route_key.split_once(' ').map(|(_, p)| p).unwrap_or(i.route_key);
    let user_agent = i.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (body, encoded) = match (i.body.is_empty(), std::str::from_utf8(i.body)) {
        (true, _) => (Value::Null, false),
        (false, Ok(text)) if is_text(i.headers) => (json!(text), false),
        _ => (json!(B64.encode(i.body)), true),
    };
    json!({
        "version": "1.0",
        "resource": resource,
        "path": i.raw_path,
        "httpMethod": i.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {
            "accountId": i.account_id,
            "apiId": i.api_id,
            "domainName": i.host,
            "domainPrefix": i.host.split('.').next().unwrap_or(i.host),
            "extendedRequestId": i.request_id,
            "httpMethod": i.method,
            "identity": { "sourceIp": i.source_ip, "userAgent": user_agent },
            "path": i.raw_path,
            "protocol": "HTTP/1.1",
            "requestId": i.request_id,
            "requestTime": clf_time(i.now_ms),
            "requestTimeEpoch": i.now_ms,
            "resourceId": i.route_key,
            "resourcePath": resource,
            "stage": i.stage,
        },
        "pathParameters": if i.path_parameters.is_empty() { Value::Null } else { json!(i.path_parameters) },
        "stageVariables": if i.stage_variables.is_empty() { Value::Null } else { Value::Object(i.stage_variables.clone()) },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

/// Maps a 1.0 answer: it must be an object with `statusCode` (no inference in 1.0).
pub fn response_v1(payload: &[u8]) -> Option<Mapped> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    if !v.as_object()?.contains_key("statusCode") {
        return None;
    }
    let mut m = response_v2(payload)?;
    // 1.0 has no `cookies` member: only 2.0 turns it into Set-Cookie.
    if v.get("cookies").is_some() {
        m.headers.retain(|(k, _)| k != "set-cookie");
    }
    Some(m)
}

/// The HTTP response a function's answer maps to.
#[derive(Debug)]
pub struct Mapped {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

fn header_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Maps a 2.0 answer: an object with `statusCode` is the response; any other valid JSON
/// is a 200 `application/json` body (AWS's "format 2.0 inference"). `None`: a malformed
/// answer (500 Internal Server Error).
pub fn response_v2(payload: &[u8]) -> Option<Mapped> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let json_ct = || ("content-type".to_string(), "application/json".to_string());
    let Some(obj) = v.as_object().filter(|o| o.contains_key("statusCode")) else {
        let body = match &v {
            Value::String(s) => Bytes::from(s.clone()),
            other => Bytes::from(other.to_string()),
        };
        return Some(Mapped { status: 200, headers: vec![json_ct()], body });
    };
    let status = obj.get("statusCode").and_then(Value::as_u64).filter(|s| (100..600).contains(s))? as u16;
    let mut headers = Vec::new();
    if let Some(map) = obj.get("headers") {
        for (k, v) in map.as_object()? {
            headers.push((k.to_ascii_lowercase(), header_value(v)));
        }
    }
    if let Some(map) = obj.get("multiValueHeaders") {
        for (k, v) in map.as_object()? {
            let joined: Vec<String> = v.as_array()?.iter().map(header_value).collect();
            headers.push((k.to_ascii_lowercase(), joined.join(", ")));
        }
    }
    if let Some(cookies) = obj.get("cookies") {
        for c in cookies.as_array()? {
            headers.push(("set-cookie".to_string(), header_value(c)));
        }
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => Bytes::from(B64.decode(s).ok()?),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    Some(Mapped { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_time_is_apache_style() {
        assert_eq!(clf_time(1_584_039_838_000), "12/Mar/2020:19:03:58 +0000");
    }

    #[test]
    fn inferred_and_structured_responses() {
        let m = response_v2(br#"{"a":1}"#).expect("inferred");
        assert_eq!((m.status, &m.body[..]), (200, &br#"{"a":1}"#[..]));
        let m = response_v2(br#"{"statusCode":201,"body":"aGk=","isBase64Encoded":true,"cookies":["a=b"]}"#).expect("structured");
        assert_eq!((m.status, &m.body[..]), (201, &b"hi"[..]));
        assert!(m.headers.contains(&("set-cookie".into(), "a=b".into())));
        assert!(response_v2(b"not json").is_none());
        assert!(response_v2(br#"{"statusCode":"x"}"#).is_none());
    }

    #[test]
    fn format_1_0_needs_a_status_code() {
        assert!(response_v1(br#"{"a":1}"#).is_none());
        assert_eq!(response_v1(br#"{"statusCode":204}"#).map(|m| m.status), Some(204));
    }
}
