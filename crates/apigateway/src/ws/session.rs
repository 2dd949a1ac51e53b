//! One WebSocket connection after the switch: reads the client's frames and routes each
//! message (its own task, so a slow integration never holds up the socket — or a
//! PostToConnection the function makes back to the same client); writes what the
//! `@connections` API and two-way routes queue; and ends the connection on AWS's limits
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
//! a frame over 32 KB or a message over 128 KB closes with 1009, a binary frame with 1003
//! ("Binary media types for WebSocket APIs"), 10 minutes without a message from the client
//! or 2 hours in all with 1001 — timed on nimbus's clock (woken by its jumps, never
//! polled). When either side closes, `$disconnect` runs.

use super::connections::{Connection, Outbound};
use super::event::{self, Happening};
use super::invoke::{self, Outcome, Reply};
use super::{aws_id, selection, WebSockets, IDLE_MS, LIFETIME_MS, MAX_FRAME, MAX_MESSAGE};
use futures_util::{SinkExt, StreamExt};
use nimbus_core::data_plane::UpgradedIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

type Socket = WebSocketStream<UpgradedIo>;

/// How long a closing handshake may take before the socket is dropped (wall time: it only
/// bounds a client that never answers the close frame).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Why the connection ended: the `$disconnect` event's status code and reason.
struct Ended {
    code: u16,
    reason: String,
}

fn ended(code: u16, reason: &str) -> Ended {
    Ended { code, reason: reason.to_string() }
}

/// Runs the connection until it ends, then forgets it and runs `$disconnect`.
pub async fn run(ws: Arc<WebSockets>, conn: Arc<Connection>, rx: UnboundedReceiver<Outbound>, io: Option<UpgradedIo>) {
    let Some(io) = io else {
        ws.connections.remove(&conn.id);
        return;
    };
    let config = WebSocketConfig::default().max_frame_size(Some(MAX_FRAME)).max_message_size(Some(MAX_MESSAGE));
    let mut socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let end = serve(&ws, &conn, &mut socket, rx).await;
    ws.connections.remove(&conn.id);
    drop(socket);
    disconnect(&ws, &conn, end).await;
}

async fn serve(ws: &Arc<WebSockets>, conn: &Arc<Connection>, socket: &mut Socket, mut rx: UnboundedReceiver<Outbound>) -> Ended {
    loop {
        let deadline = (conn.last_active_ms() + IDLE_MS).min(conn.connected_at_ms + LIFETIME_MS);
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    conn.touch(ws.clock.now_ms());
                    tokio::spawn(on_message(ws.clone(), conn.clone(), text.to_string()));
                }
                Some(Ok(Message::Binary(_))) => return close(socket, 1003, "Unsupported data").await,
                Some(Ok(Message::Close(frame))) => {
                    // tungstenite answers the close frame; reading on completes the handshake.
                    finish_close(socket).await;
                    return match frame {
                        Some(f) => ended(u16::from(f.code), f.reason.as_str()),
                        None => ended(1005, "Client-side close frame status not set"),
                    };
                }
                Some(Ok(_)) => {} // ping / pong: answered by tungstenite
                Some(Err(WsError::Capacity(_))) => return close(socket, 1009, "Message too big").await,
                Some(Err(_)) | None => return ended(1006, "Connection was closed abnormally"),
            },
            out = rx.recv() => {
                let sent = match out {
                    Some(Outbound::Text(t)) => socket.send(Message::text(t)).await,
                    Some(Outbound::Binary(b)) => socket.send(Message::binary(b)).await,
                    Some(Outbound::Close { code, reason }) => return close(socket, code, &reason).await,
                    None => return close(socket, 1001, "Going away").await,
                };
                if sent.is_err() {
                    return ended(1006, "Connection was closed abnormally");
                }
            }
            _ = ws.clock.sleep_until(deadline) => return close(socket, 1001, "Going away").await,
        }
    }
}

/// Sends a close frame and waits (bounded) for the client's answer.
async fn close(socket: &mut Socket, code: u16, reason: &str) -> Ended {
    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
    if socket.close(Some(frame)).await.is_ok() {
        finish_close(socket).await;
    }
    ended(code, reason)
}

/// Reads until the closing handshake is over (the stream ends) or [`CLOSE_WAIT`] passes.
async fn finish_close(socket: &mut Socket) {
    let drained = async {
        while let Some(Ok(_)) = socket.next().await {}
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, drained).await;
}

/// A message from the client: routed by the API's RouteSelectionExpression; the
/// integration's answer goes back on a two-way route (one with a route response).
async fn on_message(ws: Arc<WebSockets>, conn: Arc<Connection>, body: String) {
    let request_id = aws_id();
    let error = |message: &str| conn.send(Outbound::Text(event::error_frame(message, &conn.id, &request_id)));
    let Some((_, doc)) = ws.registry.find(&conn.api_id) else {
        error("Forbidden");
        return;
    };
    let Some((route_id, route)) = selection::pick(&doc, &body) else {
        error("Forbidden");
        return;
    };
    let route_key = route.get("RouteKey").and_then(serde_json::Value::as_str).unwrap_or("$default");
    let happening = Happening { route_key, request_id: &request_id, now_ms: ws.clock.now_ms() };
    let e = event::message(&conn, &happening, &aws_id(), &body);
    match invoke::run(ws.invoker.as_ref(), &doc, route, &e).await {
        Outcome::Answer(payload) => {
            let two_way = doc.route_responses.get(route_id).is_some_and(|r| !r.is_empty());
            match invoke::reply(&payload).filter(|_| two_way) {
                Some(Reply::Text(t)) => conn.send(Outbound::Text(t)),
                Some(Reply::Binary(b)) => conn.send(Outbound::Binary(b)),
                None => true,
            };
        }
        Outcome::NoIntegration | Outcome::Failed => {
            error("Internal server error");
        }
        Outcome::Unsupported(kind) => {
            error(&format!("{kind} integrations are not supported by nimbus yet"));
        }
    }
}

/// `$disconnect`, best effort as on AWS: its answer is ignored.
async fn disconnect(ws: &WebSockets, conn: &Connection, end: Ended) {
    let Some((_, doc)) = ws.registry.find(&conn.api_id) else { return };
    let Some((_, route)) = selection::route_by_key(&doc, "$disconnect") else { return };
    let request_id = aws_id();
    let happening = Happening { route_key: "$disconnect", request_id: &request_id, now_ms: ws.clock.now_ms() };
    let e = event::disconnect(conn, &happening, end.code, &end.reason);
    let _ = invoke::run(ws.invoker.as_ref(), &doc, route, &e).await;
}
