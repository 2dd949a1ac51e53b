//! A state machine's definition (the Amazon States Language document): parsed into the
//! shape the engine walks, and checked the way CreateStateMachine and
//! ValidateStateMachineDefinition check it, with AWS's diagnostic codes
//! (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, …) and locations
//! (`/States/<name>/<field>`).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html>
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html>

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// A set of states: the whole machine, a Parallel branch or a Map's item processor.
#[derive(Debug)]
pub struct Definition {
    pub start_at: String,
    pub states: HashMap<String, Arc<State>>,
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub query_language: QueryLanguage,
    /// `None`: `End: true` (or a terminal type).
    pub next: Option<String>,
    /// The state's document as written, for the optional fields each step reads.
    pub raw: Map<String, Value>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

impl State {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }

    /// A path field (`InputPath`, `OutputPath`, `ResultPath`): absent → `Some("$")`
    /// (or `default`), `null` → `None`.
    pub fn path_field(&self, name: &str, default: &str) -> Option<String> {
        match self.raw.get(name) {
            None => Some(default.to_string()),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => Some(default.to_string()),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Pass => "Pass",
            Kind::Task => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }
}

#[derive(Debug)]
pub enum Kind {
    Pass,
    Task,
    Choice { choices: Vec<Value>, default: Option<String> },
    Wait,
    Succeed,
    Fail,
    Parallel { branches: Vec<Arc<Definition>> },
    Map { processor: Arc<Definition>, distributed: bool },
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter_full: bool,
}

#[derive(Debug, Clone)]
pub struct Catcher {
    pub errors: Vec<String>,
    pub next: String,
    pub raw: Map<String, Value>,
}

/// One finding, as ValidateStateMachineDefinition lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    pub location: String,
    pub warning: bool,
}

impl Diagnostic {
    fn error(code: &'static str, message: impl Into<String>, location: impl Into<String>) -> Diagnostic {
        Diagnostic { code, message: message.into(), location: location.into(), warning: false }
    }

    /// `CODE: message at /location`, as InvalidDefinition's message quotes it.
    pub fn text(&self) -> String {
        format!("{}: {} at {}", self.code, self.message, if self.location.is_empty() { "/" } else { &self.location })
    }
}

/// CreateStateMachine's InvalidDefinition message for a failed check.
pub fn invalid_message(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics.iter().filter(|d| !d.warning).map(Diagnostic::text).collect();
    format!("Invalid State Machine Definition: '{}'", errors.join(", "))
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const TRANSITION: &[&str] = &["Next", "End"];
const JSONPATH_IO: &[&str] = &["InputPath", "OutputPath"];
const JSONPATH_ONLY: &[&str] = &["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"];
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

fn allowed(kind: &str) -> Option<Vec<&'static str>> {
    let mut v: Vec<&'static str> = COMMON.to_vec();
    let extra: &[&[&str]] = match kind {
        "Pass" => &[TRANSITION, JSONPATH_IO, &["Parameters", "Result", "ResultPath", "Assign", "Output"]],
        "Task" => &[
            TRANSITION,
            JSONPATH_IO,
            &["Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Arguments", "Output", "Assign"],
        ],
        "Choice" => &[JSONPATH_IO, &["Choices", "Default", "Assign", "Output"]],
        "Wait" => &[TRANSITION, JSONPATH_IO, &["Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign", "Output"]],
        "Succeed" => &[JSONPATH_IO, &["Output"]],
        "Fail" => &[&["Error", "ErrorPath", "Cause", "CausePath"]],
        "Parallel" => &[TRANSITION, JSONPATH_IO, &["Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Arguments", "Output", "Assign"]],
        "Map" => &[
            TRANSITION,
            JSONPATH_IO,
            &[
                "Iterator",
                "ItemProcessor",
                "ItemsPath",
                "Items",
                "ItemSelector",
                "Parameters",
                "MaxConcurrency",
                "MaxConcurrencyPath",
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                "ItemReader",
                "ItemBatcher",
                "ResultWriter",
                "Label",
                "ResultSelector",
                "ResultPath",
                "Retry",
                "Catch",
                "Arguments",
                "Output",
                "Assign",
            ],
        ],
        _ => return None,
    };
    for e in extra {
        v.extend_from_slice(e);
    }
    Some(v)
}

/// Parses and checks a definition document. `Err` holds every error found (and warnings).
pub fn parse(text: &str) -> Result<(Arc<Definition>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(vec![Diagnostic::error("INVALID_JSON_DESCRIPTION", format!("{e}"), "")]),
    };
    let mut checker = Checker { diags: Vec::new(), names: HashSet::new() };
    let def = checker.machine(&doc, "", QueryLanguage::JsonPath, true);
    if checker.diags.iter().any(|d| !d.warning) {
        return Err(checker.diags);
    }
    match def {
        Some(d) => Ok((Arc::new(d), checker.diags)),
        None => Err(vec![Diagnostic::error("SCHEMA_VALIDATION_FAILED", "The definition is not valid", "")]),
    }
}

struct Checker {
    diags: Vec<Diagnostic>,
    /// State names are unique across the whole machine (branches included).
    names: HashSet<String>,
}

impl Checker {
    fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.diags.push(Diagnostic::error("SCHEMA_VALIDATION_FAILED", message, location));
    }

    fn machine(&mut self, doc: &Value, at: &str, inherited: QueryLanguage, top: bool) -> Option<Definition> {
        let Some(obj) = doc.as_object() else {
            self.schema("Expected value of type: Object", if at.is_empty() { "/" } else { at });
            return None;
        };
        let mut allowed_top = vec!["StartAt", "States", "Comment"];
        if top {
            allowed_top.extend(["TimeoutSeconds", "Version", "QueryLanguage"]);
        } else {
            allowed_top.push("ProcessorConfig");
        }
        for key in obj.keys() {
            if !allowed_top.contains(&key.as_str()) {
                self.schema(format!("These fields are not allowed: [{key}]"), if at.is_empty() { "/" } else { at });
            }
        }
        let language = match obj.get("QueryLanguage") {
            None => inherited,
            Some(v) => match v.as_str() {
                Some("JSONPath") => QueryLanguage::JsonPath,
                Some("JSONata") => QueryLanguage::Jsonata,
                _ => {
                    self.schema("Value is not a valid QueryLanguage. Valid values are: [JSONPath, JSONata]", format!("{at}/QueryLanguage"));
                    inherited
                }
            },
        };
        let timeout_seconds = match obj.get("TimeoutSeconds") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    self.schema("The value of the field 'TimeoutSeconds' must be a positive integer", format!("{at}/TimeoutSeconds"));
                    None
                }
            },
        };
        let start_at = match obj.get("StartAt") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.schema("The value of the field 'StartAt' must be a string", format!("{at}/StartAt"));
                None
            }
            None => {
                self.schema("These fields are required: [StartAt]", if at.is_empty() { "/" } else { at });
                None
            }
        };
        let states_doc = match obj.get("States") {
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.schema("The value of the field 'States' must be an object", format!("{at}/States"));
                None
            }
            None => {
                self.schema("These fields are required: [States]", if at.is_empty() { "/" } else { at });
                None
            }
        };
        let mut states = HashMap::new();
        if let Some(m) = states_doc {
            if m.is_empty() {
                self.schema("The field 'States' must contain at least one state", format!("{at}/States"));
            }
            for (name, s) in m {
                let loc = format!("{at}/States/{name}");
                if !self.names.insert(name.clone()) {
                    self.diags.push(Diagnostic::error("DUPLICATE_STATE_NAME", format!("Duplicate State name: {name}"), loc.clone()));
                }
                if name.is_empty() || name.chars().count() > 80 {
                    self.diags.push(Diagnostic::error("INVALID_STATE_NAME", format!("State name '{name}' must be 1 to 80 characters"), loc.clone()));
                }
                if let Some(state) = self.state(name, s, &loc, language) {
                    states.insert(name.clone(), Arc::new(state));
                }
            }
        }
        let start_at = start_at?;
        if states_doc.is_some_and(|m| !m.contains_key(&start_at)) {
            self.diags.push(Diagnostic::error("MISSING_TRANSITION_TARGET", format!("Missing 'Next' target: {start_at}"), format!("{at}/StartAt")));
        }
        // Transitions must name states of the same set; some state must end the set.
        let mut terminal = false;
        let names: HashSet<&String> = states.keys().collect();
        let mut missing = Vec::new();
        for (name, st) in &states {
            let mut targets: Vec<(String, String)> = Vec::new();
            if let Some(n) = &st.next {
                targets.push((n.clone(), format!("{at}/States/{name}/Next")));
            } else {
                terminal = true;
            }
            if let Kind::Choice { choices, default } = &st.kind {
                for (i, c) in choices.iter().enumerate() {
                    if let Some(n) = c.get("Next").and_then(Value::as_str) {
                        targets.push((n.to_string(), format!("{at}/States/{name}/Choices/{i}/Next")));
                    }
                }
                if let Some(d) = default {
                    targets.push((d.clone(), format!("{at}/States/{name}/Default")));
                }
            }
            for (i, c) in st.catch.iter().enumerate() {
                targets.push((c.next.clone(), format!("{at}/States/{name}/Catch/{i}/Next")));
            }
            for (target, loc) in targets {
                if !names.contains(&target) {
                    missing.push(Diagnostic::error("MISSING_TRANSITION_TARGET", format!("Missing 'Next' target: {target}"), loc));
                }
            }
        }
        missing.sort_by(|a, b| a.location.cmp(&b.location));
        self.diags.extend(missing);
        if !states.is_empty() && !terminal {
            self.diags.push(Diagnostic::error("MISSING_END_STATE", "Workflow has no terminal state", if at.is_empty() { "/".to_string() } else { at.to_string() }));
        }
        Some(Definition { start_at, states, timeout_seconds })
    }

    fn state(&mut self, name: &str, doc: &Value, at: &str, inherited: QueryLanguage) -> Option<State> {
        let Some(obj) = doc.as_object() else {
            self.schema("Expected value of type: Object", at);
            return None;
        };
        let Some(ty) = obj.get("Type").and_then(Value::as_str) else {
            self.schema("These fields are required: [Type]", at);
            return None;
        };
        let Some(fields) = allowed(ty) else {
            self.schema(format!("Value is not a valid state type: '{ty}'"), format!("{at}/Type"));
            return None;
        };
        let language = match obj.get("QueryLanguage").and_then(Value::as_str) {
            None => inherited,
            Some("JSONPath") => {
                if inherited == QueryLanguage::Jsonata {
                    self.schema("The QueryLanguage of a state cannot be JSONPath when the state machine's QueryLanguage is JSONata", format!("{at}/QueryLanguage"));
                }
                QueryLanguage::JsonPath
            }
            Some("JSONata") => QueryLanguage::Jsonata,
            Some(_) => {
                self.schema("Value is not a valid QueryLanguage. Valid values are: [JSONPath, JSONata]", format!("{at}/QueryLanguage"));
                inherited
            }
        };
        for key in obj.keys() {
            if !fields.contains(&key.as_str()) {
                self.schema(format!("Field '{key}' is not supported for state type '{ty}'"), format!("{at}/{key}"));
            } else if language == QueryLanguage::Jsonata && JSONPATH_ONLY.contains(&key.as_str()) {
                self.schema(format!("The field '{key}' is not supported for the JSONata query language"), format!("{at}/{key}"));
            } else if language == QueryLanguage::JsonPath && JSONATA_ONLY.contains(&key.as_str()) {
                self.schema(format!("The field '{key}' is supported only for the JSONata query language"), format!("{at}/{key}"));
            }
        }
        if language == QueryLanguage::JsonPath {
            self.jsonpath_fields(obj, at, ty);
        }
        let transitions = fields.contains(&"Next");
        let next = if transitions {
            let end = obj.get("End");
            match (obj.get("Next"), end) {
                (Some(Value::String(n)), None) => Some(n.clone()),
                (None, Some(Value::Bool(true))) => None,
                (Some(_), Some(_)) => {
                    self.schema("Only one of 'Next' or 'End' is allowed", at);
                    None
                }
                (Some(_), None) => {
                    self.schema("The value of the field 'Next' must be a string", format!("{at}/Next"));
                    None
                }
                _ => {
                    self.schema("Exactly one of 'Next' or 'End' is required", at);
                    None
                }
            }
        } else {
            None
        };
        let retry = if obj.contains_key("Retry") { self.retriers(obj.get("Retry"), &format!("{at}/Retry")) } else { Vec::new() };
        let catch = if obj.contains_key("Catch") { self.catchers(obj.get("Catch"), &format!("{at}/Catch")) } else { Vec::new() };
        let kind = match ty {
            "Pass" => Kind::Pass,
            "Task" => {
                match obj.get("Resource") {
                    Some(Value::String(r)) if language == QueryLanguage::Jsonata || r.starts_with("arn:") => {
                        if !r.starts_with("arn:") && !r.starts_with("{%") {
                            self.diags.push(Diagnostic::error("INVALID_RESOURCE", format!("Value is not a valid resource ARN: {r}"), format!("{at}/Resource")));
                        }
                    }
                    Some(Value::String(r)) => self.diags.push(Diagnostic::error("SCHEMA_VALIDATION_FAILED", format!("Value is not a valid resource ARN: {r}"), format!("{at}/Resource"))),
                    Some(_) => self.schema("The value of the field 'Resource' must be a string", format!("{at}/Resource")),
                    None => self.schema("These fields are required: [Resource]", at),
                }
                for f in ["TimeoutSeconds", "HeartbeatSeconds"] {
                    if let Some(v) = obj.get(f) {
                        let ok = v.as_u64().is_some_and(|n| n >= 1) || (language == QueryLanguage::Jsonata && is_expression(v));
                        if !ok {
                            self.schema(format!("The value of the field '{f}' must be a positive integer"), format!("{at}/{f}"));
                        }
                    }
                }
                if obj.contains_key("TimeoutSeconds") && obj.contains_key("TimeoutSecondsPath") {
                    self.schema("Only one of 'TimeoutSeconds' or 'TimeoutSecondsPath' is allowed", at);
                }
                if obj.contains_key("HeartbeatSeconds") && obj.contains_key("HeartbeatSecondsPath") {
                    self.schema("Only one of 'HeartbeatSeconds' or 'HeartbeatSecondsPath' is allowed", at);
                }
                if let (Some(h), Some(t)) = (obj.get("HeartbeatSeconds").and_then(Value::as_u64), obj.get("TimeoutSeconds").and_then(Value::as_u64).or(Some(99_999_999))) {
                    if h >= t {
                        self.schema("The value of the field 'HeartbeatSeconds' must be smaller than the value of the field 'TimeoutSeconds'", format!("{at}/HeartbeatSeconds"));
                    }
                }
                Kind::Task
            }
            "Choice" => {
                let choices = match obj.get("Choices") {
                    Some(Value::Array(a)) if !a.is_empty() => a.clone(),
                    Some(_) => {
                        self.schema("The field 'Choices' must be a non-empty array", format!("{at}/Choices"));
                        Vec::new()
                    }
                    None => {
                        self.schema("These fields are required: [Choices]", at);
                        Vec::new()
                    }
                };
                for (i, c) in choices.iter().enumerate() {
                    let loc = format!("{at}/Choices/{i}");
                    if !c.get("Next").is_some_and(Value::is_string) {
                        self.schema("These fields are required: [Next]", loc.clone());
                    }
                    if language == QueryLanguage::Jsonata && c.get("Condition").is_none() {
                        self.schema("These fields are required: [Condition]", loc);
                    } else if language == QueryLanguage::JsonPath && c.get("Condition").is_some() {
                        self.schema("The field 'Condition' is supported only for the JSONata query language", loc);
                    }
                }
                Kind::Choice { choices, default: obj.get("Default").and_then(Value::as_str).map(str::to_string) }
            }
            "Wait" => {
                let n = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"].iter().filter(|f| obj.contains_key(**f)).count();
                if n != 1 {
                    self.schema("Exactly one of 'Seconds', 'SecondsPath', 'Timestamp' or 'TimestampPath' is required", at);
                }
                if let Some(v) = obj.get("Seconds") {
                    if !(v.as_u64().is_some() || (language == QueryLanguage::Jsonata && is_expression(v))) {
                        self.schema("The value of the field 'Seconds' must be a non-negative integer", format!("{at}/Seconds"));
                    }
                }
                if let Some(Value::String(t)) = obj.get("Timestamp") {
                    if !t.starts_with("{%") && nimbus_asl::timestamp::parse_rfc3339(t).is_none() {
                        self.schema("The value of the field 'Timestamp' must be an ISO-8601 extended offset date-time format string", format!("{at}/Timestamp"));
                    }
                }
                Kind::Wait
            }
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail,
            "Parallel" => {
                let mut branches = Vec::new();
                match obj.get("Branches") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, b) in a.iter().enumerate() {
                            if let Some(d) = self.machine(b, &format!("{at}/Branches[{i}]"), language, false) {
                                branches.push(Arc::new(d));
                            }
                        }
                    }
                    _ => self.schema("These fields are required: [Branches]", at),
                }
                Kind::Parallel { branches }
            }
            "Map" => {
                let (field, doc) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
                    (Some(p), None) => ("ItemProcessor", p),
                    (None, Some(i)) => ("Iterator", i),
                    (Some(_), Some(_)) => {
                        self.schema("Only one of 'ItemProcessor' or 'Iterator' is allowed", at);
                        return None;
                    }
                    (None, None) => {
                        self.schema("These fields are required: [ItemProcessor]", at);
                        return None;
                    }
                };
                let distributed = doc.pointer("/ProcessorConfig/Mode").and_then(Value::as_str) == Some("DISTRIBUTED");
                if let Some(mode) = doc.pointer("/ProcessorConfig/Mode") {
                    if !matches!(mode.as_str(), Some("INLINE" | "DISTRIBUTED")) {
                        self.schema("Value is not a valid Mode. Valid values are: [INLINE, DISTRIBUTED]", format!("{at}/{field}/ProcessorConfig/Mode"));
                    }
                }
                // A distributed Map's children are STANDARD or EXPRESS workflows.
                if distributed && !matches!(doc.pointer("/ProcessorConfig/ExecutionType").and_then(Value::as_str), Some("STANDARD" | "EXPRESS")) {
                    self.schema("Value is not a valid ExecutionType. Valid values are: [STANDARD, EXPRESS]", format!("{at}/{field}/ProcessorConfig/ExecutionType"));
                }
                if let Some(p) = obj.get("ToleratedFailurePercentage") {
                    if !p.as_f64().is_some_and(|x| (0.0..=100.0).contains(&x)) && !is_expression(p) {
                        self.schema("The value of the field 'ToleratedFailurePercentage' must be a number between 0 and 100", format!("{at}/ToleratedFailurePercentage"));
                    }
                }
                if let Some(c) = obj.get("MaxConcurrency") {
                    if c.as_u64().is_none() && !is_expression(c) {
                        self.schema("The value of the field 'MaxConcurrency' must be a non-negative integer", format!("{at}/MaxConcurrency"));
                    }
                }
                if let Some(w) = obj.get("ResultWriter") {
                    if !distributed {
                        self.schema("The field 'ResultWriter' is only allowed when the ItemProcessor's ProcessorConfig.Mode is DISTRIBUTED", format!("{at}/ResultWriter"));
                    }
                    for message in crate::engine::result_writer::definition_errors(w, language == QueryLanguage::Jsonata) {
                        self.schema(message, format!("{at}/ResultWriter"));
                    }
                }
                let processor = self.machine(doc, &format!("{at}/{field}"), language, false)?;
                Kind::Map { processor: Arc::new(processor), distributed }
            }
            _ => return None,
        };
        Some(State { name: name.to_string(), kind, query_language: language, next, raw: obj.clone(), retry, catch })
    }

    /// JSONPath fields: paths, reference paths, templates and Choice rules, checked by
    /// `nimbus-asl` with AWS's texts.
    fn jsonpath_fields(&mut self, obj: &Map<String, Value>, at: &str, ty: &str) {
        for f in ["InputPath", "OutputPath"] {
            if let Some(Value::String(p)) = obj.get(f) {
                if let Err(e) = nimbus_asl::path::validate_path(p) {
                    self.schema(e, format!("{at}/{f}"));
                }
            }
        }
        for f in ["ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath"] {
            if let Some(Value::String(p)) = obj.get(f) {
                if let Err(e) = nimbus_asl::path::validate_reference_path(p) {
                    self.schema(e, format!("{at}/{f}"));
                }
            }
        }
        if let Some(Value::String(p)) = obj.get("ResultPath") {
            if let Err(e) = nimbus_asl::path::validate_result_path(p) {
                self.schema(e, format!("{at}/ResultPath"));
            }
        }
        for f in ["Parameters", "ResultSelector", "ItemSelector", "Assign"] {
            if let Some(t) = obj.get(f) {
                if ty == "Pass" && f == "Parameters" && !t.is_object() {
                    continue;
                }
                if let Err(e) = nimbus_asl::template::validate(t) {
                    self.schema(e, format!("{at}/{f}"));
                }
            }
        }
        // Warnings (ValidateStateMachineDefinition only): a path without `.$`, a path in
        // a Pass state's static Result.
        for f in ["Parameters", "ResultSelector", "ItemSelector"] {
            if let Some(t) = obj.get(f) {
                self.no_dollar(t, &format!("{at}/{f}"));
            }
        }
        if ty == "Pass" && obj.get("Result").is_some_and(has_dollar_key) {
            self.diags.push(Diagnostic { code: "PASS_RESULT_IS_STATIC", message: "The Result of a Pass state is static: its '.$' fields are not evaluated (use Parameters)".into(), location: format!("{at}/Result"), warning: true });
        }
        if ty == "Choice" {
            if let Some(Value::Array(rules)) = obj.get("Choices") {
                for (i, r) in rules.iter().enumerate() {
                    if let Err(e) = nimbus_asl::choice::Rule::parse(r) {
                        self.schema(e, format!("{at}/Choices/{i}"));
                    }
                }
            }
        }
    }

    fn no_dollar(&mut self, template: &Value, at: &str) {
        match template {
            Value::Object(m) => {
                for (k, v) in m {
                    if k.ends_with(".$") {
                        continue;
                    }
                    match v {
                        Value::String(text) if text.starts_with("$.") || text.starts_with("$$.") || text.starts_with("States.") => {
                            self.diags.push(Diagnostic { code: "NO_DOLLAR", message: format!("The value of the field '{k}' looks like a JSONPath or an intrinsic function, but the field's name does not end with '.$'"), location: format!("{at}/{k}"), warning: true });
                        }
                        other => self.no_dollar(other, &format!("{at}/{k}")),
                    }
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    self.no_dollar(v, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn error_list(&mut self, v: Option<&Value>, at: &str) -> Vec<String> {
        match v.and_then(Value::as_array) {
            Some(a) if !a.is_empty() && a.iter().all(Value::is_string) => {
                let list: Vec<String> = a.iter().filter_map(Value::as_str).map(str::to_string).collect();
                if list.iter().any(|e| e == "States.ALL") && list.len() > 1 {
                    self.schema("'States.ALL' must appear alone in the field 'ErrorEquals'", format!("{at}/ErrorEquals"));
                }
                list
            }
            _ => {
                self.schema("These fields are required: [ErrorEquals]", at);
                Vec::new()
            }
        }
    }

    fn retriers(&mut self, v: Option<&Value>, at: &str) -> Vec<Retrier> {
        let Some(list) = v.and_then(Value::as_array) else {
            self.schema("The value of the field 'Retry' must be an array", at);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let loc = format!("{at}/{i}");
            let errors = self.error_list(r.get("ErrorEquals"), &loc);
            let num = |f: &str| r.get(f).and_then(Value::as_f64);
            let interval = num("IntervalSeconds").unwrap_or(1.0);
            if r.get("IntervalSeconds").is_some() && r["IntervalSeconds"].as_u64().is_none_or(|n| n < 1) {
                self.schema("The value of the field 'IntervalSeconds' must be a positive integer", format!("{loc}/IntervalSeconds"));
            }
            let backoff = num("BackoffRate").unwrap_or(2.0);
            if backoff < 1.0 {
                self.schema("The value of the field 'BackoffRate' must be a number greater than or equal to 1.0", format!("{loc}/BackoffRate"));
            }
            let max_attempts = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
            if r.get("MaxAttempts").is_some_and(|m| m.as_u64().is_none()) {
                self.schema("The value of the field 'MaxAttempts' must be a non-negative integer", format!("{loc}/MaxAttempts"));
            }
            let jitter = match r.get("JitterStrategy").map(|j| j.as_str()) {
                None | Some(Some("NONE")) => false,
                Some(Some("FULL")) => true,
                _ => {
                    self.schema("Value is not a valid JitterStrategy. Valid values are: [FULL, NONE]", format!("{loc}/JitterStrategy"));
                    false
                }
            };
            out.push(Retrier { errors, interval_seconds: interval, max_attempts, backoff_rate: backoff, max_delay_seconds: num("MaxDelaySeconds"), jitter_full: jitter });
        }
        out
    }

    fn catchers(&mut self, v: Option<&Value>, at: &str) -> Vec<Catcher> {
        let Some(list) = v.and_then(Value::as_array) else {
            self.schema("The value of the field 'Catch' must be an array", at);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let loc = format!("{at}/{i}");
            let errors = self.error_list(c.get("ErrorEquals"), &loc);
            let Some(next) = c.get("Next").and_then(Value::as_str) else {
                self.schema("These fields are required: [Next]", loc);
                continue;
            };
            out.push(Catcher { errors, next: next.to_string(), raw: c.as_object().cloned().unwrap_or_default() });
        }
        out
    }
}

fn has_dollar_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || has_dollar_key(v)),
        Value::Array(a) => a.iter().any(has_dollar_key),
        _ => false,
    }
}

/// A JSONata `{% … %}` string.
pub fn is_expression(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let t = s.trim();
        t.starts_with("{%") && t.ends_with("%}")
    })
}

/// Every Task resource in the machine (nested sets included), with its location.
pub fn resources(def: &Definition, at: &str, out: &mut Vec<(String, String)>) {
    for (name, st) in &def.states {
        match &st.kind {
            Kind::Task => {
                if let Some(r) = st.field("Resource").and_then(Value::as_str) {
                    out.push((r.to_string(), format!("{at}/States/{name}/Resource")));
                }
            }
            Kind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    resources(b, &format!("{at}/States/{name}/Branches[{i}]"), out);
                }
            }
            Kind::Map { processor, .. } => resources(processor, &format!("{at}/States/{name}/ItemProcessor"), out),
            _ => {}
        }
    }
}

/// Whether any Map in the machine is DISTRIBUTED.
pub fn has_distributed_map(def: &Definition) -> Option<String> {
    for (name, st) in &def.states {
        match &st.kind {
            Kind::Map { distributed: true, .. } => return Some(name.clone()),
            Kind::Map { processor, .. } => {
                if let Some(n) = has_distributed_map(processor) {
                    return Some(n);
                }
            }
            Kind::Parallel { branches } => {
                for b in branches {
                    if let Some(n) = has_distributed_map(b) {
                        return Some(n);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_chain_parses() {
        let (def, warnings) = parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Succeed"}}}"#).expect("valid");
        assert!(warnings.is_empty());
        assert_eq!(def.start_at, "A");
        assert_eq!(def.states["A"].next.as_deref(), Some("B"));
    }

    #[test]
    fn warnings_do_not_fail_the_definition() {
        let (_, warnings) = parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x":"$.y"},"Next":"B"},"B":{"Type":"Pass","Result":{"z.$":"$.q"},"End":true}}}"#).expect("valid");
        let codes: Vec<&str> = warnings.iter().map(|d| d.code).collect();
        assert_eq!(codes.len(), 2);
        assert!(codes.contains(&"NO_DOLLAR") && codes.contains(&"PASS_RESULT_IS_STATIC"));
        assert!(warnings.iter().all(|d| d.warning));
        assert!(warnings.iter().any(|d| d.location == "/States/A/Parameters/x"));
    }

    #[test]
    fn errors_carry_codes_and_locations() {
        let err = parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"}}}"#).expect_err("invalid");
        assert_eq!(invalid_message(&err), "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next, MISSING_END_STATE: Workflow has no terminal state at /'");
        let err = parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}"#).expect_err("invalid");
        assert_eq!(err[0].code, "SCHEMA_VALIDATION_FAILED");
        assert_eq!(err[0].location, "/States/A/Foo");
        let err = parse("{").expect_err("invalid");
        assert_eq!(err[0].code, "INVALID_JSON_DESCRIPTION");
    }
}
