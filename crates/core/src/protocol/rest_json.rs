//! The REST-JSON protocol (Lambda, later API Gateway): the operation is found by HTTP
//! method and URI template, and each input member comes from where the model binds it —
//! a URI label, the query string, a header, or the JSON body (or is the body itself, for
//! a `payload` member). Outputs are written back the same way: status code, headers,
//! body. Errors carry `x-amzn-ErrorType` and a `{"Type", "Message"}` body.

use super::WireResponse;
use crate::error::AwsError;
use crate::model::{Location, Member, ServiceModel, Shape, ShapeKind};
use base64::Engine;
use bytes::Bytes;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};
use std::collections::HashMap;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug)]
enum Segment {
    Literal(String),
    Label(String),
    /// `{Key+}`: the rest of the path.
    Greedy(String),
}

#[derive(Debug)]
struct Route {
    operation: String,
    method: String,
    segments: Vec<Segment>,
    /// Query keys the URI template requires (`?versions`).
    required_query: Vec<String>,
}

/// Every operation's route, most specific first.
pub struct Routes {
    routes: Vec<Route>,
}

pub type Labels = HashMap<String, String>;

impl Routes {
    pub fn new(model: &ServiceModel) -> Routes {
        let mut routes: Vec<Route> = model
            .operations
            .values()
            .filter(|op| !op.request_uri.is_empty())
            .map(|op| {
                let (path, query) = op.request_uri.split_once('?').unwrap_or((&op.request_uri, ""));
                let segments = path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(label) => match label.strip_suffix('+') {
                            Some(greedy) => Segment::Greedy(greedy.to_string()),
                            None => Segment::Label(label.to_string()),
                        },
                        None => Segment::Literal(s.to_string()),
                    })
                    .collect();
                let required_query = query.split('&').filter(|q| !q.is_empty()).map(|q| q.split('=').next().unwrap_or(q).to_string()).collect();
                Route { operation: op.name.clone(), method: op.http_method.clone(), segments, required_query }
            })
            .collect();
        // More literal segments first; then more segments; then more required query keys.
        routes.sort_by_key(|r| {
            let literals = r.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
            (std::cmp::Reverse(literals), std::cmp::Reverse(r.segments.len()), std::cmp::Reverse(r.required_query.len()))
        });
        Routes { routes }
    }

    /// The operation for a request, with its URI labels (percent-decoded).
    pub fn find(&self, method: &str, path: &str, query: &[(String, String)]) -> Option<(&str, Labels)> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        'routes: for r in &self.routes {
            if r.method != method || !r.required_query.iter().all(|k| query.iter().any(|(q, _)| q == k)) {
                continue;
            }
            let mut labels = Labels::new();
            let mut i = 0;
            for seg in &r.segments {
                match seg {
                    Segment::Literal(l) => {
                        if parts.get(i) != Some(&l.as_str()) {
                            continue 'routes;
                        }
                    }
                    Segment::Label(name) => match parts.get(i) {
                        Some(p) => {
                            labels.insert(name.clone(), percent_decode_str(p).decode_utf8_lossy().into_owned());
                        }
                        None => continue 'routes,
                    },
                    Segment::Greedy(name) => {
                        if i >= parts.len() {
                            continue 'routes;
                        }
                        let rest = parts[i..].join("/");
                        labels.insert(name.clone(), percent_decode_str(&rest).decode_utf8_lossy().into_owned());
                        i = parts.len();
                        continue;
                    }
                }
                i += 1;
            }
            if i == parts.len() {
                return Some((&r.operation, labels));
            }
        }
        None
    }
}

fn scalar_from_str(shape: &Shape, name: &str, raw: &str) -> Result<Value, AwsError> {
    let bad = || AwsError::invalid_parameter_value(format!("Value {raw} for parameter {name} is invalid."));
    Ok(match shape.kind {
        ShapeKind::Integer | ShapeKind::Long => Value::from(raw.trim().parse::<i64>().map_err(|_| bad())?),
        ShapeKind::Float => serde_json::Number::from_f64(raw.trim().parse::<f64>().map_err(|_| bad())?).map(Value::Number).ok_or_else(bad)?,
        ShapeKind::Boolean => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        _ => Value::String(raw.to_string()),
    })
}

fn payload_member<'a>(shape: &'a Shape) -> Option<&'a Member> {
    match &shape.kind {
        ShapeKind::Structure { members, payload: Some(p), .. } => members.iter().find(|m| &m.name == p),
        _ => None,
    }
}

/// Builds an operation's input from the parts of an HTTP request.
pub fn decode(model: &ServiceModel, operation: &str, labels: &Labels, query: &[(String, String)], headers: &HeaderMap, body: &[u8]) -> Result<Value, AwsError> {
    let Some(shape) = model.operations.get(operation).and_then(|o| o.input.as_deref()).and_then(|s| model.shape(s)) else {
        return Ok(Value::Object(Map::new()));
    };
    let ShapeKind::Structure { members, .. } = &shape.kind else { return Ok(Value::Object(Map::new())) };
    let mut out = Map::new();
    for m in members {
        let Some(target) = model.shape(&m.shape) else { continue };
        let wire = m.location_name.as_deref().unwrap_or(&m.name);
        match m.location {
            Location::Uri => {
                if let Some(v) = labels.get(wire) {
                    out.insert(m.name.clone(), scalar_from_str(target, wire, v)?);
                }
            }
            Location::Querystring => match &target.kind {
                ShapeKind::List { member } => {
                    let item = model.shape(&member.shape);
                    let values: Result<Vec<Value>, AwsError> = query
                        .iter()
                        .filter(|(k, _)| k == wire)
                        .map(|(_, v)| match item {
                            Some(s) => scalar_from_str(s, wire, v),
                            None => Ok(Value::String(v.clone())),
                        })
                        .collect();
                    let values = values?;
                    if !values.is_empty() {
                        out.insert(m.name.clone(), Value::Array(values));
                    }
                }
                _ => {
                    if let Some((_, v)) = query.iter().find(|(k, _)| k == wire) {
                        out.insert(m.name.clone(), scalar_from_str(target, wire, v)?);
                    }
                }
            },
            Location::Header => {
                if let Some(v) = headers.get(wire).and_then(|v| v.to_str().ok()) {
                    out.insert(m.name.clone(), scalar_from_str(target, wire, v)?);
                }
            }
            Location::Headers | Location::StatusCode | Location::Body => {}
        }
    }
    match payload_member(shape) {
        Some(p) => {
            let is_blob = matches!(model.shape(&p.shape).map(|s| &s.kind), Some(ShapeKind::Blob) | Some(ShapeKind::String));
            if is_blob {
                if !body.is_empty() {
                    out.insert(p.name.clone(), Value::String(B64.encode(body)));
                }
            } else if !body.is_empty() {
                let v: Value = serde_json::from_slice(body).map_err(|_| super::json::serialization_error("Could not parse request body into json."))?;
                out.insert(p.name.clone(), v);
            }
        }
        None if !body.iter().all(|b| b.is_ascii_whitespace()) => {
            let v: Value = serde_json::from_slice(body).map_err(|_| super::json::serialization_error("Could not parse request body into json."))?;
            let Value::Object(obj) = v else {
                return Err(super::json::serialization_error("Start of structure or map found where not expected."));
            };
            for m in members.iter().filter(|m| m.location == Location::Body) {
                let wire = m.location_name.as_deref().unwrap_or(&m.name);
                if let Some(v) = obj.get(wire) {
                    out.insert(m.name.clone(), rename_nested(model, &m.shape, v, Direction::FromWire));
                }
            }
        }
        None => {}
    }
    Ok(Value::Object(out))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    FromWire,
    ToWire,
}

/// Renames the members of nested structures between the model's member names and the
/// wire's JSON names (`locationName`, e.g. API Gateway's `apiId`), walking lists and map
/// values. Members without a `locationName` keep their names, so a model with none (Lambda)
/// passes through unchanged; keys the shape does not know are kept as they are.
fn rename_nested(model: &ServiceModel, shape: &str, v: &Value, dir: Direction) -> Value {
    let Some(s) = model.shape(shape) else { return v.clone() };
    match (&s.kind, v) {
        (ShapeKind::Structure { members, .. }, Value::Object(obj)) => {
            let mut out = Map::new();
            for (k, val) in obj {
                let found = members.iter().find(|m| match dir {
                    Direction::FromWire => m.location_name.as_deref().unwrap_or(&m.name) == k,
                    Direction::ToWire => &m.name == k,
                });
                match found {
                    Some(m) => {
                        let key = match dir {
                            Direction::FromWire => m.name.clone(),
                            Direction::ToWire => m.location_name.clone().unwrap_or_else(|| m.name.clone()),
                        };
                        out.insert(key, rename_nested(model, &m.shape, val, dir));
                    }
                    None => {
                        out.insert(k.clone(), val.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List { member }, Value::Array(items)) => Value::Array(items.iter().map(|i| rename_nested(model, &member.shape, i, dir)).collect()),
        (ShapeKind::Map { value, .. }, Value::Object(obj)) => Value::Object(obj.iter().map(|(k, i)| (k.clone(), rename_nested(model, &value.shape, i, dir))).collect()),
        _ => v.clone(),
    }
}

fn header_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Writes an operation's output: status, headers and body as the model binds them.
pub fn encode_ok(model: &ServiceModel, operation: &str, output: &Value) -> WireResponse {
    let op = model.operations.get(operation);
    let mut status = op.map(|o| o.response_code).unwrap_or(200);
    let mut headers = Vec::new();
    let shape = op.and_then(|o| o.output.as_deref()).and_then(|s| model.shape(s));
    let (Some(shape), Value::Object(obj)) = (shape, output) else {
        return WireResponse { status, content_type: "application/json", headers, body: Bytes::new() };
    };
    let ShapeKind::Structure { members, .. } = &shape.kind else {
        return WireResponse { status, content_type: "application/json", headers, body: Bytes::new() };
    };
    let mut body = Map::new();
    for m in members {
        let Some(v) = obj.get(&m.name) else { continue };
        let wire = m.location_name.as_deref().unwrap_or(&m.name);
        match m.location {
            Location::StatusCode => status = v.as_u64().map(|s| s as u16).unwrap_or(status),
            Location::Header => {
                if let Some(t) = header_text(v) {
                    headers.push((wire.to_string(), t));
                }
            }
            Location::Headers => {
                if let Value::Object(map) = v {
                    for (k, hv) in map {
                        if let Some(t) = header_text(hv) {
                            headers.push((format!("{wire}{k}"), t));
                        }
                    }
                }
            }
            _ => {
                body.insert(wire.to_string(), rename_nested(model, &m.shape, v, Direction::ToWire));
            }
        }
    }
    if let Some(p) = payload_member(shape) {
        let raw = match obj.get(&p.name) {
            Some(Value::String(s)) if matches!(model.shape(&p.shape).map(|s| &s.kind), Some(ShapeKind::Blob)) => Bytes::from(B64.decode(s).unwrap_or_default()),
            Some(Value::String(s)) => Bytes::from(s.clone()),
            Some(v) => Bytes::from(v.to_string()),
            None => Bytes::new(),
        };
        return WireResponse { status, content_type: "application/json", headers, body: raw };
    }
    let body = if body.is_empty() && status == 204 { Bytes::new() } else { Bytes::from(Value::Object(body).to_string()) };
    WireResponse { status, content_type: "application/json", headers, body }
}

pub fn encode_error(err: &AwsError) -> WireResponse {
    let mut body = serde_json::json!({
        "Type": if err.status >= 500 { "Service" } else { "User" },
        "Message": err.message,
    });
    for (k, v) in &err.members {
        body[k] = v.clone();
    }
    let mut headers = vec![("x-amzn-ErrorType".to_string(), err.code.to_string())];
    headers.extend(err.headers.iter().cloned());
    WireResponse {
        status: err.status,
        content_type: "application/json",
        headers,
        body: Bytes::from(body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // API Gateway v2's model names JSON members in lower camel case with `locationName`,
    // at the top level and inside nested structures (CreateApi's `corsConfiguration`,
    // GetApis' `items`).
    const MODEL: &str = r#"{
      "metadata": {"apiVersion": "2018-11-29", "protocol": "rest-json", "signingName": "apigateway"},
      "operations": {
        "Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/v2/x/{apiId}", "responseCode": 201},
               "input": {"shape": "In"}, "output": {"shape": "Out"}}
      },
      "shapes": {
        "In": {"type": "structure", "members": {
          "ApiId": {"shape": "S", "location": "uri", "locationName": "apiId"},
          "Cors": {"shape": "Cors", "locationName": "corsConfiguration"},
          "Tags": {"shape": "Tags", "locationName": "tags"}}},
        "Out": {"type": "structure", "members": {
          "Items": {"shape": "Items", "locationName": "items"},
          "NextToken": {"shape": "S", "locationName": "nextToken"}}},
        "Items": {"type": "list", "member": {"shape": "Cors"}},
        "Cors": {"type": "structure", "members": {
          "AllowOrigins": {"shape": "L", "locationName": "allowOrigins"},
          "MaxAge": {"shape": "I", "locationName": "maxAge"}}},
        "Tags": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
        "L": {"type": "list", "member": {"shape": "S"}},
        "S": {"type": "string"},
        "I": {"type": "integer"}
      }
    }"#;

    #[test]
    fn nested_location_names_are_decoded_and_encoded() {
        let model = ServiceModel::parse(MODEL).expect("model");
        let mut labels = Labels::new();
        labels.insert("apiId".into(), "abc".into());
        let body = br#"{"corsConfiguration":{"allowOrigins":["*"],"maxAge":5},"tags":{"maxAge":"x"}}"#;
        let v = decode(&model, "Op", &labels, &[], &HeaderMap::new(), body).expect("decode");
        assert_eq!(v, serde_json::json!({"ApiId": "abc", "Cors": {"AllowOrigins": ["*"], "MaxAge": 5}, "Tags": {"maxAge": "x"}}));
        let out = encode_ok(&model, "Op", &serde_json::json!({"Items": [{"AllowOrigins": ["a"], "MaxAge": 1}], "NextToken": "t"}));
        assert_eq!(out.status, 201);
        let body: Value = serde_json::from_slice(&out.body).expect("json");
        assert_eq!(body, serde_json::json!({"items": [{"allowOrigins": ["a"], "maxAge": 1}], "nextToken": "t"}));
    }
}
