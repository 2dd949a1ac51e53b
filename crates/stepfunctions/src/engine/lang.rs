//! The two data languages as the interpreter calls them, with failures as a state's
//! `(error, cause)`: JSONPath (paths, `.$` templates, `ResultPath`, Choice rules) and
//! JSONata (`{% … %}` strings anywhere in a template, `$states`, variables).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>

use super::paths;
use nimbus_asl::Scope;
use serde_json::{Map, Value};

/// Why a state (or the execution) failed: Retry / Catch match on `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Failure {
        Failure { error: error.into(), cause: cause.into() }
    }

    pub fn runtime(cause: impl Into<String>) -> Failure {
        Failure::new("States.Runtime", cause)
    }
}

impl From<nimbus_asl::AslError> for Failure {
    fn from(e: nimbus_asl::AslError) -> Failure {
        Failure { error: e.error, cause: e.cause }
    }
}

pub struct JsonPath<'a> {
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
}

impl JsonPath<'_> {
    fn scope<'b>(&'b self, input: &'b Value) -> Scope<'b> {
        Scope { input, context: self.context, variables: self.variables }
    }

    pub fn select(&self, input: &Value, path: &str) -> Result<Value, Failure> {
        Ok(paths::select(&self.scope(input), path)?)
    }

    /// `InputPath` / `OutputPath`: `None` (a `null` path) is `{}`.
    pub fn filter(&self, input: &Value, path: Option<&str>) -> Result<Value, Failure> {
        match path {
            None => Ok(Value::Object(Map::new())),
            Some("$") => Ok(input.clone()),
            Some(p) => self.select(input, p),
        }
    }

    pub fn render(&self, template: &Value, input: &Value) -> Result<Value, Failure> {
        Ok(paths::render(template, &self.scope(input))?)
    }

    pub fn apply_result(&self, input: &Value, result_path: Option<&str>, result: Value) -> Result<Value, Failure> {
        Ok(paths::apply_result(input, result_path, result)?)
    }

    pub fn choice(&self, rule: &Value, input: &Value) -> Result<bool, Failure> {
        Ok(paths::choice_matches(rule, &self.scope(input))?)
    }

    /// `ItemsPath` (a miss is `States.ReferencePathConflict`).
    pub fn items(&self, input: &Value, path: &str) -> Result<Value, Failure> {
        Ok(paths::select_items(&self.scope(input), path)?)
    }
}

/// JSONata's evaluation environment: `$states` and the variables in scope.
pub struct Jsonata<'a> {
    pub states: &'a Value,
    pub variables: &'a Map<String, Value>,
    /// nimbus's clock, for `$now()` and `$millis()`.
    pub now_ms: u64,
}

impl Jsonata<'_> {
    /// Evaluates every `{% … %}` string of a template (objects and arrays walked).
    pub fn render(&self, template: &Value) -> Result<Value, Failure> {
        match template {
            Value::String(s) => match expression_of(s) {
                Some(expr) => self.eval(expr).map(|v| v.unwrap_or(Value::Null)),
                None => Ok(template.clone()),
            },
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    // A field whose expression is undefined is left out, as JSONata does.
                    if let Value::String(s) = v {
                        if let Some(expr) = expression_of(s) {
                            if let Some(x) = self.eval(expr)? {
                                out.insert(k.clone(), x);
                            }
                            continue;
                        }
                    }
                    out.insert(k.clone(), self.render(v)?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(a) => Ok(Value::Array(a.iter().map(|v| self.render(v)).collect::<Result<_, _>>()?)),
            other => Ok(other.clone()),
        }
    }

    /// One expression; `None` is JSONata's undefined. `$states` and the variables in
    /// scope are bound, with Step Functions' extra functions.
    pub fn eval(&self, expr: &str) -> Result<Option<Value>, Failure> {
        let parsed = nimbus_jsonata::Expr::parse(expr).map_err(|e| Failure::new("States.QueryEvaluationError", format!("The JSONata expression '{expr}' is not valid: {e}")))?;
        let mut bindings = nimbus_jsonata::Bindings::new();
        nimbus_jsonata::stepfunctions::register(&mut bindings);
        bindings.now(self.now_ms as i64);
        for (k, v) in self.variables {
            bindings.bind(k, v.clone());
        }
        bindings.bind("states", self.states.clone());
        let input = self.states.get("input").cloned().unwrap_or(Value::Null);
        parsed.evaluate(&input, &bindings).map_err(|e| Failure::new("States.QueryEvaluationError", format!("An error occurred while evaluating the expression '{expr}': {e}")))
    }
}

/// The expression inside `{% … %}`, if `s` is one.
pub fn expression_of(s: &str) -> Option<&str> {
    let t = s.trim();
    t.strip_prefix("{%").and_then(|r| r.strip_suffix("%}")).map(str::trim)
}
