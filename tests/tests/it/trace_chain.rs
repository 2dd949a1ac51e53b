//! One trace id through every hop (issue 17): an HTTP API request → a Python function
//! (boto3 SendMessage) → SQS → an event source mapping → the Rust function
//! (aws-sdk-dynamodb PutItem) → DynamoDB → its stream → a mapping → a Node.js function
//! (JS SDK v3 SNS Publish) → SNS → an SQS subscription. Only the SDKs inside the
//! functions carry the trace (their recursion-detection of `_X_AMZN_TRACE_ID`), as on AWS;
//! nimbus carries it through API Gateway, Lambda, SQS's `AWSTraceHeader`, the mappings,
//! DynamoDB Streams (where AWS breaks the chain: nimbus keeps the root) and SNS.
//!
//! AWS's pages: "Using AWS Lambda with AWS X-Ray", "Amazon SQS and AWS X-Ray", "Tracing
//! event-driven applications", "Tracing user requests through API Gateway".

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use aws_sdk_dynamodb::types::StreamViewType;
use aws_sdk_lambda::types::EventSourcePosition;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{esm, unique_name, Nimbus};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// POST to nimbus's execute-api endpoint: status, the `x-amzn-trace-id` answered, body.
async fn post(n: &Nimbus, path: &str, body: &str) -> (u16, Option<String>, String) {
    post_traced(n, path, body, None).await
}

/// The same, sending `X-Amzn-Trace-Id: trace` when given.
async fn post_traced(n: &Nimbus, path: &str, body: &str, trace: Option<&str>) -> (u16, Option<String>, String) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", n.port())).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
    tokio::spawn(conn);
    let mut req = hyper::Request::builder().method("POST").uri(path).header("host", format!("127.0.0.1:{}", n.port())).header("content-type", "application/json");
    if let Some(t) = trace {
        req = req.header("x-amzn-trace-id", t);
    }
    let response = sender.send_request(req.body(Full::new(Bytes::from(body.to_string()))).expect("request")).await.expect("send");
    let status = response.status().as_u16();
    let trace = response.headers().get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, trace, String::from_utf8_lossy(&body).into_owned())
}

/// The Node.js function's package: `tests/functions/node/chain/index.js` with
/// `@aws-sdk/client-sns` from the npm registry next to it (nimbus bundles no SDK for
/// Node.js; AWS's Node.js runtimes do — a function that brings its own is what this
/// models). Installed once under the target directory.
fn node_chain_package() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("trace-chain-node");
    if !dir.join("node_modules/@aws-sdk/client-sns/package.json").exists() {
        std::fs::create_dir_all(&dir).expect("create the Node.js package directory");
        std::fs::write(dir.join("package.json"), r#"{"name":"trace-chain","private":true}"#).expect("package.json");
        let status = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "@aws-sdk/client-sns"])
            .current_dir(&dir)
            .status()
            .expect("run npm (the Node.js function needs the AWS SDK for JavaScript v3 from the npm registry)");
        assert!(status.success(), "npm install @aws-sdk/client-sns failed");
    }
    std::fs::copy(lambda::functions_dir("node/chain/index.js"), dir.join("index.js")).expect("copy index.js");
    dir
}

/// Every message of a function's log group, in one text.
async fn logs_of(logs: &aws_sdk_cloudwatchlogs::Client, function: &str) -> String {
    let mut text = String::new();
    let mut token = None;
    loop {
        let out = match logs.filter_log_events().log_group_name(format!("/aws/lambda/{function}")).set_next_token(token).send().await {
            Ok(out) => out,
            Err(_) => return text,
        };
        for e in out.events() {
            text.push_str(e.message().unwrap_or(""));
            text.push('\n');
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return text;
        }
    }
}

/// Waits (up to `secs`) until the function's logs hold every one of `needles`.
async fn logs_with(logs: &aws_sdk_cloudwatchlogs::Client, function: &str, needles: &[&str], secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let text = logs_of(logs, function).await;
        if needles.iter().all(|n| text.contains(n)) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The segment documents of a trace (BatchGetTraces), once `done` holds for them or
/// `secs` have passed (segments are written in the background).
async fn segments_until(xray: &aws_sdk_xray::Client, root: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = xray.batch_get_traces().trace_ids(root).send().await.expect("batch_get_traces");
        let docs: Vec<Value> = out.traces().iter().flat_map(|t| t.segments()).filter_map(|s| s.document()).map(|d| serde_json::from_str(d).expect("segment document is JSON")).collect();
        if done(&docs) || Instant::now() > deadline {
            return docs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The documents of `docs` with this origin.
fn with_origin<'a>(docs: &'a [Value], origin: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["origin"] == origin).collect()
}

/// The root of a trace header.
fn root_of(header: &str) -> String {
    header.split(';').find_map(|p| p.strip_prefix("Root=")).unwrap_or_else(|| panic!("no Root in {header}")).to_string()
}

#[tokio::test]
async fn one_trace_root_from_the_http_api_to_the_last_queue() {
    let n = Nimbus::start();
    let (lam, sqs, ddb, sns, apigw, logs, xray) = (n.lambda_client(), n.sqs_client(), n.dynamodb_client(), n.sns_client(), n.apigateway_client(), n.logs_client(), n.xray_client());

    // The resources of the chain, from its end.
    let (out_url, out_arn) = esm::queue(&sqs, "chain-out", &[]).await;
    let topic = sns.create_topic().name(unique_name("chain")).send().await.expect("create_topic").topic_arn.expect("TopicArn");
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&out_arn).send().await.expect("subscribe");
    let (table, stream) = esm::stream_table(&ddb, StreamViewType::NewImage).await;
    let (mid_url, mid_arn) = esm::queue(&sqs, "chain-mid", &[]).await;

    let node_fn = unique_name("chain-node");
    let node_zip = lambda::zip_dir(&node_chain_package());
    lambda::create(&lam, &node_fn, FnSpec { runtime: lambda::node_runtime(), handler: Some("index.handler".into()), zip: node_zip, env: vec![("CHAIN_TOPIC_ARN".into(), topic.clone())], timeout: Some(30) }).await;
    lam.create_event_source_mapping().function_name(&node_fn).event_source_arn(&stream).starting_position(EventSourcePosition::TrimHorizon).batch_size(1).send().await.expect("stream mapping");

    let rust_fn = unique_name("chain-rust");
    lambda::create(&lam, &rust_fn, FnSpec::rust().env("CHAIN_TABLE", &table).timeout(30)).await;
    lam.create_event_source_mapping().function_name(&rust_fn).event_source_arn(&mid_arn).batch_size(1).send().await.expect("queue mapping");

    let py_fn = unique_name("chain-py");
    let py_arn = lambda::create(&lam, &py_fn, FnSpec::python("trace_chain.handler").env("CHAIN_QUEUE_URL", &mid_url).timeout(30)).await;
    let api = apigw.create_api().name("chain").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id.expect("ApiId");
    let integration = apigw.create_integration().api_id(&api).integration_type(IntegrationType::AwsProxy).integration_uri(&py_arn).payload_format_version("2.0").send().await.expect("create_integration");
    apigw.create_route().api_id(&api).route_key("POST /chain").target(format!("integrations/{}", integration.integration_id().expect("id"))).send().await.expect("create_route");
    apigw.create_stage().api_id(&api).stage_name("$default").auto_deploy(true).send().await.expect("create_stage");

    // The request: API Gateway starts the trace and answers it.
    let (status, answered, body) = post(&n, &format!("/_aws/execute-api/{api}/chain"), r#"{"order":"o-1"}"#).await;
    assert_eq!(status, 200, "{body}");
    let answered = answered.expect("API Gateway answers X-Amzn-Trace-Id");
    let root = root_of(&answered);
    assert!(answered.contains("Sampled=1"), "{answered}");
    let seen_by_python: Value = serde_json::from_str(&body).expect("the Python function's JSON");
    let py_trace = seen_by_python["trace"].as_str().expect("trace").to_string();
    assert_eq!(root_of(&py_trace), root, "the Python function runs in the request's trace: {py_trace}");
    assert!(py_trace.contains("Parent=") && py_trace.contains("Sampled=1"), "{py_trace}");

    // The end of the chain: SNS's delivery to the last queue carries the same root.
    let deadline = Instant::now() + Duration::from_secs(90);
    let message = loop {
        let got = sqs
            .receive_message()
            .queue_url(&out_url)
            .wait_time_seconds(2)
            .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
            .send()
            .await
            .expect("receive_message");
        if let Some(m) = got.messages.unwrap_or_default().into_iter().next() {
            break m;
        }
        assert!(Instant::now() < deadline, "nothing reached the last queue; nimbus log:\n{}", n.log_tail(60));
    };
    let envelope: Value = serde_json::from_str(message.body().expect("body")).expect("SNS envelope");
    assert!(envelope["Message"].as_str().is_some_and(|m| m.contains("o-1")), "the chain carried the order: {envelope}");
    let header = message.attributes().and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader)).expect("AWSTraceHeader on the SNS delivery").clone();
    assert_eq!(root_of(&header), root, "the last queue's AWSTraceHeader: {header}");

    // Each function logged the root as `_X_AMZN_TRACE_ID`, and its REPORT line the trace.
    let trace_line = format!("TRACE Root={root};");
    let report = format!("XRAY TraceId: {root}\tSegmentId: ");
    for f in [&py_fn, &rust_fn, &node_fn] {
        let text = logs_with(&logs, f, &[&trace_line, &report], 30).await;
        assert!(text.contains(&trace_line), "{f} logged no {trace_line}:\n{text}");
        assert!(text.contains(&report) && text.contains("Sampled: true"), "{f}'s REPORT line has no XRAY trace:\n{text}");
    }

    // AWS's stream records carry no trace, and GetRecords shows none.
    let (_, records) = esm::stream_records(&n, &stream).await;
    assert_eq!(records.len(), 1);
    let sc = n.streams_client();
    let d = sc.describe_stream().stream_arn(&stream).send().await.expect("describe_stream").stream_description.expect("description");
    let shard = d.shards()[0].shard_id.clone().expect("shard");
    let it = sc.get_shard_iterator().stream_arn(&stream).shard_id(shard).shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon).send().await.expect("iterator");
    let got = sc.get_records().shard_iterator(it.shard_iterator.expect("iterator")).send().await.expect("get_records");
    let shown = format!("{:?}", got.records());
    assert!(!shown.contains(&root), "GetRecords must not show nimbus's trace link: {shown}");

    // X-Ray holds one trace with a segment for every hop.
    let docs = segments_until(&xray, &root, 30, |d| with_origin(d, "AWS::Lambda::Function").len() >= 3 && with_origin(d, "AWS::SNS::Topic").len() >= 2).await;
    let names = |origin: &str| -> Vec<String> { with_origin(&docs, origin).iter().map(|d| d["name"].as_str().unwrap_or("").to_string()).collect() };
    assert!(docs.iter().all(|d| d["trace_id"] == root.as_str()), "every segment is in the trace: {docs:#?}");
    // (`$` is not allowed in X-Ray names: the `$default` stage's segment is `<api>/default`.)
    assert_eq!(names("AWS::ApiGateway::Stage"), vec![format!("{api}/default")], "the stage segment among {:?}", docs.iter().map(|d| (d["name"].clone(), d["origin"].clone())).collect::<Vec<_>>());
    for f in [&py_fn, &rust_fn, &node_fn] {
        assert!(names("AWS::Lambda").contains(f), "Lambda service segment of {f}: {:?}", names("AWS::Lambda"));
        assert!(names("AWS::Lambda::Function").contains(f), "function segment of {f}: {:?}", names("AWS::Lambda::Function"));
    }
    assert!(names("AWS::SQS::Queue").iter().any(|s| s == "SQS"), "the Python function's SendMessage: {:?}", names("AWS::SQS::Queue"));
    assert!(names("AWS::DynamoDB::Table").iter().any(|s| s == "DynamoDB"), "the Rust function's PutItem");
    let sns_segments = with_origin(&docs, "AWS::SNS::Topic");
    assert!(sns_segments.iter().any(|s| s["aws"]["operation"] == "Deliver" && s["aws"]["topic_arn"] == topic.as_str()), "SNS's delivery segment: {sns_segments:#?}");
    // The hops hang together: the Python function's service segment is the stage's child,
    // its function segment the service segment's, and the function got it as Parent.
    let stage_id = with_origin(&docs, "AWS::ApiGateway::Stage")[0]["id"].clone();
    let py_service = with_origin(&docs, "AWS::Lambda").into_iter().find(|d| d["name"] == py_fn.as_str()).expect("Python service segment");
    assert_eq!(py_service["parent_id"], stage_id);
    let py_function = with_origin(&docs, "AWS::Lambda::Function").into_iter().find(|d| d["name"] == py_fn.as_str()).expect("Python function segment");
    assert_eq!(py_function["parent_id"], py_service["id"]);
    assert!(py_trace.contains(&format!("Parent={}", py_function["id"].as_str().unwrap())), "{py_trace} names the function segment");
    // The stream-triggered invocation is linked to the write, not parented by it.
    let node_service = with_origin(&docs, "AWS::Lambda").into_iter().find(|d| d["name"] == node_fn.as_str()).expect("Node service segment");
    let write = with_origin(&docs, "AWS::DynamoDB::Table").into_iter().find(|d| d["aws"]["operation"] == "PutItem").expect("PutItem segment");
    assert_eq!(node_service["metadata"]["nimbus"]["linked_from"], write["id"], "{node_service:#}");
    assert!(node_service.get("parent_id").is_none(), "{node_service:#}");

    // `nimbus trace <root>` shows the same trace: every hop's row and the functions' lines.
    let out = std::process::Command::new(Nimbus::binary())
        .args(["trace", &root, "--endpoint", n.endpoint(), "--no-color"])
        .output()
        .expect("run nimbus trace");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "nimbus trace failed: {}{printed}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.starts_with(&format!("Trace {root}")), "{printed}");
    for needle in [format!("{api}/default"), py_fn.clone(), rust_fn.clone(), node_fn.clone(), "SQS".into(), "DynamoDB".into(), "SNS".into(), trace_line.clone()] {
        assert!(printed.contains(&needle), "`nimbus trace` shows {needle}:\n{printed}");
    }
}

/// A message's `AWSTraceHeader` and body, waiting up to `secs`.
async fn traced_message(sqs: &aws_sdk_sqs::Client, url: &str, secs: u64) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = sqs.receive_message().queue_url(url).wait_time_seconds(1).message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader).send().await.expect("receive_message");
        if let Some(m) = got.messages.unwrap_or_default().into_iter().next() {
            let header = m.attributes().and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader)).cloned().unwrap_or_default();
            return (header, m.body.unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "no message on {url} within {secs} s");
    }
}

/// An asynchronous invocation's destination and an EventBridge target carry the trace
/// ("Tracing event-driven applications": EventBridge passes an entry's `TraceHeader` to its
/// targets; Lambda's async invocations keep the trace through their destinations).
#[tokio::test]
async fn async_destinations_and_eventbridge_targets_carry_the_trace() {
    let n = Nimbus::start_in_memory();
    let (lam, sqs, ev, xray) = (n.lambda_client(), n.sqs_client(), n.events_client(), n.xray_client());

    // Invoke (Event) starts a trace; the OnSuccess destination's message continues it.
    let (dest_url, dest_arn) = esm::queue(&sqs, "dest", &[]).await;
    let f = unique_name("async-trace");
    lambda::create(&lam, &f, FnSpec::rust()).await;
    lam.put_function_event_invoke_config()
        .function_name(&f)
        .destination_config(aws_sdk_lambda::types::DestinationConfig::builder().on_success(aws_sdk_lambda::types::OnSuccess::builder().destination(&dest_arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    lam.invoke().function_name(&f).invocation_type(aws_sdk_lambda::types::InvocationType::Event).payload(aws_sdk_lambda::primitives::Blob::new(r#"{"action":"echo"}"#)).send().await.expect("invoke");
    let (header, body) = traced_message(&sqs, &dest_url, 30).await;
    let record: Value = serde_json::from_str(&body).expect("destination record");
    let seen = record["responsePayload"]["env"]["_X_AMZN_TRACE_ID"].as_str().expect("the function's _X_AMZN_TRACE_ID").to_string();
    assert_eq!(root_of(&header), root_of(&seen), "the destination carries the invocation's trace: {header} vs {seen}");
    assert!(header.contains(&seen.split(';').find(|p| p.starts_with("Parent=")).expect("Parent").to_string()), "with the function segment as parent: {header} vs {seen}");

    // PutEvents with a TraceHeader: the SQS target gets the trace, the delivery records a segment.
    let (target_url, target_arn) = esm::queue(&sqs, "target", &[]).await;
    let rule = unique_name("traced");
    ev.put_rule().name(&rule).event_pattern(r#"{"source": ["shop"]}"#).send().await.expect("put_rule");
    ev.put_targets().rule(&rule).targets(aws_sdk_eventbridge::types::Target::builder().id("q").arn(&target_arn).build().expect("target")).send().await.expect("put_targets");
    let root = "1-5759e988-bd862e3fe1be46a994272793";
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder().source("shop").detail_type("order").detail(r#"{"id": 1}"#).trace_header(format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1")).build();
    let out = ev.put_events().entries(entry).send().await.expect("put_events");
    assert_eq!(out.failed_entry_count(), 0);
    let (header, _) = traced_message(&sqs, &target_url, 30).await;
    assert!(header.starts_with(&format!("Root={root};Parent=")), "{header}");
    let docs = segments_until(&xray, root, 20, |d| !with_origin(d, "AWS::Events").is_empty()).await;
    let delivery = with_origin(&docs, "AWS::Events");
    assert_eq!(delivery.len(), 1, "{docs:#?}");
    assert_eq!(delivery[0]["parent_id"], "53995c3f42cd8ad8");
    assert_eq!(delivery[0]["aws"]["target_arn"], target_arn.as_str());
    assert!(header.contains(&format!("Parent={}", delivery[0]["id"].as_str().unwrap())), "the target's parent is the delivery segment: {header}");
}

/// API Gateway continues a client's trace: the stage segment's parent is the client's, the
/// answer names the client's root, and an SQS-SendMessage integration's message carries the
/// trace with the stage segment as parent.
#[tokio::test]
async fn api_gateway_continues_the_clients_trace_into_a_service_integration() {
    let n = Nimbus::start_in_memory();
    let (apigw, sqs, xray) = (n.apigateway_client(), n.sqs_client(), n.xray_client());
    let (url, _) = esm::queue(&sqs, "apigw-trace", &[]).await;
    let api = apigw.create_api().name("traced").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id.expect("ApiId");
    let integration = apigw
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_subtype("SQS-SendMessage")
        .payload_format_version("1.0")
        .request_parameters("QueueUrl", &url)
        .request_parameters("MessageBody", "$request.body")
        .send()
        .await
        .expect("create_integration");
    apigw.create_route().api_id(&api).route_key("POST /orders").target(format!("integrations/{}", integration.integration_id().expect("id"))).send().await.expect("create_route");
    apigw.create_stage().api_id(&api).stage_name("prod").auto_deploy(true).send().await.expect("create_stage");
    let root = "1-5759e988-bd862e3fe1be46a994272794";
    let (status, answered, body) = post_traced(&n, &format!("/_aws/execute-api/{api}/prod/orders"), r#"{"n":1}"#, Some(&format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(answered.as_deref(), Some(format!("Root={root};Sampled=1").as_str()));
    let (header, body) = traced_message(&sqs, &url, 10).await;
    assert_eq!(body, r#"{"n":1}"#);
    let docs = segments_until(&xray, root, 20, |d| !with_origin(d, "AWS::ApiGateway::Stage").is_empty()).await;
    let stage = with_origin(&docs, "AWS::ApiGateway::Stage");
    assert_eq!(stage.len(), 1, "{docs:#?}");
    assert_eq!(stage[0]["name"], format!("{api}/prod"));
    assert_eq!(stage[0]["parent_id"], "53995c3f42cd8ad8");
    assert_eq!(stage[0]["http"]["request"]["method"], "POST");
    assert_eq!(stage[0]["http"]["response"]["status"], 200);
    assert_eq!(header, format!("Root={root};Parent={};Sampled=1", stage[0]["id"].as_str().unwrap()));
}
