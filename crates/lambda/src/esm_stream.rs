//! Event source mappings from streams (DynamoDB Streams and Kinesis Data Streams, both
//! read through the `StreamSource` trait; what is particular to Kinesis is in
//! `esm_kinesis.rs`): one poller per shard delivers records in order, waiting for new
//! ones by notification. A Kinesis stream's shards are listed again when records arrive,
//! so the children of a split or merge get pollers; a child waits until its parents are
//! closed and read to their end (and their tumbling windows closed), so a partition key's
//! records stay in order across resharding. A failing batch holds its shard: it is retried, split in two
//! when `BisectBatchOnFunctionError` is set (splits do not use up retries), until it
//! succeeds, runs out of `MaximumRetryAttempts`, or its oldest record is older than
//! `MaximumRecordAgeInSeconds`; then the batch's description goes to the on-failure
//! destination and the shard moves on. With `ReportBatchItemFailures` the checkpoint
//! moves to just before the lowest failed sequence number. Checkpoints are stored with
//! the mapping, so a restart resumes after the last finished batch.
//!
//! `ParallelizationFactor` N runs up to N batches of a shard at once: each round reads up
//! to N × `BatchSize` records and splits them into N lanes by partition key, so records of
//! one key stay in order; the checkpoint moves past the round when all its lanes are done.
//! Tumbling windows (`esm_window.rs`) keep one state per shard, so a windowed mapping runs
//! one batch at a time. A round is cut to what fits one invocation's 6 MB payload.

use crate::errors::LambdaError;
use crate::esm::Mapping;
use crate::esm_window::{OpenWindow, Step};
use crate::function::timestamp;
use crate::esm_kinesis::{is_kinesis, stream_arn};
use crate::service::Inner;
use nimbus_core::internal::{StreamEntry, StreamSource};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock};
use tokio::sync::watch;

/// The settings only stream sources have, and where each shard has got to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamSettings {
    pub starting_position: String,
    pub parallelization_factor: u32,
    pub bisect: bool,
    /// -1: retry until the record expires.
    pub max_retries: i64,
    /// -1: no limit.
    pub max_record_age_s: i64,
    pub on_failure: Option<String>,
    /// Position of the last finished record, per shard.
    pub checkpoints: BTreeMap<String, u64>,
    /// `LATEST`: the stream's position when the mapping was created.
    pub start_after: Option<u64>,
    /// `TumblingWindowInSeconds` (0: none).
    #[serde(default)]
    pub tumbling_window_s: u32,
    /// The open tumbling window, per shard.
    #[serde(default)]
    pub windows: BTreeMap<String, OpenWindow>,
    /// `AT_TIMESTAMP` (Kinesis): `StartingPositionTimestamp` in ms; a shard without a
    /// checkpoint starts at its first record that arrived then or later.
    #[serde(default)]
    pub at_timestamp_ms: Option<u64>,
}

impl StreamSettings {
    pub fn to_json(&self, v: &mut Value) {
        v["StartingPosition"] = json!(self.starting_position);
        v["ParallelizationFactor"] = json!(self.parallelization_factor);
        v["BisectBatchOnFunctionError"] = json!(self.bisect);
        v["MaximumRetryAttempts"] = json!(self.max_retries);
        v["MaximumRecordAgeInSeconds"] = json!(self.max_record_age_s);
        v["TumblingWindowInSeconds"] = json!(self.tumbling_window_s);
        v["DestinationConfig"] = json!({ "OnFailure": self.on_failure.as_ref().map(|d| json!({ "Destination": d })).unwrap_or(json!({})) });
        if let Some(ms) = self.at_timestamp_ms {
            v["StartingPositionTimestamp"] = json!(ms as f64 / 1000.0);
        }
    }

    /// Where a shard without a checkpoint starts (exclusive; `None`: its oldest record).
    fn start_of(&self, src: &dyn StreamSource, arn: &str, shard: &str) -> Option<u64> {
        match self.at_timestamp_ms {
            Some(at) => src.position_at(arn, shard, at).unwrap_or(None),
            None => self.start_after,
        }
    }
}

impl Inner {
    /// The `StreamSource` a stream ARN is read through (`None`: Kinesis is not wired).
    pub(crate) fn stream_source(&self, source: &str) -> Option<Arc<dyn StreamSource>> {
        if is_kinesis(source) {
            self.kinesis.get().cloned()
        } else {
            Some(self.streams.clone())
        }
    }
}

/// Starts the mapping's pollers (`supervise`).
pub fn start(inner: &Arc<Inner>, m: &Mapping, stop: watch::Receiver<bool>) {
    let (inner, uuid, source) = (inner.clone(), m.uuid.clone(), m.event_source_arn.clone());
    tokio::spawn(async move { supervise(inner, uuid, source, stop).await });
}

/// Runs one poller per shard. A Kinesis stream's shard list is read again whenever
/// records arrive, so shards made by resharding get their pollers.
async fn supervise(inner: Arc<Inner>, uuid: String, source: String, mut stop: watch::Receiver<bool>) {
    let Some(src) = inner.stream_source(&source) else {
        tracing::warn!(mapping = %uuid, source = %source, "stream event source unavailable: Kinesis is not wired");
        return;
    };
    let arn = stream_arn(&source).to_string();
    let mut appended = src.subscribe(&arn);
    let mut running: HashSet<String> = HashSet::new();
    loop {
        match src.shards(&arn) {
            Ok(shards) => {
                for shard in shards.into_iter().filter(|s| running.insert(s.clone())) {
                    let (inner, uuid, stop) = (inner.clone(), uuid.clone(), stop.clone());
                    tokio::spawn(async move { shard_loop(inner, uuid, shard, stop).await });
                }
            }
            Err(e) if running.is_empty() => {
                tracing::warn!(mapping = %uuid, error = %e, "stream event source unavailable");
                return;
            }
            Err(_) => {}
        }
        let Some(rx) = appended.as_mut().filter(|_| is_kinesis(&source)) else { return };
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { return },
            _ = stop.changed() => return,
        }
    }
}

/// A mapping's progress bell: rung whenever a shard's checkpoint is stored, so a child
/// shard waiting for its parents to be read looks again.
fn progress(uuid: &str) -> Arc<watch::Sender<u64>> {
    static BELLS: OnceLock<parking_lot::Mutex<HashMap<String, Arc<watch::Sender<u64>>>>> = OnceLock::new();
    let mut bells = BELLS.get_or_init(Default::default).lock();
    bells.retain(|_, b| Arc::strong_count(b) > 1);
    bells.entry(uuid.to_string()).or_insert_with(|| Arc::new(watch::channel(0).0)).clone()
}

/// Whether the shard's parents (resharding) are closed and read to their end, with no
/// tumbling window left open: only then are its own records next in order. Parents no
/// longer listed (expired) do not hold it.
fn parents_done(src: &dyn StreamSource, arn: &str, shard: &str, s: &StreamSettings) -> bool {
    let parents = src.parent_shards(arn, shard);
    if parents.is_empty() {
        return true;
    }
    let listed = src.shards(arn).unwrap_or_default();
    parents.iter().filter(|p| listed.contains(p)).all(|p| {
        let pos = s.checkpoints.get(p).copied().or_else(|| s.start_of(src, arn, p));
        src.shard_closed(arn, p) && !s.windows.contains_key(p) && src.read(arn, p, pos, 1).map(|r| r.is_empty()).unwrap_or(true)
    })
}

/// The execution role of the mapping's function (Kinesis records name it as
/// `invokeIdentityArn`).
fn role_of(inner: &Inner, m: &Mapping) -> String {
    let functions = inner.functions.read();
    functions.get(&(m.account.clone(), m.region.clone(), m.function_name.clone())).and_then(|f| f.resolve(m.qualifier.as_deref())).map(|v| v.role.clone()).unwrap_or_default()
}

/// The leading records whose event fits one synchronous invocation (at least one).
fn within_payload(records: &mut Vec<StreamEntry>) {
    let mut size = 0;
    let fits = records
        .iter()
        .take_while(|r| {
            size += r.record.to_string().len() + 1;
            size <= crate::esm::PAYLOAD_BUDGET
        })
        .count();
    records.truncate(fits.max(1));
}

/// AWS's ISO-8601 form of a time in milliseconds, as failure records and windows show it.
pub(crate) fn iso(ms: u64) -> String {
    timestamp(ms).replace("+0000", "Z")
}

/// One poller at a time per (mapping, shard): a poller restarted by an update waits
/// until the stopped one has finished its batch, so a batch never runs twice at once.
fn shard_lock(uuid: &str, shard: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<parking_lot::Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock();
    locks.retain(|_, l| Arc::strong_count(l) > 1);
    locks.entry((uuid.to_string(), shard.to_string())).or_default().clone()
}

async fn shard_loop(inner: Arc<Inner>, uuid: String, shard: String, mut stop: watch::Receiver<bool>) {
    let lock = shard_lock(&uuid, &shard);
    let _running = tokio::select! {
        g = lock.lock_owned() => g,
        _ = stop.changed() => return,
    };
    let Some(first) = inner.mappings.read().get(&uuid).cloned() else { return };
    let Some(src) = inner.stream_source(&first.event_source_arn) else { return };
    let arn = stream_arn(&first.event_source_arn).to_string();
    let kinesis = is_kinesis(&first.event_source_arn);
    let reads: &'static [&'static str] = if kinesis { &crate::esm_kinesis::KINESIS_READS } else { &crate::esm_access::STREAM_READS };
    let Some(mut appended) = src.subscribe(&arn) else { return };
    let bell = progress(&uuid);
    let mut progressed = bell.subscribe();
    let mut access = crate::esm_access::Access::default();
    // Where the shard starts without a checkpoint (AT_TIMESTAMP looks it up once).
    let mut start: Option<Option<u64>> = None;
    let mut parents_read = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(m) = inner.mappings.read().get(&uuid).cloned() else { return };
        // Read as the execution role: while it lacks a permission, wait for IAM to change.
        if inner.missing_read(&m, reads, &mut access).is_some() {
            tokio::select! {
                _ = inner.roles.policy_changed(access.version()) => continue,
                _ = stop.changed() => return,
            }
        }
        let Some(settings) = m.stream.clone() else { return };
        if !parents_read {
            if !parents_done(&*src, &arn, &shard, &settings) {
                tokio::select! {
                    changed = progressed.changed() => if changed.is_err() { return },
                    changed = appended.changed() => if changed.is_err() { return },
                    _ = stop.changed() => return,
                }
                continue;
            }
            parents_read = true;
        }
        let pos = match settings.checkpoints.get(&shard) {
            Some(c) => Some(*c),
            None => *start.get_or_insert_with(|| settings.start_of(&*src, &arn, &shard)),
        };
        let tumbling_ms = settings.tumbling_window_s as u64 * 1000;
        let lanes = if tumbling_ms > 0 { 1 } else { settings.parallelization_factor.max(1) as usize };
        let want = m.batch_size as usize * lanes;
        let mut records = src.read(&arn, &shard, pos, want).unwrap_or_default();
        if records.len() < want && m.window_s > 0 && !records.is_empty() {
            // Batching window: wait for a full batch or the window's end.
            let deadline = inner.clock.now_ms() + m.window_s as u64 * 1000;
            loop {
                tokio::select! {
                    changed = appended.changed() => if changed.is_err() { break },
                    _ = inner.clock.sleep_until(deadline) => break,
                    _ = stop.changed() => return,
                }
                records = src.read(&arn, &shard, pos, want).unwrap_or_default();
                if records.len() >= want {
                    break;
                }
            }
        }
        if kinesis {
            let role = role_of(&inner, &m);
            for r in records.iter_mut() {
                r.record = crate::esm_kinesis::event_record(r, &shard, &m, &role);
            }
        }
        within_payload(&mut records);
        let mut window = None;
        let wait_until = if tumbling_ms > 0 {
            let open = settings.windows.get(&shard);
            match crate::esm_window::plan(open, &records, tumbling_ms, inner.clock.now_ms()) {
                Step::Close => {
                    let Some(w) = open else { continue };
                    if crate::esm_window::close(&inner, &m, &shard, w, false, &mut stop).await.is_none() {
                        return;
                    }
                    save_shard(&inner, &uuid, &shard, None, None).await;
                    continue;
                }
                Step::Wait(until) => until,
                Step::Process(w, n) => {
                    records.truncate(n);
                    window = Some(w);
                    None
                }
            }
        } else {
            None
        };
        if records.is_empty() {
            // A closed shard read to its end, its window closed: its children go on.
            if wait_until.is_none() && !settings.windows.contains_key(&shard) && src.shard_closed(&arn, &shard) {
                bell.send_modify(|n| *n += 1);
                return;
            }
            let until = async {
                match wait_until {
                    Some(t) => inner.clock.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = appended.changed() => if changed.is_err() { return },
                _ = until => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        let last = records.last().map(|r| r.seq);
        let done = if lanes > 1 {
            process_lanes(&inner, &m, &settings, &shard, records, lanes, &stop).await
        } else {
            process(&inner, &m, &settings, &shard, records, &mut window, &mut stop).await
        };
        if done.is_none() {
            return;
        }
        if let Some(w) = window.as_mut().filter(|w| w.oversized()) {
            if crate::esm_window::close(&inner, &m, &shard, w, true, &mut stop).await.is_none() {
                return;
            }
            w.state = json!({});
        }
        save_shard(&inner, &uuid, &shard, last, window).await;
    }
}

/// Splits a round's records into `lanes` by partition key and runs the lanes at once,
/// each lane's records in order and in batches of `BatchSize`. `None` when stopped.
async fn process_lanes(inner: &Arc<Inner>, m: &Mapping, s: &StreamSettings, shard: &str, records: Vec<StreamEntry>, lanes: usize, stop: &watch::Receiver<bool>) -> Option<()> {
    let mut split: Vec<Vec<StreamEntry>> = vec![Vec::new(); lanes];
    for r in records {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&r.partition_key, &mut h);
        split[(std::hash::Hasher::finish(&h) % lanes as u64) as usize].push(r);
    }
    let mut running = tokio::task::JoinSet::new();
    for lane in split.into_iter().filter(|l| !l.is_empty()) {
        let (inner, m, s, shard, mut stop) = (inner.clone(), m.clone(), s.clone(), shard.to_string(), stop.clone());
        running.spawn(async move {
            for batch in lane.chunks(m.batch_size.max(1) as usize) {
                process(&inner, &m, &s, &shard, batch.to_vec(), &mut None, &mut stop).await?;
            }
            Some(())
        });
    }
    let mut finished = true;
    while let Some(lane) = running.join_next().await {
        finished &= matches!(lane, Ok(Some(())));
    }
    finished.then_some(())
}

/// Stores where a shard has got to: its checkpoint (when `seq` is given) and its open
/// tumbling window (none: closed).
async fn save_shard(inner: &Arc<Inner>, uuid: &str, shard: &str, seq: Option<u64>, window: Option<OpenWindow>) {
    // Stored while the registry is locked: durable writes follow the order of changes.
    let pending = {
        let mut map = inner.mappings.write();
        let Some(m) = map.get_mut(uuid) else { return };
        if let Some(s) = m.stream.as_mut() {
            if let Some(seq) = seq {
                s.checkpoints.insert(shard.to_string(), seq);
            }
            match window {
                Some(w) => s.windows.insert(shard.to_string(), w),
                None => s.windows.remove(shard),
            };
        }
        inner.store.put_mapping(m)
    };
    if let Err(e) = pending.wait().await {
        tracing::error!(mapping = %uuid, error = %e, "could not store the stream checkpoint");
    }
    progress(uuid).send_modify(|n| *n += 1);
}

enum Outcome {
    Done,
    /// Everything before this record succeeded (ReportBatchItemFailures).
    FailedFrom(usize),
    Failed,
}

/// Runs one batch through retries and bisection; with a tumbling window open, each
/// successful invocation's state is carried to the next. `None` when the mapping was stopped.
async fn process(inner: &Arc<Inner>, m: &Mapping, s: &StreamSettings, shard: &str, records: Vec<StreamEntry>, window: &mut Option<OpenWindow>, stop: &mut watch::Receiver<bool>) -> Option<()> {
    let filters = crate::filter::compile(&m.filters);
    let kinesis = is_kinesis(&m.event_source_arn);
    let records: Vec<StreamEntry> = records
        .into_iter()
        .filter(|r| {
            let view = if kinesis { crate::esm_kinesis::filter_view(&r.record) } else { r.record.clone() };
            m.filters.is_empty() || filters.iter().any(|f| f.matches(&view))
        })
        .collect();
    let mut work: VecDeque<(Vec<StreamEntry>, u32)> = VecDeque::new();
    // The last invocation's `responseContext`, for a failure record.
    let mut last_response = json!({ "statusCode": 200, "executedVersion": executed_version(m) });
    if !records.is_empty() {
        work.push_back((records, 0));
    }
    while let Some((batch, attempts)) = work.pop_front() {
        let oldest = batch.first().map(|r| r.created_ms).unwrap_or(0);
        if s.max_record_age_s >= 0 && inner.clock.now_ms().saturating_sub(oldest) > s.max_record_age_s as u64 * 1000 {
            send_failure(inner, m, s, shard, &batch, "RecordAgeExceeded", attempts, &last_response).await;
            continue;
        }
        let (outcome, response) = invoke(inner, m, shard, &batch, window, stop).await?;
        last_response = response;
        match outcome {
            Outcome::Done => {}
            outcome => {
                let attempts = attempts + 1;
                let rest = match outcome {
                    Outcome::FailedFrom(i) => batch[i..].to_vec(),
                    _ => batch,
                };
                if s.bisect && rest.len() > 1 {
                    let mid = rest.len() / 2;
                    work.push_front((rest[mid..].to_vec(), attempts - 1));
                    work.push_front((rest[..mid].to_vec(), attempts - 1));
                } else if s.max_retries >= 0 && attempts as i64 > s.max_retries {
                    send_failure(inner, m, s, shard, &rest, "RetryAttemptsExhausted", attempts, &last_response).await;
                } else {
                    work.push_front((rest, attempts));
                    // Back off a little between retries of the same records.
                    let pause = std::time::Duration::from_millis((50u64 << attempts.min(5)).min(1_000));
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return None,
                    }
                }
            }
        }
    }
    Some(())
}

/// The version a mapping's invocations run: its qualifier, unless that is an alias.
fn executed_version(m: &Mapping) -> String {
    m.qualifier.clone().filter(|q| q.chars().all(|c| c.is_ascii_digit())).unwrap_or_else(|| "$LATEST".to_string())
}

/// One invocation of the batch: what it means for the batch, and AWS's
/// `responseContext` of it (for a failure record).
async fn invoke(inner: &Arc<Inner>, m: &Mapping, shard: &str, batch: &[StreamEntry], window: &mut Option<OpenWindow>, stop: &mut watch::Receiver<bool>) -> Option<(Outcome, Value)> {
    let mut event = json!({ "Records": batch.iter().map(|r| r.record.clone()).collect::<Vec<_>>() });
    if let Some(w) = window.as_ref() {
        w.decorate(&mut event, m, shard, false, false);
    }
    // IteratorAge: how long the batch's last record waited in the stream.
    if let Some(last) = batch.last() {
        let target = crate::metrics::Target { account: &m.account, region: &m.region, function: &m.function_name, qualifier: m.qualifier.as_deref(), executed_version: None };
        let age = inner.clock.now_ms().saturating_sub(last.created_ms) as f64;
        crate::metrics::emit(&inner.metrics, &target, "IteratorAge", nimbus_core::metrics::unit::MILLISECONDS, age, false);
    }
    let trace = crate::esm::BatchTrace::of_stream(batch.first().and_then(|r| r.trace.as_deref()));
    let outcome = crate::esm::invoke_batch(inner, m, &event, stop, trace).await?;
    inner.processed(m, crate::esm::Processed::of(&outcome));
    let resp = match outcome {
        Ok(resp) => resp,
        Err(e) => {
            let status = nimbus_core::AwsError::from(e).status;
            return Some((Outcome::Failed, json!({ "statusCode": status, "executedVersion": executed_version(m) })));
        }
    };
    let mut context = json!({ "statusCode": 200, "executedVersion": resp.executed_version });
    if resp.function_error {
        context["functionError"] = json!("Unhandled");
        return Some((Outcome::Failed, context));
    }
    // A windowed invocation must answer with its state.
    if let Some(w) = window.as_mut() {
        if !w.take_state(&resp.payload) {
            return Some((Outcome::Failed, context));
        }
    }
    let outcome = if m.function_response_types.iter().any(|t| t == "ReportBatchItemFailures") { first_failure(&resp.payload, batch) } else { Outcome::Done };
    Some((outcome, context))
}

/// Where a `ReportBatchItemFailures` response says the batch first failed: the lowest
/// reported sequence number. A malformed response fails the whole batch.
fn first_failure(payload: &[u8], batch: &[StreamEntry]) -> Outcome {
    if payload.is_empty() || payload == b"null" {
        return Outcome::Done;
    }
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Outcome::Failed };
    let items = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Outcome::Done,
        Some(Value::Array(items)) => items,
        Some(_) => return Outcome::Failed,
    };
    let mut lowest: Option<usize> = None;
    for it in items {
        let Some(id) = it.get("itemIdentifier").and_then(Value::as_str) else { return Outcome::Failed };
        let Some(i) = batch.iter().position(|r| r.sequence_number == id) else { return Outcome::Failed };
        lowest = Some(lowest.map_or(i, |l| l.min(i)));
    }
    match lowest {
        None => Outcome::Done,
        Some(i) => Outcome::FailedFrom(i),
    }
}

/// AWS's record of a discarded batch, sent to the on-failure destination.
#[allow(clippy::too_many_arguments)]
async fn send_failure(inner: &Arc<Inner>, m: &Mapping, s: &StreamSettings, shard: &str, batch: &[StreamEntry], condition: &str, attempts: u32, response: &Value) {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else { return };
    tracing::warn!(mapping = %m.uuid, condition, records = batch.len(), "stream batch discarded");
    let Some(dest) = &s.on_failure else { return };
    let now = inner.clock.now_ms();
    let record = json!({
        "requestContext": {
            "requestId": nimbus_core::ids::uuid(),
            "functionArn": m.function_arn(),
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso(now),
    });
    // The batch's description: `KinesisBatchInfo` for Kinesis (with the stream's ARN, also
    // for a consumer), `DDBStreamBatchInfo` for DynamoDB.
    // <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>
    let info_key = if is_kinesis(&m.event_source_arn) { "KinesisBatchInfo" } else { "DDBStreamBatchInfo" };
    let mut record = record;
    record[info_key] = json!({
        "shardId": shard,
        "startSequenceNumber": first.sequence_number,
        "endSequenceNumber": last.sequence_number,
        "approximateArrivalOfFirstRecord": iso(first.created_ms),
        "approximateArrivalOfLastRecord": iso(last.created_ms),
        "batchSize": batch.len(),
        "streamArn": stream_arn(&m.event_source_arn),
    });
    let sent = if dest.starts_with("arn:aws:sns:") {
        match inner.topics.get() {
            Some(topics) => topics.publish(dest, record.to_string()).await.map(|_| ()),
            None => Err("SNS is not wired".to_string()),
        }
    } else {
        inner.bus.send_to_queue(dest, record.to_string(), Vec::new()).await.map(|_| ())
    };
    if let Err(e) = sent {
        tracing::warn!(mapping = %m.uuid, destination = %dest, error = %e, "on-failure destination delivery failed");
    }
}

/// Validates and applies the stream-only settings of a Create or Update request.
pub fn apply(m: &mut Mapping, input: &crate::esm::MappingIn) -> crate::errors::LambdaResult<()> {
    let s = m.stream.get_or_insert_with(StreamSettings::default);
    let bad = |name: &str, v: i64, rule: &str| LambdaError::Validation(format!("1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: {rule}"));
    if input.scaling_config.is_some() {
        return Err(LambdaError::invalid("Unsupported ScalingConfig parameter for given event source"));
    }
    if let Some(t) = input.tumbling_window_in_seconds {
        if !(0..=900).contains(&t) {
            return Err(bad("tumblingWindowInSeconds", t, "Member must have value less than or equal to 900"));
        }
        s.tumbling_window_s = t as u32;
    }
    if let Some(p) = input.parallelization_factor {
        if !(1..=10).contains(&p) {
            return Err(bad("parallelizationFactor", p, "Member must have value between 1 and 10"));
        }
        s.parallelization_factor = p as u32;
    }
    if let Some(b) = input.bisect_batch_on_function_error {
        s.bisect = b;
    }
    if let Some(r) = input.maximum_retry_attempts {
        if !(-1..=10_000).contains(&r) {
            return Err(bad("maximumRetryAttempts", r, "Member must have value between -1 and 10000"));
        }
        s.max_retries = r;
    }
    if let Some(a) = input.maximum_record_age_in_seconds {
        if a != -1 && !(60..=604_800).contains(&a) {
            return Err(bad("maximumRecordAgeInSeconds", a, "Member must have value -1, or between 60 and 604800"));
        }
        s.max_record_age_s = a;
    }
    if let Some(d) = &input.destination_config {
        let dest = d.get("OnFailure").and_then(|o| o.get("Destination")).and_then(Value::as_str).map(str::to_string);
        if let Some(dest) = &dest {
            if !dest.starts_with("arn:aws:sqs:") && !dest.starts_with("arn:aws:sns:") {
                return Err(LambdaError::invalid(format!("The destination {dest} is not supported by nimbus: on-failure destinations must be SQS queues or SNS topics.")));
            }
        }
        s.on_failure = dest;
    }
    Ok(())
}

impl Inner {
    pub(crate) async fn create_stream_mapping(self: &Arc<Self>, ctx: &nimbus_core::RequestContext, source: String, input: crate::esm::MappingIn) -> crate::errors::LambdaResult<Value> {
        let position = input.starting_position.clone().ok_or_else(|| LambdaError::invalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null"))?;
        if is_kinesis(&source) {
            return self.create_kinesis_mapping(ctx, source, position, input).await;
        }
        if position != "TRIM_HORIZON" && position != "LATEST" {
            return Err(LambdaError::invalid(format!("Unsupported starting position {position} for DynamoDB streams: use TRIM_HORIZON or LATEST.")));
        }
        self.streams.shards(&source).map_err(|_| LambdaError::invalid(format!("Stream not found: {source}")))?;
        let raw = input.function_name.clone().ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
        let (function_name, qualifier) = self.mapping_function(ctx, &raw)?;
        self.check_role_reads(ctx, &function_name, qualifier.as_deref(), &source, &crate::esm_access::STREAM_READS, |_| {
            format!("Cannot access stream {source}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.")
        })?;
        let start_after = if position == "LATEST" { self.streams.latest(&source).map_err(LambdaError::invalid)? } else { None };
        let settings = StreamSettings { starting_position: position, parallelization_factor: 1, max_retries: -1, max_record_age_s: -1, start_after, ..StreamSettings::default() };
        self.add_mapping(ctx, (function_name, qualifier), source, Some(settings), &input).await
    }

    /// A Kinesis stream (or enhanced fan-out consumer) mapping: TRIM_HORIZON, LATEST (each
    /// shard's position now, stored as its checkpoint) or AT_TIMESTAMP.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html>
    async fn create_kinesis_mapping(self: &Arc<Self>, ctx: &nimbus_core::RequestContext, source: String, position: String, input: crate::esm::MappingIn) -> crate::errors::LambdaResult<Value> {
        let at_timestamp_ms = crate::esm_kinesis::check_position(&position, input.starting_position_timestamp.as_ref())?;
        let src = self.kinesis.get().cloned().ok_or_else(|| LambdaError::invalid(format!("Event source {source} is not supported by nimbus: Kinesis is not running.")))?;
        let arn = stream_arn(&source);
        let shards = src.shards(arn).map_err(|_| LambdaError::invalid(format!("Stream not found: {arn}")))?;
        if crate::esm_kinesis::is_consumer(&source) && !src.consumer_exists(&source) {
            return Err(LambdaError::invalid(format!("Stream consumer not found: {source}")));
        }
        let raw = input.function_name.clone().ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
        let (function_name, qualifier) = self.mapping_function(ctx, &raw)?;
        self.check_role_reads(ctx, &function_name, qualifier.as_deref(), arn, &crate::esm_kinesis::KINESIS_READS, |_| {
            format!("Cannot access stream {arn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.")
        })?;
        let mut checkpoints = BTreeMap::new();
        if position == "LATEST" {
            for shard in &shards {
                if let Some(p) = src.latest_in(arn, shard).map_err(LambdaError::invalid)? {
                    checkpoints.insert(shard.clone(), p);
                }
            }
        }
        let settings = StreamSettings { starting_position: position, parallelization_factor: 1, max_retries: -1, max_record_age_s: -1, checkpoints, at_timestamp_ms, ..StreamSettings::default() };
        self.add_mapping(ctx, (function_name, qualifier), source, Some(settings), &input).await
    }
}
