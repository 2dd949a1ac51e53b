//! S3 multipart upload with aws-sdk-s3: parts uploaded from files (aws-chunked with
//! CRC32 trailers) and from memory, completed into one object whose ETag is the MD5 of the
//! part MD5s with `-N`, read back whole and by `partNumber`; the completion errors with
//! AWS's codes; ListParts / ListMultipartUploads; uploads kept across a restart.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use md5::{Digest, Md5};
use nimbus_tests::{unique_name, Nimbus};

const MIB: usize = 1024 * 1024;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut joined = Vec::new();
    for p in parts {
        joined.extend(Md5::digest(p));
    }
    let hex: String = Md5::digest(&joined).iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}-{}\"", parts.len())
}

fn completed(parts: &[(i32, String)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts.iter().map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build()).collect()))
        .build()
}

async fn bucket(c: &aws_sdk_s3::Client) -> String {
    let b = unique_name("mpu").to_lowercase();
    c.create_bucket().bucket(&b).send().await.expect("create bucket");
    b
}

#[tokio::test]
async fn parts_from_files_and_memory_complete_into_one_object() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let one = data(5 * MIB, 1);
    let two = data(1234, 2);
    let up = c.create_multipart_upload().bucket(&b).key("obj").content_type("application/x-test").send().await.unwrap();
    let id = up.upload_id().unwrap().to_string();
    // Part 1 from a file: the SDK sends it aws-chunked with a CRC32 trailer.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("part1");
    std::fs::write(&path, &one).unwrap();
    let p1 = c.upload_part().bucket(&b).key("obj").upload_id(&id).part_number(1).body(ByteStream::from_path(&path).await.unwrap()).send().await.unwrap();
    let p2 = c.upload_part().bucket(&b).key("obj").upload_id(&id).part_number(2).body(ByteStream::from(two.clone())).send().await.unwrap();
    let e1 = p1.e_tag().unwrap().to_string();
    let e2 = p2.e_tag().unwrap().to_string();
    let listed = c.list_parts().bucket(&b).key("obj").upload_id(&id).send().await.unwrap();
    let sizes: Vec<(i32, i64)> = listed.parts().iter().map(|p| (p.part_number().unwrap(), p.size().unwrap())).collect();
    assert_eq!(sizes, vec![(1, one.len() as i64), (2, two.len() as i64)]);
    let uploads = c.list_multipart_uploads().bucket(&b).send().await.unwrap();
    assert_eq!(uploads.uploads().iter().filter_map(|u| u.upload_id()).collect::<Vec<_>>(), vec![id.as_str()]);
    let done = c.complete_multipart_upload().bucket(&b).key("obj").upload_id(&id).multipart_upload(completed(&[(1, e1), (2, e2)])).send().await.unwrap();
    assert_eq!(done.e_tag(), Some(multipart_etag(&[&one, &two]).as_str()));
    let got = c.get_object().bucket(&b).key("obj").send().await.unwrap();
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.e_tag(), done.e_tag());
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(bytes.len() == one.len() + two.len() && bytes[..one.len()] == one[..] && bytes[one.len()..] == two[..]);
    // One part by number.
    let part = c.get_object().bucket(&b).key("obj").part_number(2).send().await.unwrap();
    assert_eq!(part.parts_count(), Some(2));
    assert_eq!(part.content_length(), Some(two.len() as i64));
    assert_eq!(part.body.collect().await.unwrap().into_bytes().as_ref(), two.as_slice());
    assert!(c.list_multipart_uploads().bucket(&b).send().await.unwrap().uploads().is_empty());
}

#[tokio::test]
async fn completion_errors_carry_aws_codes() {
    let n = Nimbus::start_in_memory();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let id = c.create_multipart_upload().bucket(&b).key("k").send().await.unwrap().upload_id().unwrap().to_string();
    let small = data(100, 3);
    let e1 = c.upload_part().bucket(&b).key("k").upload_id(&id).part_number(1).body(ByteStream::from(small.clone())).send().await.unwrap().e_tag().unwrap().to_string();
    let e2 = c.upload_part().bucket(&b).key("k").upload_id(&id).part_number(2).body(ByteStream::from(small.clone())).send().await.unwrap().e_tag().unwrap().to_string();
    let code = |r: Result<_, aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError>>| {
        r.map(|_| "ok".to_string()).unwrap_or_else(|e| e.into_service_error().code().unwrap_or("?").to_string())
    };
    let complete = |parts: Vec<(i32, String)>, upload: String| c.complete_multipart_upload().bucket(&b).key("k").upload_id(upload).multipart_upload(completed(&parts)).send();
    assert_eq!(code(complete(vec![(1, e1.clone()), (2, e2.clone())], id.clone()).await), "EntityTooSmall");
    assert_eq!(code(complete(vec![(2, e2.clone()), (1, e1.clone())], id.clone()).await), "InvalidPartOrder");
    assert_eq!(code(complete(vec![(1, "\"00\"".into())], id.clone()).await), "InvalidPart");
    assert_eq!(code(complete(vec![(1, e1.clone())], "nope".into()).await), "NoSuchUpload");
    assert_eq!(code(complete(vec![(2, e2.clone())], id.clone()).await), "ok");
    let err = c.abort_multipart_upload().bucket(&b).key("k").upload_id(&id).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
    let err = c.upload_part().bucket(&b).key("k").upload_id("nope").part_number(10_001).body(ByteStream::from_static(b"x")).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidArgument"));
}

#[tokio::test]
async fn an_upload_with_a_checksum_algorithm_gets_a_composite_checksum() {
    let n = Nimbus::start_in_memory();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let up = c.create_multipart_upload().bucket(&b).key("ck").checksum_algorithm(ChecksumAlgorithm::Sha256).send().await.unwrap();
    assert_eq!(up.checksum_algorithm(), Some(&ChecksumAlgorithm::Sha256));
    let id = up.upload_id().unwrap().to_string();
    let one = data(5 * MIB, 9);
    let two = data(10, 8);
    let mut parts = Vec::new();
    let mut sums = Vec::new();
    for (i, body) in [(1, &one), (2, &two)] {
        let r = c.upload_part().bucket(&b).key("ck").upload_id(&id).part_number(i).checksum_algorithm(ChecksumAlgorithm::Sha256).body(ByteStream::from(body.clone())).send().await.unwrap();
        sums.push(r.checksum_sha256().unwrap().to_string());
        parts.push(CompletedPart::builder().part_number(i).e_tag(r.e_tag().unwrap()).checksum_sha256(r.checksum_sha256().unwrap()).build());
    }
    let done = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("ck")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut joined = Vec::new();
    for s in &sums {
        joined.extend(b64.decode(s).unwrap());
    }
    let want = format!("{}-2", b64.encode(sha2::Sha256::digest(&joined)));
    assert_eq!(done.checksum_sha256(), Some(want.as_str()));
}

#[tokio::test]
async fn uploads_and_parts_survive_a_restart() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = n.s3_client();
    let b = bucket(&c).await;
    let id = c.create_multipart_upload().bucket(&b).key("later").send().await.unwrap().upload_id().unwrap().to_string();
    let one = data(5 * MIB, 4);
    let e1 = c.upload_part().bucket(&b).key("later").upload_id(&id).part_number(1).body(ByteStream::from(one.clone())).send().await.unwrap().e_tag().unwrap().to_string();
    n.restart();
    let c = n.s3_client();
    let parts = c.list_parts().bucket(&b).key("later").upload_id(&id).send().await.unwrap();
    assert_eq!(parts.parts().iter().filter_map(|p| p.e_tag()).collect::<Vec<_>>(), vec![e1.as_str()]);
    let e2 = c.upload_part().bucket(&b).key("later").upload_id(&id).part_number(2).body(ByteStream::from_static(b"!")).send().await.unwrap().e_tag().unwrap().to_string();
    c.complete_multipart_upload().bucket(&b).key("later").upload_id(&id).multipart_upload(completed(&[(1, e1), (2, e2)])).send().await.unwrap();
    n.restart();
    let c = n.s3_client();
    let got = c.get_object().bucket(&b).key("later").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(got.len(), one.len() + 1);
    assert!(got[..one.len()] == one[..] && got[one.len()] == b'!');
}

/// `kill -9` while uploads complete: every acknowledged completion is a whole object after
/// restart, with no upload left for it; nothing half-completed is visible (an object is
/// whole, or its upload is still listed with its part).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completions_survive_sigkill_whole() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = n.s3_client();
    let b = bucket(&c).await;
    let acked: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let (count_tx, mut count_rx) = tokio::sync::watch::channel(0usize);
    let count_tx = Arc::new(count_tx);
    let mut tasks = Vec::new();
    for t in 0..4u8 {
        let (c, b, acked, count_tx) = (c.clone(), b.clone(), acked.clone(), count_tx.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100_000u32 {
                let key = format!("t{t}/k{i}");
                let body = data(50_000 + (i as usize * 7919) % 200_000, t.wrapping_add(i as u8));
                let Ok(up) = c.create_multipart_upload().bucket(&b).key(&key).send().await else { return };
                let id = up.upload_id().unwrap_or_default().to_string();
                let Ok(p) = c.upload_part().bucket(&b).key(&key).upload_id(&id).part_number(1).body(ByteStream::from(body.clone())).send().await else { return };
                let etag = p.e_tag().unwrap_or_default().to_string();
                if c.complete_multipart_upload().bucket(&b).key(&key).upload_id(&id).multipart_upload(completed(&[(1, etag)])).send().await.is_err() {
                    return;
                }
                acked.lock().unwrap().insert(key, body);
                count_tx.send_modify(|n| *n += 1);
            }
        }));
    }
    // Kill once enough completions were acknowledged (waiting on the count, not on time).
    count_rx.wait_for(|n| *n >= 40).await.expect("completions acknowledged");
    n.kill9();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    n.restart();
    let c = n.s3_client();
    let uploads: Vec<String> = c.list_multipart_uploads().bucket(&b).send().await.unwrap().uploads().iter().filter_map(|u| u.key().map(str::to_string)).collect();
    for (key, body) in &acked {
        assert!(!uploads.contains(key), "{key}: completed, but its upload is still listed");
        let got = c.get_object().bucket(&b).key(key).send().await.unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(got.e_tag(), Some(multipart_etag(&[body]).as_str()), "{key}");
        assert!(got.body.collect().await.unwrap().into_bytes().as_ref() == body.as_slice(), "{key}: bytes differ");
    }
    // Every object is whole, acknowledged or not.
    let listed = c.list_objects_v2().bucket(&b).max_keys(1000).send().await.unwrap();
    for o in listed.contents() {
        let key = o.key().unwrap_or_default();
        let got = c.get_object().bucket(&b).key(key).send().await.unwrap();
        let etag = got.e_tag().unwrap_or_default().to_string();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(etag, multipart_etag(&[bytes.as_ref()]), "{key}: torn");
    }
}

/// `AbortIncompleteMultipartUpload`: after a clock advance past `DaysAfterInitiation`, the
/// lifecycle pass aborts the bucket's old uploads under the rule's prefix (and keeps the
/// others). Buckets are passed in name order, so an expiration event of a later bucket
/// (`<base>-b`) arrives after the first bucket's (`<base>-a`) uploads were handled.
#[tokio::test]
async fn lifecycle_aborts_incomplete_uploads() {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, Event, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NotificationConfiguration, QueueConfiguration,
    };
    use aws_sdk_sqs::types::QueueAttributeName;
    use nimbus_tests::sqs;
    let n = Nimbus::start_with_clock_control();
    let c = n.s3_client();
    let base = unique_name("mpulc").to_lowercase().replace('_', "-");
    let (a, b) = (format!("{base}-a"), format!("{base}-b"));
    for name in [&a, &b] {
        c.create_bucket().bucket(name).send().await.unwrap();
    }
    let rule = |expire: bool| {
        let r = LifecycleRule::builder().id("r").status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("tmp/").build());
        let r = if expire { r.expiration(LifecycleExpiration::builder().days(1).build()) } else { r.abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build()) };
        BucketLifecycleConfiguration::builder().rules(r.build().unwrap()).build().unwrap()
    };
    c.put_bucket_lifecycle_configuration().bucket(&a).lifecycle_configuration(rule(false)).send().await.unwrap();
    c.put_bucket_lifecycle_configuration().bucket(&b).lifecycle_configuration(rule(true)).send().await.unwrap();
    let old = c.create_multipart_upload().bucket(&a).key("tmp/old").send().await.unwrap().upload_id().unwrap().to_string();
    c.upload_part().bucket(&a).key("tmp/old").upload_id(&old).part_number(1).body(ByteStream::from_static(b"part")).send().await.unwrap();
    let kept = c.create_multipart_upload().bucket(&a).key("keep/old").send().await.unwrap().upload_id().unwrap().to_string();
    // The marker: an expiration event from bucket b.
    let q = n.sqs_client();
    let url = sqs::create_queue(&q, &unique_name("mpulc"), &[]).await;
    let arn = sqs::queue_attrs(&q, &url).await.remove(&QueueAttributeName::QueueArn).unwrap();
    let qc = QueueConfiguration::builder().queue_arn(&arn).events(Event::S3LifecycleExpiration).build().unwrap();
    c.put_bucket_notification_configuration().bucket(&b).notification_configuration(NotificationConfiguration::builder().queue_configurations(qc).build()).send().await.unwrap();
    let test_event = sqs::receive(&q, &url, 1, 10, None).await;
    assert_eq!(test_event.len(), 1, "s3:TestEvent");
    sqs::delete(&q, &url, &test_event[0]).await;
    c.put_object().bucket(&b).key("tmp/x").body(ByteStream::from_static(b"x")).send().await.unwrap();
    assert_eq!(n.advance_clock(2 * 86_400 + 60), 200);
    let expired = sqs::receive(&q, &url, 1, 20, None).await;
    assert_eq!(expired.len(), 1, "the expiration event of bucket b\n{}", n.log_tail(3000));
    let left: Vec<String> = c.list_multipart_uploads().bucket(&a).send().await.unwrap().uploads().iter().filter_map(|u| u.upload_id().map(str::to_string)).collect();
    assert_eq!(left, vec![kept], "the old upload under tmp/ is aborted, the other kept");
    let err = c.list_parts().bucket(&a).key("tmp/old").upload_id(&old).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
}
