//! What a target receives: the whole event, a constant `Input`, the part an `InputPath`
//! selects, or an `InputTransformer`'s template filled from `InputPathsMap`.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html>

use serde_json::Value;

/// A JSONPath of the simple form AWS documents for targets: `$`, `$.a.b`, `$.a[0].b`.
pub fn select<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.trim().strip_prefix('$')?;
    let mut cur = event;
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(r) = chars.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            chars = &r[end..];
        } else if let Some(r) = chars.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim_matches(|c| c == '\'' || c == '"');
            cur = match inner.parse::<usize>() {
                Ok(i) => cur.get(i)?,
                Err(_) => cur.get(inner)?,
            };
            chars = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

/// Whether a path has the accepted form (checked by PutTargets).
pub fn valid_path(path: &str) -> bool {
    let p = path.trim();
    p == "$" || (p.starts_with("$.") || p.starts_with("$[")) && !p.contains("..") && !p.ends_with('.')
}

/// Values a template may use besides its own paths.
pub struct Predefined<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    pub ingestion_time: &'a str,
}

/// Fills `<name>` placeholders. A string value inside a JSON template's quotes (or in a
/// plain-text template) is inserted escaped, elsewhere as its JSON text; a missing path becomes `null` (or
/// nothing inside quotes), as AWS does.
pub fn fill(template: &str, paths: &serde_json::Map<String, Value>, event: &Value, pre: &Predefined) -> String {
    let mut out = String::with_capacity(template.len());
    // A template that is not JSON (plain text) gets strings as they are.
    let plain = !matches!(template.trim_start().chars().next(), Some('{' | '[' | '"'));
    let mut rest = template;
    let mut in_string = false;
    let mut escaped = false;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest[1..].find('>') {
                let name = &rest[1..1 + end];
                if let Some(v) = value_of(name, paths, event, pre) {
                    out.push_str(&render(&v, in_string || plain));
                    rest = &rest[end + 2..];
                    continue;
                }
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn value_of(name: &str, paths: &serde_json::Map<String, Value>, event: &Value, pre: &Predefined) -> Option<Value> {
    match name {
        "aws.events.rule-arn" => Some(Value::String(pre.rule_arn.to_string())),
        "aws.events.rule-name" => Some(Value::String(pre.rule_name.to_string())),
        "aws.events.event.ingestion-time" => Some(Value::String(pre.ingestion_time.to_string())),
        "aws.events.event" | "aws.events.event.json" => Some(event.clone()),
        _ => {
            let path = paths.get(name)?.as_str()?;
            Some(select(event, path).cloned().unwrap_or(Value::Null))
        }
    }
}

fn render(v: &Value, in_string: bool) -> String {
    match (v, in_string) {
        (Value::String(s), true) => {
            let quoted = Value::String(s.clone()).to_string();
            quoted[1..quoted.len() - 1].to_string()
        }
        (Value::Null, true) => String::new(),
        (Value::String(s), false) => Value::String(s.clone()).to_string(),
        (other, _) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_templates() {
        let e = json!({ "detail": { "state": "running", "n": 3, "ids": ["a", "b"] } });
        assert_eq!(select(&e, "$.detail.state"), Some(&json!("running")));
        assert_eq!(select(&e, "$.detail.ids[1]"), Some(&json!("b")));
        assert_eq!(select(&e, "$.detail.nope"), None);
        let paths = json!({ "s": "$.detail.state", "n": "$.detail.n", "m": "$.detail.missing" });
        let pre = Predefined { rule_arn: "arn:r", rule_name: "r", ingestion_time: "t" };
        let p = paths.as_object().unwrap();
        assert_eq!(fill(r#"{"state": "<s>", "n": <n>, "rule": "<aws.events.rule-name>"}"#, p, &e, &pre), r#"{"state": "running", "n": 3, "rule": "r"}"#);
        assert_eq!(fill(r#""instance is <s>""#, p, &e, &pre), r#""instance is running""#);
        assert_eq!(fill(r#"{"m": <m>}"#, p, &e, &pre), r#"{"m": null}"#);
        assert_eq!(fill("<s> raw", p, &e, &pre), "running raw");
        assert_eq!(fill("[<s>]", p, &e, &pre), r#"["running"]"#);
    }
}
