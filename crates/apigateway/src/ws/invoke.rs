//! Running a WebSocket route's integration: `AWS_PROXY` (Lambda) through
//! `FunctionInvoker`; other integration types are a clear "not supported by nimbus yet".
//! Also what a two-way route sends back: the proxy answer's `body`.

use crate::integration::function_arn;
use crate::registry::{ApiDoc, Attrs};
use base64::Engine;
use bytes::Bytes;
use nimbus_core::internal::FunctionInvoker;
use serde_json::Value;

/// How a route's integration went.
pub enum Outcome {
    /// The function's answer.
    Answer(Bytes),
    /// The route has no integration.
    NoIntegration,
    /// The function failed, could not run, or errored.
    Failed,
    /// An integration type nimbus does not run (named).
    Unsupported(String),
}

pub async fn run(invoker: &dyn FunctionInvoker, doc: &ApiDoc, route: &Attrs, event: &Value) -> Outcome {
    let target = route.get("Target").and_then(Value::as_str).and_then(|t| t.strip_prefix("integrations/"));
    let Some(integration) = target.and_then(|id| doc.integrations.get(id)) else { return Outcome::NoIntegration };
    match integration.get("IntegrationType").and_then(Value::as_str) {
        Some("AWS_PROXY") => {}
        other => return Outcome::Unsupported(other.unwrap_or("untyped").to_string()),
    }
    let uri = integration.get("IntegrationUri").and_then(Value::as_str).unwrap_or_default();
    match invoker.invoke(function_arn(uri), Bytes::from(event.to_string())).await {
        Ok(o) if !o.function_error => Outcome::Answer(o.payload),
        Ok(_) => Outcome::Failed,
        Err(e) => {
            tracing::debug!(error = %e, "websocket integration failed");
            Outcome::Failed
        }
    }
}

/// What a two-way route sends the client from a proxy answer: an object's `body` (bytes
/// when `isBase64Encoded`), nothing when it has none; any other JSON as its text.
pub enum Reply {
    Text(String),
    Binary(Vec<u8>),
}

pub fn reply(payload: &[u8]) -> Option<Reply> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let Some(obj) = v.as_object() else {
        return Some(Reply::Text(match v {
            Value::String(s) => s,
            other => other.to_string(),
        }));
    };
    let encoded = obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true);
    match obj.get("body")? {
        Value::Null => None,
        Value::String(s) if encoded => base64::engine::general_purpose::STANDARD.decode(s).ok().map(Reply::Binary),
        Value::String(s) => Some(Reply::Text(s.clone())),
        other => Some(Reply::Text(other.to_string())),
    }
}

/// The `statusCode` of a proxy answer (`$connect` accepts 2xx), if it has one.
pub fn status(payload: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Value>(payload).ok()?.get("statusCode")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(payload: &str) -> Option<String> {
        match reply(payload.as_bytes()) {
            Some(Reply::Text(t)) => Some(t),
            Some(Reply::Binary(_)) => Some("<binary>".into()),
            None => None,
        }
    }

    #[test]
    fn replies() {
        assert_eq!(text(r#"{"statusCode":200,"body":"hi"}"#).as_deref(), Some("hi"));
        assert_eq!(text(r#"{"statusCode":200}"#), None);
        assert_eq!(text(r#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#).as_deref(), Some("<binary>"));
        assert_eq!(text(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(text("[1,2]").as_deref(), Some("[1,2]"));
        assert_eq!(text("not json"), None);
        assert_eq!(status(br#"{"statusCode":403}"#), Some(403));
        assert_eq!(status(b"null"), None);
    }
}
