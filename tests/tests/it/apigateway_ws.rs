//! API Gateway v2 WebSocket APIs end to end ("Working with WebSocket APIs" in the API
//! Gateway developer guide): a tokio-tungstenite client connects by path
//! (`ws://127.0.0.1:PORT/_aws/execute-api/<id>/<stage>`) and by host
//! (`ws://<id>.execute-api.localhost:PORT/<stage>`); a Python function (`ws.handler` in
//! tests/functions/python/ws.py) serves `$connect` / `$disconnect` / `$default` / custom
//! routes and reports every event to an SQS queue the test long-polls (no sleeps); the
//! `@connections` API through the AWS SDK's ApiGatewayManagementApi client (path and host
//! endpoints); AWS's limits (1009 for frames over 32 KB, 1003 for binary frames, 1001 after
//! 10 idle minutes or 2 hours, on nimbus's clock); route and integration responses.

use aws_sdk_apigatewaymanagement::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_apigatewaymanagement::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use futures_util::{SinkExt, StreamExt};
use nimbus_tests::lambda::{self, expect_err, FnSpec};
use nimbus_tests::Nimbus;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket API with stage `prod`, its function and the queue the function reports to.
struct WsApi {
    id: String,
    queue: String,
}

/// Routes to create: (route key, two-way).
async fn ws_api(n: &Nimbus, routes: &[(&str, bool)]) -> WsApi {
    let apigw = n.apigateway_client();
    let api = apigw.create_api().name("ws").protocol_type(ProtocolType::Websocket).route_selection_expression("$request.body.action").send().await.expect("create_api");
    let id = api.api_id().expect("id").to_string();
    apigw.create_stage().api_id(&id).stage_name("prod").send().await.expect("create_stage");
    let sqs = n.sqs_client();
    let queue = sqs.create_queue().queue_name(format!("ws-events-{id}")).send().await.expect("create_queue").queue_url().expect("url").to_string();
    if !routes.is_empty() {
        let management = format!("{}/_aws/execute-api/{id}/prod", n.endpoint());
        let spec = FnSpec::python("ws.handler").env("REPORT_QUEUE_URL", &queue).env("MANAGEMENT_ENDPOINT", &management).timeout(30);
        let function = lambda::create(&n.lambda_client(), &format!("ws-{id}"), spec).await;
        let integration = apigw.create_integration().api_id(&id).integration_type(IntegrationType::AwsProxy).integration_uri(&function).send().await.expect("create_integration");
        let target = format!("integrations/{}", integration.integration_id().expect("id"));
        for (key, two_way) in routes {
            let route = apigw.create_route().api_id(&id).route_key(*key).target(&target).send().await.expect("create_route");
            if *two_way {
                apigw.create_route_response().api_id(&id).route_id(route.route_id().expect("id")).route_response_key("$default").send().await.expect("create_route_response");
            }
        }
    }
    WsApi { id, queue }
}

fn path_url(n: &Nimbus, api: &WsApi, query: &str) -> String {
    format!("ws://127.0.0.1:{}/_aws/execute-api/{}/prod{query}", n.port(), api.id)
}

async fn connect(url: &str) -> Client {
    let (client, response) = tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("connect {url}: {e:?}"));
    assert_eq!(response.status(), 101);
    client
}

/// The upgrade's HTTP status when the server refuses it.
async fn refused(url: &str) -> (u16, String) {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("{url}: connected, expected a refusal"),
        Err(WsError::Http(r)) => (r.status().as_u16(), String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).into_owned()),
        Err(e) => panic!("{url}: {e:?}"),
    }
}

/// A bound on waiting for a frame: a server that never sends one fails the test.
const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Timer tests expect the close right after the clock moves: well before the real time a
/// wrong deadline would take (nimbus's timers also run on wall time).
const PROMPT: std::time::Duration = std::time::Duration::from_secs(10);

async fn next_frame(c: &mut Client, wait: std::time::Duration) -> Option<Result<Message, WsError>> {
    tokio::time::timeout(wait, c.next()).await.unwrap_or_else(|_| panic!("no frame from nimbus within {wait:?}"))
}

/// The next text frame (panics on anything else).
async fn next_text(c: &mut Client) -> String {
    loop {
        match next_frame(c, FRAME_WAIT).await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The close frame the server sends (code, reason), within `wait`.
async fn close_within(c: &mut Client, wait: std::time::Duration) -> (u16, String) {
    loop {
        match next_frame(c, wait).await {
            Some(Ok(Message::Close(Some(f)))) => return (u16::from(f.code), f.reason.to_string()),
            Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

async fn next_close(c: &mut Client) -> (u16, String) {
    close_within(c, FRAME_WAIT).await
}

/// The next event the function reported (an SQS long poll: woken by the send).
async fn next_event(n: &Nimbus, api: &WsApi) -> Value {
    let sqs = n.sqs_client();
    for _ in 0..6 {
        let got = sqs.receive_message().queue_url(&api.queue).wait_time_seconds(20).max_number_of_messages(1).send().await.expect("receive");
        if let Some(m) = got.messages().first() {
            sqs.delete_message().queue_url(&api.queue).receipt_handle(m.receipt_handle().expect("handle")).send().await.expect("delete");
            return serde_json::from_str(m.body().expect("body")).expect("event JSON");
        }
    }
    panic!("no event reported in 2 minutes");
}

/// The next reported event of `event_type` (earlier ones of other types are skipped).
async fn next_event_of(n: &Nimbus, api: &WsApi, event_type: &str) -> Value {
    loop {
        let e = next_event(n, api).await;
        if e["requestContext"]["eventType"] == event_type {
            return e;
        }
    }
}

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
#[tokio::test]
async fn connect_route_by_action_default_and_disconnect_events() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("$connect", false), ("$disconnect", false), ("$default", true), ("echo", false)]).await;
    let mut c = connect(&path_url(&n, &api, "?team=blue&team=red")).await;

    let connect_event = next_event(&n, &api).await;
    let rc = &connect_event["requestContext"];
    assert_eq!((rc["eventType"].as_str(), rc["routeKey"].as_str(), rc["messageDirection"].as_str()), (Some("CONNECT"), Some("$connect"), Some("IN")));
    assert_eq!((rc["apiId"].as_str(), rc["stage"].as_str()), (Some(api.id.as_str()), Some("prod")));
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["messageId"], Value::Null);
    let connection_id = rc["connectionId"].as_str().expect("connectionId").to_string();
    assert!(connection_id.ends_with('=') && connection_id.len() == 16, "AWS-style id: {connection_id}");
    assert!(rc["connectedAt"].as_u64().is_some() && rc["requestTimeEpoch"].as_u64() >= rc["connectedAt"].as_u64());
    assert!(rc["requestTime"].as_str().is_some_and(|t| t.ends_with(" +0000")));
    assert!(rc["requestId"].as_str().is_some() && rc["extendedRequestId"].as_str().is_some());
    assert_eq!(rc["domainName"], format!("127.0.0.1:{}", n.port()));
    assert_eq!(connect_event["queryStringParameters"]["team"], "red");
    assert_eq!(connect_event["multiValueQueryStringParameters"]["team"], json!(["blue", "red"]));
    assert_eq!(connect_event["headers"]["sec-websocket-version"], "13");
    assert_eq!(connect_event["multiValueHeaders"]["x-forwarded-for"], json!(["127.0.0.1"]));
    assert_eq!(connect_event["headers"]["x-forwarded-port"], n.port().to_string());
    assert!(connect_event["headers"].get("upgrade").is_none() && connect_event["headers"].get("connection").is_none());
    assert_eq!(connect_event["isBase64Encoded"], false);

    // A custom route (one-way: its answer is not sent back).
    c.send(Message::text(r#"{"action":"echo","n":1}"#)).await.expect("send");
    let echo = next_event_of(&n, &api, "MESSAGE").await;
    assert_eq!((echo["requestContext"]["routeKey"].as_str(), echo["body"].as_str()), (Some("echo"), Some(r#"{"action":"echo","n":1}"#)));
    assert_eq!(echo["requestContext"]["connectionId"], connection_id.as_str());
    assert!(echo["requestContext"]["messageId"].as_str().is_some());

    // Non-JSON and unknown actions go to $default, which is two-way: the answer's body comes back.
    for (text, expected_route) in [("plain text", "$default"), (r#"{"action":"nope"}"#, "$default")] {
        c.send(Message::text(text)).await.expect("send");
        let reply: Value = serde_json::from_str(&next_text(&mut c).await).expect("reply JSON");
        assert_eq!((reply["routeKey"].as_str(), reply["body"].as_str()), (Some(expected_route), Some(text)));
        assert_eq!(reply["event"]["requestContext"]["eventType"], "MESSAGE");
        assert_eq!(reply["event"]["isBase64Encoded"], false);
    }

    c.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await.expect("close");
    let gone = next_event_of(&n, &api, "DISCONNECT").await;
    let rc = &gone["requestContext"];
    assert_eq!((rc["routeKey"].as_str(), rc["connectionId"].as_str()), (Some("$disconnect"), Some(connection_id.as_str())));
    assert_eq!((rc["disconnectStatusCode"].as_u64(), rc["disconnectReason"].as_str()), (Some(1000), Some("bye")));
}

#[tokio::test]
async fn connect_function_refuses_or_fails_and_headers_reach_the_handshake() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("$connect", false)]).await;
    let (status, body) = refused(&path_url(&n, &api, "?reject=403")).await;
    assert_eq!((status, body.as_str()), (403, "rejected by $connect"));
    assert_eq!(refused(&path_url(&n, &api, "?reject=401")).await.0, 401);
    let (status, body) = refused(&path_url(&n, &api, "?fail=1")).await;
    assert_eq!(status, 500);
    assert_eq!(serde_json::from_str::<Value>(&body).expect("json"), json!({ "message": "Internal server error" }));

    // The $connect answer's Sec-WebSocket-Protocol goes on the 101 (subprotocol negotiation).
    let mut request = path_url(&n, &api, "?protocol=chat").into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "chat".parse().expect("header"));
    let (_c, response) = tokio_tungstenite::connect_async(request).await.expect("connect with subprotocol");
    assert_eq!(response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()), Some("chat"));
}

#[tokio::test]
async fn unroutable_message_gets_forbidden_frame_and_failing_function_internal_error() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("work", true)]).await;
    let mut c = connect(&path_url(&n, &api, "")).await; // no $connect route: accepted
    c.send(Message::text("no route for this")).await.expect("send");
    let frame: Value = serde_json::from_str(&next_text(&mut c).await).expect("json");
    assert_eq!(frame["message"], "Forbidden");
    assert!(frame["connectionId"].as_str().is_some_and(|id| id.ends_with('=')));
    assert!(frame["requestId"].as_str().is_some());

    c.send(Message::text(r#"{"action":"work"}"#)).await.expect("send");
    let reply: Value = serde_json::from_str(&next_text(&mut c).await).expect("json");
    assert_eq!(reply["routeKey"], "work");

    // A function error on a message: AWS's error frame (the connection stays open).
    let api2 = ws_api(&n, &[("$default", true)]).await;
    let mut c2 = connect(&path_url(&n, &api2, "")).await;
    c2.send(Message::text("fail")).await.expect("send");
    let frame: Value = serde_json::from_str(&next_text(&mut c2).await).expect("json");
    assert_eq!(frame["message"], "Internal server error");
    c2.send(Message::text("still open")).await.expect("send");
    let reply: Value = serde_json::from_str(&next_text(&mut c2).await).expect("json");
    assert_eq!((reply["routeKey"].as_str(), reply["body"].as_str()), (Some("$default"), Some("still open")));
}

/// Rewrites the host-form endpoint (`<id>.execute-api.localhost`, which this machine may not
/// resolve) to nimbus's address, keeping the `Host` header: the request nimbus sees is the
/// host form.
#[derive(Debug)]
struct ToLoopback {
    port: u16,
}

impl Intercept for ToLoopback {
    fn name(&self) -> &'static str {
        "ToLoopback"
    }

    fn modify_before_transmit(&self, ctx: &mut BeforeTransmitInterceptorContextMut<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), aws_sdk_apigatewaymanagement::error::BoxError> {
        let req = ctx.request_mut();
        let uri = req.uri().to_string();
        let (scheme_host, path) = uri.split_at(uri.find(".localhost").map(|i| i + ".localhost".len()).unwrap_or(0));
        let host = scheme_host.trim_start_matches("http://").to_string();
        let path = path.split_once('/').map(|(_, p)| format!("/{p}")).unwrap_or_default();
        req.set_uri(format!("http://127.0.0.1:{}{path}", self.port))?;
        req.headers_mut().insert("host", format!("{host}:{}", self.port));
        Ok(())
    }
}

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
#[tokio::test]
async fn connections_api_post_get_delete_and_gone() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("$connect", false), ("$disconnect", false)]).await;
    let mut request = path_url(&n, &api, "").into_client_request().expect("request");
    request.headers_mut().insert("user-agent", "nimbus-ws-test/1".parse().expect("header"));
    let (mut c, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let id = next_event(&n, &api).await["requestContext"]["connectionId"].as_str().expect("id").to_string();

    let by_path = n.apigateway_management_client(&format!("{}/_aws/execute-api/{}/prod", n.endpoint(), api.id), None);
    by_path.post_to_connection().connection_id(&id).data(Blob::new("hello")).send().await.expect("post_to_connection");
    assert_eq!(next_text(&mut c).await, "hello");

    let host_endpoint = format!("http://{}.execute-api.localhost:{}/prod", api.id, n.port());
    let by_host = n.apigateway_management_client(&host_endpoint, Some(SharedInterceptor::new(ToLoopback { port: n.port() })));
    by_host.post_to_connection().connection_id(&id).data(Blob::new("via host")).send().await.expect("post by host");
    assert_eq!(next_text(&mut c).await, "via host");
    let too_big = Blob::new(vec![b'z'; 128 * 1024 + 1]);
    expect_err(by_path.post_to_connection().connection_id(&id).data(too_big).send().await, "PayloadTooLargeException", Some(413));

    let got = by_path.get_connection().connection_id(&id).send().await.expect("get_connection");
    let identity = got.identity().expect("identity");
    assert_eq!(identity.source_ip(), Some("127.0.0.1"));
    assert_eq!(identity.user_agent(), Some("nimbus-ws-test/1"));
    let (connected, active) = (got.connected_at().expect("connectedAt"), got.last_active_at().expect("lastActiveAt"));
    assert!(active.secs() >= connected.secs() && connected.secs() > 1_700_000_000);

    by_path.delete_connection().connection_id(&id).send().await.expect("delete_connection");
    assert_eq!(next_close(&mut c).await.0, 1000);
    let gone = next_event_of(&n, &api, "DISCONNECT").await;
    assert_eq!(gone["requestContext"]["disconnectStatusCode"], 1000);

    expect_err(by_path.post_to_connection().connection_id(&id).data(Blob::new("late")).send().await, "GoneException", Some(410));
    expect_err(by_path.get_connection().connection_id(&id).send().await, "GoneException", Some(410));
    expect_err(by_host.delete_connection().connection_id("NoSuchConnect=").send().await, "GoneException", Some(410));
    let no_stage = n.apigateway_management_client(&format!("{}/_aws/execute-api/{}/nostage", n.endpoint(), api.id), None);
    expect_err(no_stage.get_connection().connection_id(&id).send().await, "ForbiddenException", Some(403));
}

#[tokio::test]
async fn post_to_connection_after_the_client_left_is_gone_and_functions_can_post_back() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("$connect", false), ("$disconnect", false), ("$default", false)]).await;
    let mut c = connect(&path_url(&n, &api, "")).await;
    let id = next_event(&n, &api).await["requestContext"]["connectionId"].as_str().expect("id").to_string();

    // The function calls PostToConnection (boto3) for its own caller while it runs.
    c.send(Message::text("post:from the function")).await.expect("send");
    assert_eq!(next_text(&mut c).await, "from the function");

    c.close(None).await.expect("close");
    let gone = next_event_of(&n, &api, "DISCONNECT").await;
    assert_eq!(gone["requestContext"]["disconnectStatusCode"], 1005);
    let client = n.apigateway_management_client(&format!("{}/_aws/execute-api/{}/prod", n.endpoint(), api.id), None);
    expect_err(client.post_to_connection().connection_id(&id).data(Blob::new("x")).send().await, "GoneException", Some(410));
}

#[tokio::test]
async fn host_form_connects_and_unknown_stage_is_forbidden() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[("$default", true)]).await;
    let tcp = TcpStream::connect(("127.0.0.1", n.port())).await.expect("tcp");
    let url = format!("ws://{}.execute-api.localhost:{}/prod", api.id, n.port());
    let (mut c, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp)).await.expect("host-form connect");
    c.send(Message::text("by host")).await.expect("send");
    let reply: Value = serde_json::from_str(&next_text(&mut c).await).expect("json");
    assert_eq!(reply["event"]["requestContext"]["domainName"], format!("{}.execute-api.localhost:{}", api.id, n.port()));

    let (status, body) = refused(&format!("ws://127.0.0.1:{}/_aws/execute-api/{}/nostage", n.port(), api.id)).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert_eq!(refused(&format!("ws://127.0.0.1:{}/_aws/execute-api/nosuchapi1/prod", n.port())).await.0, 404);
    // Plain HTTP to a WebSocket API's stage (no upgrade, no @connections): 403.
    let (status, _) = n.http("GET", &format!("/_aws/execute-api/{}/prod", api.id), None).expect("http");
    assert_eq!(status, 403);
}

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
#[tokio::test]
async fn frames_over_32_kb_close_1009_and_binary_frames_1003() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[]).await;
    let mut c = connect(&path_url(&n, &api, "")).await;
    c.send(Message::text("x".repeat(32 * 1024 + 1))).await.expect("send big");
    assert_eq!(next_close(&mut c).await, (1009, "Message too big".to_string()));

    let mut c = connect(&path_url(&n, &api, "")).await;
    c.send(Message::binary(vec![1u8, 2, 3])).await.expect("send binary");
    assert_eq!(next_close(&mut c).await.0, 1003);

    // Up to 32 KB is one ordinary message (here: no route → the Forbidden frame).
    let mut c = connect(&path_url(&n, &api, "")).await;
    c.send(Message::text("y".repeat(32 * 1024 - 64))).await.expect("send 32 KB");
    assert_eq!(serde_json::from_str::<Value>(&next_text(&mut c).await).expect("json")["message"], "Forbidden");
}

/// A text message in fragments of `sizes` bytes (each its own frame).
async fn send_fragmented(c: &mut Client, sizes: &[usize]) {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    for (i, size) in sizes.iter().enumerate() {
        let opcode = OpCode::Data(if i == 0 { Data::Text } else { Data::Continue });
        c.send(Message::Frame(Frame::message(vec![b'f'; *size], opcode, i + 1 == sizes.len()))).await.expect("send fragment");
    }
}

#[tokio::test]
async fn messages_over_128_kb_close_1009_even_in_small_frames() {
    let n = Nimbus::start_in_memory();
    let api = ws_api(&n, &[]).await;
    let mut c = connect(&path_url(&n, &api, "")).await;
    send_fragmented(&mut c, &[30 * 1024; 4]).await; // 120 KB: one message (no route: Forbidden)
    assert_eq!(serde_json::from_str::<Value>(&next_text(&mut c).await).expect("json")["message"], "Forbidden");
    send_fragmented(&mut c, &[30 * 1024; 5]).await; // 150 KB in 30 KB frames
    assert_eq!(next_close(&mut c).await.0, 1009);
}

#[tokio::test]
async fn idle_for_10_minutes_closes_1001_on_the_clock() {
    let n = Nimbus::start_with_clock_control();
    let api = ws_api(&n, &[("$disconnect", false)]).await;
    let mut c = connect(&path_url(&n, &api, "")).await;
    // Each message is answered (no $default: the Forbidden frame), which also proves the
    // session saw it before time moves; 599 s later the connection is still open.
    for _ in 0..2 {
        c.send(Message::text("still here")).await.expect("send");
        assert_eq!(serde_json::from_str::<Value>(&next_text(&mut c).await).expect("json")["message"], "Forbidden");
        n.advance_clock(599);
    }
    n.advance_clock(2);
    assert_eq!(close_within(&mut c, PROMPT).await.0, 1001);
    let gone = next_event_of(&n, &api, "DISCONNECT").await;
    assert_eq!(gone["requestContext"]["disconnectStatusCode"], 1001);
}

#[tokio::test]
async fn connections_end_after_two_hours_even_when_active() {
    let n = Nimbus::start_with_clock_control();
    let api = ws_api(&n, &[]).await; // no routes: every message gets the Forbidden frame
    let mut c = connect(&path_url(&n, &api, "")).await;
    for _ in 0..12 {
        c.send(Message::text("keepalive")).await.expect("send");
        assert_eq!(serde_json::from_str::<Value>(&next_text(&mut c).await).expect("json")["message"], "Forbidden");
        n.advance_clock(590); // 12 × 590 s = 7,080 s: never 10 minutes idle
    }
    c.send(Message::text("keepalive")).await.expect("send");
    assert_eq!(serde_json::from_str::<Value>(&next_text(&mut c).await).expect("json")["message"], "Forbidden");
    n.advance_clock(130); // 7,210 s since connecting
    assert_eq!(close_within(&mut c, PROMPT).await.0, 1001);
}

// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
#[tokio::test]
async fn route_and_integration_responses_control_plane() {
    let mut n = Nimbus::start();
    let c = n.apigateway_client();
    let api = c.create_api().name("ws").protocol_type(ProtocolType::Websocket).route_selection_expression("$request.body.action").send().await.expect("create_api");
    let id = api.api_id().expect("id");
    assert_eq!(api.api_endpoint(), Some(format!("ws://{id}.execute-api.localhost:{}", n.port()).as_str()));
    let integration = c.create_integration().api_id(id).integration_type(IntegrationType::AwsProxy).integration_uri("arn:aws:lambda:us-east-1:000000000000:function:f").send().await.expect("integration");
    let integration_id = integration.integration_id().expect("id");
    let route = c.create_route().api_id(id).route_key("$default").route_response_selection_expression("$default").send().await.expect("route");
    let route_id = route.route_id().expect("id");
    assert_eq!(route.route_response_selection_expression(), Some("$default"));

    let rr = c.create_route_response().api_id(id).route_id(route_id).route_response_key("$default").send().await.expect("create_route_response");
    let rr_id = rr.route_response_id().expect("id");
    assert_eq!(rr.route_response_key(), Some("$default"));
    expect_err(c.create_route_response().api_id(id).route_id(route_id).route_response_key("$default").send().await, "ConflictException", Some(409));
    expect_err(c.create_route_response().api_id(id).route_id(route_id).route_response_key("$other").send().await, "BadRequestException", Some(400));
    expect_err(c.create_route_response().api_id(id).route_id("nope123").route_response_key("$default").send().await, "NotFoundException", Some(404));
    let listed = c.get_route_responses().api_id(id).route_id(route_id).send().await.expect("list");
    assert_eq!(listed.items().len(), 1);
    let got = c.get_route_response().api_id(id).route_id(route_id).route_response_id(rr_id).send().await.expect("get");
    assert_eq!(got.route_response_id(), Some(rr_id));
    let updated = c.update_route_response().api_id(id).route_id(route_id).route_response_id(rr_id).model_selection_expression("$default").send().await.expect("update");
    assert_eq!(updated.model_selection_expression(), Some("$default"));
    c.delete_route_response().api_id(id).route_id(route_id).route_response_id(rr_id).send().await.expect("delete");
    expect_err(c.get_route_response().api_id(id).route_id(route_id).route_response_id(rr_id).send().await, "NotFoundException", Some(404));

    let ir = c.create_integration_response().api_id(id).integration_id(integration_id).integration_response_key("/2\\d\\d/").send().await.expect("create_integration_response");
    let ir_id = ir.integration_response_id().expect("id");
    expect_err(c.create_integration_response().api_id(id).integration_id(integration_id).integration_response_key("200").send().await, "BadRequestException", Some(400));
    assert_eq!(c.get_integration_responses().api_id(id).integration_id(integration_id).send().await.expect("list").items().len(), 1);
    let got = c.get_integration_response().api_id(id).integration_id(integration_id).integration_response_id(ir_id).send().await.expect("get");
    assert_eq!(got.integration_response_key(), Some("/2\\d\\d/"));
    c.update_integration_response().api_id(id).integration_id(integration_id).integration_response_id(ir_id).template_selection_expression("\\$default").send().await.expect("update");
    c.delete_integration_response().api_id(id).integration_id(integration_id).integration_response_id(ir_id).send().await.expect("delete");
    expect_err(c.get_integration_response().api_id(id).integration_id(integration_id).integration_response_id(ir_id).send().await, "NotFoundException", Some(404));

    // They are kept with their API, durably.
    c.create_route_response().api_id(id).route_id(route_id).route_response_key("$default").send().await.expect("create again");
    let (id, route_id) = (id.to_string(), route_id.to_string());
    n.restart();
    let c = n.apigateway_client();
    assert_eq!(c.get_route_responses().api_id(&id).route_id(&route_id).send().await.expect("list after restart").items().len(), 1);

    // HTTP APIs have neither.
    let http = c.create_api().name("h").protocol_type(ProtocolType::Http).send().await.expect("http api");
    let http_id = http.api_id().expect("id");
    let http_route = c.create_route().api_id(http_id).route_key("GET /x").send().await.expect("route");
    expect_err(
        c.create_route_response().api_id(http_id).route_id(http_route.route_id().expect("id")).route_response_key("$default").send().await,
        "BadRequestException",
        Some(400),
    );
}
