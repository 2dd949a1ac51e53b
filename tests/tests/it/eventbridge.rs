//! EventBridge through the AWS SDK for Rust: PutEvents → rule → SQS (standard and FIFO)
//! and Lambda targets with input transformation, scheduled rules fired by moving the
//! clock, AWS's messages for bad patterns, and configuration and archives surviving a
//! restart, and acknowledged events delivered after `kill -9`.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html>
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html>
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html>

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::{InputTransformer, PutEventsRequestEntry, RuleState, SqsParameters, Target};
use aws_sdk_lambda::types::{DestinationConfig, OnSuccess};
use aws_sdk_sqs::types::QueueAttributeName;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};

/// Creates a queue; returns (url, arn).
async fn queue(n: &Nimbus, fifo: bool) -> (String, String) {
    let c = n.sqs_client();
    let name = if fifo { format!("{}.fifo", unique_name("q")) } else { unique_name("q") };
    let attrs: &[(QueueAttributeName, &str)] = if fifo { &[(QueueAttributeName::FifoQueue, "true")] } else { &[] };
    let url = sqs::create_queue(&c, &name, attrs).await;
    let arn = sqs::queue_attrs(&c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

/// The bodies of the next messages (long poll, up to 20 s for the first), deleted.
async fn bodies(n: &Nimbus, url: &str, want: usize) -> Vec<Value> {
    let c = n.sqs_client();
    let mut out = Vec::new();
    for _ in 0..10 {
        let got = c.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(20).send().await.expect("receive");
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("JSON body"));
            c.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap_or_default()).send().await.expect("delete");
        }
        if out.len() >= want {
            break;
        }
    }
    assert_eq!(out.len(), want, "{out:?}\n{}", n.log_tail(3000));
    out
}

fn entry(source: &str, detail: Value) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder().source(source).detail_type("OrderPlaced").detail(detail.to_string()).build()
}

#[tokio::test]
async fn put_events_reach_sqs_targets_through_patterns_and_transformers() {
    let n = Nimbus::start_in_memory();
    let ev = n.events_client();
    let (plain, plain_arn) = queue(&n, false).await;
    let (shaped, shaped_arn) = queue(&n, false).await;
    let pattern = json!({ "source": ["shop"], "detail": { "total": [{ "numeric": [">=", 100] }], "country": [{ "anything-but": ["XX"] }] } });
    ev.put_rule().name("big-orders").event_pattern(pattern.to_string()).send().await.expect("put_rule");
    let transformer = InputTransformer::builder()
        .input_paths_map("total", "$.detail.total")
        .input_paths_map("id", "$.id")
        .input_template(r#"{"order_total": <total>, "event": "<id>", "rule": "<aws.events.rule-arn>"}"#)
        .build()
        .expect("transformer");
    ev.put_targets()
        .rule("big-orders")
        .targets(Target::builder().id("plain").arn(&plain_arn).build().expect("target"))
        .targets(Target::builder().id("shaped").arn(&shaped_arn).input_transformer(transformer).build().expect("target"))
        .send()
        .await
        .expect("put_targets");
    let out = ev
        .put_events()
        .entries(entry("shop", json!({ "total": 50, "country": "DE" })))
        .entries(entry("shop", json!({ "total": 150, "country": "XX" })))
        .entries(entry("shop", json!({ "total": 150.0, "country": "DE" })))
        .entries(entry("other", json!({ "total": 500, "country": "DE" })))
        .send()
        .await
        .expect("put_events");
    assert_eq!(out.failed_entry_count(), 0);
    let matched = out.entries()[2].event_id().expect("event id").to_string();
    let got = bodies(&n, &plain, 1).await;
    assert_eq!(got[0]["id"], json!(matched));
    assert_eq!(got[0]["detail"], json!({ "total": 150.0, "country": "DE" }));
    let shaped_got = bodies(&n, &shaped, 1).await;
    let rule_arn = format!("arn:aws:events:us-east-1:{}:rule/big-orders", nimbus_tests::default_account());
    assert_eq!(shaped_got[0], json!({ "order_total": 150.0, "event": matched, "rule": rule_arn }));
}

#[tokio::test]
async fn fifo_targets_keep_the_message_group() {
    let n = Nimbus::start_in_memory();
    let ev = n.events_client();
    let (url, arn) = queue(&n, true).await;
    ev.put_rule().name("fifo").event_pattern(r#"{"source": ["f"]}"#).send().await.expect("put_rule");
    let err = ev.put_targets().rule("fifo").targets(Target::builder().id("t").arn(&arn).build().expect("target")).send().await.expect_err("needs a group");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(err.message(), Some("Parameter(s) SqsParameters must be specified for target: t."));
    let t = Target::builder().id("t").arn(&arn).sqs_parameters(SqsParameters::builder().message_group_id("g").build()).build().expect("target");
    ev.put_targets().rule("fifo").targets(t).send().await.expect("put_targets");
    ev.put_events().entries(entry("f", json!({ "n": 1 }))).send().await.expect("put_events");
    assert_eq!(bodies(&n, &url, 1).await[0]["detail"], json!({ "n": 1 }));
}

#[tokio::test]
async fn lambda_targets_run_asynchronously() {
    let n = Nimbus::start_in_memory();
    let (url, dest_arn) = queue(&n, false).await;
    let lc = n.lambda_client();
    let name = unique_name("eb");
    let fn_arn = lambda::create(&lc, &name, FnSpec::rust()).await;
    lc.put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&dest_arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    let ev = n.events_client();
    ev.put_rule().name("to-fn").event_pattern(r#"{"detail-type": [{"prefix": "Order"}]}"#).send().await.expect("put_rule");
    let t = Target::builder().id("fn").arn(&fn_arn).input_path("$.detail").build().expect("target");
    ev.put_targets().rule("to-fn").targets(t).send().await.expect("put_targets");
    ev.put_events().entries(entry("shop", json!({ "action": "echo", "k": "v" }))).send().await.expect("put_events");
    let rec = &bodies(&n, &url, 1).await[0];
    assert_eq!(rec["requestContext"]["condition"], "Success", "{rec}");
    assert_eq!(rec["requestPayload"], json!({ "action": "echo", "k": "v" }), "{rec}");
}

#[tokio::test]
async fn scheduled_rule_fires_when_the_clock_moves() {
    let n = Nimbus::start_with_clock_control();
    let ev = n.events_client();
    let (url, arn) = queue(&n, false).await;
    let rule_arn = ev.put_rule().name("tick").schedule_expression("rate(10 minutes)").send().await.expect("put_rule").rule_arn().unwrap_or_default().to_string();
    ev.put_targets().rule("tick").targets(Target::builder().id("q").arn(&arn).build().expect("target")).send().await.expect("put_targets");
    assert_eq!(n.advance_clock(601), 200);
    let got = bodies(&n, &url, 1).await;
    assert_eq!(got[0]["detail-type"], "Scheduled Event");
    assert_eq!(got[0]["source"], "aws.events");
    assert_eq!(got[0]["resources"], json!([rule_arn]));
    // Disabled: moving the clock again sends nothing.
    ev.disable_rule().name("tick").send().await.expect("disable");
    assert_eq!(n.advance_clock(601), 200);
    let none = n.sqs_client().receive_message().queue_url(&url).wait_time_seconds(1).send().await.expect("receive");
    assert!(none.messages().is_empty(), "{none:?}");
}

#[tokio::test]
async fn bad_patterns_answer_aws_messages() {
    let n = Nimbus::start_in_memory();
    let ev = n.events_client();
    let cases = [
        (r#"{"source": "aws.ec2"}"#, r#"Event pattern is not valid. Reason: "source" must be an object or an array"#),
        (r#"{"detail": {"n": [{"numeric": [">", 10, "<", 5]}]}}"#, "Event pattern is not valid. Reason: Bottom must be less than top"),
        (r#"{"ip": [{"cidr": "bad"}]}"#, "Event pattern is not valid. Reason: Malformed CIDR: bad"),
    ];
    for (pattern, message) in cases {
        let err = ev.put_rule().name("bad").event_pattern(pattern).send().await.expect_err(pattern);
        assert_eq!(err.code(), Some("InvalidEventPatternException"), "{pattern}");
        assert_eq!(err.message(), Some(message), "{pattern}");
    }
    let err = ev.describe_rule().name("nope").send().await.expect_err("no rule");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Rule nope does not exist on EventBus default."));
}

#[tokio::test]
async fn rules_and_targets_survive_a_restart() {
    let mut n = Nimbus::start();
    let ev = n.events_client();
    ev.create_event_bus().name("orders").send().await.expect("bus");
    ev.put_rule().name("r").event_bus_name("orders").event_pattern(r#"{"source": ["s"]}"#).state(RuleState::Disabled).send().await.expect("put_rule");
    let (_, arn) = queue(&n, false).await;
    ev.put_targets().rule("r").event_bus_name("orders").targets(Target::builder().id("t").arn(&arn).input(r#"{"x":1}"#).build().expect("target")).send().await.expect("targets");
    let bus_arn = format!("arn:aws:events:us-east-1:{}:event-bus/orders", nimbus_tests::default_account());
    ev.create_archive().archive_name("all-orders").event_source_arn(&bus_arn).send().await.expect("archive");
    let e = PutEventsRequestEntry::builder().source("s").detail_type("d").detail("{}").event_bus_name("orders").build();
    assert_eq!(ev.put_events().entries(e).send().await.expect("put_events").failed_entry_count(), 0);
    n.restart();
    let ev = n.events_client();
    let d = ev.describe_rule().name("r").event_bus_name("orders").send().await.expect("describe");
    assert_eq!(d.state(), Some(&RuleState::Disabled));
    assert_eq!(d.event_pattern(), Some(r#"{"source": ["s"]}"#));
    let t = ev.list_targets_by_rule().rule("r").event_bus_name("orders").send().await.expect("targets");
    assert_eq!(t.targets().len(), 1);
    assert_eq!(t.targets()[0].input(), Some(r#"{"x":1}"#));
    assert!(ev.list_event_buses().send().await.expect("buses").event_buses().iter().any(|b| b.name() == Some("orders")));
    let a = ev.describe_archive().archive_name("all-orders").send().await.expect("archive");
    assert_eq!(a.event_count(), 1);
    assert_eq!(a.event_source_arn(), Some(bus_arn.as_str()));
}

/// The event ids found in a queue (each message deleted), until every one of `want` is
/// there or ten 1 s polls in a row come back empty (a loaded machine may start functions
/// slowly after a restart); `id_of` reads the id from a body.
async fn ids_in(n: &Nimbus, url: &str, want: &std::collections::BTreeSet<String>, id_of: impl Fn(&Value) -> Option<String>) -> std::collections::BTreeSet<String> {
    let c = n.sqs_client();
    let mut seen = std::collections::BTreeSet::new();
    let mut empty = 0;
    while !want.is_subset(&seen) && empty < 10 {
        let msgs = sqs::receive(&c, url, 10, 1, Some(60)).await;
        if msgs.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        for m in msgs {
            let body: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("JSON body");
            seen.extend(id_of(&body));
            sqs::delete(&c, url, &m).await;
        }
    }
    seen
}

/// PutEvents keeps calling while nimbus is killed with SIGKILL; every event whose
/// PutEvents was answered reaches every target after a restart on the same data
/// directory (at least once: AWS's delivery guarantee, eb-rule-retry-policy.html).
#[tokio::test]
async fn acknowledged_events_are_delivered_after_kill_9() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let ev = n.events_client();
    let lc = n.lambda_client();
    let mut queues = Vec::new();
    for _ in 0..4 {
        queues.push(queue(&n, false).await);
    }
    let (records_url, records_arn) = queue(&n, false).await;
    let name = unique_name("crash");
    let fn_arn = lambda::create(&lc, &name, FnSpec::rust()).await;
    lc.put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&records_arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    ev.put_rule().name("durable").event_pattern(r#"{"source": ["crash"]}"#).send().await.expect("put_rule");
    let mut put = ev.put_targets().rule("durable").targets(Target::builder().id("fn").arn(&fn_arn).build().expect("target"));
    for (i, (_, arn)) in queues.iter().enumerate() {
        put = put.targets(Target::builder().id(format!("q{i}")).arn(arn).build().expect("target"));
    }
    put.send().await.expect("put_targets");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<String>>();
    let client = ev.clone();
    let sender = tokio::spawn(async move {
        for batch in 0u64.. {
            let mut req = client.put_events();
            for i in 0..10 {
                req = req.entries(entry("crash", json!({ "n": batch * 10 + i })));
            }
            let Ok(out) = req.send().await else { return };
            assert_eq!(out.failed_entry_count(), 0);
            let ids = out.entries().iter().filter_map(|e| e.event_id().map(str::to_string)).collect();
            if tx.send(ids).is_err() {
                return;
            }
        }
    });
    let mut acked = std::collections::BTreeSet::new();
    while acked.len() < 60 {
        acked.extend(rx.recv().await.expect("a PutEvents answer"));
    }
    n.kill9();
    sender.await.expect("sender stops when nimbus is gone");
    while let Ok(ids) = rx.try_recv() {
        acked.extend(ids);
    }
    n.restart();
    for (url, _) in &queues {
        let got = ids_in(&n, url, &acked, |b| b["id"].as_str().map(str::to_string)).await;
        let missing: Vec<_> = acked.difference(&got).collect();
        assert!(missing.is_empty(), "{} of {} acknowledged events lost: {missing:?}\n{}", missing.len(), acked.len(), n.log_tail(3000));
    }
    let got = ids_in(&n, &records_url, &acked, |r| r.pointer("/requestPayload/id").and_then(Value::as_str).map(str::to_string)).await;
    let missing: Vec<_> = acked.difference(&got).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged events never ran the function: {missing:?}\n{}", missing.len(), acked.len(), n.log_tail(3000));
}

/// Waits (bounded) until DescribeReplay shows `state`; returns the description.
async fn replay_in_state(n: &Nimbus, name: &str, state: &str) -> aws_sdk_eventbridge::operation::describe_replay::DescribeReplayOutput {
    let ev = n.events_client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let d = ev.describe_replay().replay_name(name).send().await.expect("describe_replay");
        if d.state().map(|s| s.as_str()) == Some(state) {
            return d;
        }
        assert!(std::time::Instant::now() < deadline, "replay {name} not {state}: {d:?}\n{}", n.log_tail(3000));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Replays are durable: a finished replay is still described after `kill -9` and a
/// restart, and one that was running resumes and sends every event of its window (at
/// least once). <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html>
#[tokio::test]
async fn replays_survive_kill_9_and_a_running_one_resumes() {
    use aws_sdk_eventbridge::primitives::DateTime;
    use aws_sdk_eventbridge::types::ReplayDestination;
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let ev = n.events_client();
    let account = nimbus_tests::default_account();
    let bus_arn = format!("arn:aws:events:us-east-1:{account}:event-bus/default");
    let archive_arn = ev.create_archive().archive_name("kept").event_source_arn(&bus_arn).send().await.expect("archive").archive_arn().unwrap_or_default().to_string();
    // 400 events one second apart, from 2026-01-01T00:00:00Z.
    let base = 1_767_225_600i64;
    let mut ids = Vec::new();
    for batch in 0..40 {
        let mut req = ev.put_events();
        for i in 0..10 {
            let detail = json!({ "n": batch * 10 + i }).to_string();
            let e = PutEventsRequestEntry::builder().source("replayed").detail_type("OrderPlaced").detail(detail).time(DateTime::from_secs(base + batch * 10 + i)).build();
            req = req.entries(e);
        }
        let out = req.send().await.expect("put_events");
        assert_eq!(out.failed_entry_count(), 0);
        ids.extend(out.entries().iter().filter_map(|e| e.event_id().map(str::to_string)));
    }
    let (url, arn) = queue(&n, false).await;
    ev.put_rule().name("replays").event_pattern(r#"{"replay-name": [{"exists": true}]}"#).send().await.expect("put_rule");
    ev.put_targets().rule("replays").targets(Target::builder().id("q").arn(&arn).build().expect("target")).send().await.expect("put_targets");
    let destination = ReplayDestination::builder().arn(&bus_arn).build().expect("destination");
    let start = |name: &str, from: i64, to: i64| {
        ev.start_replay().replay_name(name).event_source_arn(&archive_arn).event_start_time(DateTime::from_secs(from)).event_end_time(DateTime::from_secs(to)).destination(destination.clone()).send()
    };
    start("small", base, base + 5).await.expect("start small");
    let small = replay_in_state(&n, "small", "COMPLETED").await;
    let first: std::collections::BTreeSet<String> = ids[..5].iter().cloned().collect();
    assert_eq!(ids_in(&n, &url, &first, |b| b["id"].as_str().map(str::to_string)).await, first);

    start("big", base, base + 400).await.expect("start big");
    // Kill it once it has sent something: it is RUNNING, part way through its window.
    let sent = sqs::receive(&n.sqs_client(), &url, 1, 20, Some(0)).await;
    assert_eq!(sent.len(), 1, "the replay sends");
    let before = ev.describe_replay().replay_name("big").send().await.expect("describe");
    n.kill9();
    assert_eq!(before.state().map(|s| s.as_str()), Some("RUNNING"), "the replay must still run when nimbus is killed: {before:?}");
    assert!(before.event_last_replayed_time().is_some_and(|t| t.secs() < base + 399), "{before:?}");
    n.restart();
    let ev = n.events_client();
    let again = ev.describe_replay().replay_name("small").send().await.expect("a finished replay is still described");
    assert_eq!(again.state().map(|s| s.as_str()), Some("COMPLETED"));
    assert_eq!(again.replay_start_time(), small.replay_start_time());
    assert_eq!(again.replay_end_time(), small.replay_end_time());
    assert_eq!(again.event_last_replayed_time(), Some(&DateTime::from_secs(base + 4)));
    assert_eq!(again.destination().map(|d| d.arn()), Some(bus_arn.as_str()));
    let err = ev.cancel_replay().replay_name("small").send().await.expect_err("finished");
    assert_eq!(err.code(), Some("IllegalStatusException"));
    let big = replay_in_state(&n, "big", "COMPLETED").await;
    assert_eq!(big.event_last_replayed_time(), Some(&DateTime::from_secs(base + 399)));
    let all: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    let got = ids_in(&n, &url, &all, |b| (b["replay-name"] == "big").then(|| b["id"].as_str().map(str::to_string)).flatten()).await;
    let missing: Vec<_> = all.difference(&got).collect();
    assert!(missing.is_empty(), "{} of {} events not replayed after the restart: {missing:?}", missing.len(), all.len());
    let listed = ev.list_replays().send().await.expect("list_replays");
    let mut names: Vec<&str> = listed.replays().iter().filter_map(|r| r.replay_name()).collect();
    names.sort();
    assert_eq!(names, ["big", "small"]);
}
