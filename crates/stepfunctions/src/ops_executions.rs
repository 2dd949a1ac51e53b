//! Executions: StartExecution (name idempotency as AWS: the same name and input of a
//! running execution answers it again), StartSyncExecution (EXPRESS), DescribeExecution,
//! StopExecution, ListExecutions (of a machine, or of a Map Run: see `ops_map_runs`),
//! GetExecutionHistory, DescribeStateMachineForExecution (a Map Run's child: its
//! `mapRunArn` and `label`).
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html>

use crate::engine::execution::{not_truncated, ExecutionRecord, Running};
use crate::engine::Engine;
use crate::errors;
use crate::ops_machines::check_arn;
use crate::service::{page, page_answer, paginate, req, s, secs};
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const MAX_INPUT: usize = 256 * 1024;

pub async fn start(engine: &Engine, ctx: &RequestContext, input: &Value, sync: bool) -> Result<Value, AwsError> {
    let target = req(input, "stateMachineArn")?;
    check_arn(target, &["stateMachine"])?;
    let name = match s(input, "name") {
        Some(n) => {
            if !crate::arns::valid_name(n) {
                return Err(errors::invalid_name(n));
            }
            n.to_string()
        }
        None => nimbus_core::ids::uuid(),
    };
    let input_text = s(input, "input").unwrap_or("{}").to_string();
    if input_text.len() > MAX_INPUT {
        return Err(errors::invalid_input(format!("Invalid State Machine Execution Input: 'The input exceeds the maximum size of {MAX_INPUT} bytes'")));
    }
    if let Err(e) = serde_json::from_str::<Value>(&input_text) {
        return Err(errors::invalid_input(format!("Invalid State Machine Execution Input: '{e}'")));
    }
    // The machine, version or alias (an alias routes to one of its versions by weight).
    let (machine, version_arn, alias_arn, def) = {
        let reg = engine.registry.read();
        let (target_arn, alias_arn) = match reg.aliases.get(target) {
            Some(a) => {
                let total: u64 = a.routing.iter().map(|(_, w)| w).sum();
                let mut pick = rand::random::<u64>() % total.max(1);
                let mut chosen = a.routing[0].0.clone();
                for (v, w) in &a.routing {
                    if pick < *w {
                        chosen = v.clone();
                        break;
                    }
                    pick -= w;
                }
                (chosen, Some(a.arn.clone()))
            }
            None => (target.to_string(), None),
        };
        let Some(m) = reg.machines.get(&target_arn).cloned() else {
            return Err(errors::machine_missing(target));
        };
        let Some(def) = reg.parsed.get(&target_arn).cloned() else {
            return Err(errors::machine_missing(target));
        };
        let version_arn = m.version.is_some().then(|| m.arn.clone());
        let base = match &m.machine_arn {
            Some(b) => reg.machines.get(b).cloned().unwrap_or(m.clone()),
            None => m.clone(),
        };
        (Machine { base, defn: m }, version_arn, alias_arn, def)
    };
    let express = machine.defn.express();
    if sync && !express {
        return Err(errors::type_not_supported("This operation is not supported by standard state machines"));
    }
    let now = engine.clock.now_ms();
    let arn = if express {
        crate::arns::express_execution(&machine.base.region, &machine.base.account, &machine.base.name, &name, &nimbus_core::ids::uuid())
    } else {
        crate::arns::execution(&machine.base.region, &machine.base.account, &machine.base.name, &name)
    };
    // Name idempotency (STANDARD): a running execution with the same input is answered again.
    if !express {
        let existing = engine.running.lock().get(&arn).map(|r| r.record.lock().clone());
        let existing = match existing {
            Some(r) => Some(r),
            None => engine.store.execution(&arn).map_err(AwsError::internal)?.and_then(|row| serde_json::from_value::<ExecutionRecord>(row.doc).ok()),
        };
        if let Some(r) = existing {
            if r.status == "RUNNING" && r.input == input_text {
                return Ok(json!({ "executionArn": r.arn, "startDate": secs(r.start_ms) }));
            }
            return Err(errors::execution_exists(&arn));
        }
    }
    let traced = crate::engine::xray::start(machine.base.tracing.as_ref(), s(input, "traceHeader"), ctx, now);
    let record = ExecutionRecord {
        arn: arn.clone(),
        name: name.clone(),
        machine_arn: machine.base.arn.clone(),
        machine_name: machine.base.name.clone(),
        version_arn: version_arn.clone(),
        alias_arn: alias_arn.clone(),
        account: machine.base.account.clone(),
        region: machine.base.region.clone(),
        express,
        role_arn: machine.defn.role_arn.clone(),
        definition: machine.defn.definition.clone(),
        revision_id: machine.defn.revision_id.clone(),
        updated_ms: machine.defn.updated_ms,
        input: input_text.clone(),
        status: "RUNNING".into(),
        start_ms: now,
        trace_header: traced.header,
        trace_segment: traced.segment,
        logging: machine.base.logging.clone(),
        tracing: machine.base.tracing.clone(),
        ..Default::default()
    };
    let running = Arc::new(Running::new(record.clone(), Vec::new()));
    {
        let mut all = engine.running.lock();
        if all.contains_key(&arn) {
            return Err(errors::execution_exists(&arn));
        }
        all.insert(arn.clone(), running.clone());
    }
    let mut started = Map::new();
    started.insert("input".into(), json!(input_text));
    started.insert("inputDetails".into(), not_truncated());
    started.insert("roleArn".into(), json!(record.role_arn));
    if let Some(v) = &version_arn {
        started.insert("stateMachineVersionArn".into(), json!(v));
    }
    if let Some(a) = &alias_arn {
        started.insert("stateMachineAliasArn".into(), json!(a));
    }
    if !express {
        // The record first, then its first event: both durable before the answer.
        let p = engine.store.put_execution(record.row());
        running.emit(engine, 0, "ExecutionStarted", Some(("executionStartedEventDetails", Value::Object(started))));
        if let Err(e) = p.wait().await {
            engine.running.lock().remove(&arn);
            return Err(AwsError::internal(e));
        }
    } else {
        running.emit(engine, 0, "ExecutionStarted", Some(("executionStartedEventDetails", Value::Object(started))));
    }
    let handle = engine.arc().launch(running, def, None);
    if !sync {
        return Ok(json!({ "executionArn": arn, "startDate": secs(now) }));
    }
    let finished = handle.await.map_err(|e| AwsError::internal(e.to_string()))?;
    let stop = engine.clock.now_ms();
    let mut out = json!({
        "executionArn": arn,
        "stateMachineArn": machine.base.arn,
        "name": name,
        "startDate": secs(now),
        "stopDate": secs(stop),
        "status": finished.status,
        "input": input_text,
        "inputDetails": { "included": true },
        "billingDetails": { "billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": (stop - now).max(100).div_ceil(100) * 100 },
    });
    if let Some(o) = &finished.output {
        out["output"] = json!(crate::engine::execution::text(o));
        out["outputDetails"] = json!({ "included": true });
    }
    if let Some(e) = &finished.error {
        out["error"] = json!(e);
    }
    if let Some(c) = &finished.cause {
        out["cause"] = json!(c);
    }
    if let Some(t) = s(input, "traceHeader") {
        out["traceHeader"] = json!(t);
    }
    Ok(out)
}

struct Machine {
    /// The machine itself (name, ARN, logging).
    base: crate::engine::Machine,
    /// What runs: the machine or the version.
    defn: crate::engine::Machine,
}

/// An execution's record: the running one's, else the stored one.
fn record(engine: &Engine, arn: &str) -> Result<ExecutionRecord, AwsError> {
    let parsed = check_arn(arn, &["execution", "express"])?;
    if parsed.kind == "express" {
        if let Some(r) = engine.running.lock().get(arn) {
            return Ok(r.record.lock().clone());
        }
        // Only a Map Run's EXPRESS children are kept once ended (AWS describes those alone).
        let row = engine.store.execution(arn).map_err(AwsError::internal)?.ok_or_else(|| errors::execution_missing(arn))?;
        return serde_json::from_value(row.doc).map_err(|e| AwsError::internal(e.to_string()));
    }
    if let Some(r) = engine.running.lock().get(arn) {
        return Ok(r.record.lock().clone());
    }
    let row = engine.store.execution(arn).map_err(AwsError::internal)?.ok_or_else(|| errors::execution_missing(arn))?;
    serde_json::from_value(row.doc).map_err(|e| AwsError::internal(e.to_string()))
}

pub fn describe(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    let r = record(engine, arn)?;
    let mut out = json!({
        "executionArn": r.arn,
        "stateMachineArn": r.machine_arn,
        "name": r.name,
        "status": r.status,
        "startDate": secs(r.start_ms),
        "input": r.input,
        "inputDetails": { "included": true },
        "redriveCount": r.redrive_count,
    });
    if let Some(t) = r.stop_ms {
        out["stopDate"] = secs(t);
    }
    if let Some(o) = &r.output {
        out["output"] = json!(o);
        out["outputDetails"] = json!({ "included": true });
    }
    if let Some(e) = &r.error {
        out["error"] = json!(e);
    }
    if let Some(c) = &r.cause {
        out["cause"] = json!(c);
    }
    if let Some(v) = &r.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    if let Some(a) = &r.alias_arn {
        out["stateMachineAliasArn"] = json!(a);
    }
    if let Some(t) = &r.trace_header {
        out["traceHeader"] = json!(t);
    }
    if let Some(m) = &r.map_run_arn {
        out["mapRunArn"] = json!(m);
    }
    let (status, reason) = redrive_status(&r);
    out["redriveStatus"] = json!(status);
    if let Some(reason) = reason {
        out["redriveStatusReason"] = json!(reason);
    }
    if let Some(t) = r.redrive_ms {
        out["redriveDate"] = secs(t);
    }
    Ok(out)
}

/// Whether RedriveExecution can take the execution, and why not.
fn redrive_status(r: &ExecutionRecord) -> (&'static str, Option<String>) {
    match r.status.as_str() {
        "RUNNING" | "SUCCEEDED" => ("NOT_REDRIVABLE", Some(format!("Execution is {} and cannot be redriven", r.status))),
        _ if r.redrive_checkpoint.is_some() => ("REDRIVABLE", None),
        _ => ("NOT_REDRIVABLE", Some("Execution has no state to be redriven from".into())),
    }
}

/// RedriveExecution: a FAILED, ABORTED or TIMED_OUT STANDARD execution goes on from the
/// state it ended in.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html>
pub async fn redrive(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    let parsed = check_arn(arn, &["execution", "express"])?;
    if parsed.kind == "express" {
        return Err(AwsError::new("ExecutionNotRedrivable", 400, format!("Execution with arn {arn} cannot be redriven: Express executions cannot be redriven")));
    }
    if engine.store.execution(arn).map_err(AwsError::internal)?.is_none() && !engine.running.lock().contains_key(arn) {
        return Err(errors::execution_missing(arn));
    }
    match engine.arc().redrive(arn).await {
        Ok(ms) => Ok(json!({ "redriveDate": secs(ms) })),
        Err(reason) => Err(AwsError::new("ExecutionNotRedrivable", 400, format!("Execution with arn {arn} cannot be redriven: {reason}"))),
    }
}

pub async fn stop(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    check_arn(arn, &["execution", "express"])?;
    let running = engine.running.lock().get(arn).cloned();
    let Some(running) = running else {
        // A closed execution: AWS answers its stop date.
        let r = record(engine, arn)?;
        return Ok(json!({ "stopDate": secs(r.stop_ms.unwrap_or(r.start_ms)) }));
    };
    let mut done = running.done.subscribe();
    let _ = running.stop.send(Some((s(input, "error").map(str::to_string), s(input, "cause").map(str::to_string))));
    while done.borrow().is_none() {
        if done.changed().await.is_err() {
            break;
        }
    }
    let stop_ms = running.record.lock().stop_ms.unwrap_or_else(|| engine.clock.now_ms());
    Ok(json!({ "stopDate": secs(stop_ms) }))
}

pub fn list(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    // A Map Run's child executions (either a mapRunArn or a stateMachineArn, not both).
    if input.get("mapRunArn").is_some() {
        if input.get("stateMachineArn").is_some() {
            return Err(errors::validation("Only one of stateMachineArn and mapRunArn can be specified"));
        }
        return crate::ops_map_runs::list_children(engine, input);
    }
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let (start, max) = page(input, 100)?;
    let status = s(input, "statusFilter");
    let redrive_filter = s(input, "redriveFilter");
    let (machine_arn, only_version, only_alias) = {
        let reg = engine.registry.read();
        if let Some(a) = reg.aliases.get(arn) {
            (a.machine_arn.clone(), None, Some(arn.to_string()))
        } else {
            let m = reg.machines.get(arn).ok_or_else(|| errors::machine_missing(arn))?;
            if m.express() {
                return Err(errors::type_not_supported("This operation is not supported by this type of state machine"));
            }
            match &m.machine_arn {
                Some(base) => (base.clone(), Some(arn.to_string()), None),
                None => (arn.to_string(), None, None),
            }
        }
    };
    // Only the page is read from the store unless a filter the table does not index
    // (version, alias, redrive) applies.
    let paged_in_sql = only_version.is_none() && only_alias.is_none() && redrive_filter.is_none();
    let rows = if paged_in_sql {
        engine.store.executions_page(&machine_arn, status, start, max + 1).map_err(AwsError::internal)?
    } else {
        engine.store.executions_of(&machine_arn, status).map_err(AwsError::internal)?
    };
    let items: Vec<Value> = rows
        .into_iter()
        .filter_map(|row| {
            let rec = engine.current_record(row)?;
            if status.is_some_and(|s| s != rec.status) {
                return None;
            }
            match redrive_filter {
                Some("REDRIVEN") if rec.redrive_count == 0 => return None,
                Some("NOT_REDRIVEN") if rec.redrive_count > 0 => return None,
                _ => {}
            }
            if only_version.as_ref().is_some_and(|v| rec.version_arn.as_ref() != Some(v)) || only_alias.as_ref().is_some_and(|a| rec.alias_arn.as_ref() != Some(a)) {
                return None;
            }
            let mut item = json!({ "executionArn": rec.arn, "stateMachineArn": rec.machine_arn, "name": rec.name, "status": rec.status, "startDate": secs(rec.start_ms), "redriveCount": rec.redrive_count });
            if let Some(t) = rec.redrive_ms {
                item["redriveDate"] = secs(t);
            }
            if let Some(t) = rec.stop_ms {
                item["stopDate"] = secs(t);
            }
            if let Some(v) = rec.version_arn {
                item["stateMachineVersionArn"] = json!(v);
            }
            if let Some(a) = rec.alias_arn {
                item["stateMachineAliasArn"] = json!(a);
            }
            Some(item)
        })
        .collect();
    let (items, next) = if paged_in_sql {
        let more = items.len() > max;
        let page: Vec<Value> = items.into_iter().take(max).collect();
        let next = more.then(|| crate::service::encode_token(start + page.len()));
        (page, next)
    } else {
        paginate(items, start, max)
    };
    Ok(page_answer("executions", items, next))
}

pub fn history(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    let parsed = check_arn(arn, &["execution", "express"])?;
    if parsed.kind == "express" {
        return Err(errors::type_not_supported("This operation is not supported by EXPRESS state machines"));
    }
    let (start, max) = page(input, 100)?;
    let running = engine.running.lock().get(arn).cloned();
    let mut events = match running {
        Some(r) => r.history.lock().clone(),
        None => {
            if engine.store.execution(arn).map_err(AwsError::internal)?.is_none() {
                return Err(errors::execution_missing(arn));
            }
            engine.store.history(arn).map_err(AwsError::internal)?
        }
    };
    if input.get("reverseOrder").and_then(Value::as_bool).unwrap_or(false) {
        events.reverse();
    }
    if !input.get("includeExecutionData").and_then(Value::as_bool).unwrap_or(true) {
        for ev in &mut events {
            strip_data(ev);
        }
    }
    let (events, next) = paginate(events, start, max);
    Ok(page_answer("events", events, next))
}

/// `includeExecutionData: false`: inputs, outputs and parameters left out.
fn strip_data(ev: &mut Value) {
    if let Some(obj) = ev.as_object_mut() {
        for (k, d) in obj.iter_mut() {
            if !k.ends_with("EventDetails") {
                continue;
            }
            if let Some(d) = d.as_object_mut() {
                for f in ["input", "output", "parameters", "inputDetails", "outputDetails", "assignedVariables", "assignedVariablesDetails"] {
                    d.remove(f);
                }
            }
        }
    }
}

pub fn describe_machine_for(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    let r = record(engine, arn)?;
    let mut out = json!({
        "stateMachineArn": r.version_arn.clone().unwrap_or_else(|| r.machine_arn.clone()),
        "name": r.machine_name,
        "definition": r.definition,
        "roleArn": r.role_arn,
        "updateDate": secs(r.updated_ms),
        "revisionId": r.revision_id,
        "loggingConfiguration": r.logging.clone().unwrap_or_else(|| json!({ "level": "OFF", "includeExecutionData": false })),
        "tracingConfiguration": r.tracing.clone().unwrap_or_else(|| json!({ "enabled": false })),
    });
    // A distributed Map's child: the Map Run that started it and its label.
    if let (Some(m), Some(l)) = (&r.map_run_arn, &r.label) {
        out["mapRunArn"] = json!(m);
        out["label"] = json!(l);
    }
    Ok(out)
}
