//! The REST-XML protocol (S3): the operation is found by method, URI template, the query
//! keys and headers the operation requires, and each input member comes from where the
//! model binds it — a URI label, the query string, a header (`x-amz-meta-*` as a map), or
//! the XML document that is the payload. Outputs go back the same way: status, headers,
//! and an XML document named by the output shape (`ListBucketResult`) or its payload
//! member (`CopyObjectResult`). Errors are `<Error><Code/><Message/>…<RequestId/>`.
//!
//! Unlike REST-JSON's matcher, a greedy label (`{Key+}`) takes the rest of the path as
//! sent — empty segments and a trailing `/` are part of an S3 key.

use super::WireResponse;
use crate::error::AwsError;
use crate::model::{Location, Member, ServiceModel, Shape, ShapeKind};
use crate::xml;
use crate::xml_read::Element;
use bytes::Bytes;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Number, Value};

/// An output member the codec reads as the answer's status when the model binds none
/// (GetObject's `206 Partial Content`); never written to the wire.
pub const STATUS_MEMBER: &str = "$status";

/// S3's namespace, written on every response document.
const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

#[derive(Debug)]
enum Segment {
    Literal(String),
    Label(String),
    /// `{Key+}`: the rest of the path, as sent.
    Greedy(String),
}

#[derive(Debug)]
struct Route {
    operation: String,
    method: String,
    segments: Vec<Segment>,
    /// Query keys the URI template or a required member needs (`?versioning`,
    /// `uploadId`), with the value the template fixes (`list-type=2`).
    required_query: Vec<(String, Option<String>)>,
    /// Headers a required member is bound to (`x-amz-copy-source` for CopyObject).
    required_headers: Vec<String>,
    deprecated: bool,
}

/// Every operation's route.
pub struct Routes {
    routes: Vec<Route>,
}

/// The URI labels of a matched request (percent-decoded).
pub type Labels = Vec<(String, String)>;

impl Routes {
    pub fn new(model: &ServiceModel) -> Routes {
        let routes = model
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
                let mut required_query: Vec<(String, Option<String>)> = query
                    .split('&')
                    .filter(|q| !q.is_empty())
                    .map(|q| match q.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (q.to_string(), None),
                    })
                    .collect();
                let mut required_headers = Vec::new();
                if let Some(ShapeKind::Structure { members, required, .. }) = op.input.as_deref().and_then(|s| model.shape(s)).map(|s| &s.kind) {
                    for m in members.iter().filter(|m| required.contains(&m.name)) {
                        let wire = m.location_name.clone().unwrap_or_else(|| m.name.clone());
                        match m.location {
                            Location::Querystring if !required_query.iter().any(|(k, _)| *k == wire) => required_query.push((wire, None)),
                            Location::Header => required_headers.push(wire.to_ascii_lowercase()),
                            _ => {}
                        }
                    }
                }
                Route { operation: op.name.clone(), method: op.http_method.clone(), segments, required_query, required_headers, deprecated: op.deprecated }
            })
            .collect::<Vec<_>>();
        // Ties (two operations on one route) go to the current operation over the
        // deprecated one, then by name: the order does not depend on the map's.
        let mut routes = routes;
        routes.sort_by(|a, b| (a.deprecated, &a.operation).cmp(&(b.deprecated, &b.operation)));
        Routes { routes }
    }

    /// The operation for a request and its URI labels. `path` is the path-style path as
    /// sent (still percent-encoded; a virtual-hosted request's bucket put in front).
    /// Among the routes that match, the one that requires the most query keys, then
    /// headers, wins (`?versioning` over the bare bucket, CopyObject over PutObject when
    /// `x-amz-copy-source` is sent); the SDK for Rust's `x-id=<Operation>` hint picks
    /// among equals.
    pub fn find(&self, method: &str, path: &str, query: &[(String, String)], headers: &HeaderMap) -> Option<(&str, Labels)> {
        let mut best: Option<(&Route, Labels, (usize, usize, bool))> = None;
        for r in &self.routes {
            if r.method != method {
                continue;
            }
            let query_ok = r.required_query.iter().all(|(k, v)| query.iter().any(|(qk, qv)| qk == k && v.as_ref().is_none_or(|v| v == qv)));
            if !query_ok || !r.required_headers.iter().all(|h| headers.contains_key(h.as_str())) {
                continue;
            }
            let Some(labels) = match_path(&r.segments, path) else { continue };
            let hinted = query.iter().any(|(k, v)| k == "x-id" && *v == r.operation);
            let score = (r.required_query.len(), r.required_headers.len(), hinted);
            if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                best = Some((r, labels, score));
            }
        }
        best.map(|(r, labels, _)| (r.operation.as_str(), labels))
    }
}

/// Matches a path (leading `/`, percent-encoded) against a template's segments.
fn match_path(segments: &[Segment], path: &str) -> Option<Labels> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut rest = path.strip_prefix('/').unwrap_or(path);
    let mut labels = Labels::new();
    for seg in segments {
        match seg {
            Segment::Greedy(name) => {
                if rest.is_empty() {
                    return None;
                }
                labels.push((name.clone(), decode(rest)));
                rest = "";
            }
            Segment::Literal(_) | Segment::Label(_) => {
                let (part, after) = rest.split_once('/').unwrap_or((rest, ""));
                if part.is_empty() {
                    return None;
                }
                match seg {
                    Segment::Literal(l) if l == part => {}
                    Segment::Label(name) => labels.push((name.clone(), decode(part))),
                    _ => return None,
                }
                rest = after;
            }
        }
    }
    rest.is_empty().then_some(labels)
}

fn invalid_argument(name: &str, raw: &str) -> AwsError {
    let mut e = AwsError::new("InvalidArgument", 400, format!("Invalid value for {name}: {raw}"));
    e.members.insert("ArgumentName".into(), Value::from(name));
    e.members.insert("ArgumentValue".into(), Value::from(raw));
    e
}

/// The error for a payload that is not the document the operation takes.
pub fn malformed_xml() -> AwsError {
    AwsError::new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
}

fn scalar_from_str(shape: &Shape, name: &str, raw: &str) -> Result<Value, AwsError> {
    Ok(match &shape.kind {
        ShapeKind::Integer | ShapeKind::Long => Value::from(raw.trim().parse::<i64>().map_err(|_| invalid_argument(name, raw))?),
        ShapeKind::Float => Number::from_f64(raw.trim().parse::<f64>().map_err(|_| invalid_argument(name, raw))?).map(Value::Number).ok_or_else(|| invalid_argument(name, raw))?,
        ShapeKind::Boolean => match raw.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(invalid_argument(name, raw)),
        },
        _ => Value::String(raw.to_string()),
    })
}

/// The input shape's payload member, if it has one.
fn payload_member(shape: &Shape) -> Option<&Member> {
    match &shape.kind {
        ShapeKind::Structure { members, payload: Some(p), .. } => members.iter().find(|m| &m.name == p),
        _ => None,
    }
}

/// Whether an operation's request body is a stream the service reads itself (PutObject).
pub fn streams_input(model: &ServiceModel, operation: &str) -> bool {
    let Some(shape) = model.operations.get(operation).and_then(|o| o.input.as_deref()).and_then(|s| model.shape(s)) else { return false };
    // botocore marks the member (`"streaming": true`) or the blob shape itself.
    payload_member(shape).is_some_and(|p| p.streaming || model.shape(&p.shape).is_some_and(|s| s.streaming))
}

/// Builds an operation's input from the parts of a request (a streamed payload is left
/// out: the service reads it).
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
                if let Some((_, v)) = labels.iter().find(|(k, _)| k == wire) {
                    out.insert(m.name.clone(), scalar_from_str(target, wire, v)?);
                }
            }
            Location::Querystring => {
                if let Some((_, v)) = query.iter().find(|(k, _)| k == wire) {
                    out.insert(m.name.clone(), scalar_from_str(target, wire, v)?);
                }
            }
            Location::Header => {
                let Some(raw) = headers.get(wire).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()) else { continue };
                let value = match &target.kind {
                    ShapeKind::List { member } => {
                        let item = model.shape(&member.shape);
                        let items: Result<Vec<Value>, AwsError> = raw
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| match item {
                                Some(i) => scalar_from_str(i, wire, s),
                                None => Ok(Value::from(s)),
                            })
                            .collect();
                        Value::Array(items?)
                    }
                    _ => scalar_from_str(target, wire, &raw)?,
                };
                out.insert(m.name.clone(), value);
            }
            Location::Headers => {
                let prefix = wire.to_ascii_lowercase();
                let map: Map<String, Value> = headers
                    .iter()
                    .filter_map(|(k, v)| k.as_str().strip_prefix(prefix.as_str()).map(|rest| (rest.to_string(), Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned()))))
                    .collect();
                if !map.is_empty() {
                    out.insert(m.name.clone(), Value::Object(map));
                }
            }
            Location::StatusCode | Location::Body => {}
        }
    }
    if let Some(p) = payload_member(shape) {
        let Some(target) = model.shape(&p.shape) else { return Ok(Value::Object(out)) };
        match &target.kind {
            _ if p.streaming || target.streaming => {}
            ShapeKind::Structure { .. } => {
                if !body.iter().all(|b| b.is_ascii_whitespace()) {
                    let root = crate::xml_read::parse(body).map_err(|_| malformed_xml())?;
                    out.insert(p.name.clone(), decode_element(model, target, &root)?);
                }
            }
            _ => {
                if !body.is_empty() {
                    out.insert(p.name.clone(), Value::String(String::from_utf8_lossy(body).into_owned()));
                }
            }
        }
    }
    Ok(Value::Object(out))
}

/// The wire name of a structure member in a document.
fn element_name(m: &Member) -> &str {
    m.location_name.as_deref().unwrap_or(&m.name)
}

fn decode_element(model: &ServiceModel, shape: &Shape, el: &Element) -> Result<Value, AwsError> {
    match &shape.kind {
        ShapeKind::Structure { members, .. } => {
            let mut out = Map::new();
            for m in members {
                let Some(target) = model.shape(&m.shape) else { continue };
                let name = element_name(m);
                if m.xml_attribute {
                    if let Some(v) = el.attr(name) {
                        out.insert(m.name.clone(), scalar_from_str(target, name, v)?);
                    }
                    continue;
                }
                match &target.kind {
                    ShapeKind::List { member: item } if m.flattened || target.flattened => {
                        let Some(item_shape) = model.shape(&item.shape) else { continue };
                        let items: Result<Vec<Value>, AwsError> = el.children.iter().filter(|c| c.name == name).map(|c| decode_element(model, item_shape, c)).collect();
                        let items = items?;
                        if !items.is_empty() {
                            out.insert(m.name.clone(), Value::Array(items));
                        }
                    }
                    _ => {
                        if let Some(child) = el.child(name) {
                            out.insert(m.name.clone(), decode_element(model, target, child)?);
                        }
                    }
                }
            }
            Ok(Value::Object(out))
        }
        ShapeKind::List { member: item } => {
            let Some(item_shape) = model.shape(&item.shape) else { return Ok(Value::Array(Vec::new())) };
            let name = item.location_name.as_deref().unwrap_or("member");
            let items: Result<Vec<Value>, AwsError> = el.children.iter().filter(|c| c.name == name).map(|c| decode_element(model, item_shape, c)).collect();
            Ok(Value::Array(items?))
        }
        ShapeKind::Map { key, value } => {
            let (kname, vname) = (key.location_name.as_deref().unwrap_or("key"), value.location_name.as_deref().unwrap_or("value"));
            let Some(vshape) = model.shape(&value.shape) else { return Ok(Value::Object(Map::new())) };
            let mut out = Map::new();
            for entry in el.children.iter().filter(|c| c.name == "entry") {
                let (Some(k), Some(v)) = (entry.child(kname), entry.child(vname)) else { return Err(malformed_xml()) };
                out.insert(k.text.clone(), decode_element(model, vshape, v)?);
            }
            Ok(Value::Object(out))
        }
        _ => scalar_from_str(shape, &el.name, &el.text).map_err(|_| malformed_xml()),
    }
}

/// A scalar as header text: timestamps given as epoch seconds become HTTP dates.
fn header_text(shape: Option<&Shape>, v: &Value) -> Option<String> {
    match (shape.map(|s| &s.kind), v) {
        (_, Value::Null) => None,
        (Some(ShapeKind::Timestamp), Value::Number(n)) => n.as_f64().map(|secs| crate::time::http_date((secs * 1000.0) as u64)),
        (Some(ShapeKind::List { .. }), Value::Array(items)) => Some(items.iter().filter_map(|i| header_text(None, i)).collect::<Vec<_>>().join(",")),
        (_, Value::String(s)) => Some(s.clone()),
        (_, other) => Some(other.to_string()),
    }
}

/// Writes an operation's output: status, headers, and the XML document (or nothing when
/// the output has no body members and no payload).
pub fn encode_ok(model: &ServiceModel, operation: &str, output: &Value) -> WireResponse {
    let op = model.operations.get(operation);
    let mut status = op.map(|o| o.response_code).unwrap_or(200);
    let mut headers = Vec::new();
    let shape_name = op.and_then(|o| o.output.as_deref());
    let shape = shape_name.and_then(|s| model.shape(s));
    let empty = |status, headers| WireResponse { status, content_type: "application/xml", headers, body: Bytes::new() };
    let (Some(shape), Some(shape_name)) = (shape, shape_name) else { return empty(status, headers) };
    let ShapeKind::Structure { members, payload, .. } = &shape.kind else { return empty(status, headers) };
    let obj = output.as_object();
    let get = |name: &str| obj.and_then(|o| o.get(name)).filter(|v| !v.is_null());
    if let Some(s) = get(STATUS_MEMBER).and_then(Value::as_u64) {
        status = s as u16;
    }
    for m in members {
        let Some(v) = get(&m.name) else { continue };
        let wire = m.location_name.as_deref().unwrap_or(&m.name);
        match m.location {
            Location::StatusCode => status = v.as_u64().map(|s| s as u16).unwrap_or(status),
            Location::Header => {
                if let Some(t) = header_text(model.shape(&m.shape), v) {
                    headers.push((wire.to_string(), t));
                }
            }
            Location::Headers => {
                if let Value::Object(map) = v {
                    for (k, hv) in map {
                        if let Some(t) = header_text(None, hv) {
                            headers.push((format!("{wire}{k}"), t));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut doc = String::new();
    match payload.as_deref().and_then(|p| members.iter().find(|m| m.name == p)) {
        Some(p) => {
            let Some(target) = model.shape(&p.shape) else { return empty(status, headers) };
            match (&target.kind, get(&p.name)) {
                (ShapeKind::Structure { .. }, Some(v)) => {
                    let root = p.location_name.as_deref().or(target.location_name.as_deref()).unwrap_or(&p.shape);
                    start_document(&mut doc, root, target, v);
                    encode_members(model, target, v, &mut doc);
                    xml::close(&mut doc, root);
                }
                (ShapeKind::Structure { .. } | ShapeKind::Blob, None) => return empty(status, headers),
                (_, Some(Value::String(s))) => return WireResponse { status, content_type: "application/xml", headers, body: Bytes::from(s.clone()) },
                _ => return empty(status, headers),
            }
        }
        None => {
            if !members.iter().any(|m| m.location == Location::Body) {
                return empty(status, headers);
            }
            let root = shape.location_name.as_deref().unwrap_or(shape_name);
            let v = output.clone();
            start_document(&mut doc, root, shape, &v);
            encode_members(model, shape, &v, &mut doc);
            xml::close(&mut doc, root);
        }
    }
    WireResponse { status, content_type: "application/xml", headers, body: Bytes::from(doc) }
}

/// `<?xml …?><Root xmlns="…">`, with the root's attribute members.
fn start_document(out: &mut String, root: &str, shape: &Shape, value: &Value) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    out.push_str(root);
    out.push_str(" xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push('"');
    write_attributes(out, shape, value);
    out.push('>');
}

fn write_attributes(out: &mut String, shape: &Shape, value: &Value) {
    let (ShapeKind::Structure { members, .. }, Value::Object(obj)) = (&shape.kind, value) else { return };
    for m in members.iter().filter(|m| m.xml_attribute) {
        let Some(v) = obj.get(&m.name).and_then(|v| header_text(None, v)) else { continue };
        let name = element_name(m);
        if name.starts_with("xsi:") {
            out.push_str(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"");
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        xml::escape_into(out, &v);
        out.push('"');
    }
}

fn encode_members(model: &ServiceModel, shape: &Shape, value: &Value, out: &mut String) {
    let (ShapeKind::Structure { members, .. }, Value::Object(obj)) = (&shape.kind, value) else { return };
    for m in members.iter().filter(|m| m.location == Location::Body && !m.xml_attribute) {
        let (Some(v), Some(target)) = (obj.get(&m.name), model.shape(&m.shape)) else { continue };
        if v.is_null() {
            continue;
        }
        let name = element_name(m);
        match (&target.kind, v) {
            (ShapeKind::List { member: item }, Value::Array(items)) if m.flattened || target.flattened => {
                let Some(item_shape) = model.shape(&item.shape) else { continue };
                for i in items {
                    encode_value(model, name, item_shape, i, out);
                }
            }
            _ => encode_value(model, name, target, v, out),
        }
    }
}

fn encode_value(model: &ServiceModel, name: &str, shape: &Shape, value: &Value, out: &mut String) {
    match (&shape.kind, value) {
        (ShapeKind::Structure { .. }, _) => {
            out.push('<');
            out.push_str(name);
            write_attributes(out, shape, value);
            out.push('>');
            encode_members(model, shape, value, out);
            xml::close(out, name);
        }
        (ShapeKind::List { member: item }, Value::Array(items)) => {
            let Some(item_shape) = model.shape(&item.shape) else { return };
            let item_name = item.location_name.as_deref().unwrap_or("member");
            xml::open(out, name);
            for i in items {
                encode_value(model, item_name, item_shape, i, out);
            }
            xml::close(out, name);
        }
        (ShapeKind::Map { key, value: val }, Value::Object(entries)) => {
            let Some(vshape) = model.shape(&val.shape) else { return };
            xml::open(out, name);
            for (k, v) in entries {
                xml::open(out, "entry");
                xml::element(out, key.location_name.as_deref().unwrap_or("key"), k);
                encode_value(model, val.location_name.as_deref().unwrap_or("value"), vshape, v, out);
                xml::close(out, "entry");
            }
            xml::close(out, name);
        }
        (ShapeKind::Timestamp, Value::Number(n)) => xml::element(out, name, &crate::time::iso8601_ms((n.as_f64().unwrap_or(0.0) * 1000.0) as u64)),
        (_, Value::String(s)) => xml::element(out, name, s),
        (_, Value::Bool(b)) => xml::element(out, name, if *b { "true" } else { "false" }),
        (_, Value::Null) => {}
        (_, other) => xml::element(out, name, &other.to_string()),
    }
}

/// S3's error document: `Code`, `Message`, the error's own members (`BucketName`, `Key`,
/// `Condition` …), `RequestId`, `HostId`. A HEAD request's error has no body (the router
/// drops it), only the status.
pub fn encode_error(err: &AwsError, request_id: &str, host_id: &str) -> WireResponse {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    xml::element(&mut out, "Code", &err.code);
    xml::element(&mut out, "Message", &err.message);
    for (k, v) in &err.members {
        match v {
            Value::String(s) => xml::element(&mut out, k, s),
            Value::Null => {}
            other => xml::element(&mut out, k, &other.to_string()),
        }
    }
    xml::element(&mut out, "RequestId", request_id);
    xml::element(&mut out, "HostId", host_id);
    out.push_str("</Error>");
    WireResponse { status: err.status, content_type: "application/xml", headers: err.headers.clone(), body: Bytes::from(out) }
}
