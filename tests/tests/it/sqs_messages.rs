//! Messages on standard queues: send/receive/delete, attributes, MD5s,
//! visibility, delays, long polling, batches, purge and error codes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageAttributeValue,
    MessageSystemAttributeName as S, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
    QueueAttributeName as A, SendMessageBatchRequestEntry,
};
use nimbus_tests::sqs::{attr_num, create_queue, delete, receive, send};
use nimbus_tests::{expect_err_code, expect_err_code_in, md5, unique_name, Nimbus};

fn sattr(t: &str, v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type(t).string_value(v).build().unwrap()
}
fn battr(t: &str, v: &[u8]) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type(t).binary_value(Blob::new(v.to_vec())).build().unwrap()
}
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn send_receive_delete_with_system_attributes() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("basic"), &[]).await;
    let before = now_ms();
    let id = send(&c, &url, "hello world").await;
    let msgs = receive(&c, &url, 10, 1, None).await;
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.message_id(), Some(id.as_str()));
    assert_eq!(m.body(), Some("hello world"));
    assert!(m.receipt_handle().is_some_and(|r| !r.is_empty()));
    let a = m.attributes().expect("system attributes requested with All");
    assert_eq!(a.get(&S::ApproximateReceiveCount).map(String::as_str), Some("1"), "{a:?}");
    let sent: i64 = a[&S::SentTimestamp].parse().unwrap();
    assert!((sent - before).abs() < 60_000, "SentTimestamp {sent} must be epoch millis (now {before})");
    let first: i64 = a[&S::ApproximateFirstReceiveTimestamp].parse().unwrap();
    assert!(first >= sent, "first receive {first} before send {sent}");
    assert!(a.get(&S::SenderId).is_some_and(|s| !s.is_empty()), "SenderId missing: {a:?}");

    // In flight: not receivable, counted as NotVisible.
    assert!(receive(&c, &url, 10, 0, None).await.is_empty());
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesNotVisible).await, 1);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 0);

    delete(&c, &url, m).await;
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesNotVisible).await, 0);
    assert!(receive(&c, &url, 10, 1, None).await.is_empty(), "deleted message came back");
}

#[tokio::test]
async fn message_attributes_roundtrip_with_md5() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("mattrs"), &[]).await;
    let mut attrs: HashMap<String, MessageAttributeValue> = HashMap::new();
    attrs.insert("str".into(), sattr("String", "héllo wörld"));
    attrs.insert("num".into(), sattr("Number", "-123.450"));
    attrs.insert("bin".into(), battr("Binary", &[0, 1, 2, 255, 254, 10]));
    attrs.insert("custom".into(), sattr("String.x", "custom-typed"));
    attrs.insert("int".into(), sattr("Number.int", "42"));
    attrs.insert("gif".into(), battr("Binary.gif", b"GIF89a"));
    attrs.insert("grp.one".into(), sattr("String", "1"));
    attrs.insert("grp.two".into(), sattr("Number", "2"));

    let out = c
        .send_message()
        .queue_url(&url)
        .message_body("with attributes")
        .set_message_attributes(Some(attrs.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.md5_of_message_body(), Some(md5::hex(b"with attributes").as_str()));
    assert_eq!(
        out.md5_of_message_attributes(),
        Some(md5::of_attributes(&attrs).as_str()),
        "SendMessage MD5OfMessageAttributes"
    );

    // receive() requests All and verifies both MD5s.
    let msgs = receive(&c, &url, 1, 1, Some(0)).await;
    assert_eq!(msgs.len(), 1);
    let got = msgs[0].message_attributes().expect("message attributes");
    assert_eq!(got.len(), attrs.len(), "{got:?}");
    for (k, v) in &attrs {
        let g = &got[k];
        assert_eq!(g.data_type(), v.data_type(), "data type of {k}");
        assert_eq!(g.string_value(), v.string_value(), "string value of {k}");
        assert_eq!(g.binary_value(), v.binary_value(), "binary value of {k}");
    }

    // Only the requested names come back (and the MD5 covers only those).
    let msgs = c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("str")
        .message_attribute_names("bin")
        .visibility_timeout(0)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(msgs.len(), 1);
    md5::verify_message(&msgs[0]);
    let mut keys: Vec<_> = msgs[0].message_attributes().unwrap_or(&HashMap::new()).keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["bin", "str"]);

    // Prefix selection: "prefix.*" wildcard.
    let msgs = c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("grp.*")
        .visibility_timeout(0)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(msgs.len(), 1);
    md5::verify_message(&msgs[0]);
    let mut keys: Vec<_> = msgs[0].message_attributes().unwrap_or(&HashMap::new()).keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["grp.one", "grp.two"], "prefix selection grp.*");

    // Without MessageAttributeNames no attributes (and no attribute MD5) are returned.
    let msgs = c.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap().messages.unwrap_or_default();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].message_attributes().is_none_or(|a| a.is_empty()), "{:?}", msgs[0]);
    assert!(msgs[0].md5_of_message_attributes().is_none(), "{:?}", msgs[0]);
}

#[tokio::test]
async fn invalid_message_attributes_are_rejected() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("badattr"), &[]).await;
    let cases = [
        ("n", sattr("Number", "not-a-number")),
        ("t", sattr("Bogus", "x")),
        ("aws.reserved", sattr("String", "x")),
        ("bad name!", sattr("String", "x")),
    ];
    for (name, v) in cases {
        let r = c.send_message().queue_url(&url).message_body("b").message_attributes(name, v.clone()).send().await;
        assert!(r.is_err(), "attribute {name}={v:?} must be rejected: {r:?}");
    }
    // More than 10 attributes.
    let mut req = c.send_message().queue_url(&url).message_body("b");
    for i in 0..11 {
        req = req.message_attributes(format!("a{i}"), sattr("String", "v"));
    }
    assert!(req.send().await.is_err(), "11 message attributes must be rejected");
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "a rejected message was enqueued");
}

#[tokio::test]
async fn aws_trace_header_system_attribute() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("trace"), &[]).await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let out = c
        .send_message()
        .queue_url(&url)
        .message_body("traced")
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder().data_type("String").string_value(trace).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut m = HashMap::new();
    m.insert("AWSTraceHeader".to_string(), sattr("String", trace));
    assert_eq!(out.md5_of_message_system_attributes(), Some(md5::of_attributes(&m).as_str()));
    let msgs = receive(&c, &url, 1, 1, None).await;
    assert_eq!(msgs[0].attributes().and_then(|a| a.get(&S::AwsTraceHeader)).map(String::as_str), Some(trace));
}

#[tokio::test]
async fn unicode_and_whitespace_bodies_roundtrip() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("unicode"), &[]).await;
    let bodies = [
        "héllo 世界 🎉",
        "tabs\tand\nnewlines\r\n",
        "  leading and trailing  ",
        "<xml>&amp;\"quotes\"</xml>",
        "\u{E000}\u{FFFD}\u{10FFFF}",
    ];
    for b in bodies {
        send(&c, &url, b).await;
    }
    let got = nimbus_tests::sqs::drain(&c, &url, bodies.len()).await;
    let mut got: Vec<String> = got.iter().map(|m| m.body().unwrap().to_string()).collect();
    let mut want: Vec<String> = bodies.iter().map(|s| s.to_string()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn invalid_message_contents() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("badbody"), &[]).await;
    for body in ["control \u{1} char", "nul \u{0}", "\u{FFFF}"] {
        let e = expect_err_code(
            c.send_message().queue_url(&url).message_body(body).send().await,
            "InvalidMessageContents",
        );
        assert!(e.as_service_error().is_some_and(|e| e.is_invalid_message_contents()), "{e:?}");
    }
    assert!(receive(&c, &url, 10, 0, None).await.is_empty());
}

#[tokio::test]
async fn message_size_limit_follows_maximum_message_size() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("size"), &[(A::MaximumMessageSize, "1024")]).await;
    send(&c, &url, &"a".repeat(1024)).await;
    let r = c.send_message().queue_url(&url).message_body("a".repeat(1025)).send().await;
    assert!(r.is_err(), "1025-byte body on a 1024-byte queue must fail: {r:?}");
    // The limit counts bytes, not characters: 342 three-byte chars = 1026 bytes.
    let r = c.send_message().queue_url(&url).message_body("€".repeat(342)).send().await;
    assert!(r.is_err(), "1026-byte UTF-8 body must fail: {r:?}");
    // Attributes count towards the size: name + type + value.
    let r = c
        .send_message()
        .queue_url(&url)
        .message_body("a".repeat(1000))
        .message_attributes("attr", sattr("String", &"v".repeat(100)))
        .send()
        .await;
    assert!(r.is_err(), "body + attributes over the limit must fail: {r:?}");
    let msgs = nimbus_tests::sqs::drain(&c, &url, 2).await;
    assert_eq!(msgs.len(), 1);
}

#[tokio::test]
async fn visibility_timeout_and_receipt_handles() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("vis"), &[]).await;
    let id = send(&c, &url, "v").await;
    let m1 = receive(&c, &url, 1, 1, Some(1)).await;
    assert_eq!(m1.len(), 1);
    assert!(receive(&c, &url, 1, 0, None).await.is_empty(), "message visible during its visibility timeout");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let m2 = receive(&c, &url, 1, 1, Some(30)).await;
    assert_eq!(m2.len(), 1, "message not visible again after VisibilityTimeout=1 expired");
    assert_eq!(m2[0].message_id(), Some(id.as_str()));
    assert_ne!(m1[0].receipt_handle(), m2[0].receipt_handle(), "receipt handle must change per receive");
    assert_eq!(m2[0].attributes().unwrap()[&S::ApproximateReceiveCount], "2");
    // First receive timestamp is unchanged by later receives.
    assert_eq!(
        m1[0].attributes().unwrap()[&S::ApproximateFirstReceiveTimestamp],
        m2[0].attributes().unwrap()[&S::ApproximateFirstReceiveTimestamp]
    );
    delete(&c, &url, &m2[0]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receive(&c, &url, 1, 1, Some(0)).await.is_empty(), "deleted with latest handle must be gone");
}

#[tokio::test]
async fn queue_default_visibility_timeout_applies() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("qvis"), &[(A::VisibilityTimeout, "1")]).await;
    send(&c, &url, "x").await;
    assert_eq!(receive(&c, &url, 1, 1, None).await.len(), 1);
    assert!(receive(&c, &url, 1, 0, None).await.is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receive(&c, &url, 1, 0, None).await.len(), 1, "queue VisibilityTimeout=1 not applied");
}

#[tokio::test]
async fn change_message_visibility() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("cmv"), &[]).await;
    send(&c, &url, "a").await;
    let m = receive(&c, &url, 1, 1, Some(30)).await.remove(0);
    let rh = m.receipt_handle().unwrap();
    // Make it visible right away.
    c.change_message_visibility().queue_url(&url).receipt_handle(rh).visibility_timeout(0).send().await.unwrap();
    let m2 = receive(&c, &url, 1, 1, Some(30)).await;
    assert_eq!(m2.len(), 1, "VisibilityTimeout=0 must make the message visible");
    // Extend: stays invisible past the original 1 s.
    let rh2 = m2[0].receipt_handle().unwrap();
    c.change_message_visibility().queue_url(&url).receipt_handle(rh2).visibility_timeout(1).send().await.unwrap();
    c.change_message_visibility().queue_url(&url).receipt_handle(rh2).visibility_timeout(60).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receive(&c, &url, 1, 0, None).await.is_empty(), "extended visibility was not applied");

    // Out of range.
    expect_err_code_in(
        c.change_message_visibility().queue_url(&url).receipt_handle(rh2).visibility_timeout(43201).send().await,
        &["InvalidParameterValue"],
    );
    // Garbage handle.
    let e = expect_err_code(
        c.change_message_visibility().queue_url(&url).receipt_handle("garbage").visibility_timeout(5).send().await,
        "ReceiptHandleIsInvalid",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_receipt_handle_is_invalid()), "{e:?}");
}

// ChangeMessageVisibility after the visibility timeout ran out: see
// `change_visibility_after_the_timeout_ran_out_succeeds` in sqs_fidelity.rs (it succeeds
// on AWS).

#[tokio::test]
async fn change_message_visibility_batch() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("cmvb"), &[]).await;
    for i in 0..3 {
        send(&c, &url, &format!("m{i}")).await;
    }
    let msgs = nimbus_tests::sqs::drain_no_delete(&c, &url, 3, 60).await;
    assert_eq!(msgs.len(), 3);
    let mut req = c.change_message_visibility_batch().queue_url(&url);
    for (i, m) in msgs.iter().take(2).enumerate() {
        req = req.entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .visibility_timeout(0)
                .build()
                .unwrap(),
        );
    }
    req = req.entries(
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id("bad")
            .receipt_handle("not-a-receipt-handle")
            .visibility_timeout(0)
            .build()
            .unwrap(),
    );
    let out = req.send().await.unwrap();
    let mut ok: Vec<_> = out.successful().iter().map(|s| s.id().to_string()).collect();
    ok.sort();
    assert_eq!(ok, ["e0", "e1"]);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "bad");
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert!(out.failed()[0].sender_fault());

    let again = nimbus_tests::sqs::drain_no_delete(&c, &url, 3, 60).await;
    let mut bodies: Vec<_> = again.iter().map(|m| m.body().unwrap()).collect();
    bodies.sort();
    let mut want: Vec<_> = msgs.iter().take(2).map(|m| m.body().unwrap()).collect();
    want.sort();
    assert_eq!(bodies, want, "exactly the two changed messages are visible again");
}

#[tokio::test]
async fn delete_with_invalid_receipt_handle() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("badrh"), &[]).await;
    let e = expect_err_code(
        c.delete_message().queue_url(&url).receipt_handle("definitely-not-valid").send().await,
        "ReceiptHandleIsInvalid",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_receipt_handle_is_invalid()), "{e:?}");
}

#[tokio::test]
async fn message_delay_per_message_and_queue_default() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("delay"), &[]).await;
    c.send_message().queue_url(&url).message_body("delayed").delay_seconds(2).send().await.unwrap();
    assert!(receive(&c, &url, 1, 0, None).await.is_empty(), "delayed message visible immediately");
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesDelayed).await, 1);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 0);
    let t = Instant::now();
    let m = receive(&c, &url, 1, 5, None).await;
    assert_eq!(m.len(), 1, "delayed message not delivered by a long poll");
    assert!(t.elapsed() >= Duration::from_millis(1000), "delay not honoured: {:?}", t.elapsed());

    expect_err_code(
        c.send_message().queue_url(&url).message_body("x").delay_seconds(901).send().await,
        "InvalidParameterValue",
    );

    // Queue-level DelaySeconds applies when the message has none; per-message 0 overrides it.
    let url2 = create_queue(&c, &unique_name("qdelay"), &[(A::DelaySeconds, "2")]).await;
    send(&c, &url2, "q-delayed").await;
    c.send_message().queue_url(&url2).message_body("immediate").delay_seconds(0).send().await.unwrap();
    let m = receive(&c, &url2, 10, 0, None).await;
    let bodies: Vec<_> = m.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["immediate"]);
    let m = receive(&c, &url2, 10, 5, None).await;
    let bodies: Vec<_> = m.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["q-delayed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_is_woken_by_send() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("lpsend"), &[]).await;
    let (c2, url2) = (c.clone(), url.clone());
    let t0 = Instant::now();
    let poller = tokio::spawn(async move {
        let m = receive(&c2, &url2, 1, 10, None).await;
        (m, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_at = Instant::now();
    send(&c, &url, "wake up").await;
    let (m, done) = poller.await.unwrap();
    assert_eq!(m.len(), 1, "long poll returned without the message");
    assert_eq!(m[0].body(), Some("wake up"));
    let latency = done.duration_since(sent_at);
    assert!(latency < Duration::from_secs(2), "long poll woke {latency:?} after the send (WaitTimeSeconds=10)");
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn long_poll_is_woken_by_visibility_expiry() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("lpvis"), &[]).await;
    send(&c, &url, "comes back").await;
    assert_eq!(receive(&c, &url, 1, 1, Some(1)).await.len(), 1);
    let t = Instant::now();
    let m = receive(&c, &url, 1, 5, None).await;
    let el = t.elapsed();
    assert_eq!(m.len(), 1, "long poll did not get the message back after its visibility expired");
    assert!(el >= Duration::from_millis(500), "returned too early ({el:?}): the message was still in flight");
    assert!(el < Duration::from_millis(3000), "long poll woke {el:?} after start; the message was visible after ~1 s");
}

#[tokio::test]
async fn long_poll_waits_then_returns_empty() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("lpempty"), &[]).await;
    let t = Instant::now();
    assert!(receive(&c, &url, 1, 2, None).await.is_empty());
    let el = t.elapsed();
    assert!(el >= Duration::from_millis(1800) && el < Duration::from_secs(5), "WaitTimeSeconds=2 took {el:?}");

    // Queue attribute ReceiveMessageWaitTimeSeconds is the default wait.
    let url2 = create_queue(&c, &unique_name("lpattr"), &[(A::ReceiveMessageWaitTimeSeconds, "2")]).await;
    let t = Instant::now();
    let m = c.receive_message().queue_url(&url2).send().await.unwrap();
    assert!(m.messages().is_empty());
    let el = t.elapsed();
    assert!(el >= Duration::from_millis(1800) && el < Duration::from_secs(5), "queue default wait 2 s took {el:?}");

    // Short poll (WaitTimeSeconds=0) returns at once.
    let t = Instant::now();
    assert!(receive(&c, &url2, 1, 0, None).await.is_empty());
    assert!(t.elapsed() < Duration::from_millis(1000), "short poll took {:?}", t.elapsed());
}

#[tokio::test]
async fn receive_parameter_validation() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("rcvval"), &[]).await;
    for max in [0, 11] {
        expect_err_code(
            c.receive_message().queue_url(&url).max_number_of_messages(max).send().await,
            "InvalidParameterValue",
        );
    }
    expect_err_code(c.receive_message().queue_url(&url).wait_time_seconds(21).send().await, "InvalidParameterValue");
    expect_err_code(
        c.receive_message().queue_url(&url).visibility_timeout(43201).send().await,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn receive_respects_max_number_of_messages() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("maxn"), &[]).await;
    for i in 0..15 {
        send(&c, &url, &format!("m{i}")).await;
    }
    let m = receive(&c, &url, 3, 1, None).await;
    assert!(!m.is_empty() && m.len() <= 3, "got {}", m.len());
    let rest = nimbus_tests::sqs::drain(&c, &url, 15).await;
    let mut all: Vec<_> = m.iter().chain(rest.iter()).map(|m| m.body().unwrap().to_string()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 15, "every message delivered once");
    // Default MaxNumberOfMessages is 1.
    for i in 0..3 {
        send(&c, &url, &format!("d{i}")).await;
    }
    let out = c.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
    assert_eq!(out.messages().len(), 1, "default MaxNumberOfMessages is 1");
}

#[tokio::test]
async fn send_message_batch_success_and_md5() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("sbatch"), &[]).await;
    let mut req = c.send_message_batch().queue_url(&url);
    for i in 0..10 {
        let mut e = SendMessageBatchRequestEntry::builder().id(format!("id-{i}")).message_body(format!("body {i}"));
        if i % 2 == 0 {
            e = e.message_attributes("i", sattr("Number", &i.to_string()));
        }
        req = req.entries(e.build().unwrap());
    }
    let out = req.send().await.unwrap();
    assert!(out.failed().is_empty(), "{:?}", out.failed());
    assert_eq!(out.successful().len(), 10);
    let mut ids = HashSet::new();
    for s in out.successful() {
        let i: usize = s.id().strip_prefix("id-").unwrap().parse().unwrap();
        assert_eq!(s.md5_of_message_body(), md5::hex(format!("body {i}").as_bytes()));
        if i % 2 == 0 {
            let mut m = HashMap::new();
            m.insert("i".to_string(), sattr("Number", &i.to_string()));
            assert_eq!(s.md5_of_message_attributes(), Some(md5::of_attributes(&m).as_str()));
        } else {
            assert!(s.md5_of_message_attributes().is_none());
        }
        assert!(ids.insert(s.message_id().to_string()), "duplicate MessageId");
    }
    let got = nimbus_tests::sqs::drain(&c, &url, 10).await;
    assert_eq!(got.len(), 10);
    for m in &got {
        assert!(ids.contains(m.message_id().unwrap()));
    }
}

#[tokio::test]
async fn batch_request_errors() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("batcherr"), &[]).await;
    let entry = |id: &str| SendMessageBatchRequestEntry::builder().id(id).message_body("b").build().unwrap();

    // 11 entries.
    let mut req = c.send_message_batch().queue_url(&url);
    for i in 0..11 {
        req = req.entries(entry(&format!("e{i}")));
    }
    let e = expect_err_code(req.send().await, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
    assert!(e.as_service_error().is_some_and(|e| e.is_too_many_entries_in_batch_request()));

    // Duplicate ids.
    let e = expect_err_code(
        c.send_message_batch().queue_url(&url).entries(entry("dup")).entries(entry("dup")).send().await,
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_batch_entry_ids_not_distinct()));

    // Empty batch.
    let e = expect_err_code(
        c.send_message_batch().queue_url(&url).set_entries(Some(vec![])).send().await,
        "AWS.SimpleQueueService.EmptyBatchRequest",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_empty_batch_request()));

    // Invalid id (only alphanumerics, '-' and '_', max 80).
    let e = expect_err_code(
        c.send_message_batch().queue_url(&url).entries(entry("bad id!")).send().await,
        "AWS.SimpleQueueService.InvalidBatchEntryId",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_batch_entry_id()));
    expect_err_code(
        c.send_message_batch().queue_url(&url).entries(entry(&"x".repeat(81))).send().await,
        "AWS.SimpleQueueService.InvalidBatchEntryId",
    );

    // Same validation for the other batch operations.
    let d = |id: &str| DeleteMessageBatchRequestEntry::builder().id(id).receipt_handle("rh").build().unwrap();
    expect_err_code(
        c.delete_message_batch().queue_url(&url).set_entries(Some(vec![])).send().await,
        "AWS.SimpleQueueService.EmptyBatchRequest",
    );
    expect_err_code(
        c.delete_message_batch().queue_url(&url).entries(d("a")).entries(d("a")).send().await,
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    );
    let mut req = c.delete_message_batch().queue_url(&url);
    for i in 0..11 {
        req = req.entries(d(&format!("d{i}")));
    }
    expect_err_code(req.send().await, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
    let v = |id: &str| {
        ChangeMessageVisibilityBatchRequestEntry::builder().id(id).receipt_handle("rh").visibility_timeout(1).build().unwrap()
    };
    expect_err_code(
        c.change_message_visibility_batch().queue_url(&url).set_entries(Some(vec![])).send().await,
        "AWS.SimpleQueueService.EmptyBatchRequest",
    );
    expect_err_code(
        c.change_message_visibility_batch().queue_url(&url).entries(v("a")).entries(v("a")).send().await,
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    );
    expect_err_code(
        c.change_message_visibility_batch().queue_url(&url).entries(v("a b")).send().await,
        "AWS.SimpleQueueService.InvalidBatchEntryId",
    );

    // None of the rejected batches enqueued anything.
    assert!(receive(&c, &url, 10, 0, None).await.is_empty());
}

#[tokio::test]
async fn delete_message_batch_partial_failure() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("dbatch"), &[]).await;
    for i in 0..3 {
        send(&c, &url, &format!("m{i}")).await;
    }
    let msgs = nimbus_tests::sqs::drain_no_delete(&c, &url, 3, 1).await;
    assert_eq!(msgs.len(), 3);
    let mut req = c.delete_message_batch().queue_url(&url);
    for (i, m) in msgs.iter().enumerate() {
        req = req.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("ok{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap(),
        );
    }
    req = req.entries(DeleteMessageBatchRequestEntry::builder().id("bad").receipt_handle("nope").build().unwrap());
    let out = req.send().await.unwrap();
    assert_eq!(out.successful().len(), 3, "{out:?}");
    assert_eq!(out.failed().len(), 1, "{out:?}");
    assert_eq!(out.failed()[0].id(), "bad");
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert!(out.failed()[0].sender_fault());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "batch-deleted messages came back");
}

#[tokio::test]
async fn purge_queue_and_purge_in_progress() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("purge"), &[]).await;
    for i in 0..5 {
        send(&c, &url, &format!("p{i}")).await;
    }
    // One in flight too.
    assert_eq!(receive(&c, &url, 1, 1, Some(30)).await.len(), 1);
    c.purge_queue().queue_url(&url).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receive(&c, &url, 10, 1, None).await.is_empty(), "messages survived PurgeQueue");
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 0);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesNotVisible).await, 0);
    let e = expect_err_code(
        c.purge_queue().queue_url(&url).send().await,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_purge_queue_in_progress()));
}

#[tokio::test]
async fn approximate_counts() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("counts"), &[]).await;
    for i in 0..4 {
        send(&c, &url, &format!("c{i}")).await;
    }
    c.send_message().queue_url(&url).message_body("later").delay_seconds(60).send().await.unwrap();
    let got = nimbus_tests::sqs::drain_no_delete(&c, &url, 1, 60).await;
    assert_eq!(got.len(), 1);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessages).await, 3);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesNotVisible).await, 1);
    assert_eq!(attr_num(&c, &url, A::ApproximateNumberOfMessagesDelayed).await, 1);
}
