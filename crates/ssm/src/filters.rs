//! `ParameterFilters` (ParameterStringFilter) of DescribeParameters and
//! GetParametersByPath: which keys and options each operation takes, with AWS's errors,
//! and matching a parameter against them.
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterStringFilter.html>

use crate::errors::{SsmError, SsmResult};
use crate::names;
use crate::params::Meta;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Filter {
    pub key: String,
    pub option: String,
    pub values: Vec<String>,
}

/// Which operation the filters are for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum For {
    Describe,
    ByPath,
}

fn options_for(key: &str, op: For) -> &'static [&'static str] {
    match key {
        "Name" => &["Equals", "BeginsWith", "Contains"],
        "Path" => &["OneLevel", "Recursive"],
        k if k.starts_with("tag:") => &["Equals", "BeginsWith"],
        _ if op == For::ByPath => &["Equals"],
        _ => &["Equals"],
    }
}

pub fn parse(input: &Value, op: For) -> SsmResult<Vec<Filter>> {
    let Some(list) = input.get("ParameterFilters").and_then(Value::as_array) else { return Ok(Vec::new()) };
    let keys: &[&str] = match op {
        For::Describe => &["Name", "Type", "KeyId", "Path", "Tier", "Label", "DataType"],
        For::ByPath => &["Type", "KeyId", "Label"],
    };
    let mut out: Vec<Filter> = Vec::new();
    for f in list {
        let key = f.get("Key").and_then(Value::as_str).ok_or_else(|| SsmError::missing("parameterFilters.member.key"))?.to_string();
        let is_tag = key.starts_with("tag:") && key.len() > 4;
        // The model's pattern for a key (checked before the operation's own key list).
        if !is_tag && !["Name", "Type", "KeyId", "Path", "Label", "Tier", "DataType"].contains(&key.as_str()) {
            return Err(SsmError::constraint(&key, "parameterFilters.member.key", "Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType"));
        }
        if !(keys.contains(&key.as_str()) || is_tag) {
            return Err(SsmError::InvalidFilterKey(format!("The following filter key is not valid: {key}. Valid filter keys include: [{}].", keys.join(", "))));
        }
        if out.iter().any(|o| o.key == key) {
            return Err(SsmError::InvalidFilterKey(format!("The following filter is duplicated in the request: {key}. A request can contain only one occurrence of a specific filter.")));
        }
        let allowed = options_for(&key, op);
        let option = match f.get("Option").and_then(Value::as_str) {
            None => allowed[0].to_string(),
            Some(o) if allowed.contains(&o) => o.to_string(),
            Some(o) => return Err(SsmError::InvalidFilterOption(format!("The following filter option is not valid: {o}. Valid options include: [{}].", allowed.join(", ")))),
        };
        let values: Vec<String> = f.get("Values").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
        if values.is_empty() && !key.starts_with("tag:") {
            return Err(SsmError::InvalidFilterValue(format!("The following filter values are missing : null for filter key {key}.")));
        }
        match key.as_str() {
            "Type" => {
                if let Some(v) = values.iter().find(|v| !["String", "StringList", "SecureString"].contains(&v.as_str())) {
                    return Err(SsmError::InvalidFilterValue(format!("The following filter value is not valid: {v}. Valid values include: [String, StringList, SecureString].")));
                }
            }
            "Tier" => {
                if let Some(v) = values.iter().find(|v| !["Standard", "Advanced"].contains(&v.as_str())) {
                    return Err(SsmError::InvalidFilterValue(format!("The following filter value is not valid: {v}. Valid values include: [Standard, Advanced].")));
                }
            }
            "Path" => {
                for v in &values {
                    names::check_path(v)?;
                }
            }
            _ => {}
        }
        out.push(Filter { key, option, values });
    }
    Ok(out)
}

/// Whether parameter `name` passes every filter.
pub fn matches(filters: &[Filter], name: &str, meta: &Meta) -> bool {
    filters.iter().all(|f| {
        let any = |field: &str| f.values.iter().any(|v| v == field);
        match f.key.as_str() {
            "Name" => f.values.iter().any(|v| match f.option.as_str() {
                "BeginsWith" => name.starts_with(v.as_str()),
                "Contains" => name.contains(v.as_str()),
                _ => name == v,
            }),
            "Path" => f.values.iter().any(|v| names::under(v, name, f.option == "Recursive")),
            "Type" => any(&meta.current.ptype),
            "KeyId" => meta.current.key_id.as_deref().is_some_and(any),
            "Tier" => any(&meta.current.tier),
            "DataType" => any(&meta.current.data_type),
            "Label" => meta.all_labels().any(|l| any(l)),
            k => {
                let tag = &k[4..];
                match meta.tags.get(tag) {
                    None => false,
                    Some(_) if f.values.is_empty() => true,
                    Some(t) => f.values.iter().any(|v| if f.option == "BeginsWith" { t.starts_with(v.as_str()) } else { t == v }),
                }
            }
        }
    })
}

/// The version a `Label` filter selects (GetParametersByPath returns that version).
pub fn label_version(filters: &[Filter], meta: &Meta) -> Option<i64> {
    let f = filters.iter().find(|f| f.key == "Label")?;
    f.values.iter().find_map(|l| meta.label_version(l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::VersionMeta;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn meta(ptype: &str, labels: &[&str], tags: &[(&str, &str)]) -> Meta {
        Meta {
            version: 1,
            current: VersionMeta {
                ptype: ptype.into(),
                key_id: None,
                description: None,
                allowed_pattern: None,
                tier: "Standard".into(),
                policies: None,
                data_type: "text".into(),
                modified_ms: 0,
                user: String::new(),
            },
            labels: BTreeMap::from([(1, labels.iter().map(|l| l.to_string()).collect())]),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn keys_and_options_per_operation() {
        let by_path = |f: Value| parse(&json!({"ParameterFilters": [f]}), For::ByPath);
        let describe = |f: Value| parse(&json!({"ParameterFilters": [f]}), For::Describe);
        assert!(matches!(by_path(json!({"Key": "Name", "Values": ["x"]})), Err(SsmError::InvalidFilterKey(_))));
        assert!(matches!(describe(json!({"Key": "Colour", "Values": ["x"]})), Err(SsmError::Validation(_))));
        assert!(matches!(describe(json!({"Key": "Path", "Option": "Equals", "Values": ["/a"]})), Err(SsmError::InvalidFilterOption(_))));
        assert!(matches!(describe(json!({"Key": "Type", "Values": ["Number"]})), Err(SsmError::InvalidFilterValue(_))));
        assert!(matches!(describe(json!({"Key": "Type"})), Err(SsmError::InvalidFilterValue(_))));
        let f = describe(json!({"Key": "Path", "Values": ["/a"]})).expect("path");
        assert_eq!(f[0].option, "OneLevel");
        let dup = parse(&json!({"ParameterFilters": [{"Key": "Type", "Values": ["String"]}, {"Key": "Type", "Values": ["String"]}]}), For::Describe);
        assert!(matches!(dup, Err(SsmError::InvalidFilterKey(_))));
    }

    #[test]
    fn matching() {
        let m = meta("String", &["prod"], &[("team", "blue")]);
        let f = |v: Value| parse(&json!({"ParameterFilters": v}), For::Describe).expect("filters");
        assert!(matches(&f(json!([{"Key": "Name", "Option": "BeginsWith", "Values": ["/a"]}])), "/a/b", &m));
        assert!(!matches(&f(json!([{"Key": "Name", "Values": ["/a"]}])), "/a/b", &m));
        assert!(matches(&f(json!([{"Key": "Path", "Option": "Recursive", "Values": ["/a"]}])), "/a/b/c", &m));
        assert!(!matches(&f(json!([{"Key": "Path", "Values": ["/a"]}])), "/a/b/c", &m));
        assert!(matches(&f(json!([{"Key": "Label", "Values": ["prod"]}])), "/x", &m));
        assert!(matches(&f(json!([{"Key": "tag:team"}])), "/x", &m));
        assert!(matches(&f(json!([{"Key": "tag:team", "Option": "BeginsWith", "Values": ["bl"]}])), "/x", &m));
        assert!(!matches(&f(json!([{"Key": "tag:team", "Values": ["red"]}])), "/x", &m));
        assert!(!matches(&f(json!([{"Key": "Type", "Values": ["SecureString"]}])), "/x", &m));
    }
}
