//! Durability under SIGKILL: acknowledged sends and deletes survive a crash.
//! Needs a spawned server (skipped when NIMBUS_ENDPOINT points elsewhere).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as A;
use nimbus_tests::sqs::{create_queue, queue_attrs, receive};
use nimbus_tests::{unique_name, Nimbus};

/// Drain a queue after restart: receive (long visibility) and delete until
/// three consecutive polls come back empty.
async fn drain_all(c: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut out = Vec::new();
    let mut empty = 0;
    while empty < 3 {
        let msgs = receive(c, url, 10, 1, Some(300)).await;
        if msgs.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let mut req = c.delete_message_batch().queue_url(url);
        for (i, m) in msgs.iter().enumerate() {
            req = req.entries(
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(format!("d{i}"))
                    .receipt_handle(m.receipt_handle().unwrap())
                    .build()
                    .unwrap(),
            );
        }
        let r = req.send().await.unwrap();
        assert!(r.failed().is_empty(), "{:?}", r.failed());
        out.extend(msgs);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_sends_survive_sigkill() {
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: crash tests need a spawned server (NIMBUS_ENDPOINT is set)");
        return;
    }
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("crash-send"), &[]).await;
    let url_path = url.split_once("://").map(|(_, r)| r.split_once('/').map(|(_, p)| p.to_string())).flatten().unwrap();

    let attempted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default(); // body -> MessageId
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (c, url, attempted, acked) = (c.clone(), url.clone(), attempted.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = 0;
            for i in 0..100_000u32 {
                // Varying sizes, with a checkable structure.
                let pad = "x".repeat((i as usize * 37 + t * 11) % 700);
                let body = format!("t{t}-m{i}-{pad}");
                attempted.lock().unwrap().insert(body.clone());
                match c.send_message().queue_url(&url).message_body(&body).send().await {
                    Ok(out) => {
                        assert_eq!(
                            out.md5_of_message_body(),
                            Some(nimbus_tests::md5::hex(body.as_bytes()).as_str()),
                            "MD5 of an acknowledged send"
                        );
                        acked.lock().unwrap().insert(body, out.message_id.unwrap());
                    }
                    Err(_) => {
                        errors += 1;
                        if errors > 3 {
                            return; // server is gone
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let acked_before_kill = acked.lock().unwrap().len();
    n.kill9();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(acked_before_kill > 50, "only {acked_before_kill} sends acknowledged in 1 s: too few to test anything");

    n.restart();
    let c = n.sqs_client();
    // The queue survived with the same URL path.
    let url2 = c.get_queue_url().queue_name(url_path.rsplit('/').next().unwrap()).send().await.unwrap().queue_url.unwrap();
    assert!(url2.ends_with(&url_path), "queue URL changed across restart: {url} -> {url2}");
    let got = drain_all(&c, &url2).await;

    let attempted = attempted.lock().unwrap();
    let acked = acked.lock().unwrap();
    let mut seen_bodies: HashMap<String, usize> = HashMap::new();
    let mut seen_ids = HashSet::new();
    for m in &got {
        let body = m.body().unwrap().to_string();
        assert!(attempted.contains(&body), "received a body that was never sent (corrupted?): {:?}", &body[..body.len().min(80)]);
        assert!(seen_ids.insert(m.message_id().unwrap().to_string()), "MessageId {:?} delivered twice", m.message_id());
        *seen_bodies.entry(body).or_default() += 1;
    }
    let mut missing = Vec::new();
    for (body, id) in acked.iter() {
        match seen_bodies.get(body) {
            Some(1) => {}
            Some(k) => panic!("acknowledged message {id} delivered {k} times"),
            None => missing.push(id.clone()),
        }
    }
    let by_body: HashMap<&str, &str> =
        got.iter().map(|m| (m.body().unwrap(), m.message_id().unwrap())).collect();
    for (body, id) in acked.iter() {
        if let Some(got_id) = by_body.get(body.as_str()) {
            assert_eq!(got_id, id, "MessageId changed across restart");
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages lost after SIGKILL (received {}), e.g. {:?}",
        missing.len(),
        acked.len(),
        got.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!("acknowledged {}, attempted {}, recovered {}", acked.len(), attempted.len(), got.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_deletes_survive_sigkill() {
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: crash tests need a spawned server (NIMBUS_ENDPOINT is set)");
        return;
    }
    let c = n.sqs_client();
    let name = unique_name("crash-del");
    let url = create_queue(&c, &name, &[(A::VisibilityTimeout, "1")]).await;
    c.tag_queue().queue_url(&url).tags("durable", "yes").send().await.unwrap();
    const N: usize = 300;
    for chunk in 0..N / 10 {
        let mut req = c.send_message_batch().queue_url(&url);
        for j in 0..10 {
            req = req.entries(
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(format!("e{j}"))
                    .message_body(format!("m{}", chunk * 10 + j))
                    .build()
                    .unwrap(),
            );
        }
        let out = req.send().await.unwrap();
        assert!(out.failed().is_empty());
    }
    // Receive everything (in flight for 1 s).
    let msgs = nimbus_tests::sqs::drain_no_delete(&c, &url, N, 1).await;
    assert_eq!(msgs.len(), N, "could not receive all messages before the crash");

    // Delete from 4 tasks; kill while deletes are in flight.
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let attempted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let msgs = Arc::new(msgs);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (c, url, msgs, acked, attempted) = (c.clone(), url.clone(), msgs.clone(), acked.clone(), attempted.clone());
        tasks.push(tokio::spawn(async move {
            for m in msgs.iter().skip(t).step_by(4).take(60) {
                let body = m.body().unwrap().to_string();
                attempted.lock().unwrap().insert(body.clone());
                match c.delete_message().queue_url(&url).receipt_handle(m.receipt_handle().unwrap()).send().await {
                    Ok(_) => {
                        acked.lock().unwrap().insert(body);
                    }
                    Err(_) => return,
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    n.kill9();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(!acked.is_empty(), "no delete was acknowledged before the kill");

    n.restart();
    let c = n.sqs_client();
    let url = c.get_queue_url().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    // Queue configuration is durable too.
    let attrs = queue_attrs(&c, &url).await;
    assert_eq!(attrs[&A::VisibilityTimeout], "1");
    let tags = c.list_queue_tags().queue_url(&url).send().await.unwrap().tags.unwrap_or_default();
    assert_eq!(tags.get("durable").map(String::as_str), Some("yes"));

    tokio::time::sleep(Duration::from_millis(1200)).await; // let pre-crash visibility lapse
    let got = drain_all(&c, &url).await;
    let got_bodies: HashSet<String> = got.iter().map(|m| m.body().unwrap().to_string()).collect();
    assert_eq!(got_bodies.len(), got.len(), "a message was delivered twice after restart");
    let resurrected: Vec<_> = acked.intersection(&got_bodies).cloned().collect();
    assert!(resurrected.is_empty(), "{} acknowledged deletes came back after SIGKILL, e.g. {:?}", resurrected.len(), &resurrected[..resurrected.len().min(5)]);
    // Every message whose delete was never attempted is still there.
    for i in 0..N {
        let b = format!("m{i}");
        if !attempted.contains(&b) {
            assert!(got_bodies.contains(&b), "message {b} (never deleted) lost after SIGKILL");
        }
    }
    eprintln!("deletes acked {}, attempted {}, remaining {}", acked.len(), attempted.len(), got.len());
}
