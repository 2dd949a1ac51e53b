//! Lambda REQUEST authorizers for HTTP APIs (developer guide, "Control access to HTTP APIs
//! with AWS Lambda authorizers"): the function gets the payload format's event — 2.0:
//! `version`, `type: REQUEST`, `routeArn`, `identitySource` (a list), `routeKey`,
//! `rawPath`, `rawQueryString`, `cookies`, `headers`, `queryStringParameters`,
//! `requestContext`, `pathParameters`, `stageVariables`; 1.0: `version`, `type`,
//! `methodArn`, `identitySource` (comma-joined), `authorizationToken`, `resource`, `path`,
//! `httpMethod`, headers, query strings, `requestContext` … — and answers either the simple
//! format (`{"isAuthorized": bool, "context": {…}}`, 2.0 with `EnableSimpleResponses`) or
//! an IAM policy (`principalId`, `policyDocument` allowing or denying `execute-api:Invoke`
//! on the route ARN, `context`; "Output from an API Gateway Lambda authorizer").
//!
//! A missing identity source is 401 `{"message":"Unauthorized"}` without calling the
//! function; a denial 403 `{"message":"Forbidden"}`; a function error or malformed answer
//! 500 `{"message":"Internal Server Error"}`. Answers are cached by the identity sources'
//! values for `AuthorizerResultTtlInSeconds` (0: not cached) on nimbus's clock; a cached
//! IAM policy is evaluated against each request's route ARN.

use super::{identity, AuthInput, Granted, Refusal};
use crate::event::{self, Incoming};
use crate::ops_authorizers::identity_sources;
use crate::registry::Attrs;
use bytes::Bytes;
use nimbus_core::internal::FunctionInvoker;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Most cached answers kept (the cache is cleared past it).
const MAX_CACHED: usize = 10_000;

/// A Lambda authorizer's answer, as understood.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Simple { authorized: bool, context: Map<String, Value> },
    Policy { principal_id: Option<String>, statements: Vec<Value>, context: Map<String, Value> },
}

/// Cached answers by authorizer and identity-source values, with their expiry (ms).
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<String, (u64, Arc<Answer>)>>,
}

impl ResultCache {
    fn get(&self, key: &str, now_ms: u64) -> Option<Arc<Answer>> {
        self.entries.lock().get(key).filter(|(until, _)| now_ms < *until).map(|(_, a)| a.clone())
    }

    fn put(&self, key: String, until: u64, answer: Arc<Answer>) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_CACHED {
            entries.clear();
        }
        entries.insert(key, (until, answer));
    }
}

/// The event for the authorizer function.
fn event(input: &AuthInput<'_>, v2: bool, sources: &[String], now_ms: u64) -> Value {
    let incoming = Incoming {
        api_id: input.api_id,
        account_id: input.account,
        stage: input.stage,
        route_key: input.route_key,
        method: &input.req.method,
        raw_path: input.raw_path,
        raw_query: &input.req.query,
        headers: &input.req.headers,
        body: &input.req.body,
        host: &input.req.host,
        source_ip: input.req.source_ip.to_string(),
        path_parameters: input.path_parameters.clone(),
        stage_variables: input.stage_variables.clone(),
        request_id: input.request_id,
        now_ms,
    };
    let mut e = if v2 { event::event_v2(&incoming) } else { event::event_v1(&incoming) };
    let Some(m) = e.as_object_mut() else { return e };
    // An authorizer's event carries no body.
    m.remove("body");
    m.remove("isBase64Encoded");
    m.insert("type".into(), json!("REQUEST"));
    if v2 {
        m.insert("routeArn".into(), json!(input.route_arn()));
        m.insert("identitySource".into(), json!(sources));
    } else {
        let joined = sources.join(",");
        m.insert("methodArn".into(), json!(input.route_arn()));
        m.insert("identitySource".into(), json!(joined));
        m.insert("authorizationToken".into(), json!(joined));
    }
    e
}

fn context_of(v: &Value) -> Option<Map<String, Value>> {
    match v.get("context") {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => None,
    }
}

/// Reads the function's answer; `None` is a malformed answer (500).
pub fn parse_answer(payload: &[u8], simple: bool) -> Option<Answer> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    if simple {
        let authorized = v.get("isAuthorized")?.as_bool()?;
        return Some(Answer::Simple { authorized, context: context_of(&v)? });
    }
    let doc = v.get("policyDocument")?;
    let statements = match doc.get("Statement")? {
        Value::Array(l) => l.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    let principal_id = v.get("principalId").and_then(Value::as_str).map(str::to_string);
    Some(Answer::Policy { principal_id, statements, context: context_of(&v)? })
}

/// IAM-style wildcard match: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(l)) => l.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Whether a policy allows `execute-api:Invoke` on `arn`: an explicit Deny wins, then an
/// Allow; no matching statement denies.
pub fn policy_allows(statements: &[Value], arn: &str) -> bool {
    let matching = |effect: &str| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some(effect)
                && strings(s.get("Action")).iter().any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
                && strings(s.get("Resource")).iter().any(|r| glob(r, arn))
        })
    };
    !matching("Deny") && matching("Allow")
}

fn decide(answer: &Answer, arn: &str) -> Result<Granted, Refusal> {
    match answer {
        Answer::Simple { authorized: true, context } => Ok(Granted::Lambda { context: context.clone(), principal_id: None }),
        Answer::Policy { principal_id, statements, context } if policy_allows(statements, arn) => Ok(Granted::Lambda { context: context.clone(), principal_id: principal_id.clone() }),
        _ => Err(Refusal::forbidden()),
    }
}

/// The function ARN of an authorizer's `AuthorizerUri` (a Lambda ARN or API Gateway's
/// `…/functions/<arn>/invocations` form).
fn function_arn(uri: &str) -> &str {
    match uri.split_once("/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    }
}

pub async fn authorize(invoker: &dyn FunctionInvoker, cache: &ResultCache, id: &str, authorizer: &Attrs, input: &AuthInput<'_>, now_ms: u64) -> Result<Granted, Refusal> {
    let sources = identity_sources(authorizer);
    let values = identity::values(&sources, input).ok_or_else(Refusal::unauthorized)?;
    // HTTP APIs name the format; WebSocket APIs' REQUEST authorizers have none and get 1.0's shape.
    let v2 = authorizer.get("AuthorizerPayloadFormatVersion").and_then(Value::as_str) == Some("2.0");
    let simple = v2 && authorizer.get("EnableSimpleResponses").and_then(Value::as_bool) == Some(true);
    let uri = authorizer.get("AuthorizerUri").and_then(Value::as_str).unwrap_or_default();
    let ttl_s = authorizer.get("AuthorizerResultTtlInSeconds").and_then(Value::as_u64).unwrap_or(0);
    let arn = input.route_arn();
    let key = format!("{}\u{0}{id}\u{0}{uri}\u{0}{simple}\u{0}{}", input.api_id, values.join("\u{0}"));
    if ttl_s > 0 && !values.is_empty() {
        if let Some(answer) = cache.get(&key, now_ms) {
            return decide(&answer, &arn);
        }
    }
    let payload = Bytes::from(event(input, v2, &values, now_ms).to_string());
    let answer = match invoker.invoke(function_arn(uri), payload).await {
        Ok(o) if !o.function_error => parse_answer(&o.payload, simple).ok_or_else(Refusal::internal)?,
        Ok(_) => return Err(Refusal::internal()),
        Err(e) => {
            tracing::debug!(authorizer = id, error = %e, "Lambda authorizer failed");
            return Err(Refusal::internal());
        }
    };
    let answer = Arc::new(answer);
    if ttl_s > 0 && !values.is_empty() {
        cache.put(key, now_ms + ttl_s * 1000, answer.clone());
    }
    decide(&answer, &arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(glob("arn:aws:execute-api:*:*:abc/*", "arn:aws:execute-api:us-east-1:1:abc/prod/GET/x"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(!glob("arn:*:def/*", "arn:x:abc/y"));
    }

    #[test]
    fn policies() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/x";
        let allow = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ["arn:aws:execute-api:us-east-1:1:abc/*"]});
        let deny = json!({"Effect": "Deny", "Action": ["execute-api:*"], "Resource": arn});
        assert!(policy_allows(std::slice::from_ref(&allow), arn));
        assert!(!policy_allows(&[allow.clone(), deny], arn));
        assert!(!policy_allows(&[], arn));
        assert!(!policy_allows(&[allow], "arn:aws:execute-api:us-east-1:1:other/prod/GET/x"));
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(br#"{"isAuthorized":true}"#, true), Some(Answer::Simple { authorized: true, context: Map::new() }));
        assert!(parse_answer(br#"{"isAuthorized":"yes"}"#, true).is_none());
        assert!(parse_answer(br#"{"isAuthorized":true}"#, false).is_none());
        let p = parse_answer(br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}},"context":{"a":1}}"#, false);
        assert!(matches!(p, Some(Answer::Policy { principal_id: Some(ref u), ref statements, .. }) if u == "u" && statements.len() == 1));
        assert!(parse_answer(b"not json", false).is_none());
    }
}
