//! `nimbus-bench apigw --ws`: messages per second echoed through a WebSocket API's
//! two-way `$default` route to a Lambda function (`nimbus-test-fn` with `APIGW_PROXY=1`,
//! which answers every MESSAGE event with a 200 whose body is the event).
//!
//! One WEBSOCKET API (`RouteSelectionExpression` `$request.body.action`) with a `$default`
//! route, its `$default` route response (so the integration's answer is sent back) and a
//! stage `bench`. Per client count: N clients connect, then each runs a closed loop — send
//! a text message, wait for the answer frame — for the duration after a warmup; the
//! latency is send → answer received.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::apigw::{control, gather, hist, Measured, Round};
use crate::client::Target;

/// Creates the WebSocket API in front of `function_arn`; returns its id.
pub async fn create_api(target: &Target, function_arn: &str) -> Result<String, String> {
    let api = control(target, "POST", "/v2/apis", Some(json!({ "name": "nimbus-bench-ws", "protocolType": "WEBSOCKET", "routeSelectionExpression": "$request.body.action" }))).await?;
    let id = api["apiId"].as_str().ok_or_else(|| format!("CreateApi: {api}"))?.to_string();
    let integration = control(target, "POST", &format!("/v2/apis/{id}/integrations"), Some(json!({ "integrationType": "AWS_PROXY", "integrationUri": function_arn }))).await?;
    let integration_id = integration["integrationId"].as_str().ok_or_else(|| format!("CreateIntegration: {integration}"))?;
    let route = control(target, "POST", &format!("/v2/apis/{id}/routes"), Some(json!({ "routeKey": "$default", "target": format!("integrations/{integration_id}") }))).await?;
    let route_id = route["routeId"].as_str().ok_or_else(|| format!("CreateRoute: {route}"))?;
    control(target, "POST", &format!("/v2/apis/{id}/routes/{route_id}/routeresponses"), Some(json!({ "routeResponseKey": "$default" }))).await?;
    control(target, "POST", &format!("/v2/apis/{id}/stages"), Some(json!({ "stageName": "bench" }))).await?;
    Ok(id)
}

async fn client(url: String, record_from: Instant, end: Instant) -> Measured {
    let (mut lat, mut errors) = (hist(), 0u64);
    let (mut socket, _) = match tokio_tungstenite::connect_async(url.as_str()).await {
        Ok(s) => s,
        Err(e) => return (lat, 1, Some(format!("connect {url}: {e}"))),
    };
    let mut first_error = None;
    while Instant::now() < end {
        let t = Instant::now();
        if let Err(e) = socket.send(Message::text("{\"action\":\"echo\",\"n\":1}")).await {
            return (lat, errors + 1, first_error.or(Some(format!("send: {e}"))));
        }
        let answer = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
        match answer {
            Ok(Some(Ok(Message::Text(_)))) => {
                if t >= record_from {
                    lat.saturating_record(t.elapsed().as_micros().max(1) as u64);
                }
            }
            other => {
                errors += 1;
                first_error.get_or_insert(format!("answer: {other:?}"));
                break;
            }
        }
    }
    let _ = socket.close(None).await;
    (lat, errors, first_error)
}

/// One measured round of `clients` sockets.
pub async fn round(target: &Target, api_id: &str, clients: usize, warmup: Duration, duration: Duration) -> Round {
    let url = format!("ws://{}/_aws/execute-api/{api_id}/bench", target.host);
    let record_from = Instant::now() + warmup;
    let end = record_from + duration;
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(client(url.clone(), record_from, end))).collect();
    gather(tasks, duration).await
}
