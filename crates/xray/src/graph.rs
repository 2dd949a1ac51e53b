//! GetServiceGraph and GetTraceGraph: services (segments' name and origin, and the AWS
//! and remote services their subsegments call) as nodes, calls between them as edges,
//! each with request counts by outcome, total response time and a response-time
//! histogram. A segment whose parent is a subsegment of another service's segment is an
//! edge from that service (the inferred node of that subsegment is then not drawn).
//! <https://docs.aws.amazon.com/xray/latest/api/API_GetServiceGraph.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_GetTraceGraph.html>

use crate::errors::{XrayError, XrayResult};
use crate::ops_traces::{assemble, BATCH_IDS};
use crate::service::{required_time, XrayService};
use crate::summary::{inferred_service, service_of, walk, ServiceKey};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Traces a GetServiceGraph call reads at most (the newest in the range).
pub const GRAPH_TRACES: usize = 10_000;

#[derive(Default, Clone)]
struct Stats {
    ok: u64,
    error: u64,
    throttle: u64,
    fault: u64,
    total: u64,
    response: f64,
    histogram: BTreeMap<u64, u64>,
    start: f64,
    end: f64,
}

impl Stats {
    fn add(&mut self, doc: &Value) {
        let f = |k: &str| doc.get(k).and_then(Value::as_bool) == Some(true);
        let start = doc.get("start_time").and_then(Value::as_f64).unwrap_or(0.0);
        let end = doc.get("end_time").and_then(Value::as_f64).unwrap_or(start);
        self.total += 1;
        if f("fault") {
            self.fault += 1;
        } else if f("throttle") {
            self.throttle += 1;
        } else if f("error") {
            self.error += 1;
        } else {
            self.ok += 1;
        }
        let rt = (end - start).max(0.0);
        self.response += rt;
        *self.histogram.entry((rt * 1000.0).round() as u64).or_default() += 1;
        self.start = if self.total == 1 { start } else { self.start.min(start) };
        self.end = self.end.max(end);
    }

    fn summary(&self) -> Value {
        json!({
            "OkCount": self.ok,
            "ErrorStatistics": { "ThrottleCount": self.throttle, "OtherCount": self.error, "TotalCount": self.error + self.throttle },
            "FaultStatistics": { "OtherCount": self.fault, "TotalCount": self.fault },
            "TotalCount": self.total,
            "TotalResponseTime": (self.response * 1000.0).round() / 1000.0,
        })
    }

    fn histogram(&self) -> Value {
        Value::Array(self.histogram.iter().map(|(ms, n)| json!({ "Value": *ms as f64 / 1000.0, "Count": n })).collect())
    }
}

#[derive(Default)]
struct Graph {
    nodes: Vec<(ServiceKey, Stats, bool)>,
    edges: HashMap<(usize, usize), Stats>,
}

impl Graph {
    fn node(&mut self, k: ServiceKey) -> usize {
        if let Some(i) = self.nodes.iter().position(|(n, _, _)| n.name == k.name && n.kind == k.kind) {
            return i;
        }
        self.nodes.push((k, Stats::default(), false));
        self.nodes.len() - 1
    }

    /// Adds one trace's segments.
    fn add_trace(&mut self, segments: &[(String, Value)]) {
        // Which service's segment holds each id (segments and their subsegments).
        let mut owner: HashMap<String, usize> = HashMap::new();
        let mut seg_nodes = Vec::new();
        for (_, doc) in segments {
            let n = self.node(service_of(doc));
            seg_nodes.push(n);
            walk(doc, &mut |d| {
                if let Some(id) = d.get("id").and_then(Value::as_str) {
                    owner.insert(id.to_string(), n);
                }
            });
        }
        let parents: HashSet<&str> = segments.iter().filter_map(|(_, d)| d.get("parent_id").and_then(Value::as_str)).collect();
        for ((_, doc), n) in segments.iter().zip(seg_nodes) {
            self.nodes[n].1.add(doc);
            match doc.get("parent_id").and_then(Value::as_str).and_then(|p| owner.get(p)) {
                Some(&from) if from != n => self.edges.entry((from, n)).or_default().add(doc),
                Some(_) => {}
                None => self.nodes[n].2 = true,
            }
            if let Some(subs) = doc.get("subsegments").and_then(Value::as_array) {
                for s in subs {
                    walk(s, &mut |d| {
                        let called_traced = d.get("id").and_then(Value::as_str).is_some_and(|id| parents.contains(id));
                        if let (Some(k), false) = (inferred_service(d), called_traced) {
                            let to = self.node(k);
                            self.nodes[to].1.add(d);
                            self.edges.entry((n, to)).or_default().add(d);
                        }
                    });
                }
            }
        }
    }

    fn services(&self) -> Vec<Value> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, (k, st, root))| {
                let mut edges: Vec<(&(usize, usize), &Stats)> = self.edges.iter().filter(|((from, _), _)| *from == i).collect();
                edges.sort_by_key(|((_, to), _)| *to);
                let mut v = k.to_json();
                v["ReferenceId"] = json!(i);
                v["Root"] = json!(*root);
                v["State"] = json!("active");
                v["StartTime"] = json!(st.start);
                v["EndTime"] = json!(st.end);
                v["SummaryStatistics"] = st.summary();
                v["DurationHistogram"] = st.histogram();
                v["ResponseTimeHistogram"] = st.histogram();
                v["Edges"] = Value::Array(
                    edges
                        .into_iter()
                        .map(|((_, to), es)| {
                            json!({ "ReferenceId": to, "StartTime": es.start, "EndTime": es.end, "SummaryStatistics": es.summary(),
                                "ResponseTimeHistogram": es.histogram(), "Aliases": [] })
                        })
                        .collect(),
                );
                v
            })
            .collect()
    }
}

impl XrayService {
    pub(crate) async fn get_service_graph(&self, input: &Value) -> XrayResult<Value> {
        let start = required_time(input, "StartTime")?;
        let end = required_time(input, "EndTime")?;
        if start > end {
            return Err(XrayError::invalid("StartTime must be before EndTime."));
        }
        if input.get("GroupName").is_some() || input.get("GroupARN").is_some() {
            return Err(XrayError::NotSupported("GetServiceGraph with a group".into()));
        }
        self.recorder.flush().await;
        let mut g = Graph::default();
        for id in self.store.traces_ending(start, end, self.alive_after(), GRAPH_TRACES)? {
            g.add_trace(&assemble(self.store.docs(&id)?));
        }
        Ok(json!({ "StartTime": start, "EndTime": end, "Services": g.services(), "ContainsOldGroupVersions": false }))
    }

    pub(crate) async fn get_trace_graph(&self, input: &Value) -> XrayResult<Value> {
        let ids = input.get("TraceIds").and_then(Value::as_array).ok_or_else(|| XrayError::invalid("TraceIds is required."))?;
        if ids.len() > BATCH_IDS {
            return Err(XrayError::invalid(format!("TraceIds can contain at most {BATCH_IDS} trace IDs.")));
        }
        self.recorder.flush().await;
        let mut g = Graph::default();
        for id in ids.iter().filter_map(Value::as_str) {
            g.add_trace(&assemble(self.store.docs(id)?));
        }
        Ok(json!({ "Services": g.services() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_follow_parents_and_aws_calls() {
        let api = json!({"name": "api", "id": "a000000000000001", "start_time": 1.0, "end_time": 2.0,
            "subsegments": [{"name": "Lambda", "id": "a000000000000002", "namespace": "aws", "start_time": 1.1, "end_time": 1.9},
                            {"name": "DynamoDB", "id": "a000000000000004", "namespace": "aws", "start_time": 1.1, "end_time": 1.2, "throttle": true, "error": true}]});
        let func = json!({"name": "fn", "id": "a000000000000003", "parent_id": "a000000000000002", "origin": "AWS::Lambda::Function", "start_time": 1.2, "end_time": 1.8, "fault": true});
        let mut g = Graph::default();
        g.add_trace(&[("a000000000000001".into(), api), ("a000000000000003".into(), func)]);
        let s = g.services();
        let names: Vec<&str> = s.iter().map(|v| v["Name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["api", "fn", "DynamoDB"]);
        assert_eq!(s[0]["Root"], true);
        let targets: Vec<i64> = s[0]["Edges"].as_array().unwrap().iter().map(|e| e["ReferenceId"].as_i64().unwrap()).collect();
        assert_eq!(targets, vec![1, 2]);
        assert_eq!(s[1]["SummaryStatistics"]["FaultStatistics"]["TotalCount"], 1);
        assert_eq!(s[2]["SummaryStatistics"]["ErrorStatistics"]["ThrottleCount"], 1);
    }
}
