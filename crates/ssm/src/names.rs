//! Parameter names, hierarchies, ARNs, selectors and labels: AWS's naming rules in one
//! place. <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html>
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html>

use crate::errors::{SsmError, SsmResult};

/// Deepest hierarchy AWS allows.
pub const MAX_DEPTH: usize = 15;
/// "The maximum length for a parameter name, including the full length of the parameter
/// ARN, is 1011 characters."
pub const MAX_ARN_LEN: usize = 1011;

const NAME_RULES: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// The parameter's ARN: `arn:aws:ssm:<region>:<account>:parameter/<name without leading slash>`.
pub fn arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:parameter/{}", name.strip_prefix('/').unwrap_or(name))
}

/// A name given to a write (PutParameter): trimmed as AWS does, then checked.
pub fn checked(account: &str, region: &str, raw: &str) -> SsmResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(SsmError::constraint(raw, "name", "Member must have length greater than or equal to 1"));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(SsmError::Validation("Parameter name must be a fully qualified name.".into()));
    }
    let body = name.strip_prefix('/').unwrap_or(name);
    let lower = body.to_ascii_lowercase();
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !chars_ok || lower.starts_with("aws") || lower.starts_with("ssm") || body.split('/').any(str::is_empty) {
        return Err(SsmError::Validation(NAME_RULES.into()));
    }
    if body.split('/').count() > MAX_DEPTH {
        return Err(SsmError::HierarchyLevel);
    }
    if arn(account, region, name).len() > MAX_ARN_LEN {
        return Err(SsmError::Validation(format!(
            "Parameter name is too long: the name including its ARN ({} characters) can have at most {MAX_ARN_LEN} characters.",
            arn(account, region, name).len()
        )));
    }
    Ok(name.to_string())
}

/// What a `name:version` or `name:label` reference selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Version(i64),
    Label(String),
}

/// Splits a reference into the name and its selector (names never hold `:`). A full ARN
/// of this account and region names the parameter too.
pub fn parse_ref(account: &str, region: &str, reference: &str) -> (String, Selector, Option<String>) {
    let prefix = format!("arn:aws:ssm:{region}:{account}:parameter");
    let reference = match reference.strip_prefix(&prefix) {
        Some(rest) if rest.starts_with('/') => {
            // `parameter/a/b` is `/a/b`; `parameter/name` is `name` (no hierarchy).
            let body = &rest[1..];
            if body.contains('/') { rest } else { body }
        }
        _ => reference,
    };
    match reference.split_once(':') {
        None => (reference.to_string(), Selector::Latest, None),
        Some((name, sel)) => {
            let selector = match sel.parse::<i64>() {
                Ok(v) => Selector::Version(v),
                Err(_) => Selector::Label(sel.to_string()),
            };
            (name.to_string(), selector, Some(format!(":{sel}")))
        }
    }
}

/// A reference that must name a parameter without a selector (DeleteParameter, history,
/// labels, tags): `None` when it carries one (no parameter is named `x:1`).
pub fn plain(account: &str, region: &str, reference: &str) -> Option<String> {
    match parse_ref(account, region, reference) {
        (name, Selector::Latest, None) => Some(name),
        _ => None,
    }
}

/// The path a name sits under, as GetParametersByPath sees it: `foo` is `/foo`.
fn as_path(name: &str) -> std::borrow::Cow<'_, str> {
    if name.starts_with('/') { name.into() } else { format!("/{name}").into() }
}

/// Whether `name` is under `path` (`/a/b`, with or without a trailing slash): directly
/// (one level) or anywhere below (recursive).
pub fn under(path: &str, name: &str, recursive: bool) -> bool {
    let base = path.trim_end_matches('/');
    let full = as_path(name);
    let Some(rest) = full.strip_prefix(base).and_then(|r| r.strip_prefix('/')) else { return false };
    !rest.is_empty() && (recursive || !rest.contains('/'))
}

/// A path given to GetParametersByPath / a Path filter: must begin with `/`, depth ≤ 15.
pub fn check_path(path: &str) -> SsmResult<()> {
    if !path.starts_with('/') {
        return Err(SsmError::Validation("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.".into()));
    }
    if path.trim_matches('/').split('/').count() > MAX_DEPTH {
        return Err(SsmError::HierarchyLevel);
    }
    Ok(())
}

/// A label AWS accepts: at most 100 characters of letters, digits, `.`, `-`, `_`; not
/// beginning with a digit or with `aws` / `ssm` (any case).
pub fn valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.len() <= 100
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
        && label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        assert_eq!(checked("1", "r", " /a/b ").expect("ok"), "/a/b");
        assert!(checked("1", "r", "plain.name-1_x").is_ok());
        for bad in ["a/b", "/a//b", "/a/b/", "has space", "/aws/x", "SSM-x", "/x:y", "awsome"] {
            assert!(checked("1", "r", bad).is_err(), "{bad}");
        }
        let deep = (0..16).map(|i| format!("/l{i}")).collect::<String>();
        assert!(matches!(checked("1", "r", &deep), Err(SsmError::HierarchyLevel)));
        let fifteen = (0..15).map(|i| format!("/l{i}")).collect::<String>();
        assert!(checked("1", "r", &fifteen).is_ok());
        let long = format!("/{}", "x".repeat(1000));
        assert!(checked("000000000000", "us-east-1", &long).is_err());
    }

    #[test]
    fn arns_selectors_and_paths() {
        assert_eq!(arn("1", "r", "/a/b"), "arn:aws:ssm:r:1:parameter/a/b");
        assert_eq!(arn("1", "r", "a"), "arn:aws:ssm:r:1:parameter/a");
        assert_eq!(parse_ref("1", "r", "/a:3"), ("/a".into(), Selector::Version(3), Some(":3".into())));
        assert_eq!(parse_ref("1", "r", "/a:prod"), ("/a".into(), Selector::Label("prod".into()), Some(":prod".into())));
        assert_eq!(parse_ref("1", "r", "arn:aws:ssm:r:1:parameter/a/b").0, "/a/b");
        assert_eq!(parse_ref("1", "r", "arn:aws:ssm:r:1:parameter/a").0, "a");
        assert!(under("/a", "/a/b", false));
        assert!(!under("/a", "/a/b/c", false));
        assert!(under("/a/", "/a/b/c", true));
        assert!(!under("/a", "/ab", true));
        assert!(under("/", "foo", false));
    }

    #[test]
    fn labels() {
        assert!(valid_label("prod"));
        for bad in ["1st", "aws-x", "SsmY", "a/b", "a b", ""] {
            assert!(!valid_label(bad), "{bad}");
        }
    }
}
