//! The `@connections` management API (ApiGatewayManagementApi, REST-JSON, signing name
//! `execute-api`), answered on the API's own endpoint as AWS SDKs reach it with
//! `endpoint_url = <api endpoint>/<stage>`
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html):
//! `POST /@connections/{id}` (PostToConnection: the body is the frame — text when UTF-8,
//! else binary), `GET` (GetConnection: `connectedAt`, `identity`, `lastActiveAt`),
//! `DELETE` (DeleteConnection: closes it). A connection that is not live is
//! `GoneException` 410. The signature is not checked (as on the rest of the data plane).

use super::connections::Outbound;
use super::{WebSockets, MAX_MESSAGE};
use bytes::Bytes;
use nimbus_core::data_plane::{DataRequest, DataResponse};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

/// A REST-JSON error as the SDKs read it: `x-amzn-ErrorType` and `{"message": …}`.
fn error(status: u16, kind: &str, message: Value, request_id: &str) -> DataResponse {
    DataResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-errortype".into(), kind.into()),
            ("x-amzn-requestid".into(), request_id.into()),
        ],
        body: Bytes::from(json!({ "message": message }).to_string()),
    }
}

fn ok(status: u16, body: Bytes, request_id: &str) -> DataResponse {
    DataResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into()), ("x-amzn-requestid".into(), request_id.into())],
        body,
    }
}

/// The connection id of a `@connections/{id}` path (after the stage), percent-decoded.
pub fn connection_id(path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    let rest = path.strip_prefix("@connections/").or_else(|| path.strip_prefix("%40connections/"))?;
    let id = percent_decode_str(rest).decode_utf8().ok()?.into_owned();
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

pub fn handle(ws: &WebSockets, req: &DataRequest, api_id: &str, connection: &str, request_id: &str) -> DataResponse {
    let gone = || error(410, "GoneException", Value::Null, request_id);
    let Some(conn) = ws.connections.get(connection).filter(|c| c.api_id == api_id) else { return gone() };
    match req.method.as_str() {
        "POST" => {
            if req.body.len() > MAX_MESSAGE {
                let message = format!("Message of {} bytes exceeds the 128 KB payload limit", req.body.len());
                return error(413, "PayloadTooLargeException", json!(message), request_id);
            }
            let out = match std::str::from_utf8(&req.body) {
                Ok(text) => Outbound::Text(text.to_string()),
                Err(_) => Outbound::Binary(req.body.to_vec()),
            };
            if !conn.send(out) {
                return gone();
            }
            ok(200, Bytes::new(), request_id)
        }
        "GET" => {
            let body = json!({
                "connectedAt": nimbus_core::time::iso8601(conn.connected_at_ms),
                "identity": { "sourceIp": conn.source_ip, "userAgent": conn.user_agent.clone().unwrap_or_default() },
                "lastActiveAt": nimbus_core::time::iso8601(conn.last_active_ms()),
            });
            ok(200, Bytes::from(body.to_string()), request_id)
        }
        "DELETE" => {
            // The session sends the close frame and runs `$disconnect`.
            ws.connections.remove(&conn.id);
            conn.send(Outbound::Close { code: 1000, reason: "Connection deleted by the server".into() });
            ok(204, Bytes::new(), request_id)
        }
        _ => super::forbidden(),
    }
}

#[cfg(test)]
mod tests {
    use super::connection_id;

    #[test]
    fn connection_paths() {
        assert_eq!(connection_id("/@connections/abc%3D").as_deref(), Some("abc="));
        assert_eq!(connection_id("@connections/abc=").as_deref(), Some("abc="));
        assert_eq!(connection_id("/%40connections/x").as_deref(), Some("x"));
        assert_eq!(connection_id("/@connections/"), None);
        assert_eq!(connection_id("/@connections/a/b"), None);
        assert_eq!(connection_id("/other/a"), None);
    }
}
