//! Dead-letter queues (redrive after maxReceiveCount), ListDeadLetterSourceQueues,
//! message move tasks (Start/List/Cancel) and retention expiry.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName as A;
use aws_sdk_sqs::Client;
use nimbus_tests::sqs::{attr_num, create_queue, queue_attrs, receive, send};
use nimbus_tests::{unique_name, Nimbus};

async fn arn_of(c: &Client, url: &str) -> String {
    queue_attrs(c, url).await.remove(&A::QueueArn).expect("QueueArn")
}

/// Source queue with a DLQ (maxReceiveCount = `max`). Returns (source url, dlq url, dlq arn).
async fn with_dlq(c: &Client, prefix: &str, max: u32) -> (String, String, String) {
    let dlq = create_queue(c, &unique_name(&format!("{prefix}-dlq")), &[]).await;
    let dlq_arn = arn_of(c, &dlq).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max}"}}"#);
    let src = create_queue(c, &unique_name(prefix), &[(A::RedrivePolicy, &policy), (A::VisibilityTimeout, "1")]).await;
    (src, dlq, dlq_arn)
}

/// Receive every message `times` times letting each visibility timeout (1 s) lapse.
async fn receive_and_abandon(c: &Client, url: &str, times: usize, expect: usize) {
    for round in 0..times {
        let msgs = nimbus_tests::sqs::drain_no_delete(c, url, expect, 1).await;
        assert_eq!(msgs.len(), expect, "round {round}: expected {expect} messages");
        tokio::time::sleep(Duration::from_millis(1300)).await;
    }
}

#[tokio::test]
async fn redrive_to_dlq_after_max_receive_count() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let (src, dlq, dlq_arn) = with_dlq(&c, "redrive", 2).await;
    let a = queue_attrs(&c, &src).await;
    assert!(a.get(&A::RedrivePolicy).is_some_and(|p| p.contains(&dlq_arn)), "RedrivePolicy roundtrip: {a:?}");

    let id = send(&c, &src, "poison").await;
    receive_and_abandon(&c, &src, 2, 1).await;
    // Third receive attempt: the message exceeded maxReceiveCount and moves to the DLQ.
    let m = receive(&c, &src, 10, 1, None).await;
    assert!(m.is_empty(), "message received {} times with maxReceiveCount=2", 3);
    let d = receive(&c, &dlq, 10, 2, None).await;
    assert_eq!(d.len(), 1, "message not in the DLQ");
    assert_eq!(d[0].message_id(), Some(id.as_str()), "MessageId is kept when moved to the DLQ");
    assert_eq!(d[0].body(), Some("poison"));
    assert_eq!(attr_num(&c, &src, A::ApproximateNumberOfMessages).await, 0);

    // ListDeadLetterSourceQueues.
    let out = c.list_dead_letter_source_queues().queue_url(&dlq).send().await.unwrap();
    assert_eq!(out.queue_urls(), [src.clone()]);
}

#[tokio::test]
async fn redrive_policy_validation() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    // Target must exist.
    let missing = "arn:aws:sqs:us-east-1:000000000000:does-not-exist-dlq";
    let policy = format!(r#"{{"deadLetterTargetArn":"{missing}","maxReceiveCount":"3"}}"#);
    let r = c.create_queue().queue_name(unique_name("badrp")).attributes(A::RedrivePolicy, policy).send().await;
    assert!(r.is_err(), "RedrivePolicy to a nonexistent queue must fail: {r:?}");
    // maxReceiveCount range 1..=1000.
    let dlq = create_queue(&c, &unique_name("rpdlq"), &[]).await;
    let arn = arn_of(&c, &dlq).await;
    for bad in ["0", "1001"] {
        let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{bad}"}}"#);
        let r = c.create_queue().queue_name(unique_name("badrp")).attributes(A::RedrivePolicy, policy).send().await;
        assert!(r.is_err(), "maxReceiveCount={bad} must fail: {r:?}");
    }
    // A FIFO queue needs a FIFO DLQ.
    let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"3"}}"#);
    let r = c
        .create_queue()
        .queue_name(format!("{}.fifo", unique_name("fiforp")))
        .attributes(A::FifoQueue, "true")
        .attributes(A::RedrivePolicy, policy)
        .send()
        .await;
    assert!(r.is_err(), "FIFO queue with a standard DLQ must fail: {r:?}");
}

async fn wait_task_done(c: &Client, source_arn: &str) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = c.list_message_move_tasks().source_arn(source_arn).max_results(10).send().await.unwrap();
        let t = out.results().first().cloned().expect("ListMessageMoveTasks returned no task");
        match t.status() {
            Some("RUNNING") | Some("CANCELLING") => {}
            _ => return t,
        }
        assert!(Instant::now() < deadline, "move task still running: {t:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn move_task_moves_dlq_messages_back_to_source() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let (src, dlq, dlq_arn) = with_dlq(&c, "redrive-back", 1).await;
    for i in 0..3 {
        send(&c, &src, &format!("r{i}")).await;
    }
    receive_and_abandon(&c, &src, 1, 3).await;
    assert!(receive(&c, &src, 10, 1, None).await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    while attr_num(&c, &dlq, A::ApproximateNumberOfMessages).await < 3 {
        assert!(Instant::now() < deadline, "messages did not reach the DLQ");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // No DestinationArn: back to the original source queue.
    let out = c.start_message_move_task().source_arn(&dlq_arn).send().await.unwrap();
    let handle = out.task_handle().expect("TaskHandle").to_string();
    assert!(!handle.is_empty());
    let t = wait_task_done(&c, &dlq_arn).await;
    assert_eq!(t.status(), Some("COMPLETED"), "{t:?}");
    assert_eq!(t.source_arn(), Some(dlq_arn.as_str()));
    assert_eq!(t.approximate_number_of_messages_moved(), 3, "{t:?}");

    assert_eq!(attr_num(&c, &dlq, A::ApproximateNumberOfMessages).await, 0);
    let back = nimbus_tests::sqs::drain(&c, &src, 3).await;
    let mut bodies: Vec<_> = back.iter().map(|m| m.body().unwrap().to_string()).collect();
    bodies.sort();
    assert_eq!(bodies, ["r0", "r1", "r2"]);
}

#[tokio::test]
async fn move_task_to_explicit_destination_and_validation() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let (_src, dlq, dlq_arn) = with_dlq(&c, "mv-dest", 3).await;
    let dest = create_queue(&c, &unique_name("mv-target"), &[]).await;
    let dest_arn = arn_of(&c, &dest).await;
    for i in 0..4 {
        send(&c, &dlq, &format!("d{i}")).await;
    }
    c.start_message_move_task().source_arn(&dlq_arn).destination_arn(&dest_arn).send().await.unwrap();
    let t = wait_task_done(&c, &dlq_arn).await;
    assert_eq!(t.status(), Some("COMPLETED"), "{t:?}");
    assert_eq!(t.destination_arn(), Some(dest_arn.as_str()));
    let moved = nimbus_tests::sqs::drain(&c, &dest, 4).await;
    assert_eq!(moved.len(), 4);

    // The source of a move task must be a DLQ.
    let r = c.start_message_move_task().source_arn(&dest_arn).send().await;
    assert!(r.is_err(), "moving from a queue that is not a DLQ must fail: {r:?}");
    // Unknown source.
    let r = c.start_message_move_task().source_arn("arn:aws:sqs:us-east-1:000000000000:nope-nope").send().await;
    assert!(r.is_err(), "unknown source ARN must fail: {r:?}");
    // Cancel of a malformed/unknown handle.
    nimbus_tests::expect_err_code_in(
        c.cancel_message_move_task().task_handle("bm90LWEtaGFuZGxl").send().await,
        &["ResourceNotFoundException", "InvalidParameterValue"],
    );
    // Only RUNNING tasks can be cancelled.
    let done = c.list_message_move_tasks().source_arn(&dlq_arn).send().await.unwrap();
    let handle = done.results().first().and_then(|t| t.task_handle()).map(str::to_string);
    if let Some(h) = handle {
        let r = c.cancel_message_move_task().task_handle(h).send().await;
        assert!(r.is_err(), "cancelling a COMPLETED task must fail: {r:?}");
    }
}

#[tokio::test]
async fn move_task_cancel_and_single_active_task() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let (_src, dlq, dlq_arn) = with_dlq(&c, "mv-cancel", 3).await;
    let dest = create_queue(&c, &unique_name("mv-cancel-target"), &[]).await;
    let dest_arn = arn_of(&c, &dest).await;
    let mut req = c.send_message_batch().queue_url(&dlq);
    for i in 0..10 {
        req = req.entries(
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body(format!("c{i}"))
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
    for i in 10..30 {
        send(&c, &dlq, &format!("c{i}")).await;
    }
    // 1 message/second: 30 messages take ~30 s, so the task is still running when cancelled.
    let out = c
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&dest_arn)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .unwrap();
    let handle = out.task_handle().unwrap().to_string();

    // Only one active task per source queue.
    let r = c.start_message_move_task().source_arn(&dlq_arn).destination_arn(&dest_arn).send().await;
    assert!(r.is_err(), "a second concurrent move task on the same source must fail: {r:?}");

    let listed = c.list_message_move_tasks().source_arn(&dlq_arn).send().await.unwrap();
    let t = listed.results().first().expect("task listed");
    assert_eq!(t.status(), Some("RUNNING"), "{t:?}");
    assert_eq!(t.task_handle(), Some(handle.as_str()), "RUNNING tasks carry their TaskHandle");
    assert_eq!(t.max_number_of_messages_per_second(), Some(1));

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cancelled = c.cancel_message_move_task().task_handle(&handle).send().await.unwrap();
    let moved = cancelled.approximate_number_of_messages_moved();
    assert!(moved < 30, "cancel reported {moved} moved at 1 msg/s");

    let t = wait_task_done(&c, &dlq_arn).await;
    assert_eq!(t.status(), Some("CANCELLED"), "{t:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let in_dest = attr_num(&c, &dest, A::ApproximateNumberOfMessages).await;
    let in_dlq = attr_num(&c, &dlq, A::ApproximateNumberOfMessages).await;
    assert_eq!(in_dest + in_dlq, 30, "messages lost or duplicated by the cancelled task (dest {in_dest}, dlq {in_dlq})");
    assert!(in_dest < 30, "cancel did not stop the task");
}

/// Retention expiry needs the server's manual clock: MessageRetentionPeriod's
/// minimum is 60 s. Uses `POST /_nimbus/clock/advance?seconds=N`.
#[tokio::test]
async fn retention_period_expires_messages() {
    let n = Nimbus::start_with_clock_control();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("retention"), &[(A::MessageRetentionPeriod, "60")]).await;
    let keep = create_queue(&c, &unique_name("retention-keep"), &[(A::MessageRetentionPeriod, "120")]).await;
    send(&c, &url, "short-lived").await;
    send(&c, &keep, "long-lived").await;
    let status = n.advance_clock(30);
    assert_ne!(status, 404, "POST /_nimbus/clock/advance is not implemented (404)");
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 1, "expired too early");
    assert!(matches!(n.advance_clock(31), 200 | 204));
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "message outlived MessageRetentionPeriod=60");
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 0);
    let kept = receive(&c, &keep, 10, 0, None).await;
    assert_eq!(kept.len(), 1, "message with 120 s retention expired after 61 s");
}
