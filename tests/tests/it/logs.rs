//! CloudWatch Logs through the AWS SDK for Rust: every operation, filter-pattern kinds,
//! pagination tokens, retention, error codes and messages, and durability across a
//! restart.

use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};
use aws_sdk_cloudwatchlogs::Client;
use nimbus_tests::{unique_name, Nimbus};
use std::time::{SystemTime, UNIX_EPOCH};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn ev(ts: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder().timestamp(ts).message(msg).build().expect("event")
}

/// Asserts a failed call's code (and message, when given); returns the message.
#[track_caller]
fn expect_err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    res: Result<T, SdkError<E, R>>,
    code: &str,
    message: Option<&str>,
) -> String {
    match res {
        Ok(v) => panic!("expected {code}, got success: {v:?}"),
        Err(e) => {
            assert_eq!(e.code(), Some(code), "wrong code: {e:?}");
            let got = e.message().unwrap_or_default().to_string();
            if let Some(m) = message {
                assert_eq!(got, m, "wrong message: {e:?}");
            }
            got
        }
    }
}

async fn group_with_stream(c: &Client, stream: &str) -> String {
    let group = format!("/aws/lambda/{}", unique_name("fn"));
    c.create_log_group().log_group_name(&group).send().await.expect("create group");
    c.create_log_stream().log_group_name(&group).log_stream_name(stream).send().await.expect("create stream");
    group
}

async fn put(c: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) -> aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsOutput {
    c.put_log_events().log_group_name(group).log_stream_name(stream).set_log_events(Some(events)).send().await.expect("put_log_events")
}

fn messages<'a>(events: impl IntoIterator<Item = &'a aws_sdk_cloudwatchlogs::types::OutputLogEvent>) -> Vec<String> {
    events.into_iter().map(|e| e.message().unwrap_or_default().to_string()).collect()
}

async fn filter(c: &Client, group: &str, pattern: &str) -> Vec<String> {
    let out = c.filter_log_events().log_group_name(group).filter_pattern(pattern).send().await.unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
    out.events().iter().map(|e| e.message().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn log_groups_create_describe_page_delete() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let prefix = format!("/nimbus/{}/", unique_name("g"));
    for i in 0..5 {
        c.create_log_group().log_group_name(format!("{prefix}{i}")).send().await.expect("create");
    }
    expect_err(c.create_log_group().log_group_name(format!("{prefix}0")).send().await, "ResourceAlreadyExistsException", Some("The specified log group already exists"));
    expect_err(c.create_log_group().log_group_name("bad name!").send().await, "InvalidParameterException", None);

    let out = c.describe_log_groups().log_group_name_prefix(&prefix).send().await.expect("describe");
    let groups = out.log_groups();
    assert_eq!(groups.len(), 5);
    let g = &groups[0];
    assert_eq!(g.log_group_name(), Some(format!("{prefix}0").as_str()));
    assert_eq!(g.arn(), Some(format!("arn:aws:logs:us-east-1:000000000000:log-group:{prefix}0:*").as_str()));
    assert_eq!(g.log_group_arn(), Some(format!("arn:aws:logs:us-east-1:000000000000:log-group:{prefix}0").as_str()));
    assert!(g.creation_time().unwrap_or(0) > 0);
    assert_eq!(g.stored_bytes(), Some(0));
    assert_eq!(g.retention_in_days(), None);

    // Pages of two: 2 + 2 + 1, the last without a token.
    let mut names = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = c.describe_log_groups().log_group_name_prefix(&prefix).limit(2).set_next_token(token).send().await.expect("page");
        pages += 1;
        names.extend(out.log_groups().iter().map(|g| g.log_group_name().unwrap_or_default().to_string()));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..5).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>());
    expect_err(c.describe_log_groups().limit(0).send().await, "InvalidParameterException", None);
    expect_err(c.describe_log_groups().next_token("garbage!").send().await, "InvalidParameterException", None);

    c.delete_log_group().log_group_name(format!("{prefix}0")).send().await.expect("delete");
    expect_err(c.delete_log_group().log_group_name(format!("{prefix}0")).send().await, "ResourceNotFoundException", Some("The specified log group does not exist."));
    let out = c.describe_log_groups().log_group_name_prefix(&prefix).send().await.expect("describe");
    assert_eq!(out.log_groups().len(), 4);
}

#[tokio::test]
async fn log_streams_create_describe_order_page_delete() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let group = group_with_stream(&c, "b").await;
    expect_err(
        c.create_log_stream().log_group_name("/no/such/group").log_stream_name("s").send().await,
        "ResourceNotFoundException",
        Some("The specified log group does not exist."),
    );
    expect_err(c.create_log_stream().log_group_name(&group).log_stream_name("b").send().await, "ResourceAlreadyExistsException", None);
    for s in ["a", "c", "other"] {
        c.create_log_stream().log_group_name(&group).log_stream_name(s).send().await.expect("create stream");
    }
    let t = now_ms();
    put(&c, &group, "c", vec![ev(t - 3000, "c1")]).await;
    put(&c, &group, "a", vec![ev(t - 2000, "a1")]).await;
    put(&c, &group, "b", vec![ev(t - 5000, "b0"), ev(t - 1000, "b1")]).await;

    let out = c.describe_log_streams().log_group_name(&group).send().await.expect("describe");
    let names: Vec<&str> = out.log_streams().iter().filter_map(|s| s.log_stream_name()).collect();
    assert_eq!(names, ["a", "b", "c", "other"]);
    let b = &out.log_streams()[1];
    assert_eq!(b.first_event_timestamp(), Some(t - 5000));
    assert_eq!(b.last_event_timestamp(), Some(t - 1000));
    assert!(b.last_ingestion_time().unwrap_or(0) >= t - 1000);
    assert!(b.upload_sequence_token().is_some());
    assert_eq!(b.arn(), Some(format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}:log-stream:b").as_str()));

    let out = c.describe_log_streams().log_group_name(&group).log_stream_name_prefix("o").send().await.expect("prefix");
    assert_eq!(out.log_streams().len(), 1);

    let out = c.describe_log_streams().log_group_name(&group).order_by(OrderBy::LastEventTime).descending(true).send().await.expect("order");
    let names: Vec<&str> = out.log_streams().iter().filter_map(|s| s.log_stream_name()).collect();
    assert_eq!(names, ["b", "a", "c", "other"]);

    // Paging by one in LastEventTime order, descending.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .describe_log_streams()
            .log_group_name(&group)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(1)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        seen.extend(out.log_streams().iter().filter_map(|s| s.log_stream_name().map(str::to_string)));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["b", "a", "c", "other"]);

    expect_err(
        c.describe_log_streams().log_group_name(&group).order_by(OrderBy::LastEventTime).log_stream_name_prefix("a").send().await,
        "InvalidParameterException",
        None,
    );
    expect_err(c.describe_log_streams().log_group_name("/no/such").send().await, "ResourceNotFoundException", Some("The specified log group does not exist."));

    c.delete_log_stream().log_group_name(&group).log_stream_name("a").send().await.expect("delete stream");
    expect_err(
        c.delete_log_stream().log_group_name(&group).log_stream_name("a").send().await,
        "ResourceNotFoundException",
        Some("The specified log stream does not exist."),
    );
}

#[tokio::test]
async fn get_log_events_tokens_and_time_range() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    let t0 = now_ms() - 60_000;
    // Out of order on purpose: AWS no longer requires chronological batches.
    let mut events: Vec<InputLogEvent> = (0..10).map(|i| ev(t0 + i * 1000, &format!("m{i}"))).collect();
    events.reverse();
    put(&c, &group, "s", events).await;

    // Default: the most recent events, oldest first.
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").limit(3).send().await.expect("get");
    assert_eq!(messages(out.events()), ["m7", "m8", "m9"]);
    let e = &out.events()[0];
    assert_eq!(e.timestamp(), Some(t0 + 7000));
    assert!(e.ingestion_time().is_some());

    // From the head, paging forward.
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).limit(4).send().await.expect("head");
    assert_eq!(messages(out.events()), ["m0", "m1", "m2", "m3"]);
    let fwd = out.next_forward_token().expect("forward").to_string();
    let back = out.next_backward_token().expect("backward").to_string();
    assert!(fwd.starts_with("f/") && back.starts_with("b/"), "{fwd} {back}");

    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).limit(4).next_token(&fwd).send().await.expect("page 2");
    assert_eq!(messages(out.events()), ["m4", "m5", "m6", "m7"]);
    let fwd2 = out.next_forward_token().expect("forward").to_string();
    let back2 = out.next_backward_token().expect("backward").to_string();

    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).limit(4).next_token(&fwd2).send().await.expect("page 3");
    assert_eq!(messages(out.events()), ["m8", "m9"]);
    let fwd3 = out.next_forward_token().expect("forward").to_string();

    // The end: no events, the same forward token.
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).next_token(&fwd3).send().await.expect("end");
    assert!(out.events().is_empty());
    assert_eq!(out.next_forward_token(), Some(fwd3.as_str()));

    // New events show up behind the forward token.
    put(&c, &group, "s", vec![ev(t0 + 20_000, "late")]).await;
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).next_token(&fwd3).send().await.expect("tail");
    assert_eq!(messages(out.events()), ["late"]);

    // Backward from page 2: page 1 again; then the start, where the token repeats.
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").limit(4).next_token(&back2).send().await.expect("back");
    assert_eq!(messages(out.events()), ["m0", "m1", "m2", "m3"]);
    let b = out.next_backward_token().expect("backward").to_string();
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").next_token(&b).send().await.expect("before start");
    assert!(out.events().is_empty());
    assert_eq!(out.next_backward_token(), Some(b.as_str()));
    let _ = back;

    // startTime inclusive, endTime exclusive.
    let out = c
        .get_log_events()
        .log_group_name(&group)
        .log_stream_name("s")
        .start_time(t0 + 2000)
        .end_time(t0 + 5000)
        .start_from_head(true)
        .send()
        .await
        .expect("range");
    assert_eq!(messages(out.events()), ["m2", "m3", "m4"]);

    expect_err(c.get_log_events().log_group_name(&group).log_stream_name("s").next_token("nonsense").send().await, "InvalidParameterException", None);
    expect_err(c.get_log_events().log_group_name(&group).log_stream_name("nope").send().await, "ResourceNotFoundException", Some("The specified log stream does not exist."));
    expect_err(c.get_log_events().log_group_name("/nope").log_stream_name("s").send().await, "ResourceNotFoundException", Some("The specified log group does not exist."));
}

#[tokio::test]
async fn put_log_events_limits_and_rejections() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    let t = now_ms();

    let too_many: Vec<InputLogEvent> = (0..10_001).map(|i| ev(t, &format!("{i}"))).collect();
    expect_err(c.put_log_events().log_group_name(&group).log_stream_name("s").set_log_events(Some(too_many)).send().await, "InvalidParameterException", None);

    // 1,048,576 bytes counting 26 per event: 4 × 262,118 + 4 × 26 = 1,048,576 fits; one more byte does not.
    let big = "x".repeat(262_118);
    let fits: Vec<InputLogEvent> = (0..4).map(|_| ev(t, &big)).collect();
    put(&c, &group, "s", fits).await;
    let mut over: Vec<InputLogEvent> = (0..3).map(|_| ev(t, &big)).collect();
    over.push(ev(t, &format!("{big}y")));
    let msg = expect_err(c.put_log_events().log_group_name(&group).log_stream_name("s").set_log_events(Some(over)).send().await, "InvalidParameterException", None);
    assert!(msg.contains("1048577"), "{msg}");

    let wide = vec![ev(t - 25 * HOUR, "a"), ev(t, "b")];
    expect_err(c.put_log_events().log_group_name(&group).log_stream_name("s").set_log_events(Some(wide)).send().await, "InvalidParameterException", None);

    // Too old (> 14 days) and too new (> 2 h ahead) are rejected, the rest stored.
    let c2 = group_with_stream(&c, "r").await;
    let out = put(&c, &c2, "r", vec![ev(t - 14 * DAY - HOUR, "old"), ev(t - 13 * DAY - 2 * HOUR, "ok")]).await;
    let info = out.rejected_log_events_info().expect("rejected info");
    assert_eq!(info.too_old_log_event_end_index(), Some(1));
    assert!(out.next_sequence_token().is_some());
    let out = put(&c, &c2, "r", vec![ev(t, "now"), ev(t + 3 * HOUR, "future")]).await;
    assert_eq!(out.rejected_log_events_info().and_then(|i| i.too_new_log_event_start_index()), Some(1));
    let out = c.get_log_events().log_group_name(&c2).log_stream_name("r").start_from_head(true).send().await.expect("get");
    assert_eq!(messages(out.events()), ["ok", "now"]);

    expect_err(
        c.put_log_events().log_group_name(&group).log_stream_name("missing").log_events(ev(t, "x")).send().await,
        "ResourceNotFoundException",
        Some("The specified log stream does not exist."),
    );
    expect_err(
        c.put_log_events().log_group_name("/missing").log_stream_name("s").log_events(ev(t, "x")).send().await,
        "ResourceNotFoundException",
        Some("The specified log group does not exist."),
    );
}

#[tokio::test]
async fn filter_log_events_patterns_streams_and_pages() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let group = group_with_stream(&c, "app-1").await;
    c.create_log_stream().log_group_name(&group).log_stream_name("app-2").send().await.expect("stream");
    c.create_log_stream().log_group_name(&group).log_stream_name("web").send().await.expect("stream");
    let t = now_ms() - 10_000;
    put(&c, &group, "app-1", vec![ev(t, "ERROR timeout talking to db"), ev(t + 2, "INFO took 5 ms"), ev(t + 4, r#"{"level":"error","n":7,"user":{"id":"u-1"}}"#)]).await;
    put(&c, &group, "app-2", vec![ev(t + 1, "WARN disk almost full"), ev(t + 3, "ERROR Exiting now"), ev(t + 5, r#"{"level":"info","n":3,"user":{"id":"u-2"}}"#)]).await;
    put(&c, &group, "web", vec![ev(t + 6, "GET /index 200")]).await;

    // Interleaved by time across streams, with stream names and event ids.
    let out = c.filter_log_events().log_group_name(&group).send().await.expect("all");
    assert_eq!(out.events().len(), 7);
    let streams: Vec<&str> = out.events().iter().filter_map(|e| e.log_stream_name()).collect();
    assert_eq!(streams, ["app-1", "app-2", "app-1", "app-2", "app-1", "app-2", "web"]);
    assert!(out.events().iter().all(|e| e.event_id().is_some_and(|id| !id.is_empty()) && e.ingestion_time().is_some()));

    assert_eq!(filter(&c, &group, "ERROR").await, ["ERROR timeout talking to db", "ERROR Exiting now"]);
    assert_eq!(filter(&c, &group, "ERROR timeout").await, ["ERROR timeout talking to db"]);
    // Case-sensitive: "timeout" matches one event, "TIMEOUT" none.
    assert_eq!(filter(&c, &group, "TIMEOUT").await.len(), 0);
    assert_eq!(filter(&c, &group, "timeout").await.len(), 1);
    assert_eq!(filter(&c, &group, "\"took 5 ms\"").await, ["INFO took 5 ms"]);
    assert_eq!(filter(&c, &group, "?WARN ?timeout").await, ["ERROR timeout talking to db", "WARN disk almost full"]);
    assert_eq!(filter(&c, &group, "ERROR -Exiting").await, ["ERROR timeout talking to db"]);
    assert_eq!(filter(&c, &group, r#"{ $.level = "error" }"#).await.len(), 1);
    assert_eq!(filter(&c, &group, r#"{ $.user.id != "u-1" }"#).await, [r#"{"level":"info","n":3,"user":{"id":"u-2"}}"#]);
    assert_eq!(filter(&c, &group, "{ $.n > 5 }").await.len(), 1);
    assert_eq!(filter(&c, &group, "{ $.n >= 3 }").await.len(), 2);
    assert_eq!(filter(&c, &group, r#"{ ($.n > 5 || $.n < 4) && $.user.id = "u-*" }"#).await.len(), 2);
    assert_eq!(filter(&c, &group, r#"{ $.n > 5 && $.level = "info" }"#).await.len(), 0);
    assert_eq!(filter(&c, &group, r#"{ $.level = "inf*" }"#).await.len(), 1);

    for bad in ["{ $.list[*] = 1 }", "?ERROR WARN"] {
        let msg = expect_err(c.filter_log_events().log_group_name(&group).filter_pattern(bad).send().await, "InvalidParameterException", None);
        assert!(msg.contains("not supported by nimbus"), "{bad}: {msg}");
    }
    expect_err(c.filter_log_events().log_group_name(&group).filter_pattern("{ $.n > }").send().await, "InvalidParameterException", None);

    // Stream selection.
    let out = c.filter_log_events().log_group_name(&group).log_stream_names("web").log_stream_names("app-2").send().await.expect("names");
    assert_eq!(out.events().len(), 4);
    let out = c.filter_log_events().log_group_name(&group).log_stream_name_prefix("app").filter_pattern("ERROR").send().await.expect("prefix");
    assert_eq!(out.events().len(), 2);
    expect_err(c.filter_log_events().log_group_name(&group).log_stream_name_prefix("app").log_stream_names("web").send().await, "InvalidParameterException", None);

    // Time window: both ends inclusive.
    let out = c.filter_log_events().log_group_name(&group).start_time(t + 2).end_time(t + 4).send().await.expect("window");
    assert_eq!(out.events().len(), 3);

    // Pages of two: 2 + 2 + 2 + 1, in order, the last without a token.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = c.filter_log_events().log_group_name(&group).limit(2).set_next_token(token).send().await.expect("page");
        seen.extend(out.events().iter().map(|e| e.timestamp().unwrap_or(0)));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, (0..7).map(|i| t + i).collect::<Vec<_>>());

    expect_err(c.filter_log_events().log_group_name("/nope").send().await, "ResourceNotFoundException", Some("The specified log group does not exist."));
}

#[tokio::test]
async fn retention_hides_old_events() {
    let n = Nimbus::start_in_memory();
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    let t = now_ms();
    put(&c, &group, "s", vec![ev(t - 2 * DAY, "two days old"), ev(t - 2 * DAY + 1000, "also old")]).await;
    put(&c, &group, "s", vec![ev(t, "fresh")]).await;

    expect_err(c.put_retention_policy().log_group_name(&group).retention_in_days(2).send().await, "InvalidParameterException", None);
    expect_err(c.put_retention_policy().log_group_name("/nope").retention_in_days(1).send().await, "ResourceNotFoundException", None);
    c.put_retention_policy().log_group_name(&group).retention_in_days(1).send().await.expect("retention");
    let out = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("describe");
    assert_eq!(out.log_groups()[0].retention_in_days(), Some(1));

    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).send().await.expect("get");
    assert_eq!(messages(out.events()), ["fresh"]);
    assert_eq!(filter(&c, &group, "").await, ["fresh"]);

    // New events older than the retention are rejected as expired.
    let out = put(&c, &group, "s", vec![ev(t - 30 * HOUR, "expired"), ev(t - 10 * HOUR, "kept")]).await;
    assert_eq!(out.rejected_log_events_info().and_then(|i| i.expired_log_event_end_index()), Some(1));

    c.delete_retention_policy().log_group_name(&group).send().await.expect("delete retention");
    let out = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("describe");
    assert_eq!(out.log_groups()[0].retention_in_days(), None);
    assert_eq!(filter(&c, &group, "").await, ["two days old", "also old", "kept", "fresh"]);
}

#[tokio::test]
async fn logs_survive_a_restart() {
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: needs a spawned server");
        return;
    }
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    c.create_log_stream().log_group_name(&group).log_stream_name("empty").send().await.expect("stream");
    c.put_retention_policy().log_group_name(&group).retention_in_days(30).send().await.expect("retention");
    let t = now_ms();
    put(&c, &group, "s", (0..50).map(|i| ev(t - 1000 + i, &format!("line {i}"))).collect()).await;
    let gone = group_with_stream(&c, "x").await;
    c.delete_log_group().log_group_name(&gone).send().await.expect("delete group");

    n.restart(); // SIGKILL, then start on the same data directory
    let c = n.logs_client();
    let out = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("describe");
    assert_eq!(out.log_groups().len(), 1);
    assert_eq!(out.log_groups()[0].retention_in_days(), Some(30));
    let out = c.describe_log_groups().log_group_name_prefix(&gone).send().await.expect("describe");
    assert!(out.log_groups().is_empty());
    let out = c.describe_log_streams().log_group_name(&group).send().await.expect("streams");
    assert_eq!(out.log_streams().len(), 2);
    let out = c.get_log_events().log_group_name(&group).log_stream_name("s").start_from_head(true).send().await.expect("get");
    assert_eq!(out.events().len(), 50);
    assert_eq!(out.events()[49].message(), Some("line 49"));

    // New events after the restart keep unique ids and order.
    put(&c, &group, "s", vec![ev(t + 1, "after restart")]).await;
    let out = c.filter_log_events().log_group_name(&group).send().await.expect("filter");
    assert_eq!(out.events().len(), 51);
    let ids: std::collections::HashSet<&str> = out.events().iter().filter_map(|e| e.event_id()).collect();
    assert_eq!(ids.len(), 51);
    assert_eq!(out.events()[50].message(), Some("after restart"));
}

/// Every message of a GetLogEvents walk from the head (forward tokens) or from the end
/// (backward tokens), oldest first.
async fn walk_get(c: &Client, group: &str, stream: &str, forward: bool, limit: i32) -> Vec<String> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(forward)
            .limit(limit)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("get");
        if out.events().is_empty() {
            break;
        }
        pages.push(messages(out.events()));
        token = if forward { out.next_forward_token() } else { out.next_backward_token() }.map(str::to_string);
    }
    if !forward {
        pages.reverse();
    }
    pages.concat()
}

/// Every message of a FilterLogEvents walk (nextToken), in order.
async fn walk_filter(c: &Client, group: &str, pattern: &str, limit: i32) -> Vec<String> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c.filter_log_events().log_group_name(group).filter_pattern(pattern).limit(limit).set_next_token(token).send().await.expect("filter");
        all.extend(out.events().iter().map(|e| e.message().unwrap_or_default().to_string()));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return all;
        }
    }
}

/// A stream's DescribeLogStreams figures.
async fn figures(c: &Client, group: &str) -> Vec<(String, Option<i64>, Option<i64>, Option<i64>, Option<i64>)> {
    let out = c.describe_log_streams().log_group_name(group).send().await.expect("streams");
    #[allow(deprecated)] // storedBytes: deprecated in the model, still returned by AWS
    out.log_streams()
        .iter()
        .map(|s| (s.log_stream_name().unwrap_or_default().to_string(), s.first_event_timestamp(), s.last_event_timestamp(), s.last_ingestion_time(), s.stored_bytes()))
        .collect()
}

/// Events live in the store, not in memory: 30,000 events in one stream and 1,000 in
/// another (far more than one response holds) come back complete and in order through
/// GetLogEvents pages (forward and backward tokens) and FilterLogEvents pages (the two
/// streams merged by time, with and without a pattern) — also after kill -9 and a
/// restart, which restores DescribeLogStreams' figures without loading events.
#[tokio::test]
async fn many_events_page_in_order_from_the_store_across_a_restart() {
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: needs a spawned server");
        return;
    }
    let c = n.logs_client();
    let group = group_with_stream(&c, "a").await;
    c.create_log_stream().log_group_name(&group).log_stream_name("b").send().await.expect("stream b");
    let t0 = now_ms() - HOUR;
    // Stream a at even milliseconds, b at odd ones: the merged order is by time.
    let a: Vec<(i64, String)> = (0..30_000).map(|i| (t0 + 2 * i, format!("a {i:05} even"))).collect();
    let b: Vec<(i64, String)> = (0..1_000).map(|j| (t0 + 60 * j + 1, format!("b {j:05} odd"))).collect();
    for chunk in a.chunks(10_000) {
        put(&c, &group, "a", chunk.iter().map(|(t, m)| ev(*t, m)).collect()).await;
    }
    put(&c, &group, "b", b.iter().map(|(t, m)| ev(*t, m)).collect()).await;
    let mut merged: Vec<(i64, String)> = a.iter().chain(b.iter()).cloned().collect();
    merged.sort();
    let text = |v: &[(i64, String)]| v.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>();
    let (all_a, all_b, all) = (text(&a), text(&b), text(&merged));

    let before = figures(&c, &group).await;
    let bytes_a: i64 = a.iter().map(|(_, m)| m.len() as i64).sum();
    assert_eq!(before[0], ("a".to_string(), Some(t0), Some(t0 + 59_998), before[0].3, Some(bytes_a)));
    assert!(before[0].3.is_some(), "lastIngestionTime");
    for round in ["before the restart", "after kill -9 and a restart"] {
        let c = n.logs_client();
        assert_eq!(walk_get(&c, &group, "a", true, 4_000).await, all_a, "GetLogEvents forward, {round}");
        assert_eq!(walk_get(&c, &group, "a", false, 7_000).await, all_a, "GetLogEvents backward, {round}");
        assert_eq!(walk_get(&c, &group, "b", true, 300).await, all_b, "GetLogEvents of b, {round}");
        assert_eq!(walk_filter(&c, &group, "", 5_000).await, all, "FilterLogEvents, {round}");
        assert_eq!(walk_filter(&c, &group, "odd", 400).await, all_b, "FilterLogEvents with a pattern, {round}");
        assert_eq!(figures(&c, &group).await, before, "DescribeLogStreams, {round}");
        if round.starts_with("before") {
            n.kill9();
            n.restart();
        }
    }
}

/// Retention deletes events in the store. Reads hide events past retention at once;
/// AWS deletes them later ("typically up to 72 hours" after they expire:
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html),
/// and so does nimbus: two days on (retention 1 day) they are hidden and, "marked for
/// deletion", left out of storedBytes (PutRetentionPolicy's API reference); five days on
/// they are deleted — firstEventTimestamp follows, removing the policy does not bring
/// them back, nor does a restart (whose clock is the wall clock again). A group without
/// retention keeps its events.
#[tokio::test]
async fn retention_deletes_events_in_the_store() {
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        eprintln!("skipped: needs a spawned server");
        return;
    }
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    let kept = group_with_stream(&c, "s").await;
    let t = now_ms() - HOUR;
    // 12,000 events: more than one deletion pass (10,000 per stream) removes.
    let old: Vec<InputLogEvent> = (0..12_000).map(|i| ev(t + i, &format!("old {i}"))).collect();
    for half in old.chunks(6_000) {
        put(&c, &group, "s", half.to_vec()).await;
        put(&c, &kept, "s", half.to_vec()).await;
    }
    c.put_retention_policy().log_group_name(&group).retention_in_days(1).send().await.expect("retention");
    let full = figures(&c, &group).await;
    assert!(full[0].4.is_some_and(|b| b > 0));

    let day = 86_400;
    assert!(matches!(n.advance_clock(2 * day), 200 | 204), "needs --clock-control");
    assert!(walk_get(&c, &group, "s", true, 10_000).await.is_empty(), "hidden past retention");
    let marked = figures(&c, &group).await;
    assert_eq!(marked[0].1, full[0].1, "not deleted yet: within AWS's deletion delay");
    assert_eq!(marked[0].4, Some(0), "events marked for deletion are not in storedBytes (PutRetentionPolicy's page)");
    let out = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    #[allow(deprecated)]
    let stored = out.log_groups()[0].stored_bytes();
    assert_eq!(stored, Some(0));

    assert!(matches!(n.advance_clock(3 * day), 200 | 204));
    let after = figures(&c, &group).await;
    assert_eq!((after[0].1, after[0].4), (None, Some(0)), "deleted: no first event, no stored bytes");
    let out = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    #[allow(deprecated)]
    let stored = out.log_groups()[0].stored_bytes();
    assert_eq!(stored, Some(0));
    let fresh_ts = now_ms() + 5 * DAY;
    put(&c, &group, "s", vec![ev(fresh_ts, "fresh")]).await;
    c.delete_retention_policy().log_group_name(&group).send().await.expect("delete retention");
    assert_eq!(walk_filter(&c, &group, "", 10_000).await, ["fresh"], "deleted events do not come back");
    assert_eq!(figures(&c, &group).await[0].1, Some(fresh_ts));
    assert_eq!(walk_get(&c, &kept, "s", true, 10_000).await.len(), 12_000, "no retention, nothing deleted");

    n.kill9();
    n.restart();
    let c = n.logs_client();
    assert_eq!(walk_get(&c, &group, "s", true, 10_000).await, ["fresh"], "still deleted after a restart");
    assert_eq!(figures(&c, &group).await[0].4, Some(5));
    assert_eq!(walk_get(&c, &kept, "s", true, 10_000).await.len(), 12_000);
}

/// Metric filters with the Rust SDK: create, TestMetricFilter, AWS's errors, the filters
/// kept across a SIGKILL restart and deleted with their group.
#[tokio::test]
async fn metric_filters_survive_a_restart() {
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: needs a spawned server");
        return;
    }
    let c = n.logs_client();
    let group = group_with_stream(&c, "s").await;
    let t = |name: &str| MetricTransformation::builder().metric_name(name).metric_namespace("App").metric_value("$.ms").dimensions("Service", "$.svc").build().expect("transformation");
    c.put_metric_filter().log_group_name(&group).filter_name("slow").filter_pattern("{ $.ms > 100 }").metric_transformations(t("Slow")).send().await.expect("put");
    let res = c.put_metric_filter().log_group_name(format!("{group}-missing")).filter_name("slow").filter_pattern("x").metric_transformations(t("Slow")).send().await;
    expect_err(res, "ResourceNotFoundException", Some("The specified log group does not exist."));
    let res = c.put_metric_filter().log_group_name(&group).filter_name("bad").filter_pattern("{ $.ms > }").metric_transformations(t("Slow")).send().await;
    expect_err(res, "InvalidParameterException", None);
    let res = c.delete_metric_filter().log_group_name(&group).filter_name("nope").send().await;
    expect_err(res, "ResourceNotFoundException", Some("The specified filter does not exist."));
    let out = c.test_metric_filter().filter_pattern("{ $.ms > 100 }").log_event_messages(r#"{"ms": 5}"#).log_event_messages(r#"{"ms": 500}"#).send().await.expect("test");
    let matched: Vec<(i64, &str)> = out.matches().iter().map(|m| (m.event_number(), m.event_message().unwrap_or_default())).collect();
    assert_eq!(matched, vec![(2, r#"{"ms": 500}"#)]);

    n.restart(); // SIGKILL, then start on the same data directory
    let c = n.logs_client();
    let out = c.describe_metric_filters().log_group_name(&group).send().await.expect("describe");
    assert_eq!(out.metric_filters().len(), 1);
    let f = &out.metric_filters()[0];
    assert_eq!((f.filter_name(), f.filter_pattern()), (Some("slow"), Some("{ $.ms > 100 }")));
    let mt = &f.metric_transformations()[0];
    assert_eq!((mt.metric_name(), mt.metric_value()), ("Slow", "$.ms"));
    assert_eq!(mt.dimensions().and_then(|d| d.get("Service")).map(String::as_str), Some("$.svc"));
    let groups = c.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(1));
    // Deleting the group deletes its filters.
    c.delete_log_group().log_group_name(&group).send().await.expect("delete group");
    c.create_log_group().log_group_name(&group).send().await.expect("recreate");
    assert!(c.describe_metric_filters().log_group_name(&group).send().await.expect("describe").metric_filters().is_empty());
}

/// Logs Insights through the SDK: StartQuery over two groups, GetQueryResults until
/// Complete (fields, stats by bin, statistics), DescribeQueries, and a
/// MalformedQueryException with its location
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html>).
#[tokio::test]
async fn insights_queries() {
    use aws_sdk_cloudwatchlogs::types::QueryStatus;
    let n = Nimbus::start();
    let c = n.logs_client();
    let a = group_with_stream(&c, "s").await;
    let b = group_with_stream(&c, "s").await;
    let base = (now_ms() / HOUR - 1) * HOUR;
    put(&c, &a, "s", vec![ev(base, r#"{"level":"ERROR","ms":120}"#), ev(base + 60_000, r#"{"level":"INFO","ms":20}"#)]).await;
    put(&c, &b, "s", vec![ev(base + 30_000, r#"{"level":"ERROR","ms":300}"#), ev(base + 400_000, "plain text")]).await;

    async fn run(c: &Client, groups: &[&String], q: &str, base: i64) -> aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput {
        let mut req = c.start_query().start_time(base / 1000 - 10).end_time(base / 1000 + 3600).query_string(q);
        for g in groups {
            req = req.log_group_names(g.as_str());
        }
        let id = req.send().await.expect("start_query").query_id().expect("id").to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let out = c.get_query_results().query_id(&id).send().await.expect("results");
            if !matches!(out.status(), Some(QueryStatus::Scheduled | QueryStatus::Running)) {
                assert_eq!(out.status(), Some(&QueryStatus::Complete));
                return out;
            }
            assert!(std::time::Instant::now() < deadline, "query did not finish");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    fn rows(out: &aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput) -> Vec<Vec<(String, String)>> {
        out.results().iter().map(|r| r.iter().map(|f| (f.field().unwrap_or_default().to_string(), f.value().unwrap_or_default().to_string())).collect()).collect()
    }

    let out = run(&c, &[&a, &b], "filter level = 'ERROR' | fields ms | sort ms desc", base).await;
    let got: Vec<String> = rows(&out).iter().map(|r| r[0].1.clone()).collect();
    assert_eq!(got, ["300", "120"]);
    assert!(rows(&out)[0].iter().any(|(f, _)| f == "@ptr"));
    let stats = out.statistics().expect("statistics");
    assert_eq!((stats.records_scanned(), stats.records_matched()), (4.0, 2.0));

    let out = run(&c, &[&a, &b], "stats count(*) as n, max(ms) as worst by bin(5m) | sort n desc", base).await;
    let got: Vec<Vec<String>> = rows(&out).iter().map(|r| r.iter().map(|(_, v)| v.clone()).collect()).collect();
    assert_eq!(got[0][1..], ["3".to_string(), "300".to_string()]);
    assert_eq!(got[1][1], "1");

    let listed = c.describe_queries().log_group_name(&a).send().await.expect("describe_queries");
    assert!(listed.queries().iter().filter(|q| q.status() == Some(&QueryStatus::Complete)).count() >= 2);

    let res = c.start_query().log_group_name(&a).start_time(0).end_time(10).query_string("fields a | sort").send().await;
    match res {
        Err(e) => {
            let se = e.into_service_error();
            assert!(se.is_malformed_query_exception(), "{se:?}");
            if let aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError::MalformedQueryException(m) = se {
                let loc = m.query_compile_error().and_then(|q| q.location()).expect("location");
                assert_eq!(loc.start_char_offset(), Some(15)); // the query ends where the sort key should be
            }
        }
        Ok(v) => panic!("expected MalformedQueryException, got {v:?}"),
    }
    let res = c.start_query().log_group_name(format!("{a}-missing")).start_time(0).end_time(10).query_string("fields a").send().await;
    expect_err(res, "ResourceNotFoundException", None);
}
