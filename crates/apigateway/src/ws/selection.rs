//! Which route a WebSocket message goes to ("Route selection expressions",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html):
//! the API's `RouteSelectionExpression` — `$request.body.<member>[.<member>…]`, also
//! written `${request.body.<member>}` — is evaluated on the message as JSON; a route whose
//! key equals the value gets it. A message that is not JSON, lacks the member, or names no
//! route goes to `$default`. `$connect` and `$disconnect` are never chosen by a message.

use crate::registry::{ApiDoc, Attrs};
use serde_json::Value;

/// The member path of a `$request.body.…` expression.
fn body_path(expr: &str) -> Option<Vec<&str>> {
    let expr = expr.trim();
    let inner = match expr.strip_prefix("${").and_then(|e| e.strip_suffix('}')) {
        Some(braced) => braced,
        None => expr.strip_prefix('$')?,
    };
    let path = inner.strip_prefix("request.body.")?;
    let parts: Vec<&str> = path.split('.').collect();
    (!parts.iter().any(|p| p.is_empty())).then_some(parts)
}

/// The route key a message selects, if the expression finds a value in it: a string as
/// it is, a number or boolean as its JSON text.
pub fn selected_key(expr: &str, body: &str) -> Option<String> {
    let path = body_path(expr)?;
    let mut v: Value = serde_json::from_str(body).ok()?;
    for member in path {
        v = v.as_object_mut()?.remove(member)?;
    }
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The route (id, attributes) with key `key`.
pub fn route_by_key<'a>(doc: &'a ApiDoc, key: &str) -> Option<(&'a str, &'a Attrs)> {
    doc.routes.iter().find(|(_, r)| r.get("RouteKey").and_then(Value::as_str) == Some(key)).map(|(id, r)| (id.as_str(), r))
}

/// The route a message goes to: the selected key's route, else `$default`; `None` when
/// neither exists (the client gets a `Forbidden` frame).
pub fn pick<'a>(doc: &'a ApiDoc, body: &str) -> Option<(&'a str, &'a Attrs)> {
    let expr = doc.api.get("RouteSelectionExpression").and_then(Value::as_str).unwrap_or_default();
    selected_key(expr, body)
        .filter(|k| k != "$connect" && k != "$disconnect")
        .and_then(|k| route_by_key(doc, &k))
        .or_else(|| route_by_key(doc, "$default"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions() {
        assert_eq!(selected_key("$request.body.action", r#"{"action":"join"}"#).as_deref(), Some("join"));
        assert_eq!(selected_key("${request.body.action}", r#"{"action":"join"}"#).as_deref(), Some("join"));
        assert_eq!(selected_key("$request.body.a.b", r#"{"a":{"b":7}}"#).as_deref(), Some("7"));
        assert_eq!(selected_key("$request.body.action", "not json"), None);
        assert_eq!(selected_key("$request.body.action", r#"{"other":1}"#), None);
        assert_eq!(selected_key("$request.body.action", r#"{"action":{"x":1}}"#), None);
        assert_eq!(selected_key("$request.header.x", r#"{"x":"y"}"#), None);
        assert_eq!(selected_key("$request.body.", r#"{"x":"y"}"#), None);
    }

    #[test]
    fn picks_route_then_default() {
        let mut doc = ApiDoc::default();
        doc.api.insert("RouteSelectionExpression".into(), json!("$request.body.action"));
        for (id, key) in [("r1", "join"), ("r2", "$default"), ("r3", "$connect")] {
            doc.routes.insert(id.into(), json!({ "RouteKey": key }).as_object().cloned().unwrap_or_default());
        }
        assert_eq!(pick(&doc, r#"{"action":"join"}"#).map(|r| r.0), Some("r1"));
        assert_eq!(pick(&doc, r#"{"action":"leave"}"#).map(|r| r.0), Some("r2"));
        assert_eq!(pick(&doc, r#"{"action":"$connect"}"#).map(|r| r.0), Some("r2"));
        assert_eq!(pick(&doc, "plain text").map(|r| r.0), Some("r2"));
        doc.routes.remove("r2");
        assert_eq!(pick(&doc, "plain text"), None);
    }
}
