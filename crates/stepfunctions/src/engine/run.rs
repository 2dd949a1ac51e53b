//! The interpreter: walks a set of states from `StartAt` (the machine, a Parallel branch,
//! a Map iteration), each state's input and output processed in its query language,
//! with Retry (backoff on nimbus's clock) and Catch, and the history events AWS writes
//! (`<Type>StateEntered` / `Exited`, `ParallelState*`, `MapState*`, `MapIteration*`);
//! a distributed Map's items run as child executions of a Map Run (see `map_run`).
//! A top-level state of a STANDARD execution records a [`Checkpoint`] as it is entered
//! (and as it waits or retries), which is where the execution resumes after a restart.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-statelang-errors.html>

use super::execution::{not_truncated, text, Running};
use super::lang::{expression_of, Failure, JsonPath, Jsonata};
use super::task::Call;
use super::Engine;
use crate::definition::{Catcher, Definition, Kind, QueryLanguage, Retrier, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The most events an execution's history holds.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html>
pub const MAX_EVENTS: u64 = 25_000;

/// Where a STANDARD execution is: the top-level state it is in and how far.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Checkpoint {
    pub state: String,
    pub input: Value,
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// The last event before the state was entered.
    pub prev: u64,
    pub entered_ms: u64,
    #[serde(default)]
    pub attempts: Vec<u64>,
    #[serde(default)]
    pub retry_count: u64,
    #[serde(default)]
    pub retry_at: Option<u64>,
    #[serde(default)]
    pub wait_until: Option<u64>,
    #[serde(default)]
    pub token: Option<String>,
    /// The answer SendTaskSuccess / SendTaskFailure gave on `token`
    /// (`{"output": …}` or `{"error", "cause"}`), recorded before the task heard it.
    #[serde(default)]
    pub outcome: Option<Value>,
    /// A redrive: the state is entered again (its Entered event written anew).
    #[serde(default)]
    pub reenter: bool,
}

/// One execution being interpreted.
pub struct Exec {
    pub engine: Arc<Engine>,
    pub running: Arc<Running>,
    /// `$$.Execution` and `$$.StateMachine`.
    pub execution_ctx: Value,
    pub machine_ctx: Value,
}

/// Where a set of states runs.
#[derive(Clone, Default)]
pub struct Frame {
    /// The machine's own states (checkpointed), not a branch or an iteration.
    pub top: bool,
}

type Outcome = (Result<Value, Failure>, u64);

/// A state's result: its output, the next state (`None`: the set ends), the variables
/// it assigned.
struct Step {
    output: Value,
    next: Option<String>,
    assigned: Option<Map<String, Value>>,
}

/// Whether a Retrier's or Catcher's `ErrorEquals` names an error.
pub fn error_matches(errors: &[String], error: &str) -> bool {
    errors.iter().any(|e| {
        e == error
            || (e == "States.ALL" && !matches!(error, "States.Runtime" | "States.DataLimitExceeded"))
            || (e == "States.TaskFailed" && !matches!(error, "States.Timeout" | "States.Runtime" | "States.DataLimitExceeded" | "States.HeartbeatTimeout") && !error.starts_with("States.Branch") && !error.starts_with("States.Exceed"))
    })
}

fn size_check(v: &Value, _what: &str, state: &str) -> Result<(), Failure> {
    Ok(super::paths::check_size(v, state)?)
}

/// Errors of the data languages: AWS prefixes their cause with where they happened.
fn is_data_error(error: &str) -> bool {
    matches!(error, "States.Runtime" | "States.ReferencePathConflict" | "States.IntrinsicFailure" | "States.QueryEvaluationError" | "States.ResultPathMatchFailure" | "States.ParameterPathFailure")
}

impl Exec {
    pub fn emit(&self, previous: u64, kind: &str, details: Option<(&str, Value)>) -> u64 {
        self.running.emit(&self.engine, previous, kind, details)
    }

    /// TestState's hook: records the value one data-flow step of the state under test
    /// produced (`afterInputPath`, `afterParameters`, `result`, …); nothing in an execution.
    fn inspect(&self, frame: &Frame, st: &State, step: &str, value: &Value) {
        if let (true, Some(t)) = (frame.top, &self.running.test) {
            if t.state != st.name {
                return;
            }
            t.inspection.lock().insert(step.to_string(), value.clone());
        }
    }

    fn context(&self, state: &str, entered_ms: u64, retry_count: u64, extra: Option<(&str, Value)>) -> Value {
        let mut ctx = Map::new();
        ctx.insert("Execution".into(), self.execution_ctx.clone());
        ctx.insert("StateMachine".into(), self.machine_ctx.clone());
        ctx.insert("State".into(), json!({ "EnteredTime": nimbus_core::time::iso8601_ms(entered_ms), "Name": state, "RetryCount": retry_count }));
        if let Some((k, v)) = extra {
            ctx.insert(k.into(), v);
        }
        Value::Object(ctx)
    }

    /// Runs a set of states from `StartAt` (or from a checkpoint) to its end.
    pub fn run_set(self: Arc<Self>, def: Arc<Definition>, input: Value, variables: Map<String, Value>, frame: Frame, prev: u64, resume: Option<Checkpoint>) -> Pin<Box<dyn Future<Output = Outcome> + Send>> {
        Box::pin(async move {
            let mut prev = prev;
            let mut vars = variables;
            let mut resume = resume;
            let (mut name, mut input) = match &resume {
                Some(c) => {
                    vars = c.variables.clone();
                    (c.state.clone(), c.input.clone())
                }
                None => (def.start_at.clone(), input),
            };
            let mut transitions = 0u32;
            loop {
                // A long run of states that never wait lets other tasks run now and then.
                transitions = transitions.wrapping_add(1);
                if transitions.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
                let Some(st) = def.states.get(&name).cloned() else {
                    return (Err(Failure::runtime(format!("The state '{name}' does not exist"))), prev);
                };
                match self.clone().state(&st, input, &mut vars, &frame, &mut prev, resume.take()).await {
                    Ok(Step { output, next: Some(n), .. }) => {
                        name = n;
                        input = output;
                    }
                    Ok(Step { output, next: None, .. }) => return (Ok(output), prev),
                    Err(f) => return (Err(f), prev),
                }
            }
        })
    }

    /// One state, from its Entered event to its Exited event (or its failure).
    async fn state(self: Arc<Self>, st: &Arc<State>, input: Value, vars: &mut Map<String, Value>, frame: &Frame, prev: &mut u64, resume: Option<Checkpoint>) -> Result<Step, Failure> {
        let ty = st.type_name();
        // AWS's quota: an execution's history holds at most 25,000 events.
        if self.running.last_event_id() >= MAX_EVENTS {
            return Err(Failure::runtime(format!("The execution reached the maximum number of history events ({MAX_EVENTS}) when entering the state '{}'", st.name)));
        }
        let entered_ms = resume.as_ref().filter(|c| !c.reenter).map(|c| c.entered_ms).unwrap_or_else(|| self.engine.clock.now_ms());
        match &resume {
            // Entered before the restart: the checkpoint is written after the Entered
            // event, in order, so that event is in the history; go on after it.
            Some(c) if !c.reenter => *prev = self.running.last_event_id(),
            _ => {
                let before = *prev;
                *prev = self.emit(*prev, &format!("{ty}StateEntered"), Some(("stateEnteredEventDetails", json!({ "name": st.name, "input": text(&input), "inputDetails": not_truncated() }))));
                if frame.top && self.running.durable() {
                    let cp = Checkpoint { state: st.name.clone(), input: input.clone(), variables: vars.clone(), prev: before, entered_ms, ..Default::default() };
                    self.running.checkpoint(&self.engine, serde_json::to_value(&cp).ok());
                }
            }
        }
        // A redriven state runs afresh once entered again.
        let resume = resume.filter(|c| !c.reenter);
        let checkpoint = resume.unwrap_or_else(|| Checkpoint { state: st.name.clone(), input: input.clone(), variables: vars.clone(), prev: *prev, entered_ms, ..Default::default() });
        let entered_event = *prev;
        let body = self.clone().body(st, &input, vars, frame, prev, checkpoint).await.map_err(|mut f| {
            if is_data_error(&f.error) && !f.cause.starts_with("An error occurred while executing the state") {
                f.cause = format!("An error occurred while executing the state '{}' (entered at the event id #{entered_event}). {}", st.name, f.cause);
            }
            f
        });
        let step = match body {
            Ok(step) => step,
            Err(f) => match st.catch.iter().find(|c| error_matches(&c.errors, &f.error)) {
                Some(c) => {
                    if frame.top {
                        *self.running.caught.lock() = Some((f.error.clone(), f.cause.clone()));
                    }
                    self.caught(st, c, &input, vars, f)?
                }
                None => return Err(f),
            },
        };
        size_check(&step.output, "output", &st.name)?;
        if !matches!(st.kind, Kind::Fail) {
            let mut d = Map::new();
            d.insert("name".into(), json!(st.name));
            d.insert("output".into(), json!(text(&step.output)));
            d.insert("outputDetails".into(), not_truncated());
            if let Some(a) = &step.assigned {
                d.insert("assignedVariables".into(), Value::Object(a.iter().map(|(k, v)| (k.clone(), json!(text(v)))).collect()));
                d.insert("assignedVariablesDetails".into(), not_truncated());
            }
            // A Choice's transition is decided by its rules; Succeed ends; others exit.
            *prev = self.emit(*prev, &format!("{ty}StateExited"), Some(("stateExitedEventDetails", Value::Object(d))));
        }
        if let Some(a) = &step.assigned {
            for (k, v) in a {
                vars.insert(k.clone(), v.clone());
            }
            self.inspect(frame, st, "variables", &Value::Object(vars.clone()));
        }
        Ok(step)
    }

    /// A failure a Catcher handles: its output (`ResultPath` / `Output` of the error
    /// output) and its `Next`.
    fn caught(&self, st: &State, c: &Catcher, input: &Value, vars: &Map<String, Value>, f: Failure) -> Result<Step, Failure> {
        let error_output = json!({ "Error": f.error, "Cause": f.cause });
        let ctx = self.context(&st.name, self.engine.clock.now_ms(), 0, None);
        match st.query_language {
            QueryLanguage::JsonPath => {
                let jp = JsonPath { context: &ctx, variables: vars };
                let result_path = match c.raw.get("ResultPath") {
                    None => Some("$".to_string()),
                    Some(Value::Null) => None,
                    Some(v) => v.as_str().map(str::to_string),
                };
                let output = jp.apply_result(input, result_path.as_deref(), error_output.clone())?;
                let assigned = match c.raw.get("Assign") {
                    Some(a) => Some(object(jp.render(a, &error_output)?)?),
                    None => None,
                };
                Ok(Step { output, next: Some(c.next.clone()), assigned })
            }
            QueryLanguage::Jsonata => {
                let states = json!({ "input": input, "context": ctx, "errorOutput": error_output });
                let ja = Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() };
                let assigned = match c.raw.get("Assign") {
                    Some(a) => Some(object(ja.render(a)?)?),
                    None => None,
                };
                let output = match c.raw.get("Output") {
                    Some(o) => ja.render(o)?,
                    None => error_output,
                };
                Ok(Step { output, next: Some(c.next.clone()), assigned })
            }
        }
    }

    /// What the state does, in its query language.
    async fn body(self: Arc<Self>, st: &Arc<State>, input: &Value, vars: &Map<String, Value>, frame: &Frame, prev: &mut u64, cp: Checkpoint) -> Result<Step, Failure> {
        let ctx = self.context(&st.name, cp.entered_ms, cp.retry_count, None);
        match st.query_language {
            QueryLanguage::JsonPath => self.body_jsonpath(st, input, vars, &ctx, frame, prev, cp).await,
            QueryLanguage::Jsonata => self.body_jsonata(st, input, vars, &ctx, frame, prev, cp).await,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn body_jsonpath(self: Arc<Self>, st: &Arc<State>, input: &Value, vars: &Map<String, Value>, ctx: &Value, frame: &Frame, prev: &mut u64, cp: Checkpoint) -> Result<Step, Failure> {
        let jp = JsonPath { context: ctx, variables: vars };
        let effective = jp.filter(input, st.path_field("InputPath", "$").as_deref())?;
        self.inspect(frame, st, "afterInputPath", &effective);
        let output_path = st.path_field("OutputPath", "$");
        let result_path = st.path_field("ResultPath", "$");
        let assign = |scope: &Value| -> Result<Option<Map<String, Value>>, Failure> {
            match st.field("Assign") {
                Some(a) => Ok(Some(object(jp.render(a, scope)?)?)),
                None => Ok(None),
            }
        };
        match &st.kind {
            Kind::Pass => {
                let result = match (st.field("Result"), st.field("Parameters")) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => jp.render(p, &effective)?,
                    (None, None) => effective.clone(),
                };
                self.inspect(frame, st, "afterParameters", &result);
                self.inspect(frame, st, "result", &result);
                let assigned = assign(&result)?;
                let out = jp.apply_result(input, result_path.as_deref(), result)?;
                self.inspect(frame, st, "afterResultPath", &out);
                Ok(Step { output: jp.filter(&out, output_path.as_deref())?, next: st.next.clone(), assigned })
            }
            Kind::Succeed => Ok(Step { output: jp.filter(&effective, output_path.as_deref())?, next: None, assigned: None }),
            Kind::Fail => {
                let pick = |field: &str, path_field: &str| -> Result<Option<String>, Failure> {
                    if let Some(v) = st.field(field).and_then(Value::as_str) {
                        return Ok(Some(v.to_string()));
                    }
                    match st.field(path_field).and_then(Value::as_str) {
                        Some(p) => match jp.select(input, p)? {
                            Value::String(s) => Ok(Some(s)),
                            other => Err(Failure::runtime(format!("The value of {path_field} must be a string, got {other}"))),
                        },
                        None => Ok(None),
                    }
                };
                let error = pick("Error", "ErrorPath")?.unwrap_or_default();
                let cause = pick("Cause", "CausePath")?.unwrap_or_default();
                Err(Failure::new(error, cause))
            }
            Kind::Choice { choices, default } => {
                let mut next = None;
                let mut rule_assign = None;
                for rule in choices {
                    if jp.choice(rule, &effective)? {
                        next = rule.get("Next").and_then(Value::as_str).map(str::to_string);
                        rule_assign = rule.get("Assign");
                        break;
                    }
                }
                let next = match next.or_else(|| default.clone()) {
                    Some(n) => n,
                    None => return Err(Failure::new("States.NoChoiceMatched", format!("No Choice Rules matched and no Default was specified for state '{}'.", st.name))),
                };
                // A matched rule's Assign, else the state's.
                let assigned = match rule_assign {
                    Some(a) => Some(object(jp.render(a, &effective)?)?),
                    None => assign(&effective)?,
                };
                Ok(Step { output: jp.filter(&effective, output_path.as_deref())?, next: Some(next), assigned })
            }
            Kind::Wait => {
                let until = match cp.wait_until {
                    Some(u) => u,
                    None => {
                        // Relative waits count from the moment the state was entered.
                        let now = cp.entered_ms;
                        if let Some(s) = st.field("Seconds").and_then(Value::as_u64) {
                            now + s * 1000
                        } else if let Some(t) = st.field("Timestamp").and_then(Value::as_str) {
                            timestamp(t)?
                        } else if let Some(p) = st.field("SecondsPath").and_then(Value::as_str) {
                            match jp.select(&effective, p)?.as_f64() {
                                Some(s) if s >= 0.0 => now + (s * 1000.0) as u64,
                                _ => return Err(Failure::runtime(format!("The SecondsPath parameter does not reference a valid integer value: {p}"))),
                            }
                        } else if let Some(p) = st.field("TimestampPath").and_then(Value::as_str) {
                            match jp.select(&effective, p)? {
                                Value::String(t) => timestamp(&t)?,
                                _ => return Err(Failure::runtime(format!("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p}"))),
                            }
                        } else {
                            now
                        }
                    }
                };
                self.wait_until(st, frame, &cp, until).await;
                let assigned = assign(&effective)?;
                Ok(Step { output: jp.filter(&effective, output_path.as_deref())?, next: st.next.clone(), assigned })
            }
            Kind::Task | Kind::Parallel { .. } | Kind::Map { .. } => {
                let raw = self.clone().with_retries(st, &effective, vars, ctx, frame, prev, cp, |exec, ctx, token| {
                    let ctx_with_token = with_token(ctx, token);
                    let jp = JsonPath { context: &ctx_with_token, variables: vars };
                    let parameters = match st.field("Parameters") {
                        Some(p) if !matches!(st.kind, Kind::Map { .. }) => jp.render(p, &effective)?,
                        _ => effective.clone(),
                    };
                    exec.inspect(frame, st, "afterParameters", &parameters);
                    Ok(parameters)
                })
                .await?;
                self.inspect(frame, st, "result", &raw);
                let result = match st.field("ResultSelector") {
                    Some(rs) => jp.render(rs, &raw)?,
                    None => raw,
                };
                self.inspect(frame, st, "afterResultSelector", &result);
                let assigned = assign(&result)?;
                let out = jp.apply_result(input, result_path.as_deref(), result)?;
                self.inspect(frame, st, "afterResultPath", &out);
                Ok(Step { output: jp.filter(&out, output_path.as_deref())?, next: st.next.clone(), assigned })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn body_jsonata(self: Arc<Self>, st: &Arc<State>, input: &Value, vars: &Map<String, Value>, ctx: &Value, frame: &Frame, prev: &mut u64, cp: Checkpoint) -> Result<Step, Failure> {
        let states = json!({ "input": input, "context": ctx });
        // `$now()` in the state's own fields is the time it was entered (a Wait's deadline
        // counts from there, whatever happens between).
        let ja = Jsonata { states: &states, variables: vars, now_ms: cp.entered_ms };
        let finish = |states: &Value, default_output: Value, next: Option<String>, assign_field: Option<&Value>, output_field: Option<&Value>| -> Result<Step, Failure> {
            let ja = Jsonata { states, variables: vars, now_ms: self.engine.clock.now_ms() };
            let assigned = match assign_field.or(st.field("Assign")) {
                Some(a) => Some(object(ja.render(a)?)?),
                None => None,
            };
            let output = match output_field.or(st.field("Output")) {
                Some(o) => ja.render(o)?,
                None => default_output,
            };
            Ok(Step { output, next, assigned })
        };
        match &st.kind {
            Kind::Pass => finish(&states, input.clone(), st.next.clone(), None, None),
            Kind::Succeed => finish(&states, input.clone(), None, None, None),
            Kind::Fail => {
                let pick = |field: &str| -> Result<String, Failure> {
                    match st.field(field) {
                        Some(v) => match ja.render(v)? {
                            Value::String(s) => Ok(s),
                            other => Err(Failure::new("States.QueryEvaluationError", format!("The {field} field must evaluate to a string, got {other}"))),
                        },
                        None => Ok(String::new()),
                    }
                };
                let (error, cause) = (pick("Error")?, pick("Cause")?);
                Err(Failure::new(error, cause))
            }
            Kind::Choice { choices, default } => {
                for rule in choices {
                    let cond = match rule.get("Condition") {
                        Some(c) => ja.render(c)?,
                        None => Value::Bool(false),
                    };
                    match cond {
                        Value::Bool(true) => return finish(&states, input.clone(), rule.get("Next").and_then(Value::as_str).map(str::to_string), rule.get("Assign"), rule.get("Output")),
                        Value::Bool(false) => {}
                        other => return Err(Failure::new("States.QueryEvaluationError", format!("The Condition field must evaluate to a boolean, got {other}"))),
                    }
                }
                match default {
                    Some(d) => finish(&states, input.clone(), Some(d.clone()), None, None),
                    None => Err(Failure::new("States.NoChoiceMatched", format!("No Choice Rules matched and no Default was specified for state '{}'.", st.name))),
                }
            }
            Kind::Wait => {
                let until = match cp.wait_until {
                    Some(u) => u,
                    None => {
                        let now = cp.entered_ms;
                        if let Some(s) = st.field("Seconds") {
                            match ja.render(s)?.as_f64() {
                                Some(x) if x >= 0.0 => now + (x * 1000.0) as u64,
                                _ => return Err(Failure::new("States.QueryEvaluationError", "The Seconds field must evaluate to a non-negative integer")),
                            }
                        } else if let Some(t) = st.field("Timestamp") {
                            match ja.render(t)? {
                                Value::String(t) => timestamp(&t)?,
                                _ => return Err(Failure::new("States.QueryEvaluationError", "The Timestamp field must evaluate to an ISO-8601 string")),
                            }
                        } else {
                            now
                        }
                    }
                };
                self.wait_until(st, frame, &cp, until).await;
                finish(&states, input.clone(), st.next.clone(), None, None)
            }
            Kind::Task | Kind::Parallel { .. } | Kind::Map { .. } => {
                let raw = self.clone().with_retries(st, input, vars, ctx, frame, prev, cp, |_, ctx, token| {
                    let ctx_with_token = with_token(ctx, token);
                    let states = json!({ "input": input, "context": ctx_with_token });
                    let ja = Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() };
                    let arguments = match st.field("Arguments") {
                        Some(a) if !matches!(st.kind, Kind::Map { .. }) => ja.render(a)?,
                        _ => input.clone(),
                    };
                    self.inspect(frame, st, "afterArguments", &arguments);
                    Ok(arguments)
                })
                .await?;
                self.inspect(frame, st, "result", &raw);
                let states = json!({ "input": input, "context": ctx, "result": raw });
                finish(&states, raw.clone(), st.next.clone(), None, None)
            }
        }
    }

    async fn wait_until(&self, st: &State, frame: &Frame, cp: &Checkpoint, until: u64) {
        if frame.top && self.running.durable() && cp.wait_until.is_none() {
            let mut c = cp.clone();
            c.state = st.name.clone();
            c.wait_until = Some(until);
            self.running.checkpoint(&self.engine, serde_json::to_value(&c).ok());
        }
        if self.running.test.is_some() {
            return;
        }
        self.engine.clock.sleep_until(until).await;
    }

    /// Task, Parallel and Map: attempts with the state's Retriers. `arguments` renders
    /// the attempt's arguments (with its task token in the context, if any).
    #[allow(clippy::too_many_arguments)]
    async fn with_retries(
        self: Arc<Self>,
        st: &Arc<State>,
        effective: &Value,
        vars: &Map<String, Value>,
        ctx: &Value,
        frame: &Frame,
        prev: &mut u64,
        cp: Checkpoint,
        arguments: impl Fn(&Arc<Self>, &Value, Option<&str>) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        let mut attempts = if cp.attempts.len() == st.retry.len() { cp.attempts.clone() } else { vec![0; st.retry.len()] };
        let mut retry_count = cp.retry_count;
        let mut resumed_token = cp.token.clone();
        if let Some(at) = cp.retry_at {
            self.engine.clock.sleep_until(at).await;
        }
        loop {
            let ctx = if retry_count > 0 { with_retry_count(ctx, retry_count) } else { ctx.clone() };
            let resumed = resumed_token.is_some();
            let token = match (&st.kind, resumed_token.take()) {
                (Kind::Task, Some(t)) => Some(t),
                (Kind::Task, None) if needs_token(st) => Some(super::task::new_token(&self.running.arn())),
                _ => None,
            };
            let attempt = match arguments(&self, &ctx, token.as_deref()) {
                Err(f) => Err(f),
                Ok(args) => {
                    if let Err(f) = size_check(&args, "input", &st.name) {
                        Err(f)
                    } else {
                        self.clone().attempt(st, args, effective, vars, &ctx, frame, prev, &cp, &attempts, retry_count, token, resumed).await
                    }
                }
            };
            let f = match attempt {
                Ok(v) => return Ok(v),
                Err(f) => f,
            };
            if self.running.test.is_some() {
                return Err(f);
            }
            let Some(i) = st.retry.iter().position(|r| error_matches(&r.errors, &f.error)) else { return Err(f) };
            let r: &Retrier = &st.retry[i];
            if attempts[i] >= r.max_attempts {
                return Err(f);
            }
            let mut delay = r.interval_seconds * r.backoff_rate.powi(attempts[i] as i32);
            if let Some(max) = r.max_delay_seconds {
                delay = delay.min(max);
            }
            if r.jitter_full {
                delay *= rand::random::<f64>();
            }
            attempts[i] += 1;
            retry_count += 1;
            // The interval counts from the failure (its event's time).
            let failed_at = self.running.history.lock().last().and_then(|e| e.get("timestamp")).and_then(Value::as_f64).map(|t| (t * 1000.0).round() as u64).unwrap_or_else(|| self.engine.clock.now_ms());
            let at = failed_at + (delay * 1000.0) as u64;
            if frame.top && self.running.durable() {
                let mut c = cp.clone();
                c.state = st.name.clone();
                c.attempts = attempts.clone();
                c.retry_count = retry_count;
                c.retry_at = Some(at);
                c.token = None;
                c.outcome = None;
                c.prev = *prev;
                self.running.checkpoint(&self.engine, serde_json::to_value(&c).ok());
            }
            self.engine.clock.sleep_until(at).await;
        }
    }

    /// One attempt of a Task, Parallel or Map.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        self: Arc<Self>,
        st: &Arc<State>,
        args: Value,
        effective: &Value,
        vars: &Map<String, Value>,
        ctx: &Value,
        frame: &Frame,
        prev: &mut u64,
        cp: &Checkpoint,
        attempts: &[u64],
        retry_count: u64,
        token: Option<String>,
        resumed: bool,
    ) -> Result<Value, Failure> {
        // TestState with a mock: the mock is the Task's, Parallel's or Map's result.
        if let (true, Some(mock)) = (frame.top, self.running.test.as_ref().and_then(|t| t.mock.clone())) {
            return match mock {
                crate::tasks::TaskResult::Output(v) => Ok(v),
                crate::tasks::TaskResult::Failed { error, cause } => Err(Failure::new(error, cause)),
            };
        }
        match &st.kind {
            Kind::Task => {
                let jp_seconds = |field: &str, path: &str| -> Result<Option<u64>, Failure> {
                    if let Some(v) = st.field(field) {
                        return match v {
                            Value::Number(n) => Ok(n.as_u64()),
                            Value::String(s) if expression_of(s).is_some() => {
                                let states = json!({ "input": effective, "context": ctx });
                                Ok(Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(v)?.as_u64())
                            }
                            _ => Ok(None),
                        };
                    }
                    match st.field(path).and_then(Value::as_str) {
                        Some(p) => match (JsonPath { context: ctx, variables: vars }).select(effective, p)?.as_u64() {
                            Some(n) if n >= 1 => Ok(Some(n)),
                            _ => Err(Failure::runtime(format!("The {path} parameter does not reference a valid positive integer: {p}"))),
                        },
                        None => Ok(None),
                    }
                };
                let timeout_s = jp_seconds("TimeoutSeconds", "TimeoutSecondsPath")?;
                let heartbeat_s = jp_seconds("HeartbeatSeconds", "HeartbeatSecondsPath")?;
                let resource = match st.field("Resource") {
                    Some(Value::String(r)) if expression_of(r).is_some() => {
                        let states = json!({ "input": effective, "context": ctx });
                        match (Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }).render(&Value::String(r.clone()))? {
                            Value::String(s) => s,
                            _ => return Err(Failure::runtime("The Resource field must evaluate to a string")),
                        }
                    }
                    Some(Value::String(r)) => r.clone(),
                    _ => return Err(Failure::runtime("The Task state has no Resource")),
                };
                // `Credentials`: the role the task's calls are made as — `RoleArn` (a JSONata
                // expression in JSONata states) or `RoleArn.$`, a path into the state's input.
                let role_arn = match st.field("Credentials") {
                    Some(c) => match (c.get("RoleArn"), c.get("RoleArn.$").and_then(Value::as_str)) {
                        (Some(Value::String(r)), _) if expression_of(r).is_some() => {
                            let states = json!({ "input": effective, "context": ctx });
                            match (Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }).render(&Value::String(r.clone()))? {
                                Value::String(s) => Some(s),
                                _ => return Err(Failure::runtime("The Credentials.RoleArn field must evaluate to a string")),
                            }
                        }
                        (Some(Value::String(r)), _) => Some(r.clone()),
                        (_, Some(path)) => match (JsonPath { context: ctx, variables: vars }).select(effective, path)? {
                            Value::String(s) => Some(s),
                            _ => return Err(Failure::runtime(format!("The Credentials.RoleArn.$ path does not reference a string: {path}"))),
                        },
                        _ => None,
                    },
                    None => None,
                };
                let top = frame.top && self.running.durable();
                let engine = self.engine.clone();
                let running = self.running.clone();
                let base = Checkpoint { state: st.name.clone(), attempts: attempts.to_vec(), retry_count, ..cp.clone() };
                let on_token = move |t: Option<&str>| {
                    if top {
                        let mut c = base.clone();
                        c.token = t.map(str::to_string);
                        c.outcome = None;
                        c.retry_at = None;
                        c.prev = running.last_event_id();
                        running.checkpoint(&engine, serde_json::to_value(&c).ok());
                    }
                };
                let outcome = if resumed { cp.outcome.as_ref().and_then(super::task::outcome_of) } else { None };
                let call = Call { state_name: &st.name, resource: &resource, timeout_s, heartbeat_s, token, resumed, role_arn, outcome };
                self.call_task(call, args, prev, &on_token).await
            }
            Kind::Parallel { branches } => {
                *prev = self.emit(*prev, "ParallelStateStarted", None);
                let mut set = tokio::task::JoinSet::new();
                for (i, b) in branches.iter().enumerate() {
                    let fut = self.clone().run_set(b.clone(), args.clone(), vars.clone(), Frame { top: false }, *prev, None);
                    set.spawn(async move { (i, fut.await) });
                }
                let mut results = vec![Value::Null; branches.len()];
                let mut last_branch_event = *prev;
                while let Some(joined) = set.join_next().await {
                    let Ok((i, (r, last))) = joined else { continue };
                    last_branch_event = last_branch_event.max(last);
                    match r {
                        Ok(v) => results[i] = v,
                        Err(f) => {
                            set.abort_all();
                            *prev = self.emit(self.running.last_event_id(), "ParallelStateFailed", None);
                            return Err(f);
                        }
                    }
                }
                // As AWS chains them: Succeeded and the state's Exited both follow the
                // branches' last event.
                self.emit(last_branch_event, "ParallelStateSucceeded", None);
                *prev = last_branch_event;
                Ok(Value::Array(results))
            }
            Kind::Map { processor, distributed } => {
                self.map(st, processor.clone(), *distributed, args, vars, ctx, prev).await
            }
            _ => Err(Failure::runtime("not a task")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn map(self: &Arc<Self>, st: &Arc<State>, processor: Arc<Definition>, distributed: bool, effective: Value, vars: &Map<String, Value>, ctx: &Value, prev: &mut u64) -> Result<Value, Failure> {
        if distributed {
            super::distributed_map::check_supported(st)?;
        }
        let jsonata = st.query_language == QueryLanguage::Jsonata;
        let states = json!({ "input": effective, "context": ctx });
        let number = |field: &str| -> Result<Option<f64>, Failure> {
            match st.field(field) {
                Some(v) if jsonata => Ok(Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(v)?.as_f64()),
                Some(v) => Ok(v.as_f64()),
                None => match st.field(&format!("{field}Path")).and_then(Value::as_str) {
                    Some(p) => Ok((JsonPath { context: ctx, variables: vars }).select(&effective, p)?.as_f64()),
                    None => Ok(None),
                },
            }
        };
        // A nested number (`ItemReader.ReaderConfig.MaxItems`, `ItemBatcher.MaxItemsPerBatch`):
        // a JSONata expression, a number, or its `…Path` in the state input.
        let nested = |field: &str, pointer: &str| -> Result<Option<f64>, Failure> {
            let Some(parent) = st.field(field) else { return Ok(None) };
            match parent.pointer(&format!("/{pointer}")) {
                Some(v) if jsonata => Ok(Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(v)?.as_f64()),
                Some(v) => Ok(v.as_f64()),
                None => match parent.pointer(&format!("/{pointer}Path")).and_then(Value::as_str) {
                    Some(p) => Ok((JsonPath { context: ctx, variables: vars }).select(&effective, p)?.as_f64()),
                    None => Ok(None),
                },
            }
        };
        let items = if jsonata {
            match st.field("Items") {
                Some(i) => Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(i)?,
                None => effective.clone(),
            }
        } else {
            let path = st.field("ItemsPath").and_then(Value::as_str).unwrap_or("$");
            (JsonPath { context: ctx, variables: vars }).items(&effective, path)?
        };
        let items = match st.field("ItemReader").filter(|_| distributed) {
            Some(reader) => {
                let params = reader.get(if jsonata { "Arguments" } else { "Parameters" }).cloned().unwrap_or(Value::Null);
                let params = if jsonata {
                    Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(&params)?
                } else {
                    (JsonPath { context: ctx, variables: vars }).render(&params, &effective)?
                };
                let arn = ctx.pointer("/Execution/Id").and_then(Value::as_str).unwrap_or_default();
                let role = self.running.record.lock().role_arn.clone();
                let mut read = super::distributed_map::read_items(&self.engine, st, params, arn, &role).await?;
                if let Some(max) = nested("ItemReader", "ReaderConfig/MaxItems")?.filter(|m| *m > 0.0) {
                    read.truncate(max as usize);
                }
                Value::Array(read)
            }
            None => items,
        };
        let Value::Array(items) = items else {
            return Err(Failure::runtime(format!("Map state input must be an array, got: {}", text(&items))));
        };
        let max_concurrency = number("MaxConcurrency")?.unwrap_or(0.0) as usize;
        let tolerated_count = number("ToleratedFailureCount")?;
        let tolerated_pct = number("ToleratedFailurePercentage")?;
        let selector = st.field("ItemSelector").or_else(|| if jsonata { None } else { st.field("Parameters") }).cloned();
        let item_context = |index: usize, item: &Value| {
            let mut c = ctx.clone();
            if let Some(o) = c.as_object_mut() {
                o.insert("Map".into(), json!({ "Item": { "Index": index, "Value": item } }));
            }
            c
        };
        let select = |sel: &Value, item_ctx: &Value| -> Result<Value, Failure> {
            if jsonata {
                let states = json!({ "input": effective, "context": item_ctx });
                Ok(Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(sel)?)
            } else {
                Ok((JsonPath { context: item_ctx, variables: vars }).render(sel, &effective)?)
            }
        };
        // A distributed Map selects each item, then batches them (ItemBatcher); the
        // iterations then see the finished inputs.
        let (items, selector) = if distributed {
            let mut selected = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                selected.push(match &selector {
                    None => item,
                    Some(sel) => select(sel, &item_context(index, &item))?,
                });
            }
            let batch_input = match st.field("ItemBatcher").and_then(|b| b.get("BatchInput")) {
                Some(b) => Some(select(b, ctx)?),
                None => None,
            };
            let limits = (nested("ItemBatcher", "MaxItemsPerBatch")?.map(|n| n as usize), nested("ItemBatcher", "MaxInputBytesPerBatch")?.map(|n| n as usize));
            (super::distributed_map::batch(st, selected, batch_input, limits)?, None)
        } else {
            (items, selector)
        };
        // A distributed Map runs its inputs as child executions of a Map Run.
        if distributed {
            let settings = super::map_run::Settings {
                max_concurrency: max_concurrency as u64,
                tolerated_failure_count: tolerated_count,
                tolerated_failure_percentage: tolerated_pct,
                writer_parameters: self.writer_parameters(st, &effective, vars, ctx)?,
            };
            return super::map_run::run(self, st, processor, items, settings, prev).await;
        }
        let n = items.len();
        *prev = self.emit(*prev, "MapStateStarted", Some(("mapStateStartedEventDetails", json!({ "length": n }))));
        let started = *prev;
        let semaphore = Arc::new(tokio::sync::Semaphore::new(if max_concurrency == 0 { tokio::sync::Semaphore::MAX_PERMITS } else { max_concurrency }));
        let mut set = tokio::task::JoinSet::new();
        // AWS chains each iteration's start to the previous iteration's last state event.
        let chain = Arc::new(parking_lot::Mutex::new(started));
        for (index, item) in items.into_iter().enumerate() {
            let item_input = match &selector {
                None => item,
                Some(sel) => select(sel, &item_context(index, &item))?,
            };
            let exec = self.clone();
            let processor = processor.clone();
            let vars = vars.clone();
            // Iterations start in index order, at most MaxConcurrency at once.
            let permit = semaphore.clone().acquire_owned().await;
            let name = st.name.clone();
            let chain = chain.clone();
            set.spawn(async move {
                let _permit = permit;
                let details = json!({ "name": name, "index": index });
                let from = *chain.lock();
                let p = exec.emit(from, "MapIterationStarted", Some(("mapIterationStartedEventDetails", details.clone())));
                let (r, last) = exec.clone().run_set(processor, item_input, vars, Frame { top: false }, p, None).await;
                *chain.lock() = last;
                let done = match &r {
                    Ok(_) => exec.emit(last, "MapIterationSucceeded", Some(("mapIterationSucceededEventDetails", details))),
                    Err(_) => exec.emit(last, "MapIterationFailed", Some(("mapIterationFailedEventDetails", details))),
                };
                (index, r, done)
            });
        }
        let mut results = vec![Value::Null; n];
        let mut failures = 0usize;
        let tolerates = tolerated_count.is_some() || tolerated_pct.is_some();
        let mut last_iteration_event = started;
        while let Some(joined) = set.join_next().await {
            let Ok((i, r, done)) = joined else { continue };
            last_iteration_event = last_iteration_event.max(done);
            match r {
                Ok(v) => results[i] = v,
                Err(f) => {
                    failures += 1;
                    let over_count = tolerated_count.is_none_or(|c| failures as f64 > c);
                    let over_pct = tolerated_pct.is_none_or(|p| (failures as f64) * 100.0 / (n.max(1) as f64) > p);
                    if !tolerates || (over_count && over_pct) {
                        set.abort_all();
                        *prev = self.emit(self.running.last_event_id(), "MapStateFailed", None);
                        return Err(if tolerates { Failure::new("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded") } else { f });
                    }
                    results[i] = json!({ "Error": f.error, "Cause": f.cause });
                }
            }
        }
        // Succeeded and the state's Exited both follow the last iteration's event.
        self.emit(last_iteration_event, "MapStateSucceeded", None);
        *prev = last_iteration_event;
        Ok(Value::Array(results))
    }

    /// The `ResultWriter`'s `Parameters` (`Arguments` in JSONata) rendered against the state input.
    fn writer_parameters(&self, st: &State, effective: &Value, vars: &Map<String, Value>, ctx: &Value) -> Result<Value, Failure> {
        let jsonata = st.query_language == QueryLanguage::Jsonata;
        let Some(params) = st.field("ResultWriter").and_then(|w| w.get(if jsonata { "Arguments" } else { "Parameters" })) else { return Ok(Value::Null) };
        if jsonata {
            let states = json!({ "input": effective, "context": ctx });
            Ok(Jsonata { states: &states, variables: vars, now_ms: self.engine.clock.now_ms() }.render(params)?)
        } else {
            Ok((JsonPath { context: ctx, variables: vars }).render(params, effective)?)
        }
    }
}

fn needs_token(st: &State) -> bool {
    st.field("Resource").and_then(Value::as_str).is_some_and(|r| r.ends_with(".waitForTaskToken") || crate::arns::parse(r).is_some_and(|a| a.kind == "activity"))
}

fn with_token(ctx: &Value, token: Option<&str>) -> Value {
    let mut c = ctx.clone();
    if let (Some(t), Some(o)) = (token, c.as_object_mut()) {
        o.insert("Task".into(), json!({ "Token": t }));
    }
    c
}

fn with_retry_count(ctx: &Value, n: u64) -> Value {
    let mut c = ctx.clone();
    if let Some(s) = c.get_mut("State").and_then(Value::as_object_mut) {
        s.insert("RetryCount".into(), json!(n));
    }
    c
}

fn object(v: Value) -> Result<Map<String, Value>, Failure> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(Failure::runtime(format!("Assign must evaluate to an object, got {other}"))),
    }
}

fn timestamp(t: &str) -> Result<u64, Failure> {
    super::paths::timestamp_ms(t).ok_or_else(|| Failure::runtime(format!("The timestamp '{t}' is not a valid ISO-8601 extended offset date-time format string")))
}
