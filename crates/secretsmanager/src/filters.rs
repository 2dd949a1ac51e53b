//! ListSecrets (and BatchGetSecretValue's `Filters`): the filter keys with AWS's
//! matching — prefix matches, `description` and `all` not case-sensitive, a leading `!`
//! negates — sorting (`SortBy`, `SortOrder`), and pagination.
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html>
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html>

use crate::errors::{SmError, SmResult};
use crate::ops_secrets::describe;
use crate::registry::Secret;
use crate::service::{s, Inner};
use base64::Engine;
use serde_json::{json, Value};

pub(crate) struct Filter {
    key: String,
    values: Vec<String>,
}

/// The `Filters` member, checked.
pub(crate) fn filters_of(input: &Value) -> SmResult<Vec<Filter>> {
    let mut out = Vec::new();
    for f in input.get("Filters").and_then(Value::as_array).into_iter().flatten() {
        let key = s(f, "Key").unwrap_or_default().to_string();
        if !["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"].contains(&key.as_str()) {
            return Err(SmError::constraint(&key, "filters.member.key", "Member must satisfy enum value set: [all, name, tag-key, description, tag-value, primary-region, owning-service]"));
        }
        let values: Vec<String> = f.get("Values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
        if values.is_empty() || values.len() > 10 {
            return Err(SmError::InvalidParameter("Invalid filter values: a filter needs between 1 and 10 values.".into()));
        }
        out.push(Filter { key, values });
    }
    Ok(out)
}

fn prefix(text: &str, value: &str, fold: bool) -> bool {
    if fold {
        text.to_lowercase().starts_with(&value.to_lowercase())
    } else {
        text.starts_with(value)
    }
}

/// Whether one (non-negated) value matches the secret under `key`.
fn value_matches(sec: &Secret, key: &str, value: &str) -> bool {
    match key {
        "name" => prefix(&sec.name, value, false),
        "description" => sec.description.as_deref().is_some_and(|d| prefix(d, value, true)),
        "tag-key" => sec.tags.iter().any(|(k, _)| prefix(k, value, false)),
        "tag-value" => sec.tags.iter().any(|(_, v)| prefix(v, value, false)),
        "primary-region" => prefix(&sec.region, value, false),
        "owning-service" => false,
        // Every word of the value must start some word of the name, description or tags.
        _ => {
            let mut words: Vec<String> = Vec::new();
            let mut add = |t: &str| words.extend(t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase));
            add(&sec.name);
            add(sec.description.as_deref().unwrap_or_default());
            for (k, v) in &sec.tags {
                add(k);
                add(v);
            }
            value.split_whitespace().all(|q| {
                let q = q.to_lowercase();
                words.iter().any(|w| w.starts_with(&q)) || sec.name.to_lowercase().starts_with(&q)
            })
        }
    }
}

/// Filters are ANDed; a filter's values are ORed, and a `!value` excludes what it matches.
pub(crate) fn matches(sec: &Secret, filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        let (neg, pos): (Vec<&String>, Vec<&String>) = f.values.iter().partition(|v| v.starts_with('!'));
        let any_pos = pos.is_empty() || pos.iter().any(|v| value_matches(sec, &f.key, v));
        let no_neg = neg.iter().all(|v| !value_matches(sec, &f.key, &v[1..]));
        any_pos && no_neg
    })
}

pub(crate) fn max_results(input: &Value, default: usize) -> SmResult<usize> {
    match input.get("MaxResults").and_then(Value::as_i64) {
        None => Ok(default),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(SmError::constraint(n, "maxResults", "Member must have value between 1 and 100")),
    }
}

pub(crate) fn start_of(input: &Value) -> SmResult<usize> {
    match s(input, "NextToken") {
        None => Ok(0),
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| SmError::InvalidNextToken("The NextToken value is invalid.".into())),
    }
}

pub(crate) fn token_for(next: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(next.to_string())
}

impl Inner {
    /// The secrets of (account, region) that pass `filters`, by `sort_by` (the
    /// `SortByType` values; creation date by default), ties by name.
    pub(crate) fn select(&self, a: &str, r: &str, filters: &[Filter], include_deleted: bool, sort_by: &str, descending: bool) -> Vec<Secret> {
        let mut list: Vec<Secret> = self.reg.all(a, r).into_iter().filter(|sec| (include_deleted || sec.deleted_ms.is_none()) && matches(sec, filters)).collect();
        let accessed = |s: &Secret| s.versions.iter().filter_map(|v| v.last_accessed_day_ms).max().unwrap_or(0);
        list.sort_by(|x, y| {
            let by = match sort_by {
                "name" => std::cmp::Ordering::Equal,
                "last-changed-date" => x.last_changed_ms.cmp(&y.last_changed_ms),
                "last-accessed-date" => accessed(x).cmp(&accessed(y)),
                _ => x.created_ms.cmp(&y.created_ms),
            };
            by.then_with(|| x.name.cmp(&y.name))
        });
        if descending {
            list.reverse();
        }
        list
    }

    pub(crate) fn list_secrets(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let filters = filters_of(input)?;
        let include = input.get("IncludePlannedDeletion").and_then(Value::as_bool).unwrap_or(false);
        let descending = match s(input, "SortOrder") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(o) => return Err(SmError::constraint(o, "sortOrder", "Member must satisfy enum value set: [asc, desc]")),
        };
        let sort_by = s(input, "SortBy").unwrap_or("created-date");
        if !["created-date", "last-accessed-date", "last-changed-date", "name"].contains(&sort_by) {
            return Err(SmError::constraint(sort_by, "sortBy", "Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]"));
        }
        let max = max_results(input, 100)?;
        let start = start_of(input)?;
        let list = self.select(a, r, &filters, include, sort_by, descending);
        let page: Vec<Value> = list.iter().skip(start).take(max).map(|sec| describe(sec, "SecretVersionsToStages")).collect();
        let mut out = json!({"SecretList": page});
        if start + max < list.len() {
            out["NextToken"] = json!(token_for(start + max));
        }
        Ok(out)
    }
}
