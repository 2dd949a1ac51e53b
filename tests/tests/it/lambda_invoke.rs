//! Synchronous Invoke through the AWS SDK for Rust: Rust (provided.al2023), Python and
//! Node.js functions as native processes, errors, logs, environments (warm reuse,
//! concurrency, timeouts, crashes, init failures), payload limits, CloudWatch Logs,
//! calls back into nimbus from a function, and hot reload.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, Runtime};
use nimbus_tests::lambda::{self, expect_err, pid, FnSpec, ROLE};
use nimbus_tests::{unique_name, Nimbus};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn check_echo(r: &lambda::Invoked, name: &str, n: &Nimbus, input: &Value) {
    assert_eq!(r.status, 200);
    assert_eq!(r.function_error, None, "unexpected function error: {}", r.payload);
    assert_eq!(r.executed_version.as_deref(), Some("$LATEST"));
    let p = &r.payload;
    assert_eq!(&p["echo"], input, "echoed event: {p}");
    assert_eq!(p["function_arn"], json!(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}")));
    assert!(p["request_id"].as_str().is_some_and(|s| !s.is_empty()), "request id: {p}");
    let env = &p["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], json!(name));
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], json!(format!("/aws/lambda/{name}")));
    assert_eq!(env["AWS_ENDPOINT_URL"], json!(n.endpoint()), "AWS_ENDPOINT_URL points at nimbus");
    assert!(env["_X_AMZN_TRACE_ID"].as_str().is_some_and(|t| t.starts_with("Root=1-")), "_X_AMZN_TRACE_ID: {env}");
    assert_eq!(env["MY_VAR"], "mine");
    assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().is_some_and(|s| s.contains("[$LATEST]")), "{env}");
}

#[tokio::test]
async fn rust_provided_al2023_echo_and_env() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust().env("MY_VAR", "mine")).await;
    let input = json!({"action": "echo", "n": 1, "s": "ü"});
    let r = lambda::invoke(&c, &name, &input).await;
    check_echo(&r, &name, &n, &input);
    // provided.al2 runs the same package.
    let name2 = unique_name("rs2");
    lambda::create(&c, &name2, FnSpec { runtime: Runtime::Providedal2, ..FnSpec::rust().env("MY_VAR", "mine") }).await;
    let r = lambda::invoke(&c, &name2, &input).await;
    check_echo(&r, &name2, &n, &input);
    // Full ARN as FunctionName.
    let r = lambda::invoke(&c, &format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"), &input).await;
    assert_eq!(r.function_error, None);
    // No payload at all → {}.
    let out = c.invoke().function_name(&name).send().await.expect("invoke without payload");
    let v: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(v["echo"], json!({}));
}

#[tokio::test]
async fn python_echo_and_context() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("py");
    lambda::create(&c, &name, FnSpec::python("handler.echo").env("MY_VAR", "mine").timeout(5)).await;
    let input = json!({"hello": "python", "list": [1, 2, 3]});
    let r = lambda::invoke(&c, &name, &input).await;
    check_echo(&r, &name, &n, &input);
    assert_eq!(r.payload["function_name"], json!(name));
    assert_eq!(r.payload["memory_limit_in_mb"], "128");
    let remaining = r.payload["remaining_ms"].as_i64().expect("remaining_ms");
    assert!(remaining > 3_000 && remaining <= 5_000, "get_remaining_time_in_millis with Timeout 5: {remaining}");
}

async fn create_node(c: &aws_sdk_lambda::Client, name: &str, sub: &str, handler: &str, runtime: Runtime) {
    c.create_function()
        .function_name(name)
        .runtime(runtime)
        .handler(handler)
        .role(ROLE)
        .environment(Environment::builder().variables("MY_VAR", "mine").build())
        .code(FunctionCode::builder().zip_file(Blob::new(lambda::zip_dir(&lambda::functions_dir(sub)))).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

#[tokio::test]
async fn node_cjs_async_cjs_callback_and_esm() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let input = json!({"hello": "node"});
    for (sub, handler, style, runtime) in [
        ("node/cjs", "index.handler", "async", lambda::node_runtime()),
        ("node/cjs", "index.callback", "callback", lambda::node_runtime()),
        ("node/esm", "index.handler", "esm", lambda::node_runtime()),
    ] {
        let name = unique_name("node");
        create_node(&c, &name, sub, handler, runtime).await;
        let r = lambda::invoke(&c, &name, &input).await;
        check_echo(&r, &name, &n, &input);
        assert_eq!(r.payload["style"], style, "{sub} {handler}");
    }
    // A thrown error.
    let name = unique_name("nodefail");
    create_node(&c, &name, "node/cjs", "index.fail", lambda::node_runtime()).await;
    let r = lambda::invoke(&c, &name, &json!({"message": "node says no"})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Error");
    assert_eq!(r.payload["errorMessage"], "node says no");
}

#[tokio::test]
async fn function_errors_are_unhandled_with_error_document() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let rs = unique_name("rs");
    lambda::create(&c, &rs, FnSpec::rust()).await;
    let r = lambda::invoke(&c, &rs, &json!({"action": "fail", "message": "boom"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "TestFailure");
    assert_eq!(r.payload["errorMessage"], "boom");

    let py = unique_name("py");
    lambda::create(&c, &py, FnSpec::python("handler.fail")).await;
    let r = lambda::invoke(&c, &py, &json!({"message": "py boom"})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "ValueError");
    assert_eq!(r.payload["errorMessage"], "py boom");
    assert!(r.payload["stackTrace"].is_array());
    // The environment survives a handled error.
    let again = lambda::invoke(&c, &py, &json!({"message": "again"})).await;
    assert_eq!(again.payload["errorMessage"], "again");
}

#[tokio::test]
async fn log_type_tail_returns_start_end_report_and_output() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let r = lambda::invoke_with(&c, &name, None, true, &json!({"action": "print", "text": "hello-tail-1234"})).await;
    assert_eq!(r.function_error, None);
    let log = r.log.expect("LogResult with LogType=Tail");
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains("END RequestId: "), "{log}");
    assert!(log.contains("REPORT RequestId: "), "{log}");
    assert_eq!(log.matches("hello-tail-1234").count(), 2, "stdout and stderr lines: {log}");
    let start = log.find("START").unwrap();
    let printed = log.find("hello-tail-1234").unwrap();
    let end = log.find("END RequestId").unwrap();
    assert!(start < printed && printed < end, "order START < output < END: {log}");
    // Without LogType there is no LogResult.
    let r = lambda::invoke(&c, &name, &json!({"action": "print", "text": "x"})).await;
    assert!(r.log.is_none());

    // Python print() too.
    let py = unique_name("py");
    lambda::create(&c, &py, FnSpec::python("handler.print_it")).await;
    let r = lambda::invoke_with(&c, &py, None, true, &json!({"text": "from-python-777"})).await;
    let log = r.log.expect("LogResult");
    assert!(log.contains("from-python-777") && log.contains("REPORT RequestId"), "{log}");
}

#[tokio::test]
async fn warm_environment_is_reused() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let a = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    let b = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(pid(&a.payload), pid(&b.payload), "sequential invokes reuse the warm environment");
    assert_ne!(a.payload["request_id"], b.payload["request_id"]);

    let py = unique_name("py");
    lambda::create(&c, &py, FnSpec::python("handler.echo")).await;
    let a = lambda::invoke(&c, &py, &json!({})).await;
    let b = lambda::invoke(&c, &py, &json!({})).await;
    assert_eq!(pid(&a.payload), pid(&b.payload));
}

#[tokio::test]
async fn parallel_invokes_get_their_own_environments() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    const N: usize = 4;
    const SLEEP_MS: u64 = 1000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..N {
        let c = c.clone();
        let name = name.clone();
        tasks.push(tokio::spawn(async move { lambda::invoke(&c, &name, &json!({"action": "sleep", "ms": SLEEP_MS})).await }));
    }
    let mut pids = HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.function_error, None, "{}", r.payload);
        pids.insert(pid(&r.payload));
    }
    let elapsed = started.elapsed();
    assert!(pids.len() >= N, "{N} concurrent invokes ran in {} environments", pids.len());
    // One after another they would take at least N × SLEEP_MS; cold starts on a loaded
    // machine may add seconds, so the bound is that sum, not a tighter one.
    assert!(elapsed < Duration::from_millis(SLEEP_MS * N as u64), "ran concurrently: {elapsed:?}");
}

#[tokio::test]
async fn reserved_concurrency_throttles_with_429() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(1).send().await.expect("put concurrency");
    let first = {
        let c = c.clone();
        let name = name.clone();
        tokio::spawn(async move { lambda::invoke(&c, &name, &json!({"action": "sleep", "ms": 1500})).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = c.invoke().function_name(&name).payload(Blob::new(r#"{"action":"echo"}"#)).send().await;
    let e = match second {
        Ok(v) => panic!("second concurrent invoke with reserved concurrency 1 succeeded: {v:?}"),
        Err(e) => e,
    };
    let msg = {
        use aws_sdk_lambda::error::ProvideErrorMetadata;
        assert_eq!(e.code(), Some("TooManyRequestsException"), "{e:?}");
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(429));
        e.message().unwrap_or_default().to_string()
    };
    let first = first.await.unwrap();
    assert_eq!(first.function_error, None);
    assert!(msg.contains("Rate Exceeded"), "{msg}");
    // Once the first is done the function runs again.
    lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
}

/// AWS sends the throttling reason as the exception's own `Reason` member
/// (`TooManyRequestsException.Reason`), which the SDK exposes as `reason()`.
#[tokio::test]
async fn throttle_error_carries_reason_member() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(0).send().await.expect("put 0");
    let e = c.invoke().function_name(&name).send().await.expect_err("throttled");
    let reason = e.into_service_error();
    let reason = match reason {
        aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(t) => t.reason().map(|r| r.as_str().to_string()),
        other => panic!("not TooManyRequestsException: {other:?}"),
    };
    assert_eq!(reason.as_deref(), Some("ReservedFunctionConcurrentInvocationLimitExceeded"), "Reason member");
}

#[tokio::test]
async fn reserved_concurrency_zero_throttles_everything() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(0).send().await.expect("put 0");
    expect_err(c.invoke().function_name(&name).send().await, "TooManyRequestsException", Some(429));
    c.delete_function_concurrency().function_name(&name).send().await.expect("delete");
    lambda::invoke(&c, &name, &json!({})).await;
}

#[tokio::test]
async fn timeout_kills_the_environment() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust().timeout(1)).await;
    let warm = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    let started = Instant::now();
    let r = lambda::invoke_with(&c, &name, None, true, &json!({"action": "sleep", "ms": 3000})).await;
    let elapsed = started.elapsed();
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{}", r.payload);
    let msg = r.payload["errorMessage"].as_str().unwrap_or_default();
    assert!(msg.contains("Task timed out after 1.00 seconds"), "timeout message: {}", r.payload);
    assert!(elapsed < Duration::from_millis(2500), "answered at the timeout, not after the sleep: {elapsed:?}");
    let log = r.log.expect("tail");
    assert!(log.contains("Task timed out after 1.00 seconds"), "{log}");
    assert!(log.contains("REPORT RequestId"), "{log}");
    let after = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(after.function_error, None);
    assert_ne!(pid(&after.payload), pid(&warm.payload), "the timed-out environment is not reused");
}

#[tokio::test]
async fn crash_is_runtime_exit_error_and_next_invoke_recovers() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let before = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    let r = lambda::invoke(&c, &name, &json!({"action": "crash"})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{}", r.payload);
    assert_eq!(r.payload["errorType"], "Runtime.ExitError", "{}", r.payload);
    let after = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(after.function_error, None, "{}", after.payload);
    assert_ne!(pid(&after.payload), pid(&before.payload));
}

#[tokio::test]
async fn init_errors() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let py = unique_name("pybroken");
    c.create_function()
        .function_name(&py)
        .runtime(lambda::python_runtime())
        .handler("handler.handler")
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(lambda::zip_dir(&lambda::functions_dir("python_broken")))).build())
        .send()
        .await
        .expect("create broken python");
    let r = lambda::invoke_with(&c, &py, None, true, &json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{}", r.payload);
    assert_eq!(r.payload["errorType"], "Runtime.ImportModuleError", "{}", r.payload);
    assert!(r.payload["errorMessage"].as_str().unwrap_or_default().contains("nimbus_module_that_does_not_exist"), "{}", r.payload);
    // A second try fails the same way (no half-initialised environment is reused).
    let r2 = lambda::invoke(&c, &py, &json!({})).await;
    assert_eq!(r2.payload["errorType"], "Runtime.ImportModuleError", "{}", r2.payload);

    // Missing handler function in a good module.
    let nohandler = unique_name("pynohandler");
    lambda::create(&c, &nohandler, FnSpec::python("handler.does_not_exist")).await;
    let r = lambda::invoke(&c, &nohandler, &json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.HandlerNotFound", "{}", r.payload);

    let rs = unique_name("rsinit");
    lambda::create(&c, &rs, FnSpec::rust().env("INIT_FAIL", "1")).await;
    let r = lambda::invoke(&c, &rs, &json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{}", r.payload);
    assert!(r.payload["errorType"].as_str().is_some_and(|t| t.starts_with("Runtime.")), "{}", r.payload);
}

#[tokio::test]
async fn configuration_change_takes_effect_on_a_new_environment() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust().env("MY_VAR", "before")).await;
    let a = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(a.payload["env"]["MY_VAR"], "before");
    c.update_function_configuration()
        .function_name(&name)
        .environment(Environment::builder().variables("MY_VAR", "after").build())
        .send()
        .await
        .expect("update");
    let b = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(b.payload["env"]["MY_VAR"], "after");
    assert_ne!(pid(&a.payload), pid(&b.payload), "new configuration → new environment");
}

#[tokio::test]
async fn dry_run_and_payload_errors() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let out = c.invoke().function_name(&name).invocation_type(InvocationType::DryRun).send().await.expect("DryRun");
    assert_eq!(out.status_code(), 204);
    expect_err(
        c.invoke().function_name("nope").invocation_type(InvocationType::DryRun).send().await,
        "ResourceNotFoundException",
        Some(404),
    );
    expect_err(c.invoke().function_name("nope").send().await, "ResourceNotFoundException", Some(404));

    let bad = c.invoke().function_name(&name).payload(Blob::new("this is {not json")).send().await;
    expect_err(bad, "InvalidRequestContentException", Some(400));

    // A JSON string of 6 MB + a bit.
    let big = format!("\"{}\"", "a".repeat(6 * 1024 * 1024 + 10));
    let too_large = c.invoke().function_name(&name).payload(Blob::new(big)).send().await;
    expect_err(too_large, "RequestTooLargeException", Some(413));
    // The function is still fine.
    let r = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(r.function_error, None);

    // A response over 6 MB is a function error.
    let r = lambda::invoke(&c, &name, &json!({"action": "big", "bytes": 6 * 1024 * 1024 + 100})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Function.ResponseSizeTooLarge", "{}", &r.payload.to_string()[..200.min(r.payload.to_string().len())]);
    // A 1 MB response is fine.
    let r = lambda::invoke(&c, &name, &json!({"action": "big", "bytes": 1024 * 1024})).await;
    assert_eq!(r.function_error, None);
    assert_eq!(r.payload.as_str().map(str::len), Some(1024 * 1024));
}

#[tokio::test]
async fn logs_go_to_cloudwatch_logs() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let logs = n.logs_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let a = lambda::invoke(&c, &name, &json!({"action": "print", "text": "first-line-abc"})).await;
    let b = lambda::invoke(&c, &name, &json!({"action": "print", "text": "second-line-def"})).await;
    assert_eq!(a.function_error, None);
    assert_eq!(b.function_error, None);
    let group = format!("/aws/lambda/{name}");
    // Delivery may be asynchronous: poll briefly.
    let deadline = Instant::now() + Duration::from_secs(5);
    let (stream, messages) = loop {
        let streams = logs.describe_log_streams().log_group_name(&group).send().await;
        if let Ok(s) = streams {
            if let Some(st) = s.log_streams().first() {
                let sname = st.log_stream_name().unwrap().to_string();
                let ev = logs
                    .get_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&sname)
                    .start_from_head(true)
                    .send()
                    .await
                    .expect("get_log_events");
                let msgs: Vec<String> = ev.events().iter().filter_map(|e| e.message().map(str::to_string)).collect();
                if msgs.iter().filter(|m| m.starts_with("REPORT")).count() >= 2 {
                    assert_eq!(s.log_streams().len(), 1, "one environment → one stream");
                    break (sname, msgs);
                }
            }
        }
        assert!(Instant::now() < deadline, "log events did not arrive in {group}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // YYYY/MM/DD/[$LATEST]<32 hex>
    let (date, rest) = stream.split_at(11);
    let d: Vec<&str> = date.trim_end_matches('/').split('/').collect();
    assert!(d.len() == 3 && d[0].len() == 4 && d[1].len() == 2 && d[2].len() == 2 && d.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())), "stream {stream}");
    let hex = rest.strip_prefix("[$LATEST]").unwrap_or_else(|| panic!("stream {stream}"));
    assert!(hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "stream {stream}");

    let starts: Vec<&String> = messages.iter().filter(|m| m.starts_with("START RequestId: ")).collect();
    let ends: Vec<&String> = messages.iter().filter(|m| m.starts_with("END RequestId: ")).collect();
    let reports: Vec<&String> = messages.iter().filter(|m| m.starts_with("REPORT RequestId: ")).collect();
    assert_eq!((starts.len(), ends.len(), reports.len()), (2, 2, 2), "{messages:#?}");
    assert!(starts[0].contains("Version: $LATEST"), "{}", starts[0]);
    assert!(messages.iter().any(|m| m.contains("first-line-abc")));
    assert!(messages.iter().any(|m| m.contains("second-line-def")));
    for r in &reports {
        for field in ["Duration: ", "Billed Duration: ", "Memory Size: 128 MB", "Max Memory Used: "] {
            assert!(r.contains(field), "REPORT lacks {field}: {r}");
        }
    }
    assert!(reports[0].contains("Init Duration: "), "cold start REPORT has Init Duration: {}", reports[0]);
    assert!(!reports[1].contains("Init Duration"), "warm REPORT has no Init Duration: {}", reports[1]);
    // Each START/END/REPORT names the request: the same id three times per invoke.
    let id_of = |m: &str| m.split_whitespace().nth(2).unwrap_or_default().to_string();
    assert_eq!(id_of(starts[0]), id_of(ends[0]));
    assert_eq!(id_of(starts[0]), id_of(reports[0]));
    assert_ne!(id_of(starts[0]), id_of(starts[1]));
}

#[tokio::test]
async fn python_function_uses_nimbus_sqs() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let sqs = n.sqs_client();
    let url = nimbus_tests::sqs::create_queue(&sqs, &unique_name("q"), &[]).await;
    let name = unique_name("py");
    lambda::create(&c, &name, FnSpec::python("handler.use_sqs").timeout(30)).await;
    let r = lambda::invoke(&c, &name, &json!({"queue_url": url, "body": "sent from lambda"})).await;
    assert_eq!(r.function_error, None, "{}", r.payload);
    let id = r.payload.as_str().expect("MessageId string").to_string();
    let msgs = nimbus_tests::sqs::receive(&sqs, &url, 10, 2, None).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body(), Some("sent from lambda"));
    assert_eq!(msgs[0].message_id(), Some(id.as_str()));
}

#[tokio::test]
async fn hot_reload_directory_is_read_at_each_cold_start() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let dir = tempfile::tempdir().unwrap();
    let write = |v: u32| std::fs::write(dir.path().join("app.py"), format!("def handler(event, context):\n    return {{'v': {v}}}\n")).unwrap();
    write(1);
    let name = unique_name("hot");
    let created = c
        .create_function()
        .function_name(&name)
        .runtime(lambda::python_runtime())
        .handler("app.handler")
        .role(ROLE)
        .code(FunctionCode::builder().s3_bucket("hot-reload").s3_key(dir.path().to_str().unwrap()).build())
        .send()
        .await
        .expect("create hot-reload function");
    assert!(created.function_arn().is_some());
    let r = lambda::invoke(&c, &name, &json!({})).await;
    assert_eq!(r.payload, json!({"v": 1}));
    write(2);
    // Force a new environment.
    c.update_function_configuration().function_name(&name).description("reload").send().await.expect("update");
    let r = lambda::invoke(&c, &name, &json!({})).await;
    assert_eq!(r.payload, json!({"v": 2}), "new code after a cold start");

    let missing = c
        .create_function()
        .function_name(unique_name("hot"))
        .runtime(lambda::python_runtime())
        .handler("app.handler")
        .role(ROLE)
        .code(FunctionCode::builder().s3_bucket("hot-reload").s3_key("/definitely/not/here").build())
        .send()
        .await;
    expect_err(missing, "InvalidParameterValueException", Some(400));
}

/// An init that never finishes must not hang the invocation: AWS limits init to 10 s
/// (then retries it within the function timeout), so the caller gets a function error.
#[tokio::test]
async fn hanging_init_is_bounded() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slow.py"), "import time\ntime.sleep(120)\n\ndef handler(event, context):\n    return 1\n").unwrap();
    let name = unique_name("hang");
    c.create_function()
        .function_name(&name)
        .runtime(lambda::python_runtime())
        .handler("slow.handler")
        .role(ROLE)
        .timeout(1)
        .code(FunctionCode::builder().s3_bucket("hot-reload").s3_key(dir.path().to_str().unwrap()).build())
        .send()
        .await
        .expect("create");
    let started = Instant::now();
    let res = tokio::time::timeout(Duration::from_secs(25), c.invoke().function_name(&name).payload(Blob::new("{}")).send()).await;
    let out = res.unwrap_or_else(|_| panic!("Invoke still waiting after {:?} on an init that never ends (Timeout 1)", started.elapsed()));
    let out = out.expect("invoke answers");
    assert_eq!(out.function_error(), Some("Unhandled"), "{out:?}");
    let body = String::from_utf8_lossy(out.payload().map(|b| b.as_ref()).unwrap_or_default()).into_owned();
    assert!(body.contains("Task timed out"), "{body}");
}

#[tokio::test]
async fn idle_environments_are_retired() {
    let n = Nimbus::start_with(nimbus_tests::StartOptions { in_memory: true, extra_args: vec!["--lambda-idle-seconds".into(), "1".into()], ..Default::default() });
    let c = n.lambda_client();
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let a = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    let b = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(pid(&a.payload), pid(&b.payload));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let proc_alive = std::path::Path::new(&format!("/proc/{}", pid(&a.payload))).exists();
    assert!(!proc_alive, "the idle process is gone after --lambda-idle-seconds 1");
    let d = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_ne!(pid(&a.payload), pid(&d.payload), "a new environment after idle retirement");
}
