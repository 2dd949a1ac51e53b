//! The Step Functions service as the router sees it: the vendored model, the dispatch of
//! operations to `ops_*`, and the seams the binary wires (the services Task states call,
//! the task integrations, resuming executions at start).

use crate::engine::{Engine, Watcher};
use crate::store::Store;
use crate::tasks::{ExecutionWatcher, TaskRunner};
use crate::{errors, ops_activities, ops_executions, ops_machines, ops_map_runs, ops_test_state};
use nimbus_core::internal::ServiceCaller;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::storage::Durability;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/stepfunctions-2016-11-23.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Step Functions model parses"))
}

pub struct StepFunctionsService {
    pub(crate) engine: Arc<Engine>,
}

impl StepFunctionsService {
    /// Opens `<data dir>/stepfunctions.db` (`None`: in memory).
    pub fn open(db: Option<&Path>, durability: Durability, clock: Clock) -> Result<StepFunctionsService, String> {
        let store = Store::open(db, durability).map_err(|e| e.to_string())?;
        Ok(StepFunctionsService { engine: Engine::new(store, clock) })
    }

    /// The services Task states call (the binary sets it after registering them all).
    pub fn set_service_caller(&self, caller: Arc<dyn ServiceCaller>) {
        let _ = self.engine.caller.set(caller);
    }

    /// The services Task states call, once set.
    pub fn service_caller(&self) -> Option<Arc<dyn ServiceCaller>> {
        self.engine.caller.get().cloned()
    }

    /// What Task states' resources do (the integrations). Without one, a Task state
    /// fails with `States.Runtime` ("… is not supported by nimbus").
    pub fn set_task_runner(&self, runner: Arc<dyn TaskRunner>) {
        *self.engine.runner.write() = Some(runner);
    }

    /// CloudWatch Logs, where machines with a `loggingConfiguration` send their
    /// executions' events.
    pub fn set_log_sink(&self, sink: Arc<dyn nimbus_core::internal::LogSink>) {
        *self.engine.log_sink.write() = Some(sink);
    }

    /// How `.sync` integrations wait for an execution's end.
    pub fn execution_watcher(&self) -> Arc<dyn ExecutionWatcher> {
        Arc::new(Watcher(self.engine.clone()))
    }

    /// Resumes the STANDARD executions stored as running (call once at start, after
    /// the task runner is set). Answers how many.
    pub fn resume_executions(&self) -> usize {
        self.engine.resume_executions()
    }
}

impl AwsService for StepFunctionsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let e = &self.engine;
            match operation {
                "CreateStateMachine" => ops_machines::create(e, ctx, &input).await,
                "DescribeStateMachine" => ops_machines::describe(e, ctx, &input),
                "ListStateMachines" => ops_machines::list(e, ctx, &input),
                "DeleteStateMachine" => ops_machines::delete(e, ctx, &input).await,
                "UpdateStateMachine" => ops_machines::update(e, ctx, &input).await,
                "ValidateStateMachineDefinition" => ops_machines::validate(e, &input),
                "PublishStateMachineVersion" => ops_machines::publish(e, ctx, &input).await,
                "ListStateMachineVersions" => ops_machines::list_versions(e, ctx, &input),
                "DeleteStateMachineVersion" => ops_machines::delete_version(e, ctx, &input).await,
                "CreateStateMachineAlias" => ops_machines::create_alias(e, ctx, &input).await,
                "DescribeStateMachineAlias" => ops_machines::describe_alias(e, ctx, &input),
                "ListStateMachineAliases" => ops_machines::list_aliases(e, ctx, &input),
                "UpdateStateMachineAlias" => ops_machines::update_alias(e, ctx, &input).await,
                "DeleteStateMachineAlias" => ops_machines::delete_alias(e, ctx, &input).await,
                "TagResource" => ops_machines::tag(e, ctx, &input).await,
                "UntagResource" => ops_machines::untag(e, ctx, &input).await,
                "ListTagsForResource" => ops_machines::list_tags(e, ctx, &input),
                "StartExecution" => ops_executions::start(e, ctx, &input, false).await,
                "StartSyncExecution" => ops_executions::start(e, ctx, &input, true).await,
                "DescribeExecution" => ops_executions::describe(e, ctx, &input),
                "StopExecution" => ops_executions::stop(e, ctx, &input).await,
                "ListExecutions" => ops_executions::list(e, ctx, &input),
                "GetExecutionHistory" => ops_executions::history(e, ctx, &input),
                "DescribeStateMachineForExecution" => ops_executions::describe_machine_for(e, ctx, &input),
                "RedriveExecution" => ops_executions::redrive(e, ctx, &input).await,
                "CreateActivity" => ops_activities::create(e, ctx, &input).await,
                "DescribeActivity" => ops_activities::describe(e, ctx, &input),
                "ListActivities" => ops_activities::list(e, ctx, &input),
                "DeleteActivity" => ops_activities::delete(e, ctx, &input).await,
                "GetActivityTask" => ops_activities::get_task(e, ctx, &input).await,
                "SendTaskSuccess" => ops_activities::send_success(e, &input).await,
                "SendTaskFailure" => ops_activities::send_failure(e, &input).await,
                "SendTaskHeartbeat" => ops_activities::send_heartbeat(e, &input),
                "TestState" => ops_test_state::test_state(e, ctx, &input).await,
                "DescribeMapRun" => ops_map_runs::describe(e, ctx, &input),
                "ListMapRuns" => ops_map_runs::list(e, ctx, &input),
                "UpdateMapRun" => ops_map_runs::update(e, ctx, &input),
                other => Err(errors::not_supported(&format!("Step Functions {other}"))),
            }
        })
    }
}

/// A string member of the input.
pub(crate) fn s<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A required string member.
pub(crate) fn req<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    s(input, name).ok_or_else(|| errors::missing(name))
}

/// Seconds since the epoch, as the JSON protocol carries timestamps.
pub(crate) fn secs(ms: u64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}

/// `nextToken` as an offset into a listing.
pub(crate) fn page(input: &Value, default_max: usize) -> Result<(usize, usize), AwsError> {
    let max = match input.get("maxResults").and_then(Value::as_u64) {
        None | Some(0) => default_max,
        Some(n) if n > 1000 => return Err(errors::validation(format!("1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"))),
        Some(n) => n as usize,
    };
    let start = match s(input, "nextToken") {
        None => 0,
        Some(t) => decode_token(t).ok_or_else(|| errors::invalid_token("Invalid Token: 'Invalid token'"))?,
    };
    Ok((start, max))
}

pub(crate) fn encode_token(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("nimbus-page:{offset}"))
}

fn decode_token(t: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("nimbus-page:")?.parse().ok()
}

/// A listing's answer: the page under `key`, and `nextToken` when more follow.
pub(crate) fn page_answer(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(key.to_string(), Value::Array(items));
    if let Some(n) = next {
        out.insert("nextToken".to_string(), Value::String(n));
    }
    Value::Object(out)
}

/// Cuts a listing to one page; answers the items and the next token.
pub(crate) fn paginate<T>(items: Vec<T>, start: usize, max: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + page.len() < total).then(|| encode_token(start + page.len()));
    (page, next)
}
