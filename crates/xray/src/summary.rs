//! A trace's summary, computed from every document of the trace the store holds (segments
//! of one trace arrive from many hops in any order, so the summary is recomputed when one
//! arrives): first start, last end, the root segment's response time and HTTP fields, the
//! error/fault/throttle flags of any segment or subsegment, whether a document is still in
//! progress, the services (segments' names and origins, and the downstream AWS and remote
//! calls their subsegments infer), and the annotations with the services that set them.
//! The stored summary is GetTraceSummaries' `TraceSummary` shape.
//! <https://docs.aws.amazon.com/xray/latest/api/API_TraceSummary.html>

use serde_json::{json, Map, Value};

/// A service as `ServiceId` names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceKey {
    pub name: String,
    pub kind: Option<String>,
    pub account: Option<String>,
}

impl ServiceKey {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Name".into(), self.name.clone().into());
        m.insert("Names".into(), json!([self.name]));
        if let Some(a) = &self.account {
            m.insert("AccountId".into(), a.clone().into());
        }
        if let Some(t) = &self.kind {
            m.insert("Type".into(), t.clone().into());
        }
        Value::Object(m)
    }
}

/// The service a segment document is: its name and origin.
pub fn service_of(doc: &Value) -> ServiceKey {
    ServiceKey {
        name: doc.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
        kind: doc.get("origin").and_then(Value::as_str).map(str::to_string),
        account: doc.get("aws").and_then(|a| a.get("account_id")).and_then(Value::as_str).map(str::to_string),
    }
}

/// The downstream service a subsegment infers (`namespace` `aws`: an AWS service call;
/// `remote`: another HTTP service), as X-Ray draws it.
pub fn inferred_service(sub: &Value) -> Option<ServiceKey> {
    let name = sub.get("name").and_then(Value::as_str)?;
    match sub.get("namespace").and_then(Value::as_str)? {
        "aws" => Some(ServiceKey { name: name.to_string(), kind: Some(format!("AWS::{name}")), account: None }),
        "remote" => Some(ServiceKey { name: name.to_string(), kind: Some("remote".into()), account: None }),
        _ => None,
    }
}

fn flag(doc: &Value, f: &str) -> bool {
    doc.get(f).and_then(Value::as_bool) == Some(true)
}

/// Calls `f` on a document and each nested subsegment, depth first.
pub fn walk<'a>(doc: &'a Value, f: &mut dyn FnMut(&'a Value)) {
    f(doc);
    if let Some(subs) = doc.get("subsegments").and_then(Value::as_array) {
        for s in subs {
            walk(s, f);
        }
    }
}

/// One stored document as the summary needs it.
pub struct Part<'a> {
    pub id: &'a str,
    pub parent_id: Option<&'a str>,
    pub subsegment: bool,
    pub start: f64,
    pub end: Option<f64>,
    pub doc: &'a Value,
}

/// The computed summary: the `TraceSummary` JSON and the times the store indexes.
pub struct Computed {
    pub summary: Value,
    pub start: f64,
    pub end: f64,
}

/// The root segment: one with no parent, else the earliest whose parent is not in the trace.
pub fn root<'a, 'b>(parts: &'b [Part<'a>]) -> Option<&'b Part<'a>> {
    let mut ids = std::collections::HashSet::new();
    for p in parts {
        walk(p.doc, &mut |d| {
            if let Some(id) = d.get("id").and_then(Value::as_str) {
                ids.insert(id);
            }
        });
    }
    let segs = parts.iter().filter(|p| !p.subsegment);
    segs.clone()
        .filter(|p| p.parent_id.is_none())
        .min_by(|a, b| a.start.total_cmp(&b.start))
        .or_else(|| segs.filter(|p| p.parent_id.is_some_and(|q| !ids.contains(q))).min_by(|a, b| a.start.total_cmp(&b.start)))
}

/// Summarises a trace from all its documents (at least one).
pub fn compute(trace_id: &str, parts: &[Part<'_>]) -> Computed {
    let start = parts.iter().map(|p| p.start).fold(f64::INFINITY, f64::min);
    let end = parts.iter().map(|p| p.end.unwrap_or(p.start)).fold(start, f64::max);
    let (mut error, mut fault, mut throttle) = (false, false, false);
    let mut services: Vec<ServiceKey> = Vec::new();
    let mut annotations: Map<String, Value> = Map::new();
    let add_service = |s: ServiceKey, services: &mut Vec<ServiceKey>| {
        if !s.name.is_empty() && !services.iter().any(|x| x.name == s.name && x.kind == s.kind) {
            services.push(s);
        }
    };
    for p in parts {
        let owner = service_of(p.doc);
        if !p.subsegment {
            add_service(owner.clone(), &mut services);
        }
        walk(p.doc, &mut |d| {
            error |= flag(d, "error");
            fault |= flag(d, "fault");
            throttle |= flag(d, "throttle");
            if !std::ptr::eq(d, p.doc) || p.subsegment {
                if let Some(s) = inferred_service(d) {
                    add_service(s, &mut services);
                }
            }
            if let Some(Value::Object(ann)) = d.get("annotations") {
                for (k, v) in ann {
                    let value = match v {
                        Value::String(s) => json!({ "StringValue": s }),
                        Value::Number(n) => json!({ "NumberValue": n.as_f64() }),
                        Value::Bool(b) => json!({ "BooleanValue": b }),
                        _ => continue,
                    };
                    let list = annotations.entry(k.clone()).or_insert_with(|| json!([]));
                    if let Some(list) = list.as_array_mut() {
                        if let Some(entry) = list.iter_mut().find(|e| e["AnnotationValue"] == value) {
                            let ids = entry["ServiceIds"].as_array_mut();
                            if let Some(ids) = ids {
                                let sid = owner.to_json();
                                if !ids.contains(&sid) {
                                    ids.push(sid);
                                }
                            }
                        } else {
                            list.push(json!({ "AnnotationValue": value, "ServiceIds": [owner.to_json()] }));
                        }
                    }
                }
            }
        });
    }
    let partial = parts.iter().any(|p| p.end.is_none());
    let root = root(parts);
    let mut s = Map::new();
    s.insert("Id".into(), trace_id.into());
    s.insert("StartTime".into(), json!(start));
    s.insert("Duration".into(), json!(round3(end - start)));
    if let Some(r) = root {
        if let Some(e) = r.end {
            s.insert("ResponseTime".into(), json!(round3(e - r.start)));
        }
        s.insert("EntryPoint".into(), service_of(r.doc).to_json());
        let http = http_of(r.doc);
        if !http.is_empty() {
            s.insert("Http".into(), Value::Object(http));
        }
    }
    s.insert("HasError".into(), error.into());
    s.insert("HasFault".into(), fault.into());
    s.insert("HasThrottle".into(), throttle.into());
    s.insert("IsPartial".into(), partial.into());
    s.insert("ServiceIds".into(), Value::Array(services.iter().map(ServiceKey::to_json).collect()));
    s.insert("Annotations".into(), Value::Object(annotations));
    s.insert("Users".into(), json!([]));
    s.insert("ResourceARNs".into(), resource_arns(parts));
    s.insert("Revision".into(), json!(parts.len()));
    Computed { summary: Value::Object(s), start, end }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `Http` from a segment's `http.request` / `http.response`.
fn http_of(doc: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    let req = doc.get("http").and_then(|h| h.get("request"));
    let res = doc.get("http").and_then(|h| h.get("response"));
    if let Some(v) = req.and_then(|r| r.get("url")).and_then(Value::as_str) {
        m.insert("HttpURL".into(), v.into());
    }
    if let Some(v) = req.and_then(|r| r.get("method")).and_then(Value::as_str) {
        m.insert("HttpMethod".into(), v.into());
    }
    if let Some(v) = req.and_then(|r| r.get("user_agent")).and_then(Value::as_str) {
        m.insert("UserAgent".into(), v.into());
    }
    if let Some(v) = req.and_then(|r| r.get("client_ip")).and_then(Value::as_str) {
        m.insert("ClientIp".into(), v.into());
    }
    if let Some(v) = res.and_then(|r| r.get("status")).and_then(Value::as_i64) {
        m.insert("HttpStatus".into(), v.into());
    }
    m
}

/// `ResourceARNs`: the segments' `resource_arn`s.
fn resource_arns(parts: &[Part<'_>]) -> Value {
    let mut arns: Vec<Value> = Vec::new();
    for p in parts {
        if let Some(a) = p.doc.get("resource_arn").and_then(Value::as_str) {
            let v = json!({ "ARN": a });
            if !arns.contains(&v) {
                arns.push(v);
            }
        }
    }
    Value::Array(arns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_segments_from_many_hops() {
        let api = json!({"name": "api", "id": "a000000000000001", "start_time": 10.0, "end_time": 10.5, "origin": "AWS::ApiGateway::Stage",
            "http": {"request": {"method": "GET", "url": "http://x/"}, "response": {"status": 200}}, "annotations": {"user": "bob"}});
        let sqs = json!({"name": "SQS", "id": "a000000000000002", "parent_id": "a000000000000001", "start_time": 10.1, "end_time": 10.9, "origin": "AWS::SQS::Queue", "fault": true,
            "subsegments": [{"name": "DynamoDB", "id": "a000000000000003", "namespace": "aws", "start_time": 10.2, "end_time": 10.3, "throttle": true}]});
        let parts = vec![
            Part { id: "a000000000000002", parent_id: Some("a000000000000001"), subsegment: false, start: 10.1, end: Some(10.9), doc: &sqs },
            Part { id: "a000000000000001", parent_id: None, subsegment: false, start: 10.0, end: Some(10.5), doc: &api },
        ];
        let c = compute("1-5759e988-bd862e3fe1be46a994272793", &parts);
        let s = &c.summary;
        assert_eq!(s["Duration"], 0.9);
        assert_eq!(s["ResponseTime"], 0.5);
        assert_eq!(s["HasFault"], true);
        assert_eq!(s["HasThrottle"], true);
        assert_eq!(s["HasError"], false);
        assert_eq!(s["Http"]["HttpStatus"], 200);
        assert_eq!(s["EntryPoint"]["Name"], "api");
        let names: Vec<&str> = s["ServiceIds"].as_array().unwrap().iter().map(|v| v["Name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["SQS", "DynamoDB", "api"]);
        assert_eq!(s["Annotations"]["user"][0]["AnnotationValue"]["StringValue"], "bob");
    }
}
