//! Payload templates of the JSONPath query language: `Parameters`, `ResultSelector`,
//! `ItemSelector` and `Assign`. A key ending in `.$` takes the value its string selects — a
//! path (`$.x`, `$$.Execution.Id`, `$var.x`) or an intrinsic function call — under the key
//! without the suffix; every other key is copied, and nested objects and arrays are rendered
//! the same way.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-example.html>

use crate::{intrinsics, path, AslError, Scope};
use serde_json::{Map, Value};

/// Renders `template` against the scope.
pub fn render(template: &Value, scope: &Scope) -> Result<Value, AslError> {
    match template {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, value) in map {
                match key.strip_suffix(".$").filter(|name| !name.is_empty()) {
                    Some(name) => {
                        out.insert(name.to_string(), resolve(key, value, scope)?);
                    }
                    None => {
                        out.insert(key.clone(), render(value, scope)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items.iter().map(|item| render(item, scope)).collect::<Result<_, _>>().map(Value::Array),
        other => Ok(other.clone()),
    }
}

fn resolve(key: &str, value: &Value, scope: &Scope) -> Result<Value, AslError> {
    let Some(expr) = value.as_str() else { return Err(AslError::runtime(not_a_string(key, value))) };
    if intrinsics::parser::looks_like_call(expr) {
        intrinsics::eval_for(expr.trim(), scope, key)
    } else {
        path::select_for(scope, expr, key)
    }
}

/// Definition check of a template: every `.$` value is a string holding a valid path or a
/// valid intrinsic function call. The error is AWS's text; the caller adds where it is
/// (" at /States/<name>/Parameters").
pub fn validate(template: &Value) -> Result<(), String> {
    match template {
        Value::Object(map) => {
            for (key, value) in map {
                if key.strip_suffix(".$").is_some_and(|name| !name.is_empty()) {
                    validate_field(key, value)?;
                } else {
                    validate(value)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(validate),
        _ => Ok(()),
    }
}

/// A `.$` value that is not a string.
fn not_a_string(key: &str, value: &Value) -> String {
    let kind = match value {
        Value::Null => "a NULL",
        Value::Bool(_) => "a BOOLEAN",
        Value::Number(_) => "a NUMBER",
        Value::String(_) => "a STRING",
        Value::Array(_) => "an ARRAY",
        Value::Object(_) => "an OBJECT",
    };
    format!("The value for the field '{key}' must be a STRING that contains a JSONPath but was {kind}")
}

fn validate_field(key: &str, value: &Value) -> Result<(), String> {
    let invalid = || format!("The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call");
    let Some(expr) = value.as_str() else { return Err(not_a_string(key, value)) };
    let ok = if intrinsics::parser::looks_like_call(expr) {
        intrinsics::validate(expr.trim()).is_ok()
    } else {
        path::validate_path(expr).is_ok()
    };
    if ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with<T>(input: Value, f: impl FnOnce(&Scope) -> T) -> T {
        let context = json!({"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1", "Name": "run-1"}, "Map": {"Item": {"Index": 3, "Value": {"id": "i-3"}}}});
        let mut vars = Map::new();
        vars.insert("customer".into(), json!({"name": "Ana"}));
        f(&Scope { input: &input, context: &context, variables: &vars })
    }

    // input-output-inputpath-params: the Parameters example.
    #[test]
    fn inputpath_params_page_parameters_example() {
        let input = json!({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]});
        let template = json!({
            "comment": "Example for Parameters.",
            "product": {
                "details": {"color": "blue", "size": "small", "material": "cotton"},
                "availability": "in stock",
                "sku": "2317",
                "cost": "$23"
            },
            "flagged.$": "$.flagged",
            "vals.$": "$.vals[0:2]"
        });
        let out = with(input, |s| render(&template, s)).unwrap();
        assert_eq!(out["flagged"], json!(7));
        assert_eq!(out["vals"], json!([0, 10]));
        assert_eq!(out["product"]["cost"], json!("$23"));
        assert!(out.get("flagged.$").is_none());
    }

    #[test]
    fn inputpath_params_context_object_variables_intrinsics_nested_and_arrays() {
        let template = json!({
            "execId.$": "$$.Execution.Id",
            "item.$": "$$.Map.Item.Value",
            "who.$": "$customer.name",
            "greeting.$": "States.Format('Hello, {}!', $customer.name)",
            "nested": {"deep.$": "$.a", "keep": "as is", "list": [{"x.$": "$.a"}, 1, "s"]},
            "plain": [1, 2]
        });
        let out = with(json!({"a": 1}), |s| render(&template, s)).unwrap();
        assert_eq!(
            out,
            json!({
                "execId": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
                "item": {"id": "i-3"},
                "who": "Ana",
                "greeting": "Hello, Ana!",
                "nested": {"deep": 1, "keep": "as is", "list": [{"x": 1}, 1, "s"]},
                "plain": [1, 2]
            })
        );
    }

    #[test]
    fn inputpath_params_missing_path_names_the_field() {
        let template = json!({"JobName.$": "$.JobName"});
        let err = with(json!({}), |s| render(&template, s)).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(err.cause, "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'");
        // A path inside an intrinsic's arguments is reported the same way.
        let template = json!({"x.$": "States.Array($.nope)"});
        let err = with(json!({"a": 1}), |s| render(&template, s)).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.starts_with("The JSONPath '$.nope' specified for the field 'x.$'"));
        // An intrinsic's own failure is States.IntrinsicFailure.
        let template = json!({"x.$": "States.ArrayGetItem($.a, 5)"});
        let err = with(json!({"a": [1]}), |s| render(&template, s)).unwrap_err();
        assert_eq!(err.error, "States.IntrinsicFailure");
    }

    #[test]
    fn definition_validation_of_templates() {
        assert!(validate(&json!({"a.$": "$.x", "b": {"c.$": "States.UUID()"}, "d": [{"e.$": "$$.Execution.Id"}], "f": "$.literal"})).is_ok());
        let err = validate(&json!({"a": {"b.$": "not a path"}})).unwrap_err();
        assert_eq!(err, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call");
        assert_eq!(
            validate(&json!({"a.$": 5})).unwrap_err(),
            "The value for the field 'a.$' must be a STRING that contains a JSONPath but was a NUMBER"
        );
        assert!(validate(&json!({"a.$": {"b": 1}})).unwrap_err().ends_with("but was an OBJECT"));
        assert!(validate(&json!({"a.$": "States.Nope($.x)"})).is_err());
        assert!(validate(&json!({"a.$": "States.UUID(1)"})).is_err());
        assert!(validate(&json!({"a.$": "States.Format('x'"})).is_err());
        assert!(validate(&json!({"a.$": "$.a["})).is_err());
    }
}
