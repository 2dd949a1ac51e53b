//! Event source mappings: the API (Create/Get/List/Update/DeleteEventSourceMapping) and,
//! for SQS queues, the pollers that turn messages into batched invocations.
//!
//! A poller waits for messages by notification (the queue's long poll), honours the
//! batching window, invokes the function synchronously, deletes what succeeded (with
//! `ReportBatchItemFailures`, all but the reported failures — and for FIFO queues all
//! later messages of a failed message's group), and leaves failures to become visible
//! again after the visibility timeout, so the queue's redrive policy takes them to its
//! DLQ. Messages that the filter criteria reject are deleted, as AWS does. A mapping
//! starts five pollers and adds more while batches come back full (`Scaling`).

use crate::errors::{LambdaError, LambdaResult};
use crate::esm_access::{Access, SQS_READS};
use crate::invoke::{new_trace_id, run, Request};
use crate::service::{parse_function_name, Inner};
use nimbus_core::internal::PolledMessage;
use nimbus_core::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub uuid: String,
    pub account: String,
    pub region: String,
    pub function_name: String,
    pub qualifier: Option<String>,
    pub event_source_arn: String,
    pub batch_size: u32,
    pub window_s: u32,
    pub enabled: bool,
    pub function_response_types: Vec<String>,
    pub max_concurrency: Option<u32>,
    pub filters: Vec<Value>,
    pub last_modified: f64,
    /// Stream sources only (DynamoDB Streams, Kinesis).
    #[serde(default)]
    pub stream: Option<crate::esm_stream::StreamSettings>,
}

impl Mapping {
    pub(crate) fn function_arn(&self) -> String {
        let base = format!("arn:aws:lambda:{}:{}:function:{}", self.region, self.account, self.function_name);
        match &self.qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }

    pub(crate) fn to_json(&self, state: &str) -> Value {
        let mut v = json!({
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window_s,
            "EventSourceArn": self.event_source_arn,
            "FunctionArn": self.function_arn(),
            "LastModified": self.last_modified,
            "State": state,
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": self.function_response_types,
            "EventSourceMappingArn": format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, self.account, self.uuid),
        });
        if let Some(c) = self.max_concurrency {
            v["ScalingConfig"] = json!({ "MaximumConcurrency": c });
        }
        if let Some(s) = &self.stream {
            s.to_json(&mut v);
        }
        if !self.filters.is_empty() {
            v["FilterCriteria"] = json!({ "Filters": self.filters.iter().map(|p| json!({ "Pattern": p.to_string() })).collect::<Vec<_>>() });
        }
        v
    }
}

/// How a mapping's batches have been going, kept in memory: `LastProcessingResult`
/// (stream sources, where AWS reports it: "No records processed" until the first batch,
/// then "OK" or "PROBLEM: Function call failed") and the server's warnings.
#[derive(Debug, Default)]
pub struct Health {
    processed: bool,
    /// Failed invocations in a row.
    failures: u64,
    /// Why the execution role may not read the source now (`esm_access.rs`), as the API
    /// shows it.
    pub(crate) access_problem: Option<String>,
}

/// What one batch's invocation came to.
pub(crate) enum Processed {
    Ok,
    /// A function error, or an invocation that could not run (why, for the log).
    Failed(String),
}

impl Processed {
    pub(crate) fn of(outcome: &LambdaResult<crate::invoke::Response>) -> Processed {
        match outcome {
            Ok(resp) if !resp.function_error => Processed::Ok,
            Ok(_) => Processed::Failed("the function returned an error".into()),
            Err(LambdaError::ResourceNotFound(m)) => Processed::Failed(format!(
                "{m}: the function was deleted, so the records wait until a function of that name exists again or the mapping is deleted"
            )),
            Err(e) => Processed::Failed(format!("the function could not be invoked: {e:?}")),
        }
    }
}

/// A failing streak is logged at its 1st, 10th, 100th, … failure: visible, not flooding.
fn worth_logging(failures: u64) -> bool {
    failures == 1 || (failures >= 10 && 10u64.pow(failures.ilog10()) == failures)
}

/// Mapping input (Create and Update share it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct MappingIn {
    #[serde(rename = "UUID")]
    pub uuid: Option<String>,
    pub event_source_arn: Option<String>,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<ScalingIn>,
    pub filter_criteria: Option<FiltersIn>,
    pub starting_position: Option<String>,
    pub starting_position_timestamp: Option<Value>,
    pub parallelization_factor: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_record_age_in_seconds: Option<i64>,
    pub destination_config: Option<Value>,
    pub tumbling_window_in_seconds: Option<i64>,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ScalingIn {
    pub maximum_concurrency: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct FiltersIn {
    pub filters: Option<Vec<FilterIn>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct FilterIn {
    pub pattern: Option<String>,
}

fn not_for_sqs(input: &MappingIn) -> Option<&'static str> {
    [
        (input.starting_position.is_some(), "StartingPosition"),
        (input.parallelization_factor.is_some(), "ParallelizationFactor"),
        (input.bisect_batch_on_function_error.is_some(), "BisectBatchOnFunctionError"),
        (input.maximum_retry_attempts.is_some(), "MaximumRetryAttempts"),
        (input.maximum_record_age_in_seconds.is_some(), "MaximumRecordAgeInSeconds"),
        (input.destination_config.is_some(), "DestinationConfig"),
        (input.tumbling_window_in_seconds.is_some(), "TumblingWindowInSeconds"),
    ]
    .into_iter()
    .find(|(given, _)| *given)
    .map(|(_, name)| name)
}

/// Applies and validates the settable fields of `input` onto `m` (SQS sources).
pub(crate) fn apply_settings(m: &mut Mapping, input: &MappingIn) -> LambdaResult<()> {
    if m.stream.is_some() {
        crate::esm_stream::apply(m, input)?;
    } else if let Some(name) = not_for_sqs(input) {
        return Err(LambdaError::invalid(format!("Unsupported {name} parameter for given event source")));
    }
    if let Some(w) = input.maximum_batching_window_in_seconds {
        if !(0..=300).contains(&w) {
            return Err(LambdaError::Validation(format!("1 validation error detected: Value '{w}' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300")));
        }
        m.window_s = w as u32;
    }
    if let Some(b) = input.batch_size {
        m.batch_size = b.max(0) as u32;
        if b < 1 || b > 10_000 {
            return Err(LambdaError::Validation(format!("1 validation error detected: Value '{b}' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000")));
        }
    }
    if m.stream.is_none() && m.batch_size > 10 && m.window_s == 0 {
        return Err(LambdaError::invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"));
    }
    if let Some(types) = &input.function_response_types {
        if types.iter().any(|t| t != "ReportBatchItemFailures") {
            return Err(LambdaError::invalid("FunctionResponseTypes may only contain ReportBatchItemFailures"));
        }
        m.function_response_types = types.clone();
    }
    if let Some(c) = input.scaling_config.as_ref().and_then(|s| s.maximum_concurrency) {
        if !(2..=1000).contains(&c) {
            return Err(LambdaError::Validation(format!("1 validation error detected: Value '{c}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value between 2 and 1000")));
        }
        m.max_concurrency = Some(c as u32);
    }
    if let Some(f) = &input.filter_criteria {
        let mut filters = Vec::new();
        for p in f.filters.iter().flatten() {
            let text = p.pattern.clone().unwrap_or_default();
            let pattern = crate::filter::parse(&text).map_err(LambdaError::invalid)?;
            filters.push(pattern);
        }
        if filters.len() > 5 {
            return Err(LambdaError::invalid("The number of filters exceeds the limit of 5."));
        }
        m.filters = filters;
    }
    if let Some(e) = input.enabled {
        m.enabled = e;
    }
    Ok(())
}

impl Inner {
    /// Records how a batch went; warns when a mapping starts (and keeps) failing and
    /// says when it recovers.
    pub(crate) fn processed(&self, m: &Mapping, outcome: Processed) {
        let mut all = self.mapping_health.lock();
        let h = all.entry(m.uuid.clone()).or_default();
        h.processed = true;
        match outcome {
            Processed::Ok => {
                if h.failures > 0 {
                    tracing::info!(mapping = %m.uuid, function = %m.function_arn(), failures = h.failures, "event source mapping recovered: its function succeeded again");
                }
                h.failures = 0;
            }
            Processed::Failed(why) => {
                h.failures += 1;
                if worth_logging(h.failures) {
                    tracing::warn!(mapping = %m.uuid, source = %m.event_source_arn, function = %m.function_arn(), failures = h.failures, "event source mapping failing: {why}");
                }
            }
        }
    }

    /// A mapping as the API shows it: stream mappings add `LastProcessingResult` and say
    /// "User action" where queue mappings say "USER_INITIATED" (as AWS answers each).
    /// A role that may no longer read the source shows as `LastProcessingResult` of a
    /// stream mapping and as the `StateTransitionReason` of a queue mapping (which has no
    /// `LastProcessingResult` on AWS).
    fn show(&self, m: &Mapping, state: &str) -> Value {
        let mut v = m.to_json(state);
        let health = self.mapping_health.lock();
        let h = health.get(&m.uuid);
        let problem = h.and_then(|h| h.access_problem.clone());
        if m.stream.is_some() {
            let result = match h {
                _ if problem.is_some() => problem.unwrap_or_default(),
                Some(h) if h.failures > 0 => "PROBLEM: Function call failed".into(),
                Some(h) if h.processed => "OK".into(),
                _ => "No records processed".into(),
            };
            v["LastProcessingResult"] = json!(result);
            v["StateTransitionReason"] = json!("User action");
        } else if let Some(p) = problem.filter(|_| m.enabled) {
            v["StateTransitionReason"] = json!(p);
        }
        v
    }

    pub(crate) fn mapping_function(&self, ctx: &RequestContext, raw: &str) -> LambdaResult<(String, Option<String>)> {
        let (account, name, qualifier) = parse_function_name(ctx, raw)?;
        self.get(&Inner::key(ctx, account, name.clone()))?;
        Ok((name, qualifier))
    }

    pub async fn create_mapping(self: &Arc<Self>, ctx: &RequestContext, input: MappingIn) -> LambdaResult<Value> {
        let source = input.event_source_arn.clone().ok_or_else(|| LambdaError::invalid("EventSourceArn is required"))?;
        let is_stream = (source.starts_with("arn:aws:dynamodb:") && source.contains("/stream/")) || crate::esm_kinesis::is_kinesis(&source);
        if !source.starts_with("arn:aws:sqs:") && !is_stream {
            return Err(LambdaError::invalid(format!("Event source {source} is not supported by nimbus yet: SQS queues, DynamoDB streams and Kinesis streams can be mapped.")));
        }
        if is_stream {
            return self.create_stream_mapping(ctx, source, input).await;
        }
        self.queues.facts(&source).map_err(|_| LambdaError::invalid(format!("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.")))?;
        let raw = input.function_name.clone().ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
        let (function_name, qualifier) = self.mapping_function(ctx, &raw)?;
        self.check_visibility(ctx, &source, &function_name, qualifier.as_deref())?;
        self.check_role_reads(ctx, &function_name, qualifier.as_deref(), &source, &crate::esm_access::SQS_READS, |action| {
            format!("The provided execution role does not have permissions to call {} on SQS", action.trim_start_matches("sqs:"))
        })?;
        self.add_mapping(ctx, (function_name, qualifier), source, None, &input).await
    }

    /// Creates a mapping: AWS's defaults for its source (BatchSize 10 for queues, 100 for
    /// streams), `input`'s settings applied, stored, then its pollers started.
    pub(crate) async fn add_mapping(self: &Arc<Self>, ctx: &RequestContext, function: (String, Option<String>), source: String, stream: Option<crate::esm_stream::StreamSettings>, input: &MappingIn) -> LambdaResult<Value> {
        let (function_name, qualifier) = function;
        let mut m = Mapping {
            uuid: nimbus_core::ids::uuid(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function_name,
            qualifier,
            event_source_arn: source,
            batch_size: if stream.is_some() { 100 } else { 10 },
            window_s: 0,
            enabled: true,
            function_response_types: Vec::new(),
            max_concurrency: None,
            filters: Vec::new(),
            last_modified: self.clock.now_ms() as f64 / 1000.0,
            stream,
        };
        apply_settings(&mut m, input)?;
        Inner::commit(self.store.put_mapping(&m)).await?;
        self.mappings.write().insert(m.uuid.clone(), m.clone());
        self.start_pollers(&m);
        Ok(self.show(&m, "Creating"))
    }

    /// When IAM enforces, the function's execution role must allow reading the source
    /// (CreateEventSourceMapping fails as on AWS, naming the first missing permission).
    pub(crate) fn check_role_reads(&self, ctx: &RequestContext, function: &str, qualifier: Option<&str>, source: &str, actions: &[&str], message: impl Fn(&str) -> String) -> LambdaResult<()> {
        if !self.roles.enforcing() {
            return Ok(());
        }
        let f = self.get(&Inner::key(ctx, ctx.account_id.clone(), function.to_string()))?;
        let role = f.resolve(qualifier).map(|v| v.role.clone()).unwrap_or_default();
        match actions.iter().find(|a| !self.roles.role_allows(&role, a, source)) {
            Some(missing) => Err(LambdaError::invalid(message(missing))),
            None => Ok(()),
        }
    }

    /// AWS refuses a queue whose visibility timeout is shorter than the function's
    /// timeout: a batch could become visible again while the function still runs.
    fn check_visibility(&self, ctx: &RequestContext, queue_arn: &str, function: &str, qualifier: Option<&str>) -> LambdaResult<()> {
        let facts = self.queues.facts(queue_arn).map_err(LambdaError::invalid)?;
        let f = self.get(&Inner::key(ctx, ctx.account_id.clone(), function.to_string()))?;
        let timeout = f.resolve(qualifier).map(|v| v.timeout as u64).unwrap_or(3);
        if facts.visibility_timeout_s < timeout {
            return Err(LambdaError::invalid(format!(
                "Queue visibility timeout: {} seconds is less than Function timeout: {timeout} seconds",
                facts.visibility_timeout_s
            )));
        }
        Ok(())
    }

    fn mapping(&self, ctx: &RequestContext, uuid: Option<&str>) -> LambdaResult<Mapping> {
        let uuid = uuid.unwrap_or_default();
        self.mappings
            .read()
            .get(uuid)
            .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
            .cloned()
            .ok_or_else(|| LambdaError::ResourceNotFound(format!("The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {})", ctx.request_id)))
    }

    pub fn get_mapping(&self, ctx: &RequestContext, input: MappingIn) -> LambdaResult<Value> {
        let m = self.mapping(ctx, input.uuid.as_deref())?;
        Ok(self.show(&m, if m.enabled { "Enabled" } else { "Disabled" }))
    }

    pub fn list_mappings(&self, ctx: &RequestContext, input: MappingIn) -> LambdaResult<Value> {
        let function = match &input.function_name {
            Some(raw) => Some(parse_function_name(ctx, raw)?.1),
            None => None,
        };
        let mut all: Vec<Mapping> = self
            .mappings
            .read()
            .values()
            .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
            .filter(|m| function.as_ref().map(|f| &m.function_name == f).unwrap_or(true))
            .filter(|m| input.event_source_arn.as_ref().map(|a| &m.event_source_arn == a).unwrap_or(true))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        let max = input.max_items.unwrap_or(100).clamp(1, 10_000) as usize;
        let rest: Vec<Mapping> = all.into_iter().filter(|m| input.marker.as_ref().map(|k| &m.uuid > k).unwrap_or(true)).collect();
        let more = rest.len() > max;
        let page: Vec<&Mapping> = rest.iter().take(max).collect();
        let mut out = json!({ "EventSourceMappings": page.iter().map(|m| self.show(m, if m.enabled { "Enabled" } else { "Disabled" })).collect::<Vec<_>>() });
        if more {
            if let Some(last) = page.last() {
                out["NextMarker"] = json!(last.uuid);
            }
        }
        Ok(out)
    }

    pub async fn update_mapping(self: &Arc<Self>, ctx: &RequestContext, input: MappingIn) -> LambdaResult<Value> {
        let uuid = self.mapping(ctx, input.uuid.as_deref())?.uuid;
        let target = match &input.function_name {
            Some(raw) => Some(self.mapping_function(ctx, raw)?),
            None => None,
        };
        // Edit the registry's copy under its lock, so a checkpoint a poller stores
        // meanwhile is neither lost nor rolled back, and store it in the same order.
        let was_enabled;
        let (m, pending) = {
            let mut map = self.mappings.write();
            let current = map.get_mut(&uuid).ok_or_else(|| LambdaError::ResourceNotFound("The resource you requested does not exist.".into()))?;
            let mut m = current.clone();
            was_enabled = m.enabled;
            if let Some((name, qualifier)) = target {
                m.function_name = name;
                m.qualifier = qualifier;
            }
            apply_settings(&mut m, &input)?;
            m.last_modified = self.clock.now_ms() as f64 / 1000.0;
            *current = m.clone();
            let pending = self.store.put_mapping(&m);
            (m, pending)
        };
        Inner::commit(pending).await?;
        self.start_pollers(&m);
        // AWS: "Enabling" / "Disabling" when `Enabled` changes, else "Updating".
        Ok(self.show(&m, match (was_enabled, m.enabled) {
            (false, true) => "Enabling",
            (true, false) => "Disabling",
            _ => "Updating",
        }))
    }

    pub async fn delete_mapping(&self, ctx: &RequestContext, input: MappingIn) -> LambdaResult<Value> {
        let m = self.mapping(ctx, input.uuid.as_deref())?;
        Inner::commit(self.store.delete_mapping(&m.uuid)).await?;
        self.mappings.write().remove(&m.uuid);
        self.stop_pollers(&m.uuid);
        let shown = self.show(&m, "Deleting");
        self.mapping_health.lock().remove(&m.uuid);
        Ok(shown)
    }

    /// Stops a mapping's pollers; the next ones find out afresh whether the role may read.
    fn stop_pollers(&self, uuid: &str) {
        if let Some(stop) = self.pollers.lock().remove(uuid) {
            let _ = stop.send(true);
        }
        if let Some(h) = self.mapping_health.lock().get_mut(uuid) {
            h.access_problem = None;
        }
    }

    /// (Re)starts a mapping's pollers with its current settings.
    pub fn start_pollers(self: &Arc<Self>, m: &Mapping) {
        self.stop_pollers(&m.uuid);
        if !m.enabled {
            return;
        }
        let (tx, rx) = watch::channel(false);
        self.pollers.lock().insert(m.uuid.clone(), tx);
        if m.stream.is_some() {
            crate::esm_stream::start(self, m, rx);
            return;
        }
        // With a batching window, one poller at a time gathers (the others invoke
        // meanwhile), so a burst fills one batch instead of being split across every
        // waiting poller.
        let gathering = Arc::new(tokio::sync::Mutex::new(()));
        let scaling = Arc::new(Scaling::new(m.max_concurrency));
        for _ in 0..scaling.floor {
            spawn_poller(self.clone(), m.clone(), rx.clone(), gathering.clone(), scaling.clone());
        }
    }
}

/// How many pollers a queue mapping runs. As on AWS, five to begin with (fewer when
/// `MaximumConcurrency` is lower); while batches come back full, one more at most every
/// 200 ms (AWS: up to 300 a minute), up to `MaximumConcurrency`, the function's reserved
/// concurrency, and 1,000; a poller above the first five leaves after a receive that
/// found nothing (a 20-second long poll).
struct Scaling {
    running: AtomicUsize,
    floor: usize,
    cap: usize,
    last_growth_ms: AtomicU64,
}

/// Fewest ms between two added pollers.
const GROWTH_INTERVAL_MS: u64 = 200;

impl Scaling {
    fn new(max_concurrency: Option<u32>) -> Scaling {
        let cap = max_concurrency.unwrap_or(1000).min(1000) as usize;
        let floor = cap.min(5);
        Scaling { running: AtomicUsize::new(floor), floor, cap, last_growth_ms: AtomicU64::new(0) }
    }

    /// Claims one more poller, if the cap (and `limit`, the function's reserved
    /// concurrency) and the growth rate allow it.
    fn grow(&self, now_ms: u64, limit: Option<u32>) -> bool {
        let cap = limit.map_or(self.cap, |l| self.cap.min(l as usize));
        let last = self.last_growth_ms.load(Ordering::Acquire);
        if self.running.load(Ordering::Acquire) >= cap || now_ms < last + GROWTH_INTERVAL_MS {
            return false;
        }
        if self.last_growth_ms.compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        self.running.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Lets one poller above the floor go.
    fn retire(&self) -> bool {
        self.running.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n > self.floor).then(|| n - 1)).is_ok()
    }
}

fn spawn_poller(inner: Arc<Inner>, m: Mapping, stop: watch::Receiver<bool>, gathering: Arc<tokio::sync::Mutex<()>>, scaling: Arc<Scaling>) {
    tokio::spawn(async move { poll_loop(inner, m, stop, gathering, scaling).await });
}

/// Receives up to the batch size, waiting for the first message as long as needed and
/// for more only within the batching window.
/// With `--auth iam`, an IAM change ends the wait for the first message (empty), so the
/// poller checks the role again before it receives anything.
async fn gather(inner: &Inner, m: &Mapping, stop: &mut watch::Receiver<bool>, access: &Access) -> Option<Vec<PolledMessage>> {
    let mut batch = Vec::new();
    let iam_changed = async {
        if inner.roles.enforcing() {
            inner.roles.policy_changed(access.version()).await
        } else {
            std::future::pending().await
        }
    };
    let first = tokio::select! {
        r = inner.queues.receive(&m.event_source_arn, (m.batch_size as usize).min(10), 20_000) => r,
        _ = stop.changed() => return None,
        _ = iam_changed => return Some(batch),
    };
    match first {
        Ok(msgs) => batch.extend(msgs),
        Err(e) => {
            tracing::warn!(mapping = %m.uuid, error = %e, "event source receive failed");
            // The queue is gone or failing: pause before asking again.
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = stop.changed() => return None,
            }
            return Some(batch);
        }
    }
    if batch.is_empty() || m.window_s == 0 {
        return Some(batch);
    }
    let deadline = inner.clock.now_ms() + m.window_s as u64 * 1000;
    while batch.len() < m.batch_size as usize {
        let left = deadline.saturating_sub(inner.clock.now_ms());
        if left == 0 {
            break;
        }
        let want = (m.batch_size as usize - batch.len()).min(10);
        let more = tokio::select! {
            r = inner.queues.receive(&m.event_source_arn, want, left) => r.unwrap_or_default(),
            _ = stop.changed() => return Some(batch),
        };
        batch.extend(more);
    }
    Some(batch)
}

fn record(m: &Mapping, msg: &PolledMessage) -> Value {
    json!({
        "messageId": msg.message_id,
        "receiptHandle": msg.receipt_handle,
        "body": msg.body,
        "attributes": msg.attributes,
        "messageAttributes": msg.message_attributes,
        "md5OfBody": msg.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": m.event_source_arn,
        "awsRegion": m.region,
    })
}

/// Filters see the record with its body parsed when the body is JSON.
fn passes_filters(m: &Mapping, rec: &Value) -> bool {
    if m.filters.is_empty() {
        return true;
    }
    let mut view = rec.clone();
    if let Some(body) = rec.get("body").and_then(Value::as_str) {
        if let Ok(parsed) = serde_json::from_str::<Value>(body) {
            view["body"] = parsed;
        }
    }
    m.filters.iter().any(|f| crate::filter::matches(f, &view))
}

/// The message ids a `ReportBatchItemFailures` response names as failed; `None` when the
/// response is malformed — an empty, null or missing `itemIdentifier`, or one that is not
/// a message of this batch — and the whole batch then counts as failed, as on AWS. A null
/// or empty response or list is a complete success.
fn reported_failures(payload: &[u8], batch: &[PolledMessage]) -> Option<HashSet<String>> {
    if payload.is_empty() || payload == b"null" {
        return Some(HashSet::new());
    }
    let v: Value = serde_json::from_slice(payload).ok()?;
    let items = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(items) => items.as_array()?,
    };
    let mut ids = HashSet::new();
    for it in items {
        let id = it.get("itemIdentifier").and_then(Value::as_str).filter(|s| !s.is_empty())?;
        if !batch.iter().any(|msg| msg.message_id == id) {
            return None;
        }
        ids.insert(id.to_string());
    }
    Some(ids)
}

async fn poll_loop(inner: Arc<Inner>, m: Mapping, mut stop: watch::Receiver<bool>, gathering: Arc<tokio::sync::Mutex<()>>, scaling: Arc<Scaling>) {
    let fifo = inner.queues.facts(&m.event_source_arn).map(|f| f.fifo).unwrap_or(false);
    let mut access = Access::default();
    loop {
        if *stop.borrow() {
            return;
        }
        // Read as the execution role: while it lacks a permission, wait for IAM to change.
        if inner.missing_read(&m, &SQS_READS, &mut access).is_some() {
            tokio::select! {
                _ = inner.roles.policy_changed(access.version()) => continue,
                _ = stop.changed() => return,
            }
        }
        let turn = if m.window_s > 0 {
            tokio::select! {
                g = gathering.lock() => Some(g),
                _ = stop.changed() => return,
            }
        } else {
            None
        };
        let Some(batch) = gather(&inner, &m, &mut stop, &access).await else { return };
        drop(turn);
        if batch.is_empty() {
            if scaling.retire() {
                return;
            }
            continue;
        }
        // A full batch means messages are waiting: scale up.
        if batch.len() >= m.batch_size as usize && scaling.grow(inner.clock.now_ms(), reserved_concurrency(&inner, &m)) {
            spawn_poller(inner.clone(), m.clone(), stop.clone(), gathering.clone(), scaling.clone());
        }
        let (keep, dropped): (Vec<_>, Vec<_>) = batch.into_iter().partition(|msg| passes_filters(&m, &record(&m, msg)));
        if !dropped.is_empty() {
            let _ = inner.queues.delete(&m.event_source_arn, dropped.into_iter().map(|d| d.receipt_handle).collect()).await;
        }
        if keep.is_empty() {
            continue;
        }
        // One invocation's payload stays within the 6 MB synchronous limit, as on AWS: a
        // gathered batch that would exceed it goes out as several invocations.
        for chunk in within_payload_limit(&m, keep) {
            if deliver(&inner, &m, fifo, chunk, &mut stop).await.is_none() {
                return;
            }
        }
    }
}

fn reserved_concurrency(inner: &Inner, m: &Mapping) -> Option<u32> {
    inner.functions.read().get(&(m.account.clone(), m.region.clone(), m.function_name.clone())).and_then(|f| f.reserved_concurrency)
}

/// Invokes the mapping's function with one event, retrying with backoff while it is
/// throttled (the records wait meanwhile). `None` when the mapping was stopped.
///
/// `trace`: the trace the batch continues (an SQS batch: its first message's
/// `AWSTraceHeader`, as AWS does; a stream batch: its first record's write, see
/// [`BatchTrace::of_stream`]); `None` starts a new one.
pub(crate) async fn invoke_batch(inner: &Arc<Inner>, m: &Mapping, event: &Value, stop: &mut watch::Receiver<bool>, trace: BatchTrace) -> Option<LambdaResult<crate::invoke::Response>> {
    let payload = bytes::Bytes::from(event.to_string());
    let trace_id = trace.header.unwrap_or_else(|| new_trace_id(inner.clock.now_ms()));
    let mut backoff_ms = 100;
    loop {
        let req = Request {
            key: (m.account.clone(), m.region.clone(), m.function_name.clone()),
            qualifier: m.qualifier.clone(),
            request_id: nimbus_core::ids::uuid(),
            payload: payload.clone(),
            tail: false,
            client_context: None,
            trace_id: trace_id.clone(),
            linked_from: trace.linked_from.clone(),
        };
        match run(inner, req).await {
            Err(LambdaError::TooManyRequests { .. }) => {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)) => {}
                    _ = stop.changed() => return None,
                }
                backoff_ms = (backoff_ms * 2).min(2_000);
            }
            other => return Some(other),
        }
    }
}

/// The trace an event source mapping's invocation continues.
#[derive(Default, Clone)]
pub(crate) struct BatchTrace {
    pub header: Option<String>,
    pub linked_from: Option<String>,
}

impl BatchTrace {
    /// An SQS batch continues its first message's `AWSTraceHeader`
    /// (<https://docs.aws.amazon.com/xray/latest/devguide/xray-services-sqs.html>).
    pub fn of_queue(header: Option<&str>) -> BatchTrace {
        BatchTrace { header: header.filter(|h| nimbus_core::trace::TraceHeader::parse(h).is_some()).map(str::to_string), linked_from: None }
    }

    /// A DynamoDB stream batch: AWS starts a new trace (stream records carry none);
    /// nimbus keeps the root of the write that made the first record, without its parent,
    /// and records the writing segment as a link (`nimbus.linked_from`).
    pub fn of_stream(write: Option<&str>) -> BatchTrace {
        let Some(t) = write.and_then(nimbus_core::trace::TraceHeader::parse) else { return BatchTrace::default() };
        let linked_from = t.parent.clone();
        let header = nimbus_core::trace::TraceHeader { parent: None, ..t }.render();
        BatchTrace { header: Some(header), linked_from }
    }
}

/// The payload budget of one invocation: the 6 MB synchronous limit less the envelope.
pub(crate) const PAYLOAD_BUDGET: usize = crate::invoke::MAX_SYNC_PAYLOAD - 1024;

/// Splits `keep` into consecutive runs whose event fits in one synchronous invocation.
fn within_payload_limit(m: &Mapping, keep: Vec<PolledMessage>) -> Vec<Vec<PolledMessage>> {
    let mut out: Vec<Vec<PolledMessage>> = Vec::new();
    let mut size = 0;
    for msg in keep {
        let len = record(m, &msg).to_string().len() + 1;
        if out.is_empty() || size + len > PAYLOAD_BUDGET {
            out.push(Vec::new());
            size = 0;
        }
        size += len;
        out.last_mut().expect("a chunk").push(msg);
    }
    out
}

/// Invokes the function with one batch and deletes what succeeded; `None` when the
/// mapping was stopped meanwhile.
async fn deliver(inner: &Arc<Inner>, m: &Mapping, fifo: bool, keep: Vec<PolledMessage>, stop: &mut watch::Receiver<bool>) -> Option<()> {
    let event = json!({ "Records": keep.iter().map(|msg| record(m, msg)).collect::<Vec<_>>() });
    let trace = BatchTrace::of_queue(keep.first().and_then(|msg| msg.attributes.get("AWSTraceHeader")).and_then(Value::as_str));
    let outcome = invoke_batch(inner, m, &event, stop, trace).await?;
    inner.processed(m, Processed::of(&outcome));
    let done: Vec<String> = match outcome {
        Ok(resp) if !resp.function_error => {
            if m.function_response_types.iter().any(|t| t == "ReportBatchItemFailures") {
                match reported_failures(&resp.payload, &keep) {
                    Some(failed) => succeeded(&keep, &failed, fifo),
                    None => Vec::new(),
                }
            } else {
                keep.iter().map(|k| k.receipt_handle.clone()).collect()
            }
        }
        // A function error or a failed invoke: every message returns to the queue
        // when its visibility timeout ends.
        _ => Vec::new(),
    };
    if !done.is_empty() {
        if let Err(e) = inner.queues.delete(&m.event_source_arn, done).await {
            tracing::warn!(mapping = %m.uuid, error = %e, "deleting processed messages failed");
        }
    }
    Some(())
}

/// Receipt handles of the messages that succeeded: all but the failed ones — and on a
/// FIFO queue, nothing after a failure within the same message group.
fn succeeded(batch: &[PolledMessage], failed: &HashSet<String>, fifo: bool) -> Vec<String> {
    let mut blocked_groups: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for msg in batch {
        let group = msg.attributes.get("MessageGroupId").and_then(Value::as_str).map(str::to_string);
        let blocked = fifo && group.as_ref().map(|g| blocked_groups.contains(g)).unwrap_or(false);
        if failed.contains(&msg.message_id) || blocked {
            if let Some(g) = group {
                blocked_groups.insert(g);
            }
            continue;
        }
        out.push(msg.receipt_handle.clone());
    }
    out
}
