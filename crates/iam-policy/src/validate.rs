//! Validation of a policy document, in the order IAM reports problems: first the
//! document's shape ("Syntax errors in policy."), then what only IAM's legacy parser
//! trips on ("The policy failed legacy parsing": an Effect in the wrong case, a
//! malformed ARN, an unreadable date), then duplicate Sids, then each statement's
//! meaning (principal, actions, resources). When a document has several problems IAM
//! names one; this order follows the documents and answers collected in the crate
//! comment (a table of documents and IAM's answers kept in moto's test suite,
//! `tests/test_iam/test_iam_policies.py`, among them).

use serde_json::{Map, Value};

use crate::condition::is_operator;
use crate::date::parse_date_millis;
use crate::error::{self as e, PolicyError};
use crate::policy::PolicyKind;

pub(crate) const STATEMENT_FIELDS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

const PARTITIONS: [&str; 8] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

const IAM_RESOURCE_PREFIXES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

fn syntax() -> PolicyError {
    PolicyError::new(e::SYNTAX)
}

/// Checks the statements of a document (already split out of `Statement`).
pub(crate) fn statements(list: &[&Map<String, Value>], kind: PolicyKind) -> Result<(), PolicyError> {
    list.iter().try_for_each(|s| shape(s))?;
    list.iter().try_for_each(|s| legacy(s))?;
    sids(list, kind)?;
    list.iter().try_for_each(|s| meaning(s, kind))
}

/// A string or a list of strings (possibly empty).
pub(crate) fn strings(v: &Value) -> Result<Vec<&str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(list) => list.iter().map(|x| x.as_str().ok_or_else(syntax)).collect(),
        _ => Err(syntax()),
    }
}

/// Condition values: strings, numbers or booleans, alone or in a list (possibly empty).
pub(crate) fn condition_values(v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |x: &Value| match x {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(syntax()),
    };
    match v {
        Value::Array(list) => list.iter().map(one).collect(),
        x => Ok(vec![one(x)?]),
    }
}

/// "Syntax errors in policy.": unknown fields, wrong types, both X and NotX, an Effect
/// that is neither Allow nor Deny, a malformed Condition block.
fn shape(s: &Map<String, Value>) -> Result<(), PolicyError> {
    if s.keys().any(|k| !STATEMENT_FIELDS.contains(&k.as_str())) {
        return Err(syntax());
    }
    if s.get("Sid").is_some_and(|v| !v.is_string()) {
        return Err(syntax());
    }
    match s.get("Effect").and_then(Value::as_str) {
        Some(v) if v.eq_ignore_ascii_case("allow") || v.eq_ignore_ascii_case("deny") => {}
        _ => return Err(syntax()),
    }
    for (yes, not) in [("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")] {
        if s.contains_key(yes) && s.contains_key(not) {
            return Err(syntax());
        }
    }
    for field in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = s.get(field) {
            strings(v)?;
        }
    }
    for field in ["Principal", "NotPrincipal"] {
        if s.get(field).is_some_and(|v| !v.is_string() && !v.is_object()) {
            return Err(syntax());
        }
    }
    match s.get("Condition") {
        None => Ok(()),
        Some(c) => condition_shape(c),
    }
}

fn condition_shape(c: &Value) -> Result<(), PolicyError> {
    let ops = c.as_object().ok_or_else(syntax)?;
    for (op, keys) in ops {
        let keys = keys.as_object().ok_or_else(syntax)?;
        if !keys.is_empty() && !is_operator(op) {
            return Err(syntax());
        }
        for values in keys.values() {
            condition_values(values)?;
        }
    }
    Ok(())
}

/// "The policy failed legacy parsing".
fn legacy(s: &Map<String, Value>) -> Result<(), PolicyError> {
    let fail = || PolicyError::new(e::LEGACY);
    if !matches!(s.get("Effect").and_then(Value::as_str), Some("Allow" | "Deny")) {
        return Err(fail());
    }
    for field in ["Resource", "NotResource"] {
        if let Some(v) = s.get(field) {
            if strings(v)?.into_iter().any(legacy_arn) {
                return Err(fail());
            }
        }
    }
    if let Some(ops) = s.get("Condition").and_then(Value::as_object) {
        for (op, keys) in ops {
            let date = op.trim_start_matches("ForAnyValue:").trim_start_matches("ForAllValues:").starts_with("Date");
            for values in keys.as_object().into_iter().flat_map(|k| k.values()).filter(|_| date) {
                let bad = condition_values(values)?.iter().any(|v| !v.contains("${") && parse_date_millis(v).is_none());
                if bad {
                    return Err(fail());
                }
            }
        }
    }
    Ok(())
}

/// `arn:` resources with four or five components, or no service.
fn legacy_arn(r: &str) -> bool {
    if !r.starts_with("arn:") {
        return false;
    }
    let parts: Vec<&str> = r.split(':').collect();
    parts.len() == 4 || parts.len() == 5 || (parts.len() > 5 && parts[2].is_empty())
}

fn sids(list: &[&Map<String, Value>], kind: PolicyKind) -> Result<(), PolicyError> {
    let mut seen = std::collections::HashSet::new();
    for sid in list.iter().filter_map(|s| s.get("Sid").and_then(Value::as_str)).filter(|s| !s.is_empty()) {
        if !seen.insert(sid) {
            return Err(PolicyError::new(e::SID_UNIQUE));
        }
        // Queue, function and bucket policies carry Sids such as "__default_statement_ID"
        // or "lambda-1": only IAM's own documents are held to alphanumeric Sids.
        if kind != PolicyKind::Resource && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PolicyError::new(e::SID_ALNUM));
        }
    }
    Ok(())
}

/// Principal rules for the kind of policy, then actions, then resources.
fn meaning(s: &Map<String, Value>, kind: PolicyKind) -> Result<(), PolicyError> {
    let principal = s.get("Principal").or_else(|| s.get("NotPrincipal"));
    match (kind, principal) {
        (PolicyKind::Identity, Some(_)) => return Err(PolicyError::new(e::NO_PRINCIPAL_ALLOWED)),
        (PolicyKind::Resource, None) => return Err(PolicyError::new(e::MISSING_PRINCIPAL)),
        (PolicyKind::Trust, None) => return Err(PolicyError::new(e::TRUST_NO_PRINCIPAL)),
        (_, Some(p)) => {
            crate::principal::parse(p)?;
        }
        (PolicyKind::Identity, None) => {}
    }
    let actions = match s.get("Action").or_else(|| s.get("NotAction")) {
        Some(v) => strings(v)?,
        None => Vec::new(),
    };
    if actions.is_empty() {
        return Err(PolicyError::new(e::NO_ACTIONS));
    }
    if kind == PolicyKind::Trust {
        if let Some(field) = ["Resource", "NotResource"].into_iter().find(|f| s.contains_key(*f)) {
            return Err(e::prohibited(field));
        }
    } else {
        let resources = match s.get("Resource").or_else(|| s.get("NotResource")) {
            Some(v) => strings(v)?,
            None => Vec::new(),
        };
        if resources.is_empty() {
            return Err(PolicyError::new(e::NO_RESOURCES));
        }
        resources.into_iter().try_for_each(resource)?;
    }
    actions.into_iter().try_for_each(action)
}

/// `*`, or `vendor:action` with one colon and a vendor of letters, digits, `-` and `.`.
fn action(a: &str) -> Result<(), PolicyError> {
    if a == "*" {
        return Ok(());
    }
    let Some((vendor, rest)) = a.split_once(':') else {
        return Err(PolicyError::new(e::VENDOR_PREFIX));
    };
    if rest.contains(':') {
        return Err(PolicyError::new(e::ONE_COLON));
    }
    if vendor.contains(['*', '?']) {
        return Err(PolicyError::new(e::VENDOR_WILDCARD));
    }
    if vendor.is_empty() || !vendor.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err(PolicyError::new(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}

/// `*` or an ARN: a known partition, a service without wildcards, no region for IAM and
/// S3 resources, an IAM resource of a known type.
fn resource(r: &str) -> Result<(), PolicyError> {
    if r == "*" {
        return Ok(());
    }
    if !r.contains(':') {
        return Err(e::resource_format(r));
    }
    let rebuilt = if r.starts_with("arn:") {
        r.to_string()
    } else {
        // IAM reads "a:b:c" as "arn:b:c:*:*:*" before refusing its partition.
        let mut parts: Vec<&str> = r.split(':').collect();
        parts[0] = "arn";
        while parts.len() < 6 {
            parts.push("*");
        }
        parts.join(":")
    };
    let parts: Vec<&str> = rebuilt.splitn(6, ':').collect();
    let vendor_unqualified = || PolicyError::new("Resource vendor must be fully qualified and cannot contain regexes.");
    if parts.len() < 3 {
        return Err(vendor_unqualified());
    }
    if !PARTITIONS.contains(&parts[1]) {
        return Err(PolicyError::new(format!("Partition \"{}\" is not valid for resource \"{rebuilt}\".", parts[1])));
    }
    if parts[2].is_empty() || parts[2].contains(['*', '?']) {
        return Err(vendor_unqualified());
    }
    if let [_, _, service, region, _, rest] = parts[..] {
        if service == "iam" && !region.is_empty() {
            return Err(PolicyError::new(format!("IAM resource {r} cannot contain region information.")));
        }
        if service == "s3" && !region.is_empty() {
            return Err(PolicyError::new(format!("Resource {r} can not contain region information.")));
        }
        if service == "iam" && !rest.starts_with('*') && !IAM_RESOURCE_PREFIXES.iter().any(|p| rest.starts_with(p)) {
            return Err(PolicyError::new(
                "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.",
            ));
        }
    }
    Ok(())
}
