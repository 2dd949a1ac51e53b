//! TestState: one state run on its own, in memory (no execution is recorded), answering its
//! output, its next state and how it ended: SUCCEEDED, FAILED, CAUGHT_ERROR (a Catcher
//! handled the error) or RETRIABLE (a Retrier would retry it; TestState does not wait).
//! The state runs through the engine's own interpreter (its Task calls the real integration
//! through the task runner unless `mock` is given); the engine's inspection hook records the
//! data-flow steps that `inspectionLevel` DEBUG / TRACE answers. Wait states do not wait.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>

use crate::definition::{self, Kind, State};
use crate::engine::execution::{ExecutionRecord, Running, TestMode};
use crate::engine::run::{error_matches, Exec, Frame};
use crate::engine::lang::Failure;
use crate::engine::Engine;
use crate::errors;
use crate::service::{req, s};
use crate::tasks::TaskResult;
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// How long TestState runs a state.
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>
const TEST_STATE_LIMIT_MS: u64 = 5 * 60 * 1000;

/// `stateConfiguration`: where the tested state stands in a (pretend) run.
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestStateConfiguration.html>
#[derive(Default)]
struct Configuration {
    retrier_retry_count: u64,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<u64>,
}

pub async fn test_state(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let text = req(input, "definition")?;
    let level = match s(input, "inspectionLevel") {
        None => "INFO",
        Some(l @ ("INFO" | "DEBUG" | "TRACE")) => l,
        Some(other) => return Err(errors::validation(format!("1 validation error detected: Value '{other}' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]"))),
    };
    let doc: Value = serde_json::from_str(text).map_err(|e| errors::invalid_definition(format!("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e} at /'")))?;
    // A state on its own, or a whole machine and the `stateName` to test in it ("If this
    // field is specified, the definition must contain a fully-formed state machine
    // definition", checked as CreateStateMachine checks one).
    let (state_name, state_doc, language) = match s(input, "stateName") {
        Some(name) => {
            definition::parse(text).map_err(|d| errors::invalid_definition(definition::invalid_message(&d)))?;
            let st = doc.pointer(&format!("/States/{}", name.replace('~', "~0").replace('/', "~1"))).cloned().ok_or_else(|| errors::validation(format!("The state '{name}' is not in the definition")))?;
            (name.to_string(), st, doc.get("QueryLanguage").cloned())
        }
        None if doc.get("States").is_some() => return Err(errors::validation("The stateName must be specified when the definition is a state machine")),
        None => ("TestState".to_string(), doc.clone(), None),
    };
    let (machine, st) = machine_around(&state_name, &state_doc, language)?;
    let mock = mock_of(input)?;
    let config = configuration_of(input)?;
    check_testable(&st, mock.as_ref(), &config, s(input, "roleArn"))?;
    let mock = match (mock, config.map_iteration_failure_count) {
        (Some(TaskResult::Output(result)), Some(failed)) if exceeds_tolerance(&st, failed, &result) => {
            Some(TaskResult::Failed { error: "States.ExceedToleratedFailureThreshold".into(), cause: "The specified tolerated failure threshold was exceeded".into() })
        }
        (m, _) => m,
    };
    let state_input: Value = match s(input, "input") {
        Some(t) => serde_json::from_str(t).map_err(|e| errors::invalid_input(format!("Invalid State Machine Execution Input: '{e}'")))?,
        None => json!({}),
    };
    let variables: Map<String, Value> = match s(input, "variables") {
        Some(t) => serde_json::from_str(t).map_err(|e| errors::validation(format!("The variables must be a JSON object: {e}")))?,
        None => Map::new(),
    };
    let context: Map<String, Value> = match s(input, "context") {
        Some(t) => serde_json::from_str(t).map_err(|e| errors::validation(format!("The context must be a JSON object: {e}")))?,
        None => Map::new(),
    };

    let now = engine.clock.now_ms();
    let name = nimbus_core::ids::uuid();
    let role = s(input, "roleArn").unwrap_or_default().to_string();
    let arn = crate::arns::express_execution(&ctx.region, &ctx.account_id, "TestState", &name, &name);
    let record = ExecutionRecord {
        arn: arn.clone(),
        name: name.clone(),
        machine_arn: crate::arns::machine(&ctx.region, &ctx.account_id, "TestState"),
        machine_name: "TestState".into(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        express: true,
        role_arn: role.clone(),
        definition: machine.to_string(),
        revision_id: String::new(),
        updated_ms: now,
        input: state_input.to_string(),
        status: "RUNNING".into(),
        start_ms: now,
        ..Default::default()
    };
    let inspection = Arc::new(parking_lot::Mutex::new(Map::new()));
    let mut running = Running::new(record, Vec::new());
    running.test = Some(TestMode { mock, state: state_name.clone(), inspection: inspection.clone() });
    let running = Arc::new(running);
    // `context` stands in for the members of `$$` an execution would give.
    let overlay = |base: Value, key: &str| match (base, context.get(key)) {
        (Value::Object(mut b), Some(Value::Object(o))) => {
            b.extend(o.clone());
            Value::Object(b)
        }
        (b, _) => b,
    };
    let exec = Arc::new(Exec {
        engine: engine.arc(),
        running: running.clone(),
        execution_ctx: overlay(json!({ "Id": arn, "Input": state_input, "Name": name, "RoleArn": role, "StartTime": nimbus_core::time::iso8601_ms(now), "RedriveCount": 0 }), "Execution"),
        machine_ctx: overlay(json!({ "Id": "TestState", "Name": "TestState" }), "StateMachine"),
    });
    let def = machine_definition(&machine)?;
    // "The TestState API can run for up to five minutes. If the execution of a state
    // exceeds this duration, it fails with the States.Timeout error."
    let run = exec.clone().run_set(def, state_input.clone(), variables.clone(), Frame { top: true }, 0, None);
    let (result, timed_out) = tokio::select! {
        (r, _) = run => (r, false),
        _ = engine.clock.sleep_until(now + TEST_STATE_LIMIT_MS) => (Err(Failure::new("States.Timeout", "The state did not finish within the five minutes TestState allows")), true),
    };
    let history = running.history.lock().clone();
    let entered: Vec<&str> = history.iter().filter_map(|e| e.pointer("/stateEnteredEventDetails/name").and_then(Value::as_str)).collect();
    let next_state = entered.get(1).map(|s| s.to_string());

    let mut out = Map::new();
    let mut error_details = Map::new();
    let failure = match &result {
        Ok(_) => running.caught.lock().clone(),
        Err(f) => Some((f.error.clone(), f.cause.clone())),
    };
    // The first Retrier naming the error retries it while its attempts last.
    // <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error>
    let retrier = failure.as_ref().filter(|_| !timed_out).and_then(|(error, _)| st.retry.iter().position(|r| error_matches(&r.errors, error))).filter(|&i| config.retrier_retry_count < st.retry[i].max_attempts);
    match (failure, retrier) {
        (Some((error, cause)), Some(i)) => {
            let r = &st.retry[i];
            let mut backoff = r.interval_seconds * r.backoff_rate.powi(config.retrier_retry_count.min(i32::MAX as u64) as i32);
            if let Some(max) = r.max_delay_seconds {
                backoff = backoff.min(max);
            }
            error_details.insert("retryIndex".into(), json!(i));
            error_details.insert("retryBackoffIntervalSeconds".into(), json!(backoff.round() as u64));
            out.insert("status".into(), json!("RETRIABLE"));
            out.insert("error".into(), json!(error));
            out.insert("cause".into(), json!(cause));
        }
        (Some((error, cause)), None) if result.is_ok() => {
            if let Some(i) = st.catch.iter().position(|c| error_matches(&c.errors, &error)) {
                error_details.insert("catchIndex".into(), json!(i));
            }
            out.insert("status".into(), json!("CAUGHT_ERROR"));
            out.insert("error".into(), json!(error));
            out.insert("cause".into(), json!(cause));
            if let Ok(v) = &result {
                out.insert("output".into(), json!(v.to_string()));
            }
            if let Some(n) = next_state {
                out.insert("nextState".into(), json!(n));
            }
        }
        (Some((error, cause)), None) => {
            out.insert("status".into(), json!("FAILED"));
            out.insert("error".into(), json!(error));
            out.insert("cause".into(), json!(cause));
        }
        (None, _) => {
            out.insert("status".into(), json!("SUCCEEDED"));
            if let Ok(v) = &result {
                out.insert("output".into(), json!(v.to_string()));
            }
            if let Some(n) = next_state {
                out.insert("nextState".into(), json!(n));
            }
        }
    }
    if level != "INFO" {
        let mut data = Map::new();
        data.insert("input".into(), json!(state_input.to_string()));
        if !variables.is_empty() {
            data.insert("variables".into(), json!(Value::Object(variables).to_string()));
        }
        for (k, v) in inspection.lock().iter() {
            data.insert(k.clone(), json!(v.to_string()));
        }
        // A Map's concurrency and tolerance as its definition gives them.
        if matches!(st.kind, Kind::Map { .. }) {
            for (field, member) in [("MaxConcurrency", "maxConcurrency"), ("ToleratedFailureCount", "toleratedFailureCount"), ("ToleratedFailurePercentage", "toleratedFailurePercentage")] {
                if let Some(v) = st.field(field).filter(|v| v.is_number()) {
                    data.insert(member.into(), v.clone());
                }
            }
        }
        if !error_details.is_empty() {
            data.insert("errorDetails".into(), Value::Object(error_details));
        }
        out.insert("inspectionData".into(), Value::Object(data));
    }
    Ok(Value::Object(out))
}

/// Whether `failed` iterations fail the Map: more than its `ToleratedFailureCount` or a
/// larger share of the items (the mocked result's) than its `ToleratedFailurePercentage`;
/// with neither, any failed iteration does.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html#maprun-fail-threshold>
fn exceeds_tolerance(st: &State, failed: u64, result: &Value) -> bool {
    let count = st.field("ToleratedFailureCount").and_then(Value::as_u64);
    let percentage = st.field("ToleratedFailurePercentage").and_then(Value::as_f64);
    let items = result.as_array().map(Vec::len).unwrap_or(0).max(1) as f64;
    match (count, percentage) {
        (None, None) => failed > 0,
        (c, p) => c.is_some_and(|c| failed > c) || p.is_some_and(|p| failed as f64 * 100.0 / items > p),
    }
}

/// A machine of the tested state alone, every state it can go to a Succeed (so the run
/// stops there); and the tested state as parsed.
fn machine_around(state_name: &str, state_doc: &Value, language: Option<Value>) -> Result<(Value, Arc<State>), AwsError> {
    let mut states = Map::new();
    states.insert(state_name.to_string(), state_doc.clone());
    let mut targets: Vec<String> = Vec::new();
    for field in ["Next", "Default"] {
        if let Some(n) = state_doc.get(field).and_then(Value::as_str) {
            targets.push(n.to_string());
        }
    }
    for list in ["Choices", "Catch"] {
        for c in state_doc.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = c.get("Next").and_then(Value::as_str) {
                targets.push(n.to_string());
            }
        }
    }
    for t in &targets {
        if t != state_name {
            states.insert(t.clone(), json!({ "Type": "Succeed" }));
        }
    }
    let mut machine = json!({ "StartAt": state_name, "States": states });
    if let Some(l) = language {
        machine["QueryLanguage"] = l;
    }
    let def = machine_definition(&machine)?;
    let st = def.states.get(state_name).cloned().ok_or_else(|| errors::invalid_definition(format!("The state '{state_name}' is not in the definition")))?;
    Ok((machine, st))
}

fn machine_definition(machine: &Value) -> Result<Arc<crate::definition::Definition>, AwsError> {
    let (def, _) = definition::parse(&machine.to_string()).map_err(|d| errors::invalid_definition(definition::invalid_message(&d)))?;
    Ok(def)
}

/// `mock`: exactly one of `result` (JSON) and `errorOutput`.
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_MockInput.html>
fn mock_of(input: &Value) -> Result<Option<TaskResult>, AwsError> {
    let Some(m) = input.get("mock") else { return Ok(None) };
    if let Some(mode) = m.get("fieldValidationMode").and_then(Value::as_str) {
        if !matches!(mode, "STRICT" | "PRESENT" | "NONE") {
            return Err(errors::validation(format!("1 validation error detected: Value '{mode}' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]")));
        }
    }
    match (m.get("result").and_then(Value::as_str), m.get("errorOutput")) {
        (Some(_), Some(_)) => Err(errors::validation("A mock can have either a result or an errorOutput, not both")),
        (Some(r), None) => Ok(Some(TaskResult::Output(serde_json::from_str(r).map_err(|e| errors::validation(format!("The mock result must be valid JSON: {e}")))?))),
        (None, Some(e)) => Ok(Some(TaskResult::Failed { error: e.get("error").and_then(Value::as_str).unwrap_or_default().to_string(), cause: e.get("cause").and_then(Value::as_str).unwrap_or_default().to_string() })),
        (None, None) => Err(errors::validation("A mock must have a result or an errorOutput")),
    }
}

fn configuration_of(input: &Value) -> Result<Configuration, AwsError> {
    let Some(c) = input.get("stateConfiguration") else { return Ok(Configuration::default()) };
    let count = |field: &str| -> Result<Option<u64>, AwsError> {
        match c.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| errors::validation(format!("1 validation error detected: Value '{v}' at 'stateConfiguration.{field}' failed to satisfy constraint: Member must have value greater than or equal to 0"))),
        }
    };
    if c.get("mapItemReaderData").is_some() {
        return Err(errors::not_supported("stateConfiguration.mapItemReaderData"));
    }
    Ok(Configuration {
        retrier_retry_count: count("retrierRetryCount")?.unwrap_or(0),
        error_caused_by_state: c.get("errorCausedByState").and_then(Value::as_str).map(str::to_string),
        map_iteration_failure_count: count("mapIterationFailureCount")?,
    })
}

/// What TestState runs: without a mock it needs the role (a Task calls its integration with
/// it) and a state TestState can run through; activities, `.sync`, `.waitForTaskToken`,
/// Parallel and Map run only with a mock.
fn check_testable(st: &State, mock: Option<&TaskResult>, config: &Configuration, role: Option<&str>) -> Result<(), AwsError> {
    let resource = st.field("Resource").and_then(Value::as_str).unwrap_or_default();
    match &st.kind {
        Kind::Task | Kind::Parallel { .. } | Kind::Map { .. } => {}
        _ if mock.is_some() => return Err(errors::validation(format!("A mock can only be specified for Task, Map and Parallel states, not for a {} state", st.type_name()))),
        _ => {}
    }
    if mock.is_none() {
        let needs_mock = match &st.kind {
            Kind::Parallel { .. } => Some("Parallel states"),
            Kind::Map { .. } => Some("Map states"),
            Kind::Task if crate::arns::parse(resource).is_some_and(|a| a.kind == "activity") => Some("Activity tasks"),
            Kind::Task if resource.contains(".sync") => Some("the .sync integration pattern"),
            Kind::Task if resource.ends_with(".waitForTaskToken") => Some("the .waitForTaskToken integration pattern"),
            _ => None,
        };
        if let Some(what) = needs_mock {
            return Err(errors::validation(format!("TestState supports {what} only when a mock is specified")));
        }
        if matches!(st.kind, Kind::Task) && resource.starts_with("arn:aws:states:::http:invoke") {
            return Err(errors::not_supported("The HTTP Task (arn:aws:states:::http:invoke)"));
        }
        // "When you specify a mock, specifying the role becomes optional."
        // <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>
        if role.is_none() {
            return Err(errors::validation("The roleArn must be specified when no mock is specified"));
        }
    }
    if let Some(r) = role {
        crate::ops_machines::check_role(r)?;
    }
    if let Some(origin) = &config.error_caused_by_state {
        let inner: Vec<&str> = match &st.kind {
            Kind::Parallel { branches } => branches.iter().flat_map(|b| b.states.keys().map(String::as_str)).collect(),
            Kind::Map { processor, .. } => processor.states.keys().map(String::as_str).collect(),
            _ => return Err(errors::validation("The errorCausedByState can only be specified for Map and Parallel states")),
        };
        if !matches!(mock, Some(TaskResult::Failed { .. })) {
            return Err(errors::validation("The errorCausedByState can only be specified with a mocked errorOutput"));
        }
        if !inner.contains(&origin.as_str()) {
            return Err(errors::validation(format!("The errorCausedByState '{origin}' is not a state of the tested {} state", st.type_name())));
        }
    }
    if config.map_iteration_failure_count.is_some() && !matches!(st.kind, Kind::Map { .. }) {
        return Err(errors::validation("The mapIterationFailureCount can only be specified for Map states"));
    }
    Ok(())
}
