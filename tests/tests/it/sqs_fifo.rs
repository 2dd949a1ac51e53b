//! FIFO queues: ordering, message-group locking under concurrent consumers,
//! deduplication (explicit ids and content-based), FIFO-only validation.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{QueueAttributeName as A, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use nimbus_tests::sqs::{create_queue, delete, receive};
use nimbus_tests::{expect_err_code, md5, unique_name, Nimbus};

async fn fifo_queue(c: &Client, prefix: &str, extra: &[(A, &str)]) -> String {
    let mut attrs = vec![(A::FifoQueue, "true")];
    attrs.extend_from_slice(extra);
    create_queue(c, &format!("{}.fifo", unique_name(prefix)), &attrs).await
}

async fn send_fifo(c: &Client, url: &str, body: &str, group: &str, dedup: &str) -> (String, String) {
    let out = c
        .send_message()
        .queue_url(url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .send()
        .await
        .unwrap_or_else(|e| panic!("fifo send: {e:?}"));
    assert_eq!(out.md5_of_message_body(), Some(md5::hex(body.as_bytes()).as_str()));
    (out.message_id.expect("MessageId"), out.sequence_number.expect("SequenceNumber on FIFO send"))
}

#[tokio::test]
async fn fifo_send_validation() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fval", &[]).await;
    // MessageGroupId is required.
    let r = c.send_message().queue_url(&url).message_body("x").message_deduplication_id("d").send().await;
    assert!(r.is_err(), "FIFO send without MessageGroupId must fail: {r:?}");
    // Without content-based dedup a MessageDeduplicationId is required.
    let r = c.send_message().queue_url(&url).message_body("x").message_group_id("g").send().await;
    assert!(r.is_err(), "FIFO send without dedup id (ContentBasedDeduplication=false) must fail: {r:?}");
    // Per-message DelaySeconds is not supported on FIFO queues.
    expect_err_code(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .message_deduplication_id("d1")
            .delay_seconds(5)
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert!(receive(&c, &url, 10, 0, None).await.is_empty(), "rejected FIFO sends were enqueued");
}

#[tokio::test]
async fn fifo_order_and_sequence_numbers_single_group() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "forder", &[]).await;
    let mut seqs = Vec::new();
    for i in 0..20 {
        let (_, seq) = send_fifo(&c, &url, &format!("m{i:02}"), "g", &format!("d{i}")).await;
        seqs.push(seq.parse::<u128>().expect("SequenceNumber is numeric"));
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence numbers must increase: {seqs:?}");

    let mut got = Vec::new();
    while got.len() < 20 {
        let msgs = receive(&c, &url, 10, 1, None).await;
        assert!(!msgs.is_empty(), "queue ran dry after {} messages", got.len());
        for m in &msgs {
            let a = m.attributes().unwrap();
            assert_eq!(a[&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId], "g");
            assert!(a.contains_key(&aws_sdk_sqs::types::MessageSystemAttributeName::SequenceNumber));
            got.push(m.body().unwrap().to_string());
            delete(&c, &url, m).await;
        }
    }
    let want: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn fifo_group_is_locked_while_a_message_is_in_flight() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "flock", &[]).await;
    send_fifo(&c, &url, "a1", "A", "a1").await;
    send_fifo(&c, &url, "a2", "A", "a2").await;
    send_fifo(&c, &url, "b1", "B", "b1").await;
    let first = receive(&c, &url, 1, 1, Some(30)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body(), Some("a1"));
    // Group A is blocked: only b1 is available.
    let second = receive(&c, &url, 10, 1, Some(30)).await;
    let bodies: Vec<_> = second.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["b1"], "a2 must not be delivered while a1 is in flight");
    assert!(receive(&c, &url, 10, 0, None).await.is_empty());
    delete(&c, &url, &first[0]).await;
    let third = receive(&c, &url, 10, 1, Some(30)).await;
    let bodies: Vec<_> = third.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["a2"]);
}

#[tokio::test]
async fn fifo_visibility_timeout_returns_message_first_in_group() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fvis", &[]).await;
    send_fifo(&c, &url, "x1", "G", "x1").await;
    send_fifo(&c, &url, "x2", "G", "x2").await;
    let m = receive(&c, &url, 1, 1, Some(1)).await;
    assert_eq!(m[0].body(), Some("x1"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let m = receive(&c, &url, 10, 1, Some(30)).await;
    let bodies: Vec<_> = m.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies.first().copied(), Some("x1"), "x1 must be redelivered before x2: {bodies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifo_order_under_concurrent_consumers() {
    const GROUPS: usize = 5;
    const PER_GROUP: usize = 20;
    const CONSUMERS: usize = 4;
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fconc", &[]).await;

    // Interleave groups in send order; batches keep it quick.
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    let mut all = Vec::new();
    for i in 0..PER_GROUP {
        for g in 0..GROUPS {
            all.push((format!("g{g}"), format!("g{g}-m{i:03}")));
        }
    }
    for chunk in all.chunks(10) {
        let mut req = c.send_message_batch().queue_url(&url);
        for (j, (g, body)) in chunk.iter().enumerate() {
            req = req.entries(
                SendMessageBatchRequestEntry::builder()
                    .id(format!("e{j}"))
                    .message_body(body)
                    .message_group_id(g)
                    .message_deduplication_id(body)
                    .build()
                    .unwrap(),
            );
        }
        let out = req.send().await.unwrap();
        assert!(out.failed().is_empty(), "{:?}", out.failed());
        for (g, body) in chunk {
            sent.entry(g.clone()).or_default().push(body.clone());
        }
    }

    #[derive(Default)]
    struct Shared {
        holder: HashMap<String, usize>,    // group -> consumer holding undeleted messages of it
        processed: HashMap<String, Vec<String>>,
        violations: Vec<String>,
        total: usize,
    }
    let shared = Arc::new(Mutex::new(Shared::default()));
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut tasks = Vec::new();
    for me in 0..CONSUMERS {
        let (c, url, shared) = (c.clone(), url.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                if shared.lock().unwrap().total >= GROUPS * PER_GROUP || Instant::now() > deadline {
                    return;
                }
                let msgs = receive(&c, &url, 10, 1, Some(60)).await;
                if msgs.is_empty() {
                    continue;
                }
                let groups: Vec<String> = msgs
                    .iter()
                    .map(|m| {
                        m.attributes().unwrap()[&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId].clone()
                    })
                    .collect();
                {
                    let mut s = shared.lock().unwrap();
                    let mut uniq: HashSet<&String> = HashSet::new();
                    for g in &groups {
                        if uniq.insert(g) {
                            if let Some(other) = s.holder.get(g).copied() {
                                if other != me {
                                    s.violations.push(format!("consumer {me} got group {g} while consumer {other} holds it"));
                                }
                            }
                            s.holder.insert(g.clone(), me);
                        }
                    }
                }
                for (i, m) in msgs.iter().enumerate() {
                    let g = &groups[i];
                    let last_of_group = !groups[i + 1..].contains(g);
                    {
                        let mut s = shared.lock().unwrap();
                        s.processed.entry(g.clone()).or_default().push(m.body().unwrap().to_string());
                        s.total += 1;
                        // Release just before deleting the group's last message: a correct
                        // server cannot hand the group to anyone else until that delete lands.
                        if last_of_group && s.holder.get(g) == Some(&me) {
                            s.holder.remove(g);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    delete(&c, &url, m).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = shared.lock().unwrap();
    assert!(s.violations.is_empty(), "message-group exclusivity violated: {:?}", s.violations);
    assert_eq!(s.total, GROUPS * PER_GROUP, "not every message was processed exactly once");
    for (g, want) in &sent {
        assert_eq!(s.processed.get(g), Some(want), "processing order of group {g} differs from send order");
    }
}

#[tokio::test]
async fn fifo_deduplication_by_id() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fdedup", &[]).await;
    let (id1, _) = send_fifo(&c, &url, "first", "g", "same-id").await;
    let (id2, _) = send_fifo(&c, &url, "second body, same dedup id", "g", "same-id").await;
    assert_eq!(id1, id2, "a duplicate within the 5-minute window must return the original MessageId");
    let msgs = nimbus_tests::sqs::drain(&c, &url, 2).await;
    let bodies: Vec<_> = msgs.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["first"], "duplicate delivered");

    // Still deduplicated after the original was consumed and deleted.
    let (id3, _) = send_fifo(&c, &url, "third", "g", "same-id").await;
    assert_eq!(id3, id1);
    assert!(receive(&c, &url, 10, 1, None).await.is_empty(), "dedup id reused within 5 minutes was delivered");

    // A batch with a duplicate of an earlier id.
    let out = c
        .send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("a")
                .message_body("dupe")
                .message_group_id("g")
                .message_deduplication_id("same-id")
                .build()
                .unwrap(),
        )
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("b")
                .message_body("fresh")
                .message_group_id("g")
                .message_deduplication_id("fresh-id")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 2, "{out:?}");
    let dup = out.successful().iter().find(|s| s.id() == "a").unwrap();
    assert_eq!(dup.message_id(), id1);
    let msgs = nimbus_tests::sqs::drain(&c, &url, 2).await;
    let bodies: Vec<_> = msgs.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["fresh"]);
}

#[tokio::test]
async fn fifo_content_based_deduplication() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fcbd", &[(A::ContentBasedDeduplication, "true")]).await;
    let send = |body: &'static str| {
        let c = c.clone();
        let url = url.clone();
        async move {
            c.send_message()
                .queue_url(url)
                .message_body(body)
                .message_group_id("g")
                .send()
                .await
                .unwrap()
                .message_id
                .unwrap()
        }
    };
    let a1 = send("same content").await;
    let a2 = send("same content").await;
    let b = send("other content").await;
    assert_eq!(a1, a2, "identical bodies must be deduplicated");
    assert_ne!(a1, b);
    // An explicit dedup id overrides the content hash.
    let explicit = c
        .send_message()
        .queue_url(&url)
        .message_body("same content")
        .message_group_id("g")
        .message_deduplication_id("explicit")
        .send()
        .await
        .unwrap()
        .message_id
        .unwrap();
    assert_ne!(explicit, a1);
    let msgs = nimbus_tests::sqs::drain(&c, &url, 4).await;
    let bodies: Vec<_> = msgs.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["same content", "other content", "same content"]);
}

#[tokio::test]
async fn fifo_dedup_scope_message_group() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(
        &c,
        "fscope",
        &[(A::DeduplicationScope, "messageGroup"), (A::FifoThroughputLimit, "perMessageGroupId")],
    )
    .await;
    let (a, _) = send_fifo(&c, &url, "in g1", "g1", "same").await;
    let (b, _) = send_fifo(&c, &url, "in g2", "g2", "same").await;
    assert_ne!(a, b, "with DeduplicationScope=messageGroup the same id in another group is not a duplicate");
    let (a2, _) = send_fifo(&c, &url, "again g1", "g1", "same").await;
    assert_eq!(a, a2);
    let msgs = nimbus_tests::sqs::drain(&c, &url, 3).await;
    let mut bodies: Vec<_> = msgs.iter().map(|m| m.body().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, ["in g1", "in g2"]);
}

#[tokio::test]
async fn fifo_receive_request_attempt_id_returns_same_messages() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = fifo_queue(&c, "fattempt", &[]).await;
    for i in 0..3 {
        send_fifo(&c, &url, &format!("r{i}"), "g", &format!("r{i}")).await;
    }
    let recv = || {
        c.receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .receive_request_attempt_id("attempt-1")
            .visibility_timeout(30)
            .send()
    };
    let first = recv().await.unwrap().messages.unwrap_or_default();
    assert_eq!(first.len(), 3);
    // A retry with the same attempt id (within 5 minutes) returns the same messages.
    let retry = recv().await.unwrap().messages.unwrap_or_default();
    let ids = |v: &Vec<aws_sdk_sqs::types::Message>| v.iter().map(|m| m.message_id().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&retry), "ReceiveRequestAttemptId retry must return the same messages");
}
