//! The Lambda proxy events of WebSocket APIs: `CONNECT` (with the upgrade request's headers
//! and query string), `MESSAGE` (the frame's text as `body`) and `DISCONNECT` (with
//! `disconnectStatusCode` / `disconnectReason`), each with AWS's `requestContext`
//! (routeKey, eventType, messageId, connectionId, domainName, stage, connectedAt,
//! requestTime(Epoch), identity, apiId, requestId, extendedRequestId, messageDirection) —
//! "Working with WebSocket APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integrations.html
//! and the `$connect` / `$disconnect` routes page.

use super::connections::Connection;
use crate::event::{clf_time, headers_v1, query_v1};
use http::HeaderMap;
use serde_json::{json, Map, Value};

/// One event's own facts (the connection's come from [`Connection`]).
pub struct Happening<'a> {
    pub route_key: &'a str,
    pub request_id: &'a str,
    pub now_ms: u64,
}

/// `identity` as AWS fills it for WebSocket APIs without IAM authorization: the caller's
/// address and user agent, the rest `null`.
fn identity(c: &Connection) -> Value {
    json!({
        "accountId": null,
        "accessKey": null,
        "caller": null,
        "cognitoAuthenticationProvider": null,
        "cognitoAuthenticationType": null,
        "cognitoIdentityId": null,
        "cognitoIdentityPoolId": null,
        "principalOrgId": null,
        "sourceIp": c.source_ip,
        "user": null,
        "userAgent": c.user_agent,
        "userArn": null,
    })
}

fn request_context(c: &Connection, h: &Happening, event_type: &str) -> Map<String, Value> {
    let mut rc = Map::new();
    rc.insert("routeKey".into(), json!(h.route_key));
    rc.insert("eventType".into(), json!(event_type));
    rc.insert("extendedRequestId".into(), json!(h.request_id));
    rc.insert("requestTime".into(), json!(clf_time(h.now_ms)));
    rc.insert("messageDirection".into(), json!("IN"));
    rc.insert("stage".into(), json!(c.stage));
    rc.insert("connectedAt".into(), json!(c.connected_at_ms));
    rc.insert("requestTimeEpoch".into(), json!(h.now_ms));
    rc.insert("identity".into(), identity(c));
    rc.insert("requestId".into(), json!(h.request_id));
    rc.insert("domainName".into(), json!(c.domain_name));
    rc.insert("connectionId".into(), json!(c.id));
    rc.insert("apiId".into(), json!(c.api_id));
    rc
}

/// The upgrade request's headers as `$connect` sees them: without the hop-by-hop
/// `Connection` / `Upgrade`, with `X-Forwarded-For` / `-Port` / `-Proto` added (as AWS's
/// front end adds them; nimbus speaks plain HTTP).
fn forwarded(c: &Connection, headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    out.remove(http::header::CONNECTION);
    out.remove(http::header::UPGRADE);
    let port = c.domain_name.rsplit_once(':').map(|(_, p)| p).filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).unwrap_or("80");
    for (name, value) in [("x-forwarded-for", c.source_ip.as_str()), ("x-forwarded-port", port), ("x-forwarded-proto", "http")] {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            out.insert(name, v);
        }
    }
    out
}

/// `$connect`: the upgrade request's headers and query string; `messageId` and the
/// disconnect members `null`.
pub fn connect(c: &Connection, h: &Happening, headers: &HeaderMap, query: &str) -> Value {
    let (single, multi) = headers_v1(&forwarded(c, headers));
    let (query, multi_query) = query_v1(query);
    let mut rc = request_context(c, h, "CONNECT");
    rc.insert("messageId".into(), Value::Null);
    rc.insert("disconnectStatusCode".into(), Value::Null);
    rc.insert("disconnectReason".into(), Value::Null);
    let mut e = Map::new();
    e.insert("headers".into(), Value::Object(single));
    e.insert("multiValueHeaders".into(), Value::Object(multi));
    if !query.is_null() {
        e.insert("queryStringParameters".into(), query);
        e.insert("multiValueQueryStringParameters".into(), multi_query);
    }
    e.insert("requestContext".into(), Value::Object(rc));
    e.insert("isBase64Encoded".into(), json!(false));
    Value::Object(e)
}

/// A message routed to `h.route_key`: the frame's text as `body`.
pub fn message(c: &Connection, h: &Happening, message_id: &str, body: &str) -> Value {
    let mut rc = request_context(c, h, "MESSAGE");
    rc.insert("messageId".into(), json!(message_id));
    json!({ "requestContext": rc, "body": body, "isBase64Encoded": false })
}

/// `$disconnect`: the close code and reason, and the few headers AWS sends with it.
pub fn disconnect(c: &Connection, h: &Happening, code: u16, reason: &str) -> Value {
    let mut rc = request_context(c, h, "DISCONNECT");
    rc.insert("disconnectStatusCode".into(), json!(code));
    rc.insert("disconnectReason".into(), json!(reason));
    let headers = json!({ "host": c.domain_name, "x-api-key": "", "x-forwarded-for": "", "x-restapi": "" });
    let multi: Map<String, Value> = headers.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), json!([v]))).collect();
    json!({ "headers": headers, "multiValueHeaders": multi, "requestContext": rc, "isBase64Encoded": false })
}

/// The frame API Gateway sends a client when it cannot handle its message:
/// `{"message": "Forbidden", "connectionId": …, "requestId": …}`.
pub fn error_frame(message: &str, connection_id: &str, request_id: &str) -> String {
    json!({ "message": message, "connectionId": connection_id, "requestId": request_id }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::connections::{Connection, Facts};

    fn conn() -> Connection {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let facts = Facts {
            id: "abc=".into(),
            api_id: "api".into(),
            stage: "prod".into(),
            domain_name: "api.execute-api.localhost:4566".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: Some("ua".into()),
            connected_at_ms: 1_000,
        };
        Connection::new(facts, tx)
    }

    #[test]
    fn events_have_aws_members() {
        let c = conn();
        let h = Happening { route_key: "$connect", request_id: "rid=", now_ms: 2_000 };
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", "ua".parse().unwrap());
        headers.insert("upgrade", "websocket".parse().unwrap());
        let e = connect(&c, &h, &headers, "a=1&a=2");
        assert_eq!(e["requestContext"]["eventType"], "CONNECT");
        assert_eq!(e["requestContext"]["messageId"], Value::Null);
        assert_eq!(e["queryStringParameters"]["a"], "2");
        assert_eq!(e["multiValueQueryStringParameters"]["a"], json!(["1", "2"]));
        assert_eq!(e["headers"]["user-agent"], "ua");
        assert_eq!((e["headers"]["x-forwarded-for"].as_str(), e["headers"]["x-forwarded-port"].as_str()), (Some("127.0.0.1"), Some("4566")));
        assert!(e["headers"].get("upgrade").is_none());
        let no_query = connect(&c, &h, &headers, "");
        assert!(no_query.get("queryStringParameters").is_none());

        let h = Happening { route_key: "$default", request_id: "r2=", now_ms: 3_000 };
        let m = message(&c, &h, "m1=", "hi");
        assert_eq!((m["body"].as_str(), m["requestContext"]["messageId"].as_str()), (Some("hi"), Some("m1=")));
        assert_eq!(m["requestContext"]["connectedAt"], 1_000);
        assert_eq!(m["requestContext"]["identity"]["sourceIp"], "127.0.0.1");

        let h = Happening { route_key: "$disconnect", request_id: "r3=", now_ms: 4_000 };
        let d = disconnect(&c, &h, 1000, "bye");
        assert_eq!((d["requestContext"]["disconnectStatusCode"].as_u64(), d["requestContext"]["disconnectReason"].as_str()), (Some(1000), Some("bye")));
        assert_eq!(d["requestContext"]["eventType"], "DISCONNECT");
    }
}
