//! Metric filters and subscription filters as a log group holds them: their stored
//! definitions (JSON in the store's `logs_filters` table), their compiled patterns, and
//! what one event yields through them (a metric value and dimensions).
//!
//! Metric values and dimension values are numbers, `$.field` selectors into a JSON
//! event, or `$field` names of the filter's space-delimited pattern (the field must be
//! named in the pattern, as AWS requires).

use crate::errors::{LogsError, LogsResult};
use crate::filter::Pattern;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `kind` column of a stored filter.
pub const METRIC: &str = "metric";
pub const SUBSCRIPTION: &str = "subscription";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterDef {
    pub filter_name: String,
    pub filter_pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
    pub creation_time: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDef {
    pub filter_name: String,
    pub filter_pattern: String,
    pub destination_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub distribution: String,
    pub creation_time: u64,
}

/// A filter with its parsed pattern.
pub struct Compiled<D> {
    pub def: D,
    pub pattern: Pattern,
}

impl Compiled<MetricFilterDef> {
    pub fn metric(def: MetricFilterDef) -> LogsResult<Compiled<MetricFilterDef>> {
        Ok(Compiled { pattern: Pattern::parse(Some(&def.filter_pattern))?, def })
    }
}

impl Compiled<SubscriptionDef> {
    pub fn subscription(def: SubscriptionDef) -> LogsResult<Compiled<SubscriptionDef>> {
        Ok(Compiled { pattern: Pattern::parse(Some(&def.filter_pattern))?, def })
    }
}

/// A metric value or dimension value: a literal, a selector into the JSON event, or a
/// field the space-delimited `pattern` names.
pub fn check_reference(member: &str, v: &str, pattern: &Pattern) -> LogsResult<()> {
    if let Some(rest) = v.strip_prefix('$') {
        if rest.starts_with('.') {
            if rest.len() < 2 {
                return Err(LogsError::InvalidParameter(format!("Invalid metric value: {v}")));
            }
            if matches!(pattern, Pattern::Space(_)) {
                return Err(LogsError::InvalidParameter(format!("Invalid {member}: {v} selects a JSON field, but the filter pattern is space-delimited")));
            }
        } else if !pattern.has_field(rest) {
            return Err(LogsError::InvalidParameter(format!("Invalid {member}: {v} is not a field of the filter pattern")));
        }
    }
    Ok(())
}

/// Resolves `$.a.b[0]` in a JSON document.
fn select<'v>(doc: &'v Value, selector: &str) -> Option<&'v Value> {
    let path = selector.strip_prefix("$.")?;
    let mut cur = doc;
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            cur = cur.get(r[..end].parse::<usize>().ok()?)?;
            rest = &r[end + 1..];
        }
    }
    Some(cur)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value and dimensions a matching event gives `t`; `fields` are the values the
/// pattern extracted (`$name` of space-delimited fields). `None` when a referenced
/// field is missing or not a number (AWS publishes nothing for such an event).
pub fn extract(t: &MetricTransformation, message: &str, fields: &BTreeMap<String, String>) -> Option<(f64, Vec<(String, String)>)> {
    let is_json = |v: &str| v.starts_with("$.");
    let needs_doc = is_json(&t.metric_value) || t.dimensions.values().any(|v| is_json(v));
    let doc: Option<Value> = if needs_doc { serde_json::from_str(message).ok() } else { None };
    let value = if is_json(&t.metric_value) {
        let v = select(doc.as_ref()?, &t.metric_value)?;
        v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?
    } else if t.metric_value.starts_with('$') {
        fields.get(&t.metric_value)?.trim().parse().ok()?
    } else {
        t.metric_value.trim().parse().ok()?
    };
    let mut dims = Vec::with_capacity(t.dimensions.len());
    for (k, v) in &t.dimensions {
        let value = if is_json(v) {
            text_of(select(doc.as_ref()?, v)?)?
        } else if v.starts_with('$') {
            fields.get(v)?.clone()
        } else {
            v.clone()
        };
        dims.push((k.clone(), value));
    }
    Some((value, dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(value: &str, dims: &[(&str, &str)]) -> MetricTransformation {
        MetricTransformation {
            metric_name: "m".into(),
            metric_namespace: "ns".into(),
            metric_value: value.into(),
            default_value: None,
            dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            unit: None,
        }
    }

    #[test]
    fn values_and_dimensions() {
        let msg = r#"{"latency": 12.5, "svc": "api", "a": {"list": [3, "7"]}}"#;
        let none = BTreeMap::new();
        assert_eq!(extract(&t("1", &[]), "x", &none), Some((1.0, vec![])));
        assert_eq!(extract(&t("$.latency", &[("Service", "$.svc")]), msg, &none), Some((12.5, vec![("Service".into(), "api".into())])));
        assert_eq!(extract(&t("$.a.list[1]", &[]), msg, &none), Some((7.0, vec![])));
        assert_eq!(extract(&t("$.svc", &[]), msg, &none), None);
        assert_eq!(extract(&t("$.missing", &[]), msg, &none), None);
        assert_eq!(extract(&t("$.latency", &[]), "not json", &none), None);
        let json = Pattern::parse(Some("{ $.latency > 0 }")).unwrap();
        assert!(check_reference("metricValue", "$latency", &json).is_err());
        assert!(check_reference("metricValue", "$.latency", &json).is_ok());
        let space = Pattern::parse(Some("[host, ..., latency]")).unwrap();
        assert!(check_reference("metricValue", "$latency", &space).is_ok());
        let fields = space.extract("h1 a b 42").unwrap();
        assert_eq!(extract(&t("$latency", &[("Host", "$host")]), "h1 a b 42", &fields), Some((42.0, vec![("Host".into(), "h1".into())])));
    }
}
