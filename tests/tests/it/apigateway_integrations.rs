//! API Gateway v2 HTTP APIs' integrations through the AWS SDK for Rust and a plain hyper
//! client: HTTP_PROXY to an upstream hyper server run by the test (what reaches it, what
//! comes back), request and response parameter mapping, the integration timeout (503), an
//! unreachable upstream (500), SQS-SendMessage answered 202 by `overwrite:statuscode`,
//! stage access logs read back with CloudWatch Logs, and the BadRequestExceptions of bad
//! settings. AWS's pages: "Work with HTTP proxy integrations for HTTP APIs", "Transform API
//! requests and responses for HTTP APIs", "Configure logging for HTTP APIs".

use aws_sdk_apigatewayv2::types::{AccessLogSettings, IntegrationType, ProtocolType};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use nimbus_tests::lambda::expect_err;
use nimbus_tests::Nimbus;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

/// An upstream on a loopback port: answers 201 with what it received as JSON and an
/// `x-upstream` header; `/slow…` first waits 3 s (the slow upstream of the timeout test).
async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let method = req.method().to_string();
                    let uri = req.uri().to_string();
                    let headers: serde_json::Map<String, Value> = req.headers().iter().map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("")))).collect();
                    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    if uri.starts_with("/slow") {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                    }
                    let seen = json!({ "method": method, "uri": uri, "headers": headers, "body": String::from_utf8_lossy(&body) });
                    let answer = hyper::Response::builder().status(201).header("content-type", "application/json").header("x-upstream", "yes").body(Full::new(Bytes::from(seen.to_string())));
                    Ok::<_, Infallible>(answer.expect("response"))
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
            });
        }
    });
    format!("http://{addr}")
}

/// One request to nimbus's execute-api endpoint: status, headers (lower-case), body.
async fn call(n: &Nimbus, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, HashMap<String, String>, String) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", n.port())).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
    tokio::spawn(conn);
    let mut req = hyper::Request::builder().method(method).uri(path).header("host", format!("127.0.0.1:{}", n.port()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = sender.send_request(req.body(Full::new(Bytes::from(body.to_string()))).expect("request")).await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// An HTTP API with `route_key` → an HTTP_PROXY integration to `uri` on an auto-deployed
/// `$default` stage; `with` adds the integration's settings.
async fn proxy_api(
    c: &aws_sdk_apigatewayv2::Client,
    uri: &str,
    route_key: &str,
    with: impl FnOnce(aws_sdk_apigatewayv2::operation::create_integration::builders::CreateIntegrationFluentBuilder) -> aws_sdk_apigatewayv2::operation::create_integration::builders::CreateIntegrationFluentBuilder,
) -> String {
    let api = c.create_api().name("integ").protocol_type(ProtocolType::Http).send().await.expect("create_api");
    let id = api.api_id().expect("id").to_string();
    let integration = c.create_integration().api_id(&id).integration_type(IntegrationType::HttpProxy).integration_method("ANY").integration_uri(uri).payload_format_version("1.0");
    let integration = with(integration).send().await.expect("create_integration");
    let target = format!("integrations/{}", integration.integration_id().expect("id"));
    c.create_route().api_id(&id).route_key(route_key).target(target).send().await.expect("create_route");
    c.create_stage().api_id(&id).stage_name("$default").auto_deploy(true).send().await.expect("create_stage");
    id
}

#[tokio::test]
async fn http_proxy_forwards_and_maps_request_and_response() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let up = upstream().await;
    let api = proxy_api(&c, &format!("{up}/base/{{proxy}}"), "ANY /svc/{proxy+}", |i| {
        i.request_parameters("append:header.x-from", "$request.header.x-tenant")
            .request_parameters("remove:header.x-tenant", "''")
            .request_parameters("overwrite:querystring.q", "${request.querystring.q}-mapped")
            .request_parameters("append:header.x-ctx", "$context.httpMethod $request.path.proxy")
            .response_parameters("201", HashMap::from([("overwrite:statuscode".to_string(), "202".to_string()), ("overwrite:header.x-seen".to_string(), "$response.header.x-upstream".to_string()), ("remove:header.x-upstream".to_string(), "''".to_string())]))
    })
    .await;
    let (status, headers, body) = call(&n, "POST", &format!("/_aws/execute-api/{api}/svc/a/b?q=1"), &[("x-tenant", "t1"), ("content-type", "text/plain")], "the body").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(headers.get("x-seen").map(String::as_str), Some("yes"));
    assert!(!headers.contains_key("x-upstream"));
    assert!(headers.contains_key("apigw-requestid"));
    let seen: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["uri"], "/base/a/b?q=1-mapped");
    assert_eq!(seen["body"], "the body");
    let h = &seen["headers"];
    assert_eq!(h["x-from"], "t1");
    assert_eq!(h["x-ctx"], "POST a/b");
    assert!(h.get("x-tenant").is_none(), "{h}");
    assert_eq!(h["host"], up.trim_start_matches("http://"));
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["content-type"], "text/plain");
}

#[tokio::test]
async fn slow_upstream_times_out_with_503_and_a_dead_one_is_500() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let up = upstream().await;
    let slow = proxy_api(&c, &format!("{up}/slow"), "GET /x", |i| i.timeout_in_millis(200)).await;
    let started = std::time::Instant::now();
    let (status, _, body) = call(&n, "GET", &format!("/_aws/execute-api/{slow}/x"), &[], "").await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).expect("json")), (503, json!({ "message": "Service Unavailable" })));
    assert!(started.elapsed() < Duration::from_secs(2), "answered at the 200 ms timeout");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let dead = proxy_api(&c, &format!("http://{closed}"), "GET /x", |i| i).await;
    let (status, _, body) = call(&n, "GET", &format!("/_aws/execute-api/{dead}/x"), &[], "").await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).expect("json")), (500, json!({ "message": "Internal Server Error" })));
}

#[tokio::test]
async fn sqs_send_message_answers_202_through_overwrite_statuscode() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let sqs = n.sqs_client();
    let url = sqs.create_queue().queue_name("orders").send().await.expect("create_queue").queue_url().expect("url").to_string();
    let api = c.create_api().name("q").protocol_type(ProtocolType::Http).send().await.expect("create_api");
    let id = api.api_id().expect("id");
    let integration = c
        .create_integration()
        .api_id(id)
        .integration_type(IntegrationType::AwsProxy)
        .integration_subtype("SQS-SendMessage")
        .payload_format_version("1.0")
        .request_parameters("QueueUrl", &url)
        .request_parameters("MessageBody", "$request.body")
        .response_parameters("200", HashMap::from([("overwrite:statuscode".to_string(), "202".to_string())]))
        .send()
        .await
        .expect("create_integration");
    c.create_route().api_id(id).route_key("POST /orders").target(format!("integrations/{}", integration.integration_id().expect("id"))).send().await.expect("route");
    c.create_stage().api_id(id).stage_name("$default").auto_deploy(true).send().await.expect("stage");
    let (status, _, body) = call(&n, "POST", &format!("/_aws/execute-api/{id}/orders"), &[], r#"{"n":1}"#).await;
    assert_eq!(status, 202, "{body}");
    let sent: Value = serde_json::from_str(&body).expect("json");
    let got = sqs.receive_message().queue_url(&url).send().await.expect("receive");
    let m = &got.messages()[0];
    assert_eq!(m.body(), Some(r#"{"n":1}"#));
    assert_eq!(Some(m.message_id().expect("id")), sent["SendMessageResponse"]["SendMessageResult"]["MessageId"].as_str());
}

#[tokio::test]
async fn access_log_lines_reach_the_log_group() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let logs = n.logs_client();
    logs.create_log_group().log_group_name("access").send().await.expect("create_log_group");
    let up = upstream().await;
    let api = proxy_api(&c, &up, "GET /hi", |i| i).await;
    let settings = AccessLogSettings::builder()
        .destination_arn("arn:aws:logs:us-east-1:000000000000:log-group:access")
        .format("$context.requestId $context.httpMethod $context.routeKey $context.status $context.integrationStatus ${context.responseLength} $context.error.message")
        .build();
    c.update_stage().api_id(&api).stage_name("$default").access_log_settings(settings).send().await.expect("update_stage");
    let (status, headers, body) = call(&n, "GET", &format!("/_aws/execute-api/{api}/hi"), &[], "").await;
    assert_eq!(status, 201);
    let rid = headers["apigw-requestid"].clone();
    let (missing, missing_headers, _) = call(&n, "GET", &format!("/_aws/execute-api/{api}/none"), &[], "").await;
    assert_eq!(missing, 404);
    let events = logs.filter_log_events().log_group_name("access").send().await.expect("filter");
    let lines: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(lines, vec![format!("{rid} GET GET /hi 201 201 {} -", body.len()), format!("{} GET - 404 - 23 Not Found", missing_headers["apigw-requestid"])]);
    assert_eq!(events.events()[0].log_stream_name(), Some(format!("{api}_$default").as_str()));
}

#[tokio::test]
async fn bad_settings_are_bad_requests() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let api = c.create_api().name("bad").protocol_type(ProtocolType::Http).send().await.expect("create_api");
    let id = api.api_id().expect("id");
    let base = || c.create_integration().api_id(id).integration_type(IntegrationType::HttpProxy).integration_method("ANY").integration_uri("http://127.0.0.1:9/").payload_format_version("1.0");
    let msg = expect_err(base().request_parameters("rename:header.x", "1").send().await, "BadRequestException", Some(400));
    assert_eq!(msg, "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid Request Actioned Parameter destination specified: rename:header.x]");
    let msg = expect_err(base().request_parameters("overwrite:header.Connection", "x").send().await, "BadRequestException", Some(400));
    assert!(msg.contains("Reserved header specified: Connection"), "{msg}");
    let msg = expect_err(base().timeout_in_millis(40_000).send().await, "BadRequestException", Some(400));
    assert_eq!(msg, "Timeout should be between 50 ms and 30000 ms");
    let msg = expect_err(base().response_parameters("200", HashMap::from([("overwrite:querystring.a".to_string(), "1".to_string())])).send().await, "BadRequestException", Some(400));
    assert!(msg.contains("Invalid Response Actioned Parameter destination specified: overwrite:querystring.a"), "{msg}");
    let bad_log = AccessLogSettings::builder().destination_arn("arn:aws:logs:us-east-1:000000000000:log-group:g").format("$context.status").build();
    let msg = expect_err(c.create_stage().api_id(id).stage_name("s").access_log_settings(bad_log).send().await, "BadRequestException", Some(400));
    assert!(msg.ends_with("Access Log format must include either $context.requestId or $context.extendedRequestId : '$context.status'"), "{msg}");
}
