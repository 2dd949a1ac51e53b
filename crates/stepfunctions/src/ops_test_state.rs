//! TestState: one state run on its own, in memory (no execution is recorded), answering its
//! output, its next state and how it ended: SUCCEEDED, FAILED, CAUGHT_ERROR (a Catcher
//! handled the error) or RETRIABLE (a Retrier would retry it; TestState does not wait).
//! Wait states do not wait; a Task answers `mock.result` / `mock.errorOutput` when given.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>

use crate::definition::{self, Kind};
use crate::engine::execution::{ExecutionRecord, Running, TestMode};
use crate::engine::run::{error_matches, Exec, Frame};
use crate::engine::Engine;
use crate::errors;
use crate::service::{req, s};
use crate::tasks::TaskResult;
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub async fn test_state(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let text = req(input, "definition")?;
    let doc: Value = serde_json::from_str(text).map_err(|e| errors::invalid_definition(format!("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e} at /'")))?;
    // A state on its own, or a whole machine and the `stateName` to test in it.
    let (state_name, state_doc, language) = if doc.get("States").is_some() {
        let name = s(input, "stateName").ok_or_else(|| errors::validation("The stateName must be specified when the definition is a state machine"))?;
        let st = doc.pointer(&format!("/States/{}", name.replace('~', "~0").replace('/', "~1"))).cloned().ok_or_else(|| errors::validation(format!("The state '{name}' is not in the definition")))?;
        (name.to_string(), st, doc.get("QueryLanguage").cloned())
    } else {
        (s(input, "stateName").unwrap_or("TestState").to_string(), doc.clone(), None)
    };
    let mut states = Map::new();
    states.insert(state_name.clone(), state_doc.clone());
    // Every state it can go to becomes a Succeed, so the run stops there.
    let mut targets: Vec<String> = Vec::new();
    if let Some(n) = state_doc.get("Next").and_then(Value::as_str) {
        targets.push(n.to_string());
    }
    if let Some(n) = state_doc.get("Default").and_then(Value::as_str) {
        targets.push(n.to_string());
    }
    for list in ["Choices", "Catch"] {
        for c in state_doc.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = c.get("Next").and_then(Value::as_str) {
                targets.push(n.to_string());
            }
        }
    }
    for t in &targets {
        if t != &state_name {
            states.insert(t.clone(), json!({ "Type": "Succeed" }));
        }
    }
    let mut machine = json!({ "StartAt": state_name, "States": states });
    if let Some(l) = language {
        machine["QueryLanguage"] = l;
    }
    let (def, _) = definition::parse(&machine.to_string()).map_err(|d| errors::invalid_definition(definition::invalid_message(&d)))?;
    let st = def.states.get(&state_name).cloned().ok_or_else(|| errors::validation("no state"))?;
    if matches!(st.kind, Kind::Task) && st.field("Resource").and_then(Value::as_str).is_some_and(|r| crate::arns::parse(r).is_some_and(|a| a.kind == "activity")) {
        return Err(errors::validation("TestState does not support activity tasks"));
    }
    if matches!(st.kind, Kind::Map { distributed: true, .. }) {
        return Err(errors::not_supported("TestState of a distributed Map"));
    }
    let state_input: Value = match s(input, "input") {
        Some(t) => serde_json::from_str(t).map_err(|e| errors::invalid_input(format!("Invalid State Machine Execution Input: '{e}'")))?,
        None => json!({}),
    };
    let variables: Map<String, Value> = match s(input, "variables") {
        Some(t) => serde_json::from_str(t).map_err(|e| errors::validation(format!("The variables must be a JSON object: {e}")))?,
        None => Map::new(),
    };
    let mock = match input.get("mock") {
        None => None,
        Some(m) => match (m.get("result").and_then(Value::as_str), m.get("errorOutput")) {
            (Some(r), _) => Some(TaskResult::Output(serde_json::from_str(r).map_err(|e| errors::validation(format!("The mock result must be JSON: {e}")))?)),
            (None, Some(e)) => Some(TaskResult::Failed { error: e.get("error").and_then(Value::as_str).unwrap_or_default().to_string(), cause: e.get("cause").and_then(Value::as_str).unwrap_or_default().to_string() }),
            _ => None,
        },
    };
    let now = engine.clock.now_ms();
    let name = nimbus_core::ids::uuid();
    let role = s(input, "roleArn").unwrap_or_default().to_string();
    let arn = crate::arns::express_execution(&ctx.region, &ctx.account_id, "TestState", &name, &name);
    let record = ExecutionRecord {
        arn: arn.clone(),
        name,
        machine_arn: crate::arns::machine(&ctx.region, &ctx.account_id, "TestState"),
        machine_name: "TestState".into(),
        version_arn: None,
        alias_arn: None,
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        express: true,
        role_arn: role.clone(),
        definition: machine.to_string(),
        revision_id: String::new(),
        updated_ms: now,
        input: state_input.to_string(),
        output: None,
        status: "RUNNING".into(),
        error: None,
        cause: None,
        start_ms: now,
        stop_ms: None,
        trace_header: None,
        trace_segment: None,
        logging: None,
        tracing: None,
        checkpoint: None,
        redrive_count: 0,
        redrive_ms: None,
        redrive_checkpoint: None,
        map_run_arn: None,
        label: None,
    };
    let mut running = Running::new(record, Vec::new());
    running.test = Some(TestMode { mock });
    let running = Arc::new(running);
    let exec = Arc::new(Exec {
        engine: engine.arc(),
        running: running.clone(),
        execution_ctx: json!({ "Id": arn, "Input": state_input, "Name": "TestState", "RoleArn": role, "StartTime": nimbus_core::time::iso8601_ms(now), "RedriveCount": 0 }),
        machine_ctx: json!({ "Id": "TestState", "Name": "TestState" }),
    });
    let (result, _) = exec.clone().run_set(def, state_input.clone(), variables, Frame { top: true }, 0, None).await;
    let history = running.history.lock().clone();
    let entered: Vec<&str> = history.iter().filter_map(|e| e.pointer("/stateEnteredEventDetails/name").and_then(Value::as_str)).collect();
    let next_state = entered.get(1).map(|s| s.to_string());
    let mut out = Map::new();
    match result {
        Ok(v) => {
            let caught = running.caught.lock().clone();
            match caught {
                Some((error, cause)) if st.retry.iter().any(|r| error_matches(&r.errors, &error)) => {
                    out.insert("status".into(), json!("RETRIABLE"));
                    out.insert("error".into(), json!(error));
                    out.insert("cause".into(), json!(cause));
                }
                Some((error, cause)) => {
                    out.insert("status".into(), json!("CAUGHT_ERROR"));
                    out.insert("error".into(), json!(error));
                    out.insert("cause".into(), json!(cause));
                    out.insert("output".into(), json!(v.to_string()));
                }
                None => {
                    out.insert("status".into(), json!("SUCCEEDED"));
                    out.insert("output".into(), json!(v.to_string()));
                }
            }
            if let Some(n) = next_state.filter(|_| out["status"] != json!("RETRIABLE")) {
                out.insert("nextState".into(), json!(n));
            }
        }
        Err(f) => {
            let retriable = st.retry.iter().any(|r| error_matches(&r.errors, &f.error));
            out.insert("status".into(), json!(if retriable { "RETRIABLE" } else { "FAILED" }));
            out.insert("error".into(), json!(f.error));
            out.insert("cause".into(), json!(f.cause));
        }
    }
    if matches!(s(input, "inspectionLevel"), Some("DEBUG" | "TRACE")) {
        out.insert("inspectionData".into(), json!({ "input": state_input.to_string() }));
    }
    Ok(Value::Object(out))
}
