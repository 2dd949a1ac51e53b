//! The query protocol: form-encoded `Action=…&Version=…` parameters in, XML out.
//!
//! Decoding and encoding both walk the service model, following botocore's rules for
//! serialized names: a member's `locationName`, flattened lists and maps (`Attribute.1.Name`)
//! versus wrapped ones (`Tags.member.1`, `Attributes.entry.1.key`).

use super::WireResponse;
use crate::error::AwsError;
use crate::model::{Member, ServiceModel, Shape, ShapeKind};
use crate::xml;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub type Params = HashMap<String, String>;

pub fn parse_form(body: &[u8]) -> Params {
    form_urlencoded::parse(body).into_owned().collect()
}

fn is_flattened(member: &Member, shape: &Shape) -> bool {
    member.flattened || shape.flattened
}

/// A member's name on the wire: its own `locationName`, else its shape's, else its name.
fn wire_name<'a>(member: &'a Member, shape: &'a Shape) -> &'a str {
    member.location_name.as_deref().or(shape.location_name.as_deref()).unwrap_or(&member.name)
}

fn has_prefix(params: &Params, prefix: &str) -> bool {
    params.keys().any(|k| k == prefix || (k.starts_with(prefix) && k.as_bytes().get(prefix.len()) == Some(&b'.')))
}

fn invalid(param: &str, value: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value {value} for parameter {param} is invalid."))
}

/// Builds the operation's input value from query parameters.
pub fn decode_input(model: &ServiceModel, shape_name: Option<&str>, params: &Params) -> Result<Value, AwsError> {
    let Some(shape_name) = shape_name else { return Ok(Value::Object(Map::new())) };
    match model.shape(shape_name) {
        Some(shape) => decode_struct(model, shape, "", params).map(|v| v.unwrap_or(Value::Object(Map::new()))),
        None => Ok(Value::Object(Map::new())),
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn decode_struct(model: &ServiceModel, shape: &Shape, prefix: &str, params: &Params) -> Result<Option<Value>, AwsError> {
    let ShapeKind::Structure { members, .. } = &shape.kind else { return Ok(None) };
    let mut out = Map::new();
    for member in members {
        let Some(target) = model.shape(&member.shape) else { continue };
        let key = join(prefix, wire_name(member, target));
        if let Some(v) = decode_value(model, member, target, &key, params)? {
            out.insert(member.name.clone(), v);
        }
    }
    Ok(if out.is_empty() && !prefix.is_empty() { None } else { Some(Value::Object(out)) })
}

fn decode_value(model: &ServiceModel, member: &Member, shape: &Shape, key: &str, params: &Params) -> Result<Option<Value>, AwsError> {
    match &shape.kind {
        ShapeKind::Structure { .. } => decode_struct(model, shape, key, params),
        ShapeKind::List { member: item } => {
            let list_prefix = if is_flattened(member, shape) {
                match &item.location_name {
                    Some(name) => match key.rsplit_once('.') {
                        Some((head, _)) => format!("{head}.{name}"),
                        None => name.clone(),
                    },
                    None => key.to_string(),
                }
            } else {
                format!("{key}.{}", item.location_name.as_deref().unwrap_or("member"))
            };
            let Some(item_shape) = model.shape(&item.shape) else { return Ok(None) };
            let mut items = Vec::new();
            let mut i = 1;
            loop {
                let p = format!("{list_prefix}.{i}");
                if !has_prefix(params, &p) {
                    break;
                }
                match decode_value(model, item, item_shape, &p, params)? {
                    Some(v) => items.push(v),
                    None => break,
                }
                i += 1;
            }
            // `Foo=` with an empty value stands for an empty list.
            if items.is_empty() && !params.contains_key(key) {
                return Ok(None);
            }
            Ok(Some(Value::Array(items)))
        }
        ShapeKind::Map { key: k, value: v } => {
            let full = if is_flattened(member, shape) { key.to_string() } else { format!("{key}.entry") };
            let (Some(kshape), Some(vshape)) = (model.shape(&k.shape), model.shape(&v.shape)) else { return Ok(None) };
            let kname = k.location_name.as_deref().unwrap_or("key");
            let vname = v.location_name.as_deref().unwrap_or("value");
            let mut out = Map::new();
            let mut i = 1;
            loop {
                let p = format!("{full}.{i}");
                if !has_prefix(params, &p) {
                    break;
                }
                let kp = format!("{p}.{kname}");
                let map_key = match decode_value(model, k, kshape, &kp, params)? {
                    Some(Value::String(s)) => s,
                    _ => return Err(AwsError::missing_parameter(&kp)),
                };
                let value = decode_value(model, v, vshape, &format!("{p}.{vname}"), params)?.unwrap_or(Value::Null);
                out.insert(map_key, value);
                i += 1;
            }
            if out.is_empty() {
                return Ok(None);
            }
            Ok(Some(Value::Object(out)))
        }
        scalar => {
            let Some(raw) = params.get(key) else { return Ok(None) };
            Ok(Some(match scalar {
                ShapeKind::Integer | ShapeKind::Long => match raw.trim().parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => return Err(invalid(key, raw)),
                },
                ShapeKind::Float => match raw.trim().parse::<f64>() {
                    Ok(n) => serde_json::Number::from_f64(n).map(Value::Number).ok_or_else(|| invalid(key, raw))?,
                    Err(_) => return Err(invalid(key, raw)),
                },
                ShapeKind::Boolean => match raw.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(invalid(key, raw)),
                },
                _ => Value::String(raw.clone()),
            }))
        }
    }
}

/// Writes a successful response document.
pub fn encode_ok(model: &ServiceModel, operation: &str, output: &Value, request_id: &str) -> WireResponse {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\"?>");
    let response = format!("{operation}Response");
    out.push('<');
    out.push_str(&response);
    if let Some(ns) = &model.xml_namespace {
        out.push_str(" xmlns=\"");
        out.push_str(ns);
        out.push('"');
    }
    out.push('>');
    let op = model.operations.get(operation);
    if let Some(op) = op {
        if let (Some(wrapper), Some(shape)) = (&op.result_wrapper, op.output.as_deref().and_then(|s| model.shape(s))) {
            let before = out.len();
            xml::open(&mut out, wrapper);
            let opened = out.len();
            encode_members(model, shape, output, &mut out);
            if out.len() == opened {
                // An empty result is one empty element, as AWS writes it: `<ReceiveMessageResult/>`.
                out.truncate(before);
                out.push('<');
                out.push_str(wrapper);
                out.push_str("/>");
            } else {
                xml::close(&mut out, wrapper);
            }
        }
    }
    out.push_str("<ResponseMetadata><RequestId>");
    xml::escape_into(&mut out, request_id);
    out.push_str("</RequestId></ResponseMetadata>");
    xml::close(&mut out, &response);
    WireResponse { status: 200, content_type: "text/xml", headers: Vec::new(), body: Bytes::from(out) }
}

fn encode_members(model: &ServiceModel, shape: &Shape, value: &Value, out: &mut String) {
    let (ShapeKind::Structure { members, .. }, Value::Object(obj)) = (&shape.kind, value) else { return };
    for member in members {
        let (Some(v), Some(target)) = (obj.get(&member.name), model.shape(&member.shape)) else { continue };
        if v.is_null() {
            continue;
        }
        encode_member(model, member, target, v, out);
    }
}

fn encode_member(model: &ServiceModel, member: &Member, shape: &Shape, value: &Value, out: &mut String) {
    match (&shape.kind, value) {
        (ShapeKind::List { member: item }, Value::Array(items)) => {
            let Some(item_shape) = model.shape(&item.shape) else { return };
            let outer = wire_name(member, shape);
            if is_flattened(member, shape) {
                let name = item.location_name.as_deref().unwrap_or(outer);
                for v in items {
                    encode_named(model, name, item_shape, v, out);
                }
            } else {
                let name = item.location_name.as_deref().unwrap_or("member");
                xml::open(out, outer);
                for v in items {
                    encode_named(model, name, item_shape, v, out);
                }
                xml::close(out, outer);
            }
        }
        (ShapeKind::Map { key, value: val }, Value::Object(entries)) => {
            let Some(vshape) = model.shape(&val.shape) else { return };
            let kname = key.location_name.as_deref().unwrap_or("key");
            let vname = val.location_name.as_deref().unwrap_or("value");
            let flattened = is_flattened(member, shape);
            let outer = wire_name(member, shape);
            let entry = if flattened { outer } else { "entry" };
            if !flattened {
                xml::open(out, outer);
            }
            for (k, v) in entries {
                xml::open(out, entry);
                xml::element(out, kname, k);
                encode_named(model, vname, vshape, v, out);
                xml::close(out, entry);
            }
            if !flattened {
                xml::close(out, outer);
            }
        }
        _ => encode_named(model, wire_name(member, shape), shape, value, out),
    }
}

fn encode_named(model: &ServiceModel, name: &str, shape: &Shape, value: &Value, out: &mut String) {
    match &shape.kind {
        ShapeKind::Structure { .. } => {
            xml::open(out, name);
            encode_members(model, shape, value, out);
            xml::close(out, name);
        }
        ShapeKind::List { .. } | ShapeKind::Map { .. } => {
            let wrapper = Member { name: name.to_string(), shape: String::new(), location_name: None, flattened: false, location: crate::model::Location::Body, xml_attribute: false, streaming: false, idempotency_token: false };
            encode_member(model, &wrapper, shape, value, out);
        }
        // Timestamps the service gives as epoch seconds go out as ISO 8601, as AWS writes them.
        ShapeKind::Timestamp if value.is_number() => {
            let ms = (value.as_f64().unwrap_or(0.0) * 1000.0).round().max(0.0) as u64;
            let text = if ms % 1000 == 0 { crate::time::iso8601(ms) } else { crate::time::iso8601_ms(ms) };
            xml::element(out, name, &text)
        }
        _ => match value {
            Value::String(s) => xml::element(out, name, s),
            Value::Bool(b) => xml::element(out, name, if *b { "true" } else { "false" }),
            Value::Number(n) => xml::element(out, name, &n.to_string()),
            Value::Null => {}
            other => xml::element(out, name, &other.to_string()),
        },
    }
}

pub fn encode_error(model: &ServiceModel, err: &AwsError, request_id: &str) -> WireResponse {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\"?><ErrorResponse");
    if let Some(ns) = &model.xml_namespace {
        out.push_str(" xmlns=\"");
        out.push_str(ns);
        out.push('"');
    }
    out.push_str("><Error>");
    xml::element(&mut out, "Type", err.fault.as_str());
    xml::element(&mut out, "Code", err.wire_query_code());
    xml::element(&mut out, "Message", &err.message);
    out.push_str("<Detail/></Error>");
    xml::element(&mut out, "RequestId", request_id);
    out.push_str("</ErrorResponse>");
    WireResponse { status: err.status, content_type: "text/xml", headers: Vec::new(), body: Bytes::from(out) }
}

/// The JSON form of a query-protocol answer, for clients that send `Accept:
/// application/json`: `{"<Op>Response": {"<Op>Result": {...}, "ResponseMetadata":
/// {"RequestId": "..."}}}`, the result's members named as in the model.
pub fn encode_ok_json(model: &ServiceModel, operation: &str, output: &Value, request_id: &str) -> WireResponse {
    let mut response = Map::new();
    if let Some(wrapper) = model.operations.get(operation).and_then(|op| op.result_wrapper.as_ref()) {
        response.insert(wrapper.clone(), output.clone());
    }
    response.insert("ResponseMetadata".into(), serde_json::json!({ "RequestId": request_id }));
    let body = serde_json::json!({ format!("{operation}Response"): response });
    WireResponse { status: 200, content_type: "application/json", headers: Vec::new(), body: Bytes::from(body.to_string()) }
}

/// The JSON form of a query-protocol error: `{"Error": {"Type", "Code", "Message"},
/// "RequestId"}`.
pub fn encode_error_json(err: &AwsError, request_id: &str) -> WireResponse {
    let body = serde_json::json!({
        "Error": { "Type": err.fault.as_str(), "Code": err.wire_query_code(), "Message": err.message },
        "RequestId": request_id,
    });
    WireResponse { status: err.status, content_type: "application/json", headers: Vec::new(), body: Bytes::from(body.to_string()) }
}
