//! A client's WebSocket upgrade request (`GET <stage>` with `Upgrade: websocket`): the
//! stage, the `$connect` route's integration, then `101 Switching Protocols` and the
//! session ("Manage connected users and client apps: $connect and $disconnect routes",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html).
//! Until `$connect`'s integration answers the upgrade is pending; a function that fails
//! is a 500, one that answers a non-2xx `statusCode` refuses the connection with that
//! status (and its body); the answer's headers (e.g. `Sec-WebSocket-Protocol`) go on the
//! 101. No `$connect` route, or one without an integration, accepts every connection.

use super::connections::{Connection, Facts};
use super::event::{self, Happening};
use super::invoke::{self, Outcome};
use super::{aws_id, forbidden, json_message, selection, session, WebSockets};
use crate::authorize::AuthInput;
use crate::registry::ApiDoc;
use bytes::Bytes;
use nimbus_core::data_plane::{DataRequest, DataResponse, UpgradeAnswer};
use std::sync::Arc;

/// Response headers the handshake owns: a `$connect` answer cannot set them.
const RESERVED: &[&str] = &["connection", "upgrade", "sec-websocket-accept", "content-length", "transfer-encoding"];

pub async fn upgrade(ws: &Arc<WebSockets>, req: DataRequest, (api_id, account, region): (&str, &str, &str), doc: &ApiDoc, stage: String) -> UpgradeAnswer {
    let respond = UpgradeAnswer::Respond;
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    if !req.method.eq_ignore_ascii_case("GET") {
        return respond(forbidden());
    }
    let (Some(key), Some("13")) = (header("sec-websocket-key"), header("sec-websocket-version")) else {
        let mut out = json_message(400, "Bad Request");
        out.headers.push(("sec-websocket-version".into(), "13".into()));
        return respond(out);
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let now = ws.clock.now_ms();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let facts = Facts {
        id: aws_id(),
        api_id: api_id.to_string(),
        stage: stage.clone(),
        domain_name: req.host.clone(),
        source_ip: req.source_ip.to_string(),
        user_agent: header("user-agent").map(str::to_string),
        connected_at_ms: now,
    };
    let conn = Arc::new(Connection::new(facts, tx));
    let mut headers = vec![
        ("upgrade".to_string(), "websocket".to_string()),
        ("connection".to_string(), "Upgrade".to_string()),
        ("sec-websocket-accept".to_string(), accept),
    ];
    // `$connect` is the only route a WebSocket API authorizes; a refusal (401 / 403 / 500)
    // answers the upgrade before the integration runs, and what was granted goes into the
    // `$connect` event's `requestContext.authorizer`.
    if let Some((_, route)) = selection::route_by_key(doc, "$connect") {
        let request_id = aws_id();
        let stage_variables = doc.stages.get(&stage).and_then(|s| s.get("StageVariables")).and_then(serde_json::Value::as_object).cloned().unwrap_or_default();
        let raw_path = format!("/{stage}");
        let signed_path = crate::data_plane::signed_path(&req, api_id);
        let no_parameters = std::collections::HashMap::new();
        let auth = AuthInput {
            req: &req,
            api_id,
            account,
            region,
            stage: &stage,
            route_key: "$connect",
            path: "/",
            raw_path: &raw_path,
            signed_path: &signed_path,
            path_parameters: &no_parameters,
            stage_variables: &stage_variables,
            request_id: &request_id,
        };
        let granted = match ws.authorizers.authorize(doc, route, &auth).await {
            Ok(granted) => granted,
            Err(refusal) => return respond(refusal.response(&request_id)),
        };
        let happening = Happening { route_key: "$connect", request_id: &request_id, now_ms: now };
        let mut e = event::connect(&conn, &happening, &req.headers, &req.query);
        granted.decorate(&mut e, false);
        match invoke::run(ws.invoker.as_ref(), doc, route, &e).await {
            Outcome::Answer(payload) => match invoke::status(&payload).map(|_| crate::event::response_v1(&payload)) {
                None => {} // no statusCode: accepted
                Some(None) => return respond(json_message(500, "Internal server error")),
                Some(Some(m)) if !(200..300).contains(&m.status) => {
                    let kept = m.headers.into_iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())).collect();
                    return respond(DataResponse { status: m.status, headers: kept, body: m.body });
                }
                Some(Some(m)) => headers.extend(m.headers.into_iter().filter(|(k, _)| !RESERVED.contains(&k.as_str()))),
            },
            Outcome::NoIntegration => {}
            Outcome::Failed => return respond(json_message(500, "Internal server error")),
            Outcome::Unsupported(kind) => return respond(json_message(500, &format!("{kind} integrations are not supported by nimbus yet"))),
        }
    }
    ws.connections.insert(conn.clone());
    let ws = ws.clone();
    let response = DataResponse { status: 101, headers, body: Bytes::new() };
    UpgradeAnswer::Switch { response, then: Box::new(move |io| Box::pin(session::run(ws, conn, rx, io))) }
}
