//! SQS behaviours checked against AWS's documentation (issue 11, "## SQS"): FIFO group
//! delivery order and locking, visibility edge cases, dead-letter receive counts,
//! deduplication history, attribute formats and defaults, queue URLs (bare names,
//! regions), AWSTraceHeader, message attribute names and filters, fair queues.
//!
//! Time-dependent cases run the server with `--clock-control` and move its clock with
//! `POST /_nimbus/clock/advance` (no sleeping).

use std::collections::HashMap;

use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName as S, QueueAttributeName as A, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use nimbus_tests::sqs::{create_queue, queue_attrs, receive, send};
use nimbus_tests::{error_code, expect_err_code, unique_name, Nimbus};

async fn fifo_queue(c: &Client, prefix: &str, extra: &[(A, &str)]) -> String {
    let mut attrs = vec![(A::FifoQueue, "true")];
    attrs.extend_from_slice(extra);
    create_queue(c, &format!("{}.fifo", unique_name(prefix)), &attrs).await
}

async fn send_group(c: &Client, url: &str, body: &str, group: &str) -> String {
    c.send_message()
        .queue_url(url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("fifo send {body}: {e:?}"))
        .message_id
        .expect("MessageId")
}

fn bodies(msgs: &[aws_sdk_sqs::types::Message]) -> Vec<String> {
    msgs.iter().map(|m| m.body().unwrap_or_default().to_string()).collect()
}

fn clocked() -> Nimbus {
    let n = Nimbus::start_with_clock_control();
    assert_ne!(n.advance_clock(0), 404, "the server needs --clock-control for this test");
    n
}

async fn change_visibility(c: &Client, url: &str, m: &aws_sdk_sqs::types::Message, seconds: i32) {
    c.change_message_visibility()
        .queue_url(url)
        .receipt_handle(m.receipt_handle().unwrap())
        .visibility_timeout(seconds)
        .send()
        .await
        .unwrap_or_else(|e| panic!("change visibility: {e:?}"));
}

// ---- FIFO message groups -------------------------------------------------------------

/// "When receiving messages from a FIFO queue with multiple message group IDs, Amazon SQS
/// first attempts to return as many messages with the same message group ID as possible"
/// (Amazon SQS Developer Guide, "Using the message group ID").
#[tokio::test]
async fn fifo_receive_returns_as_many_messages_of_one_group_as_possible() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fill", &[]).await;
    for (body, group) in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B"), ("a3", "A")] {
        send_group(&c, &url, body, group).await;
    }
    let got = receive(&c, &url, 10, 0, Some(60)).await;
    assert_eq!(bodies(&got), ["a1", "a2", "a3", "b1", "b2"]);
}

/// A group stays locked while any of its messages is in flight, and
/// ChangeMessageVisibility on one message extends that lock (Developer Guide, "FIFO queue
/// delivery logic": no more messages of the group are returned until the message is
/// deleted or becomes visible).
#[tokio::test]
async fn fifo_group_lock_follows_every_in_flight_message_and_change_visibility_extends_it() {
    let n = clocked();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "lock", &[]).await;
    for body in ["a1", "a2", "a3"] {
        send_group(&c, &url, body, "A").await;
    }
    let first = receive(&c, &url, 2, 0, Some(10)).await;
    assert_eq!(bodies(&first), ["a1", "a2"]);
    change_visibility(&c, &url, &first[0], 100).await;
    n.advance_clock(20);
    // a2's timeout ran out, but a1 is still in flight: the group stays locked.
    assert!(receive(&c, &url, 10, 0, Some(10)).await.is_empty(), "group served while a1 was in flight");
    c.delete_message().queue_url(&url).receipt_handle(first[0].receipt_handle().unwrap()).send().await.unwrap();
    let rest = receive(&c, &url, 10, 0, Some(10)).await;
    assert_eq!(bodies(&rest), ["a2", "a3"]);
}

/// A group whose messages become visible again is served after the groups that were
/// already waiting — for each way a message becomes visible again: its visibility timeout
/// runs out, ChangeMessageVisibility to 0, or a receive with VisibilityTimeout=0.
#[tokio::test]
async fn fifo_group_visible_again_is_served_after_waiting_groups() {
    let n = clocked();
    let c = n.sqs_client();
    for how in ["timeout", "change-visibility-0", "receive-visibility-0"] {
        let url = fifo_queue(&c, "requeue", &[]).await;
        send_group(&c, &url, "a1", "A").await;
        send_group(&c, &url, "a2", "A").await;
        let visibility = if how == "receive-visibility-0" { 0 } else { 10 };
        n.advance_clock(1);
        send_group(&c, &url, "b1", "B").await;
        n.advance_clock(1);
        let held = c
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(1)
            .visibility_timeout(visibility)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        assert_eq!(bodies(&held), ["a1"], "{how}");
        n.advance_clock(1);
        match how {
            "timeout" => {
                n.advance_clock(10);
            }
            "change-visibility-0" => change_visibility(&c, &url, &held[0], 0).await,
            _ => {}
        }
        let got = receive(&c, &url, 10, 0, Some(30)).await;
        assert_eq!(bodies(&got), ["b1", "a1", "a2"], "after {how}, group A must queue up behind group B");
    }
}

/// "FIFO queues don't support per-message delays, only per-queue delays" (SendMessage,
/// DelaySeconds): an explicit 0 leaves the queue's delay in force; any other value fails.
#[tokio::test]
async fn fifo_message_delay_zero_keeps_the_queue_delay() {
    let n = clocked();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "delay0", &[(A::DelaySeconds, "5")]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("late")
        .message_group_id("g")
        .message_deduplication_id("d")
        .delay_seconds(0)
        .send()
        .await
        .unwrap();
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "queue delay ignored for DelaySeconds=0");
    assert_eq!(queue_attrs(&c, &url).await[&A::ApproximateNumberOfMessagesDelayed], "1");
    n.advance_clock(6);
    assert_eq!(bodies(&receive(&c, &url, 10, 0, None).await), ["late"]);
}

/// A FIFO SendMessageBatch entry with neither MessageDeduplicationId nor content-based
/// deduplication fails the request, as on AWS ("The queue should either have
/// ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly").
#[tokio::test]
async fn fifo_batch_entry_without_deduplication_id_fails_the_request() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "batchdedup", &[]).await;
    let entry = |id: &str, dedup: Option<&str>| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(format!("body-{id}"))
            .message_group_id("g")
            .set_message_deduplication_id(dedup.map(str::to_string))
            .build()
            .unwrap()
    };
    let err = expect_err_code(
        c.send_message_batch().queue_url(&url).entries(entry("ok", Some("d1"))).entries(entry("bad", None)).send().await,
        "InvalidParameterValue",
    );
    let message = aws_sdk_sqs::error::ProvideErrorMetadata::message(&err.into_service_error()).unwrap_or_default().to_string();
    assert_eq!(message, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "part of a refused batch was enqueued");
}

/// PurgeQueue: "the message deletion process takes up to 60 seconds"; on a FIFO queue it
/// also clears the deduplication history, so the same MessageDeduplicationId is accepted
/// again right after.
#[tokio::test]
async fn purge_clears_fifo_deduplication_history() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "purgededup", &[]).await;
    let first = send_group(&c, &url, "same", "g").await;
    assert_eq!(send_group(&c, &url, "same", "g").await, first, "duplicate not recognised");
    c.purge_queue().queue_url(&url).send().await.unwrap();
    let again = send_group(&c, &url, "same", "g").await;
    assert_ne!(again, first, "purge kept the deduplication history");
    assert_eq!(bodies(&receive(&c, &url, 10, 0, None).await), ["same"]);
}

/// DeduplicationScope can be changed after creation (SetQueueAttributes); the scope in
/// force decides whether an id seen in another message group is a duplicate.
#[tokio::test]
async fn switching_deduplication_scope_changes_deduplication() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "scope", &[]).await;
    let send = |group: &'static str| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            c.send_message()
                .queue_url(&url)
                .message_body(format!("from-{group}"))
                .message_group_id(group)
                .message_deduplication_id("d")
                .send()
                .await
                .unwrap()
                .message_id
                .unwrap()
        }
    };
    let g1 = send("g1").await;
    assert_eq!(send("g2").await, g1, "queue scope: the id is a duplicate in any group");
    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::DeduplicationScope, "messageGroup")
        .attributes(A::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .unwrap();
    let g2 = send("g2").await;
    assert_ne!(g2, g1, "messageGroup scope: another group's id is not a duplicate");
    assert_eq!(send("g1").await, g1, "messageGroup scope: same group, same id is a duplicate");
    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::FifoThroughputLimit, "perQueue")
        .attributes(A::DeduplicationScope, "queue")
        .send()
        .await
        .unwrap();
    let g3 = send("g3").await;
    assert!(g3 == g1 || g3 == g2, "queue scope again: the id is a duplicate in any group");
    assert_eq!(receive(&c, &url, 10, 0, Some(60)).await.len(), 2);
}

// ---- visibility and dead letters -------------------------------------------------------

/// ChangeMessageVisibility with the receipt handle of a message whose visibility timeout
/// already ran out (and that nobody received since) succeeds on AWS and hides the message
/// again; a deleted message's handle still fails.
#[tokio::test]
async fn change_visibility_after_the_timeout_ran_out_succeeds() {
    let n = clocked();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("expiredcmv"), &[]).await;
    send(&c, &url, "m").await;
    let m = receive(&c, &url, 1, 0, Some(5)).await.remove(0);
    n.advance_clock(6);
    change_visibility(&c, &url, &m, 30).await;
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "message visible after ChangeMessageVisibility(30)");
    n.advance_clock(31);
    let again = receive(&c, &url, 10, 0, None).await;
    assert_eq!(bodies(&again), ["m"]);
    c.delete_message().queue_url(&url).receipt_handle(again[0].receipt_handle().unwrap()).send().await.unwrap();
    let gone = c.change_message_visibility().queue_url(&url).receipt_handle(again[0].receipt_handle().unwrap()).visibility_timeout(5).send().await;
    assert_eq!(gone.as_ref().err().and_then(error_code).as_deref(), Some("InvalidParameterValue"), "{gone:?}");
}

/// A standard queue delivers a message that became visible again by its age: older
/// messages first.
#[tokio::test]
async fn standard_message_visible_again_keeps_its_place_by_age() {
    let n = clocked();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("agedorder"), &[]).await;
    send(&c, &url, "old").await;
    assert_eq!(bodies(&receive(&c, &url, 1, 0, Some(10)).await), ["old"]);
    n.advance_clock(1);
    send(&c, &url, "new").await;
    n.advance_clock(10);
    assert_eq!(bodies(&receive(&c, &url, 10, 0, None).await), ["old", "new"]);
}

/// ApproximateReceiveCount is "the number of times a message has been received across all
/// queues but not deleted": the receive that moves a message to the dead-letter queue
/// counts, so with maxReceiveCount=1 the first receive from the DLQ reports 3.
#[tokio::test]
async fn dead_lettered_message_keeps_its_receive_count() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let dlq = create_queue(&c, &unique_name("rc-dlq"), &[]).await;
    let dlq_arn = queue_attrs(&c, &dlq).await[&A::QueueArn].clone();
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"1"}}"#);
    let src = create_queue(&c, &unique_name("rc-src"), &[(A::RedrivePolicy, policy.as_str())]).await;
    send(&c, &src, "poison").await;
    let first = receive(&c, &src, 1, 0, Some(0)).await;
    assert_eq!(first[0].attributes().unwrap()[&S::ApproximateReceiveCount], "1");
    assert!(receive(&c, &src, 1, 0, Some(0)).await.is_empty(), "message not dead-lettered");
    let dead = receive(&c, &dlq, 1, 0, None).await;
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(dead[0].attributes().unwrap()[&S::ApproximateReceiveCount], "3");
}

// ---- queue attributes ----------------------------------------------------------------

/// CreateQueue of a standard queue with FIFO-only attributes — even `FifoQueue=false` —
/// fails with InvalidAttributeName ("Unknown Attribute FifoQueue.").
#[tokio::test]
async fn standard_queue_refuses_fifo_only_attributes() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    for (attr, value) in [
        (A::FifoQueue, "false"),
        (A::ContentBasedDeduplication, "false"),
        (A::DeduplicationScope, "queue"),
        (A::FifoThroughputLimit, "perQueue"),
    ] {
        let name = unique_name("stdfifoattr");
        let err = expect_err_code(c.create_queue().queue_name(&name).attributes(attr.clone(), value).send().await, "InvalidAttributeName");
        let message = aws_sdk_sqs::error::ProvideErrorMetadata::message(&err.into_service_error()).unwrap_or_default().to_string();
        assert_eq!(message, format!("Unknown Attribute {}.", attr.as_str()));
        expect_err_code(c.get_queue_url().queue_name(&name).send().await, "AWS.SimpleQueueService.NonExistentQueue");
    }
}

/// Attribute values come back as AWS returns them: "true"/"false" in lower case whatever
/// case was sent, and a repeated CreateQueue with another spelling is not a conflict.
#[tokio::test]
async fn attribute_values_are_normalised() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = format!("{}.fifo", unique_name("norm"));
    let url = create_queue(&c, &name, &[(A::FifoQueue, "TRUE"), (A::ContentBasedDeduplication, "False")]).await;
    let a = queue_attrs(&c, &url).await;
    assert_eq!((a[&A::FifoQueue].as_str(), a[&A::ContentBasedDeduplication].as_str()), ("true", "false"));
    let again = create_queue(&c, &name, &[(A::FifoQueue, "true"), (A::ContentBasedDeduplication, "FALSE")]).await;
    assert_eq!(again, url);
    c.set_queue_attributes().queue_url(&url).attributes(A::ContentBasedDeduplication, "True").send().await.unwrap();
    assert_eq!(queue_attrs(&c, &url).await[&A::ContentBasedDeduplication], "true");
}

/// KmsDataKeyReusePeriodSeconds (default 300) is shown exactly while a KMS key is set;
/// SqsManagedSseEnabled is "true" on a new queue and "false" under KMS.
#[tokio::test]
async fn encryption_attributes_appear_as_on_aws() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("sse"), &[]).await;
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a[&A::SqsManagedSseEnabled], "true");
    assert!(!a.contains_key(&A::KmsDataKeyReusePeriodSeconds) && !a.contains_key(&A::KmsMasterKeyId), "{a:?}");
    c.set_queue_attributes().queue_url(&url).attributes(A::KmsMasterKeyId, "alias/aws/sqs").send().await.unwrap();
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a[&A::KmsMasterKeyId], "alias/aws/sqs");
    assert_eq!(a[&A::KmsDataKeyReusePeriodSeconds], "300");
    assert_eq!(a[&A::SqsManagedSseEnabled], "false");
    c.set_queue_attributes().queue_url(&url).attributes(A::SqsManagedSseEnabled, "true").send().await.unwrap();
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a[&A::SqsManagedSseEnabled], "true");
    assert!(!a.contains_key(&A::KmsDataKeyReusePeriodSeconds) && !a.contains_key(&A::KmsMasterKeyId), "{a:?}");
}

/// AddPermission writes the statement the way AWS does: a single action or principal as
/// a string, several as a list.
#[tokio::test]
async fn add_permission_policy_is_formatted_as_on_aws() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("perm-format"), &[]).await;
    c.add_permission().queue_url(&url).label("one").aws_account_ids("111122223333").actions("SendMessage").send().await.unwrap();
    c.add_permission()
        .queue_url(&url)
        .label("two")
        .aws_account_ids("111122223333")
        .aws_account_ids("444455556666")
        .actions("SendMessage")
        .actions("ReceiveMessage")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(&queue_attrs(&c, &url).await[&A::Policy]).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Action"], "SQS:SendMessage");
    assert_eq!(statements[0]["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
    assert_eq!(statements[1]["Action"], serde_json::json!(["SQS:SendMessage", "SQS:ReceiveMessage"]));
    assert_eq!(statements[1]["Principal"]["AWS"], serde_json::json!(["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]));
}

// ---- queue URLs ------------------------------------------------------------------------

/// A bare queue name works as QueueUrl (the caller's account and region).
#[tokio::test]
async fn bare_queue_name_is_accepted_as_queue_url() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("bare");
    let url = create_queue(&c, &name, &[]).await;
    send(&c, &name, "by name").await;
    assert_eq!(bodies(&receive(&c, &url, 10, 0, None).await), ["by name"]);
    c.get_queue_attributes().queue_url(&name).attribute_names(A::QueueArn).send().await.unwrap();
    expect_err_code(c.send_message().queue_url("no-such-queue-by-name").message_body("x").send().await, "AWS.SimpleQueueService.NonExistentQueue");
}

/// Queue URLs identify the region: one name in two regions gives two URLs, and a request
/// goes to the queue of the URL's region whatever region signed it.
#[tokio::test]
async fn queue_urls_carry_the_region_and_route_by_it() {
    let n = Nimbus::start();
    let east = n.sqs_client();
    let west = n.sqs_client_for(nimbus_tests::DEFAULT_ACCESS_KEY, "eu-west-1");
    let name = unique_name("regions");
    let east_url = create_queue(&east, &name, &[]).await;
    let west_url = create_queue(&west, &name, &[]).await;
    assert_ne!(east_url, west_url);
    assert!(west_url.contains("eu-west-1"), "{west_url}");
    assert_eq!(west.get_queue_url().queue_name(&name).send().await.unwrap().queue_url(), Some(west_url.as_str()));
    // Signed for us-east-1, addressed to the eu-west-1 queue.
    send(&east, &west_url, "to the west").await;
    assert!(receive(&east, &east_url, 10, 0, None).await.is_empty(), "message went to the signing region's queue");
    assert_eq!(bodies(&receive(&west, &west_url, 10, 0, None).await), ["to the west"]);
    let arn = queue_attrs(&east, &west_url).await[&A::QueueArn].clone();
    assert!(arn.starts_with("arn:aws:sqs:eu-west-1:"), "{arn}");
}

// ---- messages --------------------------------------------------------------------------

/// AWSTraceHeader: the message system attribute, or else the request's X-Amzn-Trace-Id
/// header (Developer Guide, "AWS X-Ray and Amazon SQS"), is stored and returned.
#[tokio::test]
async fn aws_trace_header_from_the_x_amzn_trace_id_header() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("tracehdr"), &[]).await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    c.send_message()
        .queue_url(&url)
        .message_body("traced")
        .customize()
        .mutate_request(move |req| {
            req.headers_mut().insert("X-Amzn-Trace-Id", trace);
        })
        .send()
        .await
        .unwrap();
    let got = receive(&c, &url, 1, 0, None).await;
    assert_eq!(got[0].attributes().unwrap().get(&S::AwsTraceHeader).map(String::as_str), Some(trace));
}

fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(v).build().unwrap()
}

/// MessageAttributeNames on receive: `All`, `.*`, a name, or a prefix such as `Order.*`
/// (ReceiveMessage API reference).
#[tokio::test]
async fn message_attribute_names_filters() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("attrfilter"), &[]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("Order.Id", string_attr("1"))
        .message_attributes("Order.Total", string_attr("9"))
        .message_attributes("Customer", string_attr("c"))
        .send()
        .await
        .unwrap();
    let cases: [(&[&str], &[&str]); 5] = [
        (&["All"], &["Customer", "Order.Id", "Order.Total"]),
        (&[".*"], &["Customer", "Order.Id", "Order.Total"]),
        (&["Order.*"], &["Order.Id", "Order.Total"]),
        (&["Customer"], &["Customer"]),
        (&["Nothing"], &[]),
    ];
    for (filters, want) in cases {
        let mut req = c.receive_message().queue_url(&url).visibility_timeout(0);
        for f in filters {
            req = req.message_attribute_names(*f);
        }
        let m = req.send().await.unwrap().messages.unwrap_or_default().remove(0);
        let mut names: Vec<String> = m.message_attributes().map(|a| a.keys().cloned().collect()).unwrap_or_default();
        names.sort();
        assert_eq!(names, want, "filter {filters:?}");
        let selected: HashMap<String, MessageAttributeValue> = m.message_attributes().cloned().unwrap_or_default();
        if !selected.is_empty() {
            assert_eq!(m.md5_of_message_attributes(), Some(nimbus_tests::md5::of_attributes(&selected).as_str()), "{filters:?}");
        }
    }
}

/// Message attribute names: letters beyond ASCII are accepted; the prefixes `AWS.` and
/// `Amazon.` (any case) and a leading or trailing `.` are refused with AWS's message.
#[tokio::test]
async fn message_attribute_name_characters() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("attrnames"), &[]).await;
    c.send_message().queue_url(&url).message_body("m").message_attributes("Größe", string_attr("L")).send().await.unwrap();
    let got = receive(&c, &url, 1, 0, None).await;
    assert_eq!(got[0].message_attributes().unwrap()["Größe"].string_value(), Some("L"));
    for bad in ["AWS.Foo", "aws.foo", "Amazon.Foo", "AMAZON.foo", ".foo", "foo."] {
        let err = expect_err_code(c.send_message().queue_url(&url).message_body("m").message_attributes(bad, string_attr("v")).send().await, "InvalidParameterValue");
        let message = aws_sdk_sqs::error::ProvideErrorMetadata::message(&err.into_service_error()).unwrap_or_default().to_string();
        assert_eq!(
            message,
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'.",
            "{bad}"
        );
    }
}

/// Fair queues (2025): a standard queue accepts MessageGroupId and returns it as the
/// MessageGroupId system attribute.
#[tokio::test]
async fn standard_queue_accepts_message_group_id() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("fair"), &[]).await;
    c.send_message().queue_url(&url).message_body("tenant-a").message_group_id("tenant-a").send().await.unwrap();
    let got = receive(&c, &url, 1, 0, None).await;
    assert_eq!(got[0].attributes().unwrap().get(&S::MessageGroupId).map(String::as_str), Some("tenant-a"));
    assert!(!got[0].attributes().unwrap().contains_key(&S::SequenceNumber), "standard queues have no sequence numbers");
}
