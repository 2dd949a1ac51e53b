//! S3 durability under SIGKILL: every object whose PutObject was acknowledged before
//! `kill -9` is there after restart, whole (its bytes hash to its ETag and carry its
//! structure); no object is half-written — a key either is absent or holds exactly one
//! complete body that was sent for it. Issue 16 ("A crash test").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use md5::{Digest, Md5};
use nimbus_tests::{unique_name, Nimbus};

/// The body written for `(task, i)`: its size varies up to ~600 KB, and every byte is a
/// function of (task, i, offset), so a torn or mixed body shows.
fn body(task: u32, i: u32) -> Vec<u8> {
    let len = 1 + ((task as usize * 7919 + i as usize * 104_729) % 600_000);
    (0..len).map(|o| ((o as u32).wrapping_mul(31) ^ task.wrapping_mul(17) ^ i.wrapping_mul(13)) as u8).collect()
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_objects_survive_sigkill_whole() {
    let mut n = Nimbus::start();
    if n.is_external() {
        eprintln!("skipped: crash tests need a spawned server (NIMBUS_ENDPOINT is set)");
        return;
    }
    let c = n.s3_client();
    let bucket = unique_name("crash-s3").to_lowercase();
    c.create_bucket().bucket(&bucket).send().await.expect("create bucket");

    // key -> (task, i) of every acknowledged put (the last one acknowledged wins).
    let acked: Arc<Mutex<HashMap<String, (u32, u32)>>> = Arc::default();
    let mut tasks = Vec::new();
    for t in 0..6u32 {
        let (c, bucket, acked) = (c.clone(), bucket.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100_000u32 {
                // Each task writes its own keys, some several times (overwrites).
                let key = format!("t{t}/k{}", i % 40);
                let put = c.put_object().bucket(&bucket).key(&key).body(ByteStream::from(body(t, i))).send().await;
                match put {
                    Ok(_) => {
                        acked.lock().unwrap().insert(key, (t, i));
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the writers run, then kill nimbus mid-stream.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    n.kill9();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "too few acknowledged puts before the kill: {}", acked.len());

    n.restart();
    let c = n.s3_client();
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = c.list_objects_v2().bucket(&bucket).set_continuation_token(token.clone()).send().await.expect("list after restart");
        listed.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for (key, (t, acked_i)) in &acked {
        assert!(listed.contains(key), "acknowledged {key} missing after restart");
        let got = c.get_object().bucket(&bucket).key(key).send().await.unwrap_or_else(|e| panic!("get {key}: {e:?}"));
        let etag = got.e_tag().unwrap_or_default().trim_matches('"').to_string();
        let data = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(md5_hex(&data), etag, "{key}: bytes do not match the ETag");
        // The body is one that was sent for this key at or after the acknowledged put
        // (a later put may have committed without its answer reaching us).
        let k: u32 = key.rsplit_once('k').and_then(|(_, k)| k.parse().ok()).expect("key number");
        let candidates = (*acked_i..acked_i + 200_000).step_by(1).filter(|i| i % 40 == k).take(64);
        assert!(candidates.into_iter().any(|i| body(*t, i) == data.as_ref()), "{key}: body is not one that was sent (torn or mixed)");
    }
    // Objects that were never acknowledged may exist (committed, answer lost), but whole.
    for key in listed.iter().filter(|k| !acked.contains_key(*k)) {
        let got = c.get_object().bucket(&bucket).key(key).send().await.expect("get unacknowledged");
        let etag = got.e_tag().unwrap_or_default().trim_matches('"').to_string();
        let data = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(md5_hex(&data), etag, "{key}: unacknowledged object is torn");
    }
}
