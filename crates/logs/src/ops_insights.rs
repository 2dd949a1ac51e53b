//! Logs Insights operations: StartQuery, GetQueryResults, StopQuery, DescribeQueries
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html>).
//!
//! StartQuery checks the request and parses the query (a syntax error is a
//! MalformedQueryException with the error's place), records the query as `Scheduled`
//! and starts a background task: it waits for the store to hold every accepted event,
//! then reads each selected stream's events in the time range, in chunks of
//! [`CHUNK`], on a blocking thread, feeding them to the query's pipeline
//! (`insights::run`); StopQuery's flag is checked between chunks. A finished query is
//! stored (`logs_docs`: a small `query` document with its text, groups, status and
//! statistics, loaded at start, and a `query-results` document with its rows, read only
//! by GetQueryResults), so memory holds each query's figures, not its results. Queries
//! are kept for AWS's seven days (on the server's clock), at most [`MAX_KEPT`] per
//! server (the oldest finished ones go first). A query still running when the server
//! stops is forgotten. At most [`MAX_RUNNING`] run at once per account and region
//! (LimitExceededException), as AWS's concurrency quota; a query that runs longer than
//! 60 minutes ends as `Timeout`.

use crate::api::{DescribeQueries, QueryRef, StartQuery};
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::insights::fields::Event;
use crate::insights::parser::{parse, Command};
use crate::insights::run::{Runner, Statistics};
use crate::engine::{Engine, QUERY_KIND};
use crate::service::LogsService;
use crate::store::{DocRecord, Mutation, Scan, UNLOADED_KIND};
use nimbus_core::RequestContext;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const RETENTION_MS: u64 = 7 * 86_400_000;
pub const MAX_RUNNING: usize = 30;
pub const MAX_KEPT: usize = 1000;
pub const MAX_GROUPS: usize = 50;
const CHUNK: usize = 1000;
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Running => "Running",
            Status::Complete => "Complete",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
            Status::Timeout => "Timeout",
        }
    }

    fn finished(self) -> bool {
        !matches!(self, Status::Scheduled | Status::Running)
    }

    fn parse(s: &str) -> Option<Status> {
        [Status::Complete, Status::Failed, Status::Cancelled, Status::Timeout].into_iter().find(|x| x.name() == s)
    }
}

/// A finished query as stored (the `query` document).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredQuery {
    query_string: String,
    groups: Vec<String>,
    created_ms: u64,
    status: String,
    statistics: Statistics,
}

struct QueryEntry {
    account: String,
    region: String,
    query_string: String,
    /// The first group queried (DescribeQueries' `logGroupName`).
    group: String,
    groups: Vec<String>,
    created_ms: u64,
    status: Status,
    statistics: Statistics,
    stop: Arc<AtomicBool>,
}

/// Every query StartQuery accepted, by id.
#[derive(Default)]
pub struct Queries {
    inner: Mutex<HashMap<String, QueryEntry>>,
}

fn doc(q: &QueryEntry, kind: &str, id: &str, body: String) -> Mutation {
    Mutation::PutDoc(DocRecord { account: q.account.clone(), region: q.region.clone(), kind: kind.into(), name: id.into(), body })
}

impl Queries {
    /// Forgets queries past retention (and the oldest finished beyond [`MAX_KEPT`]),
    /// deleting their stored documents.
    fn prune(map: &mut HashMap<String, QueryEntry>, now: u64, engine: &Engine) {
        let mut gone: Vec<String> = map.iter().filter(|(_, q)| q.status.finished() && q.created_ms + RETENTION_MS <= now).map(|(id, _)| id.clone()).collect();
        if map.len() - gone.len() > MAX_KEPT {
            let mut finished: Vec<(u64, String)> = map.iter().filter(|(id, q)| q.status.finished() && !gone.contains(id)).map(|(id, q)| (q.created_ms, id.clone())).collect();
            finished.sort();
            let excess = map.len() - gone.len() - MAX_KEPT;
            gone.extend(finished.into_iter().take(excess).map(|(_, id)| id));
        }
        let mut batch = Vec::new();
        for id in gone {
            if let Some(q) = map.remove(&id) {
                for kind in [QUERY_KIND, UNLOADED_KIND] {
                    batch.push(Mutation::DeleteDoc { account: q.account.clone(), region: q.region.clone(), kind: kind.into(), name: id.clone() });
                }
            }
        }
        if !batch.is_empty() {
            drop(engine.apply_docs(batch));
        }
    }

    /// Records a query's end and stores it; GetQueryResults reads the rows back after a
    /// barrier, so the status may show before the write commits.
    fn finish(&self, engine: &Engine, id: &str, status: Status, results: Vec<Vec<(String, String)>>, statistics: Statistics) {
        let mut map = self.inner.lock();
        let Some(q) = map.get_mut(id) else { return };
        if q.status != Status::Cancelled {
            q.status = status;
        }
        q.statistics = statistics;
        let meta = StoredQuery { query_string: q.query_string.clone(), groups: q.groups.clone(), created_ms: q.created_ms, status: q.status.name().into(), statistics };
        let rows = serde_json::to_string(&results).unwrap_or_else(|_| "[]".into());
        let meta = serde_json::to_string(&meta).unwrap_or_default();
        drop(engine.apply_docs(vec![doc(q, QUERY_KIND, id, meta), doc(q, UNLOADED_KIND, id, rows)]));
    }

    /// Takes back the queries stored by an earlier run.
    pub fn restore(&self, stored: Vec<DocRecord>) {
        let mut map = self.inner.lock();
        for d in stored {
            let Ok(q) = serde_json::from_str::<StoredQuery>(&d.body) else {
                tracing::error!(query = %d.name, "stored Logs Insights query could not be read");
                continue;
            };
            let Some(status) = Status::parse(&q.status) else { continue };
            map.insert(
                d.name,
                QueryEntry {
                    account: d.account,
                    region: d.region,
                    group: q.groups.first().cloned().unwrap_or_default(),
                    groups: q.groups,
                    query_string: q.query_string,
                    created_ms: q.created_ms,
                    status,
                    statistics: q.statistics,
                    stop: Arc::new(AtomicBool::new(false)),
                },
            );
        }
    }

    fn set_status(&self, id: &str, status: Status) {
        if let Some(q) = self.inner.lock().get_mut(id) {
            if !q.status.finished() {
                q.status = status;
            }
        }
    }
}

fn new_query_id() -> String {
    nimbus_core::ids::uuid()
}

/// What the background task reads: each group's `account:name`, whether it is a
/// Lambda group, and its streams (name, id) holding events in the range.
struct Source {
    log: String,
    lambda: bool,
    group_id: u64,
    streams: Vec<(String, u64)>,
}

fn statistics_json(s: &Statistics, groups: usize) -> Value {
    json!({
        "recordsMatched": s.records_matched as f64,
        "recordsScanned": s.records_scanned as f64,
        "estimatedRecordsSkipped": 0.0,
        "bytesScanned": s.bytes_scanned as f64,
        "estimatedBytesSkipped": 0.0,
        "logGroupsScanned": groups as f64,
    })
}

impl LogsService {
    pub(crate) async fn start_query(&self, ctx: &RequestContext, req: StartQuery) -> LogsResult<Value> {
        let query_string = required("queryString", req.query_string)?;
        if query_string.chars().count() > 10_000 {
            return Err(LogsError::validation("…", "queryString", "Member must have length less than or equal to 10000"));
        }
        let start = required("startTime", req.start_time)?;
        let end = required("endTime", req.end_time)?;
        if start < 0 {
            return Err(LogsError::validation(start, "startTime", "Member must have value greater than or equal to 0"));
        }
        if end < 0 {
            return Err(LogsError::validation(end, "endTime", "Member must have value greater than or equal to 0"));
        }
        if end < start {
            return Err(LogsError::InvalidParameter("endTime must be greater than or equal to startTime".into()));
        }
        // The model allows up to 100,000; the default is 10,000.
        let limit = in_range("limit", req.limit, 1, 100_000, 10_000)? as usize;
        if let Some(lang) = req.query_language.as_deref().filter(|l| *l != "CWLI") {
            return Err(LogsError::NotSupported(format!("The query language {lang}")));
        }
        let given = [req.log_group_name.is_some(), req.log_group_names.is_some(), req.log_group_identifiers.is_some()].iter().filter(|x| **x).count();
        if given != 1 {
            return Err(LogsError::InvalidParameter("Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.".into()));
        }
        let groups: Vec<String> = match (req.log_group_name, req.log_group_names, req.log_group_identifiers) {
            (Some(n), _, _) => vec![n],
            (_, Some(ns), _) => ns,
            (_, _, Some(ids)) => ids.iter().map(|i| crate::names::name_of_identifier(i)).collect(),
            _ => Vec::new(),
        };
        if groups.is_empty() || groups.len() > MAX_GROUPS {
            return Err(LogsError::InvalidParameter(format!("You can query between 1 and {MAX_GROUPS} log groups; {} were given.", groups.len())));
        }
        let commands = parse(&query_string).map_err(LogsError::MalformedQuery)?;
        let now = self.engine.clock.now_ms();
        let (from_ms, to_ms) = ((start as u64).saturating_mul(1000), (end as u64).saturating_mul(1000).saturating_add(999));
        let sources = self.engine.read(|st| -> LogsResult<Vec<Source>> {
            let mut out = Vec::new();
            for name in &groups {
                let key = Self::key(ctx, name.clone());
                let g = st.groups.get(&key).ok_or_else(|| LogsError::NotFound(format!("Log group '{name}' does not exist for account ID '{}'", ctx.account_id)))?;
                let lo = from_ms.max(g.cutoff(now));
                let streams = g
                    .streams
                    .iter()
                    .filter(|(_, s)| s.last_ts.is_some_and(|t| t >= lo) && s.first_ts.is_some_and(|t| t <= to_ms))
                    .map(|(n, s)| (n.clone(), s.id))
                    .collect();
                out.push(Source { log: format!("{}:{}", ctx.account_id, name), lambda: name.starts_with("/aws/lambda/"), group_id: g.id, streams });
            }
            Ok(out)
        })?;
        // Retention is applied per group, as reads do, before the scan.
        for name in &groups {
            self.engine.expire(&Self::key(ctx, name.clone())).await?;
        }
        let id = new_query_id();
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut map = self.queries.inner.lock();
            Queries::prune(&mut map, now, &self.engine);
            let running = map.values().filter(|q| !q.status.finished() && q.account == ctx.account_id && q.region == ctx.region).count();
            if running >= MAX_RUNNING {
                return Err(LogsError::Limit(format!("Account maximum query concurrency limit of [{MAX_RUNNING}] reached.")));
            }
            map.insert(
                id.clone(),
                QueryEntry {
                    account: ctx.account_id.clone(),
                    region: ctx.region.clone(),
                    query_string,
                    group: groups[0].clone(),
                    groups: groups.clone(),
                    created_ms: now,
                    status: Status::Scheduled,
                    statistics: Statistics::default(),
                    stop: stop.clone(),
                },
            );
        }
        let engine = self.engine.clone();
        let queries = self.queries.clone();
        let qid = id.clone();
        let cutoffs: Vec<u64> = groups.iter().map(|n| self.engine.read(|st| st.groups.get(&Self::key(ctx, n.clone())).map(|g| g.cutoff(now)).unwrap_or(0))).collect();
        tokio::spawn(async move {
            if let Err(e) = engine.sync().await {
                tracing::error!(error = ?e, query = %qid, "insights query could not read the store");
                queries.finish(&engine, &qid, Status::Failed, Vec::new(), Statistics::default());
                return;
            }
            queries.set_status(&qid, Status::Running);
            let reader = engine.clone();
            let outcome = tokio::task::spawn_blocking(move || scan(&reader, commands, limit, sources, cutoffs, from_ms, to_ms, &stop)).await;
            match outcome {
                Ok(Ok((status, rows, stats))) => queries.finish(&engine, &qid, status, rows, stats),
                Ok(Err(e)) => {
                    tracing::error!(error = ?e, query = %qid, "insights query failed");
                    queries.finish(&engine, &qid, Status::Failed, Vec::new(), Statistics::default());
                }
                Err(e) => {
                    tracing::error!(error = %e, query = %qid, "insights query task failed");
                    queries.finish(&engine, &qid, Status::Failed, Vec::new(), Statistics::default());
                }
            }
        });
        Ok(json!({ "queryId": id }))
    }

    pub(crate) async fn get_query_results(&self, ctx: &RequestContext, req: QueryRef) -> LogsResult<Value> {
        let id = required("queryId", req.query_id)?;
        let max_items = match req.max_items {
            Some(n) => in_range("maxItems", Some(n), 0, 10_000, 10_000)? as usize,
            None => usize::MAX,
        };
        let now = self.engine.clock.now_ms();
        let (status, statistics, groups) = {
            let mut map = self.queries.inner.lock();
            Queries::prune(&mut map, now, &self.engine);
            let q = map.get(&id).filter(|q| q.account == ctx.account_id && q.region == ctx.region).ok_or(LogsError::QueryNotFound)?;
            (q.status, q.statistics, q.groups.len())
        };
        let rows: Vec<Vec<(String, String)>> = if status.finished() {
            self.engine.sync().await?;
            let body = self.engine.read_doc(&ctx.account_id, &ctx.region, UNLOADED_KIND, &id)?;
            body.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default()
        } else {
            Vec::new()
        };
        let start = match req.next_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => crate::tokens::parse_item_token(t)?.0 as usize,
            None => 0,
        };
        let end = start.saturating_add(max_items).min(rows.len());
        let results: Vec<Value> = rows.get(start.min(end)..end).unwrap_or_default().iter().map(|row| Value::Array(row.iter().map(|(f, v)| json!({"field": f, "value": v})).collect())).collect();
        let mut out = json!({
            "queryLanguage": "CWLI",
            "results": results,
            "statistics": statistics_json(&statistics, groups),
            "status": status.name(),
        });
        if end < rows.len() {
            out["nextToken"] = json!(crate::tokens::item_token(end as u64, "results"));
        }
        Ok(out)
    }

    pub(crate) fn stop_query(&self, ctx: &RequestContext, req: QueryRef) -> LogsResult<Value> {
        let id = required("queryId", req.query_id)?;
        let mut map = self.queries.inner.lock();
        let q = map.get_mut(&id).filter(|q| q.account == ctx.account_id && q.region == ctx.region).ok_or(LogsError::QueryNotFound)?;
        if q.status.finished() {
            return Err(LogsError::InvalidParameter(format!("Query {id} is not running.")));
        }
        q.stop.store(true, Ordering::Relaxed);
        q.status = Status::Cancelled;
        Ok(json!({ "success": true }))
    }

    pub(crate) fn describe_queries(&self, ctx: &RequestContext, req: DescribeQueries) -> LogsResult<Value> {
        let max = in_range("maxResults", req.max_results, 1, 1000, 1000)? as usize;
        if let Some(s) = &req.status {
            const ALL: [&str; 7] = ["Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown"];
            if !ALL.contains(&s.as_str()) {
                return Err(LogsError::validation(s, "status", &format!("Member must satisfy enum value set: [{}]", ALL.join(", "))));
            }
        }
        let now = self.engine.clock.now_ms();
        let mut map = self.queries.inner.lock();
        Queries::prune(&mut map, now, &self.engine);
        let mut list: Vec<(&String, &QueryEntry)> = map
            .iter()
            .filter(|(_, q)| q.account == ctx.account_id && q.region == ctx.region)
            .filter(|(_, q)| req.log_group_name.as_ref().is_none_or(|g| q.groups.contains(g)))
            .filter(|(_, q)| req.status.as_deref().is_none_or(|s| s == q.status.name()))
            .collect();
        list.sort_by(|a, b| b.1.created_ms.cmp(&a.1.created_ms).then_with(|| a.0.cmp(b.0)));
        let start = match req.next_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => crate::tokens::parse_item_token(t)?.0 as usize,
            None => 0,
        };
        let end = (start + max).min(list.len());
        let queries: Vec<Value> = list[start.min(end)..end]
            .iter()
            .map(|(id, q)| {
                json!({
                    "queryLanguage": "CWLI",
                    "queryId": id,
                    "queryString": q.query_string,
                    "status": q.status.name(),
                    "createTime": q.created_ms,
                    "logGroupName": q.group,
                })
            })
            .collect();
        let mut out = json!({ "queries": queries });
        if end < list.len() {
            out["nextToken"] = json!(crate::tokens::item_token(end as u64, "queries"));
        }
        Ok(out)
    }
}

type Scanned = (Status, Vec<Vec<(String, String)>>, Statistics);

/// Reads the sources' events in `[from_ms, to_ms]` chunk by chunk into the pipeline.
#[allow(clippy::too_many_arguments)]
fn scan(engine: &Engine, commands: Vec<Command>, limit: usize, sources: Vec<Source>, cutoffs: Vec<u64>, from_ms: u64, to_ms: u64, stop: &AtomicBool) -> LogsResult<Scanned> {
    let began = std::time::Instant::now();
    let mut runner = Runner::new(commands, limit);
    for (src, cutoff) in sources.iter().zip(cutoffs) {
        for (stream, id) in &src.streams {
            let mut from = (from_ms.max(cutoff), 0u64);
            loop {
                if stop.load(Ordering::Relaxed) {
                    let stats = runner.stats;
                    return Ok((Status::Cancelled, runner.finish(), stats));
                }
                if began.elapsed() > TIMEOUT {
                    let stats = runner.stats;
                    return Ok((Status::Timeout, Vec::new(), stats));
                }
                let chunk = engine.events(*id, &Scan { from, to: (to_ms, u64::MAX), backward: false, max_events: CHUNK, max_bytes: usize::MAX })?;
                for e in &chunk {
                    let ptr = crate::insights::ptr(src.group_id, *id, e.seq);
                    runner.push(&Event { timestamp: e.timestamp, ingestion_ms: e.ingestion_ms, message: &e.message, stream, log: &src.log, ptr, lambda: src.lambda });
                }
                match chunk.last() {
                    Some(last) if chunk.len() == CHUNK => from = crate::tokens::succ(last.key()),
                    _ => break,
                }
            }
        }
    }
    let stats = runner.stats;
    Ok((Status::Complete, runner.finish(), stats))
}
