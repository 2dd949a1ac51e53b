//! Map Runs: a distributed Map state's run of its items as child workflow executions.
//! Each item (or `ItemBatcher` batch) runs as its own execution of the `ItemProcessor`
//! definition (`ProcessorConfig.ExecutionType` STANDARD: stored, described, listed by
//! `ListExecutions(mapRunArn)`, with its own history; EXPRESS: in memory only), at most
//! `MaxConcurrency` at once (UpdateMapRun changes it, and the tolerated failures, while the
//! run goes on). The parent's history gets `MapStateStarted`, `MapRunStarted`, then
//! `MapRunSucceeded` / `MapRunFailed` / `MapRunAborted` and `MapStateSucceeded` /
//! `MapStateFailed`. The Map Run record is stored as it advances (DescribeMapRun,
//! ListMapRuns); a parent resumed after a restart picks up its RUNNING Map Run: finished
//! children are not run again, running ones (resumed by the engine) are waited for.
//! The children's results go through `result_writer` (the state's output, or the S3 export).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html>
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html>

use super::execution::{not_truncated, text, ExecutionRecord, Running};
use super::lang::Failure;
use super::result_writer::ChildResult;
use super::run::Exec;
use super::{Engine, Watcher};
use crate::definition::{Definition, QueryLanguage, State};
use crate::tasks::{ExecutionWatcher, Finished};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// How many items or child executions are in each state (DescribeMapRun's
/// `itemCounts` / `executionCounts`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

impl Counts {
    pub fn to_json(&self) -> Value {
        json!({
            "pending": self.pending, "running": self.running, "succeeded": self.succeeded, "failed": self.failed,
            "timedOut": self.timed_out, "aborted": self.aborted, "total": self.total, "resultsWritten": self.results_written,
            "failuresNotRedrivable": 0, "pendingRedrive": 0,
        })
    }

    fn ended(&mut self, status: &str, n: u64) {
        self.running = self.running.saturating_sub(n);
        match status {
            "SUCCEEDED" => self.succeeded += n,
            "TIMED_OUT" => self.timed_out += n,
            "ABORTED" => self.aborted += n,
            _ => self.failed += n,
        }
    }
}

/// One Map Run, as stored and as DescribeMapRun answers it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MapRunRecord {
    pub arn: String,
    pub execution_arn: String,
    /// The parent execution's state machine.
    pub machine_arn: String,
    pub state_name: String,
    pub label: String,
    pub status: String,
    pub start_ms: u64,
    #[serde(default)]
    pub stop_ms: Option<u64>,
    pub max_concurrency: u64,
    /// `None`: not set (any failure fails the run unless the other one is set).
    #[serde(default)]
    pub tolerated_failure_count: Option<u64>,
    #[serde(default)]
    pub tolerated_failure_percentage: Option<f64>,
    pub express_children: bool,
    pub items: Counts,
    pub executions: Counts,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

impl MapRunRecord {
    /// Whether `failed` failed items out of `total` exceed the tolerated thresholds: either
    /// one set and exceeded; with neither set, any failure (the percentage defaults to 0).
    /// <https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html>
    pub fn exceeded(&self, failed: u64, total: u64) -> bool {
        let over_count = self.tolerated_failure_count.map(|c| failed > c);
        let over_pct = self.tolerated_failure_percentage.map(|p| (failed as f64) * 100.0 / (total.max(1) as f64) > p);
        match (over_count, over_pct) {
            (None, None) => failed > 0,
            (c, p) => c.unwrap_or(false) || p.unwrap_or(false),
        }
    }
}

/// A Map Run in progress: its record and a bell UpdateMapRun rings.
pub struct LiveMapRun {
    pub record: Mutex<MapRunRecord>,
    pub changed: tokio::sync::Notify,
    /// The child executions running now.
    pub children: Mutex<Vec<String>>,
}

impl Engine {
    /// A Map Run's record: the live one, else the stored one.
    pub fn map_run_record(&self, arn: &str) -> Result<Option<MapRunRecord>, String> {
        if let Some(l) = self.map_runs.lock().get(arn) {
            return Ok(Some(l.record.lock().clone()));
        }
        Ok(self.store.map_run(arn)?.and_then(|d| serde_json::from_value(d).ok()))
    }

    fn store_map_run(&self, rec: &MapRunRecord) -> nimbus_core::storage::Pending {
        self.store.put_map_run(&rec.arn, &rec.execution_arn, rec.start_ms, &serde_json::to_value(rec).unwrap_or(Value::Null))
    }
}

/// What the Map state decided: its limits as rendered.
pub struct Settings {
    pub max_concurrency: u64,
    pub tolerated_failure_count: Option<f64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// The `ResultWriter`'s rendered `Parameters` / `Arguments` (`Null` without one).
    pub writer_parameters: Value,
}

/// Ends the Map Run as ABORTED if the parent's run is dropped before it ended
/// (StopExecution, the parent's timeout): its running children are stopped.
struct AbortGuard {
    engine: Arc<Engine>,
    parent: Arc<Running>,
    live: Arc<LiveMapRun>,
    done: bool,
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        stop_children(&self.engine, &self.live);
        let rec = {
            let mut r = self.live.record.lock();
            r.status = "ABORTED".into();
            r.stop_ms = Some(self.engine.clock.now_ms());
            let (pending, running) = (r.executions.pending, r.executions.running);
            r.executions.aborted += pending + running;
            r.executions.pending = 0;
            r.executions.running = 0;
            let (pending, running) = (r.items.pending, r.items.running);
            r.items.aborted += pending + running;
            r.items.pending = 0;
            r.items.running = 0;
            r.clone()
        };
        drop(self.engine.store_map_run(&rec));
        self.engine.map_runs.lock().remove(&rec.arn);
        let last = self.parent.last_event_id();
        self.parent.emit(&self.engine, last, "MapRunAborted", None);
    }
}

fn stop_children(engine: &Engine, live: &LiveMapRun) {
    let children: Vec<String> = live.children.lock().clone();
    for arn in children {
        if let Some(r) = engine.running.lock().get(&arn).cloned() {
            let _ = r.stop.send(Some((None, None)));
        }
    }
}

/// The child definition: the ItemProcessor without its ProcessorConfig, in the Map's
/// query language.
fn child_definition(st: &State) -> String {
    let mut doc = st.field("ItemProcessor").cloned().unwrap_or(Value::Null);
    if let Some(o) = doc.as_object_mut() {
        o.remove("ProcessorConfig");
        if st.query_language == QueryLanguage::Jsonata && !o.contains_key("QueryLanguage") {
            o.insert("QueryLanguage".into(), json!("JSONata"));
        }
    }
    text(&doc)
}

/// Runs the (selected, batched) inputs of a distributed Map as a Map Run; answers the
/// children's outputs in order.
pub async fn run(exec: &Arc<Exec>, st: &Arc<State>, processor: Arc<Definition>, inputs: Vec<Value>, settings: Settings, prev: &mut u64) -> Result<Value, Failure> {
    let engine = exec.engine.clone();
    let parent = exec.running.clone();
    let prec = parent.record.lock().clone();
    let n = inputs.len() as u64;
    let item_sizes: Vec<u64> = inputs.iter().map(|i| i.get("Items").and_then(Value::as_array).filter(|_| st.field("ItemBatcher").is_some()).map_or(1, |a| a.len() as u64)).collect();
    let express_children = st.field("ItemProcessor").and_then(|p| p.pointer("/ProcessorConfig/ExecutionType")).and_then(Value::as_str) == Some("EXPRESS");
    // A parent resumed after a restart goes on with its Map Run.
    let resumed = if prec.express {
        None
    } else {
        engine
            .store
            .map_runs_of(&prec.arn)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| serde_json::from_value::<MapRunRecord>(d).ok())
            // Not one another iteration of an enclosing Map already went on with.
            .find(|r| r.status == "RUNNING" && r.state_name == st.name && !engine.map_runs.lock().contains_key(&r.arn))
    };
    let now = engine.clock.now_ms();
    let is_resumed = resumed.is_some();
    let record = match resumed {
        Some(r) => r,
        None => {
            let label = st.field("Label").and_then(Value::as_str).map(str::to_string).unwrap_or_else(nimbus_core::ids::uuid);
            let arn = format!("arn:aws:states:{}:{}:mapRun:{}/{}:{}", prec.region, prec.account, prec.machine_name, label, nimbus_core::ids::uuid());
            let items_total: u64 = item_sizes.iter().sum();
            MapRunRecord {
                arn,
                execution_arn: prec.arn.clone(),
                machine_arn: prec.machine_arn.clone(),
                state_name: st.name.clone(),
                label,
                status: "RUNNING".into(),
                start_ms: now,
                stop_ms: None,
                max_concurrency: settings.max_concurrency,
                tolerated_failure_count: settings.tolerated_failure_count.map(|c| c.max(0.0) as u64),
                tolerated_failure_percentage: settings.tolerated_failure_percentage,
                express_children,
                items: Counts { pending: items_total, total: items_total, ..Default::default() },
                executions: Counts { pending: n, total: n, ..Default::default() },
                error: None,
                cause: None,
            }
        }
    };
    let map_run_arn = record.arn.clone();
    if !is_resumed {
        // Stored first (an EXPRESS parent's too: DescribeMapRun answers it once ended).
        if let Err(e) = engine.store_map_run(&record).wait().await {
            return Err(Failure::runtime(format!("Storing the Map Run failed: {e}")));
        }
        *prev = exec.emit(*prev, "MapStateStarted", Some(("mapStateStartedEventDetails", json!({ "length": n }))));
        *prev = exec.emit(*prev, "MapRunStarted", Some(("mapRunStartedEventDetails", json!({ "mapRunArn": map_run_arn }))));
    } else {
        *prev = parent.last_event_id();
    }
    let live = Arc::new(LiveMapRun { record: Mutex::new(record), changed: tokio::sync::Notify::new(), children: Mutex::new(Vec::new()) });
    engine.map_runs.lock().insert(map_run_arn.clone(), live.clone());
    let mut guard = AbortGuard { engine: engine.clone(), parent: parent.clone(), live: live.clone(), done: false };
    let result = children(exec, st, processor, inputs, &item_sizes, &live, is_resumed, &settings.writer_parameters).await;
    guard.done = true;
    if result.is_err() {
        // A Map Run that failed leaves no child running.
        stop_children(&engine, &live);
    }
    let stop = engine.clock.now_ms();
    let rec = {
        let mut r = live.record.lock();
        r.stop_ms = Some(stop);
        match &result {
            Ok(_) => r.status = "SUCCEEDED".into(),
            Err(f) => {
                r.status = "FAILED".into();
                r.error = Some(f.error.clone());
                r.cause = Some(f.cause.clone());
            }
        }
        r.clone()
    };
    let _ = engine.store_map_run(&rec).wait().await;
    engine.map_runs.lock().remove(&map_run_arn);
    let last = parent.last_event_id();
    match result {
        Ok(v) => {
            let p = exec.emit(last, "MapRunSucceeded", None);
            exec.emit(p, "MapStateSucceeded", None);
            *prev = p;
            Ok(v)
        }
        Err(f) => {
            let p = exec.emit(last, "MapRunFailed", Some(("mapRunFailedEventDetails", json!({ "error": f.error, "cause": f.cause }))));
            *prev = exec.emit(p, "MapStateFailed", None);
            Err(f)
        }
    }
}

/// Starts and waits for the children, at most `max_concurrency` running at once.
#[allow(clippy::too_many_arguments)]
async fn children(exec: &Arc<Exec>, st: &Arc<State>, processor: Arc<Definition>, inputs: Vec<Value>, item_sizes: &[u64], live: &Arc<LiveMapRun>, resumed: bool, writer_parameters: &Value) -> Result<Value, Failure> {
    let engine = exec.engine.clone();
    let n = inputs.len();
    let known: std::collections::HashMap<u64, String> = if resumed { engine.store.map_run_children(&live.record.lock().arn).unwrap_or_default().into_iter().collect() } else { Default::default() };
    let definition = child_definition(st);
    // What each child came to, for the ResultWriter (PENDING until it started).
    let (machine_arn, label) = {
        let r = live.record.lock();
        (r.machine_arn.clone(), r.label.clone())
    };
    let child_machine = format!("{machine_arn}/{label}");
    let mut results: Vec<ChildResult> = inputs
        .iter()
        .map(|input| ChildResult { execution_arn: String::new(), name: String::new(), state_machine_arn: child_machine.clone(), input: input.clone(), output: None, error: None, cause: None, status: "PENDING".into(), start_ms: 0, stop_ms: 0 })
        .collect();
    let mut set: tokio::task::JoinSet<(usize, Finished)> = tokio::task::JoinSet::new();
    let mut next = 0usize;
    if resumed {
        // Counts start afresh from what the children say.
        let mut r = live.record.lock();
        let (items, execs) = (r.items.total, r.executions.total);
        r.items = Counts { pending: items, total: items, ..Default::default() };
        r.executions = Counts { pending: execs, total: execs, ..Default::default() };
    }
    loop {
        let max = live.record.lock().max_concurrency as usize;
        while next < n && (max == 0 || set.len() < max) {
            let index = next;
            next += 1;
            {
                let mut r = live.record.lock();
                r.executions.pending = r.executions.pending.saturating_sub(1);
                r.executions.running += 1;
                r.items.pending = r.items.pending.saturating_sub(item_sizes[index]);
                r.items.running += item_sizes[index];
            }
            let arn = match known.get(&(index as u64)).filter(|a| engine.outcome(a).is_some()) {
                Some(a) => a.clone(),
                None => start_child(exec, live, index, inputs[index].clone(), processor.clone(), &definition).await?,
            };
            live.children.lock().push(arn.clone());
            let (name, start_ms) = child_meta(&engine, &arn);
            results[index].execution_arn = arn.clone();
            results[index].name = name;
            results[index].start_ms = start_ms;
            results[index].status = "RUNNING".into();
            let watcher = Watcher(engine.clone());
            set.spawn(async move {
                let f = watcher.finished(&arn).await.unwrap_or(Finished { status: "FAILED".into(), output: None, error: Some("States.Runtime".into()), cause: Some("The child execution was lost".into()) });
                (index, f)
            });
        }
        if set.is_empty() {
            break;
        }
        let changed = live.changed.notified();
        tokio::select! {
            joined = set.join_next() => {
                let Some(Ok((index, f))) = joined else { continue };
                let exceeded = {
                    let mut r = live.record.lock();
                    r.executions.ended(&f.status, 1);
                    r.items.ended(&f.status, item_sizes[index]);
                    // Failed or timed-out items over all the items (an aborted child does not count).
                    let failed = r.items.failed + r.items.timed_out;
                    r.exceeded(failed, r.items.total)
                };
                drop(engine.store_map_run(&live.record.lock().clone()));
                ended_child(&engine, &mut results[index], &f);
                if exceeded {
                    stop_children(&engine, live);
                    {
                        let mut r = live.record.lock();
                        let (p, i) = (r.executions.pending, r.items.pending);
                        r.executions.pending = 0;
                        r.items.pending = 0;
                        r.executions.aborted += p;
                        r.items.aborted += i;
                    }
                    // The running children end ABORTED (their watchers hear it).
                    while let Some(Ok((index, f))) = set.join_next().await {
                        {
                            let mut r = live.record.lock();
                            r.executions.ended(&f.status, 1);
                            r.items.ended(&f.status, item_sizes[index]);
                        }
                        ended_child(&engine, &mut results[index], &f);
                    }
                    // The results are exported even when the Map Run fails (the unstarted as PENDING).
                    write(exec, st, live, writer_parameters, &results).await?;
                    return Err(Failure::new("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded"));
                }
            }
            _ = changed => {}
        }
    }
    write(exec, st, live, writer_parameters, &results).await
}

/// The Map state's result through the ResultWriter (`result_writer`): the children's
/// outputs in order, or what the writer exported; `resultsWritten` counted.
async fn write(exec: &Arc<Exec>, st: &Arc<State>, live: &LiveMapRun, parameters: &Value, results: &[ChildResult]) -> Result<Value, Failure> {
    let map_run_arn = live.record.lock().arn.clone();
    let execution_arn = exec.running.arn();
    let out = super::result_writer::write_results(&exec.engine, st, parameters, &map_run_arn, results, &execution_arn).await?;
    if super::result_writer::WriterConfig::of(st).is_some_and(|c| c.exports) {
        let mut r = live.record.lock();
        let written = results.iter().filter(|c| c.status != "PENDING").count() as u64;
        r.executions.results_written = written;
        r.items.results_written = r.items.succeeded + r.items.failed + r.items.timed_out + r.items.aborted;
    }
    Ok(out)
}

/// A child's name and start, from its stored record (else from its ARN and now).
fn child_meta(engine: &Engine, arn: &str) -> (String, u64) {
    if let Some(rec) = engine.running.lock().get(arn).map(|r| r.record.lock().clone()) {
        return (rec.name, rec.start_ms);
    }
    if let Some(rec) = engine.store.execution(arn).ok().flatten().and_then(ExecutionRecord::from_row) {
        return (rec.name, rec.start_ms);
    }
    (arn.rsplit(':').next().unwrap_or_default().to_string(), engine.clock.now_ms())
}

/// Records how a child ended.
fn ended_child(engine: &Engine, r: &mut ChildResult, f: &Finished) {
    r.status = f.status.clone();
    r.stop_ms = engine.clock.now_ms();
    match f.status.as_str() {
        "SUCCEEDED" => r.output = Some(f.output.clone().unwrap_or(Value::Null)),
        _ => {
            r.error = f.error.clone();
            r.cause = f.cause.clone();
        }
    }
}

/// Starts one child execution of the Map Run (STANDARD: its record, its place in the
/// Map Run and its first event stored before it runs).
async fn start_child(exec: &Arc<Exec>, live: &LiveMapRun, index: usize, input: Value, def: Arc<Definition>, definition: &str) -> Result<String, Failure> {
    let engine = exec.engine.clone();
    let prec = exec.running.record.lock().clone();
    let (map_run_arn, label, express) = {
        let r = live.record.lock();
        (r.arn.clone(), r.label.clone(), r.express_children)
    };
    let name = nimbus_core::ids::uuid();
    let machine = format!("{}/{}", prec.machine_name, label);
    let arn = if express {
        crate::arns::express_execution(&prec.region, &prec.account, &machine, &name, &nimbus_core::ids::uuid())
    } else {
        crate::arns::execution(&prec.region, &prec.account, &machine, &name)
    };
    let now = engine.clock.now_ms();
    let input_text = text(&input);
    let record = ExecutionRecord {
        arn: arn.clone(),
        name,
        machine_arn: format!("{}/{}", prec.machine_arn, label),
        machine_name: machine,
        account: prec.account.clone(),
        region: prec.region.clone(),
        express,
        role_arn: prec.role_arn.clone(),
        definition: definition.to_string(),
        revision_id: prec.revision_id.clone(),
        updated_ms: prec.updated_ms,
        input: input_text.clone(),
        status: "RUNNING".into(),
        start_ms: now,
        logging: prec.logging.clone(),
        map_run_arn: Some(map_run_arn.clone()),
        label: Some(label),
        ..Default::default()
    };
    let running = Arc::new(Running::new(record.clone(), Vec::new()));
    engine.running.lock().insert(arn.clone(), running.clone());
    let started = json!({ "input": input_text, "inputDetails": not_truncated(), "roleArn": record.role_arn });
    if !express {
        // Its place in the Map Run first: a restart in between finds it (or starts it anew).
        let placed = engine.store.put_map_run_child(&map_run_arn, index as u64, &arn);
        let stored = engine.store.put_execution(record.row());
        running.emit(&engine, 0, "ExecutionStarted", Some(("executionStartedEventDetails", started)));
        if let Err(e) = async { placed.wait().await?; stored.wait().await }.await {
            engine.running.lock().remove(&arn);
            return Err(Failure::runtime(format!("Starting a child execution failed: {e}")));
        }
    } else {
        running.emit(&engine, 0, "ExecutionStarted", Some(("executionStartedEventDetails", started)));
    }
    drop(engine.launch(running, def, None));
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(count: Option<u64>, pct: Option<f64>) -> MapRunRecord {
        MapRunRecord { tolerated_failure_count: count, tolerated_failure_percentage: pct, ..Default::default() }
    }

    #[test]
    fn tolerated_failures_are_exceeded_past_either_threshold() {
        assert!(!run(None, None).exceeded(0, 4));
        assert!(run(None, None).exceeded(1, 4), "nothing tolerated: one failure fails the run");
        assert!(!run(Some(1), None).exceeded(1, 4));
        assert!(run(Some(1), None).exceeded(2, 4));
        assert!(!run(None, Some(50.0)).exceeded(2, 4));
        assert!(run(None, Some(50.0)).exceeded(3, 4));
        assert!(run(Some(0), Some(50.0)).exceeded(1, 4), "either threshold passed fails the run");
    }

    #[test]
    fn counts_move_from_running_to_their_end() {
        let mut c = Counts { running: 3, total: 3, ..Default::default() };
        c.ended("SUCCEEDED", 1);
        c.ended("FAILED", 1);
        c.ended("ABORTED", 1);
        assert_eq!((c.running, c.succeeded, c.failed, c.aborted), (0, 1, 1, 1));
        assert_eq!(c.to_json()["timedOut"], json!(0));
    }
}
