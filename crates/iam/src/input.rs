//! Typed access to a decoded IAM / STS request (the codec hands over a JSON value shaped
//! like the operation's input shape), and the checks AWS's request validation makes on
//! names, paths, descriptions, tags and pagination — with its messages.

use crate::entities::Tag;
use crate::errors::{IamError, IamResult};
use serde_json::Value;

pub struct Input(pub Value);

impl Input {
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }
    pub fn req(&self, name: &str) -> IamResult<&str> {
        self.opt(name).ok_or_else(|| IamError::missing(name))
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.0.get(name).and_then(Value::as_bool)
    }
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.0.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// `Tags.member.N.Key/Value`, checked as IAM checks them (at most 50, keys 1–128 and
    /// values 0–256 characters of the allowed set, no duplicate keys ignoring case).
    pub fn tags(&self, name: &str) -> IamResult<Vec<Tag>> {
        let Some(list) = self.0.get(name).and_then(Value::as_array) else { return Ok(Vec::new()) };
        let mut tags = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            let key = t.get("Key").and_then(Value::as_str).ok_or_else(|| IamError::missing(&format!("tags.{}.member.key", i + 1)))?;
            let value = t.get("Value").and_then(Value::as_str).ok_or_else(|| IamError::missing(&format!("tags.{}.member.value", i + 1)))?;
            check_tag_key(key)?;
            check_tag_value(value)?;
            tags.push(Tag { key: key.to_string(), value: value.to_string() });
        }
        if tags.len() > 50 {
            return Err(IamError::LimitExceeded("The number of tags has reached the maximum limit.".into()));
        }
        let mut seen = std::collections::HashSet::new();
        if !tags.iter().all(|t| seen.insert(t.key.to_lowercase())) {
            return Err(IamError::InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.".into()));
        }
        Ok(tags)
    }

    /// `Marker` / `MaxItems` (1–1000, default 100).
    pub fn page(&self) -> IamResult<(Option<String>, usize)> {
        let max = match self.int("MaxItems") {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => n as usize,
            Some(n) if n < 1 => return Err(IamError::constraint("MaxItems", &n.to_string(), "Member must have value greater than or equal to 1")),
            Some(n) => return Err(IamError::constraint("MaxItems", &n.to_string(), "Member must have value less than or equal to 1000")),
        };
        Ok((self.opt("Marker").map(String::from), max))
    }
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

pub fn check_tag_key(key: &str) -> IamResult<()> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(IamError::constraint("tags.member.key", key, "Member must have length less than or equal to 128"));
    }
    if !tag_chars_ok(key) {
        return Err(IamError::constraint("tags.member.key", key, "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"));
    }
    Ok(())
}

fn check_tag_value(value: &str) -> IamResult<()> {
    if value.chars().count() > 256 {
        return Err(IamError::constraint("tags.member.value", value, "Member must have length less than or equal to 256"));
    }
    if !tag_chars_ok(value) {
        return Err(IamError::constraint("tags.member.value", value, "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"));
    }
    Ok(())
}

/// Entity names: `[\w+=,.@-]+`, 1 to `max` characters (64 for users and roles, 128 for
/// groups, policies and instance profiles).
pub fn check_name(member: &str, name: &str, max: usize) -> IamResult<()> {
    if name.is_empty() {
        return Err(IamError::constraint(member, name, "Member must have length greater than or equal to 1"));
    }
    if name.chars().count() > max {
        return Err(IamError::constraint(member, name, &format!("Member must have length less than or equal to {max}")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(IamError::constraint(member, name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+"));
    }
    Ok(())
}

/// A path: `/` or `/…/` of printable ASCII, at most 512 characters.
pub fn check_path(member: &str, path: &str) -> IamResult<()> {
    let ok = path == "/" || (path.len() >= 2 && path.starts_with('/') && path.ends_with('/') && path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if path.len() > 512 {
        return Err(IamError::constraint(member, path, "Member must have length less than or equal to 512"));
    }
    if !ok {
        return Err(IamError::constraint(member, path, "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"));
    }
    Ok(())
}

pub fn check_description(member: &str, d: &str, max: usize) -> IamResult<()> {
    if d.chars().count() > max {
        return Err(IamError::constraint(member, d, &format!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// A page of `items` after `marker` (markers are the sort key of the next item).
pub fn paginate<T: Clone>(items: Vec<(String, T)>, marker: Option<&str>, max: usize) -> (Vec<T>, Option<String>) {
    let start = match marker {
        Some(m) => items.iter().position(|(k, _)| k.as_str() >= m).unwrap_or(items.len()),
        None => 0,
    };
    let rest = &items[start..];
    let page: Vec<T> = rest.iter().take(max).map(|(_, v)| v.clone()).collect();
    let next = rest.get(max).map(|(k, _)| k.clone());
    (page, next)
}

/// Adds `IsTruncated` and `Marker` to a list response.
pub fn with_page(mut out: serde_json::Map<String, Value>, next: Option<String>) -> Value {
    out.insert("IsTruncated".into(), Value::Bool(next.is_some()));
    if let Some(m) = next {
        out.insert("Marker".into(), Value::String(m));
    }
    Value::Object(out)
}
