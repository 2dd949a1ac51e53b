//! S3 buckets and objects with aws-sdk-s3 (its default request checksums on): buckets and
//! their errors, objects streamed both ways with the SDK's checksums validated on the way
//! back, ranges and conditional reads, versioning with delete markers, CopyObject,
//! DeleteObjects, paginated listings, tagging, bucket configurations. Issue 16.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier, Tag, Tagging, VersioningConfiguration};
use md5::{Digest, Md5};
use nimbus_tests::{unique_name, Nimbus};

fn md5_etag(data: &[u8]) -> String {
    format!("\"{}\"", Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn bucket(c: &aws_sdk_s3::Client) -> String {
    let b = unique_name("s3").to_lowercase();
    c.create_bucket().bucket(&b).send().await.expect("create bucket");
    b
}

fn code<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> (String, u16) {
    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    (e.as_service_error().and_then(|s| s.code()).unwrap_or("").to_string(), status)
}

#[tokio::test]
async fn buckets_are_created_listed_located_and_deleted() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let head = c.head_bucket().bucket(&b).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let listed = c.list_buckets().send().await.expect("list");
    assert!(listed.buckets().iter().any(|x| x.name() == Some(b.as_str())));
    // us-east-1 is the empty constraint.
    let location = c.get_bucket_location().bucket(&b).send().await.expect("location");
    assert_eq!(location.location_constraint().map(|l| l.as_str()).unwrap_or(""), "");
    let bad = c.create_bucket().bucket("Not_Valid").send().await.expect_err("invalid name");
    assert_eq!(code(&bad), ("InvalidBucketName".into(), 400));
    c.put_object().bucket(&b).key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let full = c.delete_bucket().bucket(&b).send().await.expect_err("not empty");
    assert_eq!(code(&full), ("BucketNotEmpty".into(), 409));
    c.delete_object().bucket(&b).key("k").send().await.expect("delete object");
    c.delete_bucket().bucket(&b).send().await.expect("delete bucket");
    let gone = c.head_bucket().bucket(&b).send().await.expect_err("gone");
    assert_eq!(gone.raw_response().map(|r| r.status().as_u16()), Some(404));
}

#[tokio::test]
async fn objects_round_trip_with_the_sdks_checksums() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let put = c
        .put_object()
        .bucket(&b)
        .key("dir/big.bin")
        .content_type("application/x-test")
        .metadata("origin", "rust")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .expect("put");
    assert_eq!(put.e_tag(), Some(md5_etag(&data).as_str()));
    // The SDK checks the checksum it gets back with checksum mode on.
    let got = c.get_object().bucket(&b).key("dir/big.bin").checksum_mode(ChecksumMode::Enabled).send().await.expect("get");
    assert_eq!(got.content_length(), Some(data.len() as i64));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.metadata().and_then(|m| m.get("origin")).map(String::as_str), Some("rust"));
    assert!(got.checksum_crc32().is_some() || got.checksum_crc64_nvme().is_some(), "a checksum comes back");
    let body = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(body.as_ref(), data.as_slice());

    for algorithm in [ChecksumAlgorithm::Crc32C, ChecksumAlgorithm::Crc64Nvme, ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Sha1] {
        let key = format!("sum-{}", algorithm.as_str());
        c.put_object().bucket(&b).key(&key).checksum_algorithm(algorithm.clone()).body(ByteStream::from_static(b"checked")).send().await.expect("put with checksum");
        let got = c.get_object().bucket(&b).key(&key).checksum_mode(ChecksumMode::Enabled).send().await.expect("get");
        let body = got.body.collect().await.expect("validated body").into_bytes();
        assert_eq!(body.as_ref(), b"checked");
    }

    let head = c.head_object().bucket(&b).key("dir/big.bin").send().await.expect("head");
    assert_eq!(head.content_length(), Some(data.len() as i64));
    let missing = c.get_object().bucket(&b).key("nope").send().await.expect_err("missing");
    assert_eq!(code(&missing), ("NoSuchKey".into(), 404));
}

#[tokio::test]
async fn ranges_and_conditions() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let data: Vec<u8> = (0..=255u8).collect();
    let etag = c.put_object().bucket(&b).key("r").body(ByteStream::from(data.clone())).send().await.expect("put").e_tag().unwrap_or_default().to_string();
    let part = c.get_object().bucket(&b).key("r").range("bytes=10-19").send().await.expect("range");
    assert_eq!(part.content_range(), Some("bytes 10-19/256"));
    assert_eq!(part.body.collect().await.expect("body").into_bytes().as_ref(), &data[10..20]);
    let tail = c.get_object().bucket(&b).key("r").range("bytes=-6").send().await.expect("suffix");
    assert_eq!(tail.body.collect().await.expect("body").into_bytes().as_ref(), &data[250..]);
    let past = c.get_object().bucket(&b).key("r").range("bytes=256-").send().await.expect_err("past the end");
    assert_eq!(code(&past), ("InvalidRange".into(), 416));
    let failed = c.get_object().bucket(&b).key("r").if_match("\"other\"").send().await.expect_err("if-match");
    assert_eq!(code(&failed), ("PreconditionFailed".into(), 412));
    let not_modified = c.get_object().bucket(&b).key("r").if_none_match(&etag).send().await.expect_err("304");
    assert_eq!(not_modified.raw_response().map(|r| r.status().as_u16()), Some(304));
    c.get_object().bucket(&b).key("r").if_match(&etag).send().await.expect("if-match holds");
    let taken = c.put_object().bucket(&b).key("r").if_none_match("*").body(ByteStream::from_static(b"no")).send().await.expect_err("exists");
    assert_eq!(code(&taken), ("PreconditionFailed".into(), 412));
}

#[tokio::test]
async fn versions_delete_markers_copies_and_batch_deletes() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .expect("enable versioning");
    let v1 = c.put_object().bucket(&b).key("k").body(ByteStream::from_static(b"one")).send().await.expect("v1").version_id().unwrap_or_default().to_string();
    c.put_object().bucket(&b).key("k").body(ByteStream::from_static(b"two")).send().await.expect("v2");
    let marker = c.delete_object().bucket(&b).key("k").send().await.expect("delete");
    assert_eq!(marker.delete_marker(), Some(true));
    let gone = c.get_object().bucket(&b).key("k").send().await.expect_err("marker");
    assert_eq!(code(&gone), ("NoSuchKey".into(), 404));
    let old = c.get_object().bucket(&b).key("k").version_id(&v1).send().await.expect("old version");
    assert_eq!(old.body.collect().await.expect("body").into_bytes().as_ref(), b"one");
    let versions = c.list_object_versions().bucket(&b).send().await.expect("versions");
    assert_eq!(versions.versions().len(), 2);
    assert_eq!(versions.delete_markers().len(), 1);
    assert_eq!(versions.delete_markers()[0].is_latest(), Some(true));

    let copy = c.copy_object().bucket(&b).key("copy").copy_source(format!("{b}/k?versionId={v1}")).send().await.expect("copy a version");
    assert_eq!(copy.copy_source_version_id(), Some(v1.as_str()));
    assert_eq!(copy.copy_object_result().and_then(|r| r.e_tag()), Some(md5_etag(b"one").as_str()));
    let to_self = c.copy_object().bucket(&b).key("copy").copy_source(format!("{b}/copy")).send().await.expect_err("copy onto itself");
    assert_eq!(code(&to_self), ("InvalidRequest".into(), 400));

    let objects: Vec<ObjectIdentifier> = ["copy", "absent"].iter().map(|k| ObjectIdentifier::builder().key(*k).build().expect("id")).collect();
    let deleted = c.delete_objects().bucket(&b).delete(Delete::builder().set_objects(Some(objects)).build().expect("delete")).send().await.expect("delete objects");
    assert_eq!(deleted.deleted().len(), 2);
    assert!(deleted.errors().is_empty());
}

#[tokio::test]
async fn listings_page_in_utf8_order() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let mut keys: Vec<String> = (0..25).map(|i| format!("p/{i:02}")).collect();
    keys.extend(["z".to_string(), "é".to_string(), "A".to_string(), "q/x/y".to_string()]);
    for k in &keys {
        c.put_object().bucket(&b).key(k).body(ByteStream::from(k.as_bytes().to_vec())).send().await.expect("put");
    }
    let mut listed = Vec::new();
    let mut pages = c.list_objects_v2().bucket(&b).max_keys(7).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("page");
        assert!(page.key_count().unwrap_or(0) <= 7);
        listed.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
    }
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(listed, keys);
    let top = c.list_objects_v2().bucket(&b).delimiter("/").send().await.expect("delimited");
    let prefixes: Vec<&str> = top.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, vec!["p/", "q/"]);
    let plain: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(plain, vec!["A", "z", "é"]);
}

#[tokio::test]
async fn tagging_and_bucket_configurations() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    c.put_object().bucket(&b).key("t").tagging("a=1&b=2").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let tags = c.get_object_tagging().bucket(&b).key("t").send().await.expect("tags");
    assert_eq!(tags.tag_set().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), vec![("a", "1"), ("b", "2")]);
    let eleven: Vec<Tag> = (0..11).map(|i| Tag::builder().key(format!("k{i}")).value("v").build().expect("tag")).collect();
    let too_many = c.put_object_tagging().bucket(&b).key("t").tagging(Tagging::builder().set_tag_set(Some(eleven)).build().expect("tagging")).send().await.expect_err("11 tags");
    assert_eq!(code(&too_many).1, 400);
    let none = c.get_bucket_tagging().bucket(&b).send().await.expect_err("no tag set");
    assert_eq!(code(&none), ("NoSuchTagSet".into(), 404));
    let no_policy = c.get_bucket_policy().bucket(&b).send().await.expect_err("no policy");
    assert_eq!(code(&no_policy), ("NoSuchBucketPolicy".into(), 404));
    let policy = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#);
    c.put_bucket_policy().bucket(&b).policy(&policy).send().await.expect("put policy");
    assert_eq!(c.get_bucket_policy().bucket(&b).send().await.expect("get policy").policy(), Some(policy.as_str()));
    let enc = c.get_bucket_encryption().bucket(&b).send().await.expect("encryption");
    assert!(enc.server_side_encryption_configuration().is_some());
}

/// Reads racing overwrites of the same key: every read answers one whole body (the one
/// its ETag names), never a missing file or a mix — a replaced object's file stays until
/// its readers are done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_racing_overwrites_get_whole_bodies() {
    let n = Nimbus::start();
    let c = n.s3_client();
    let b = bucket(&c).await;
    let body = |i: u8| vec![i; 512 * 1024];
    c.put_object().bucket(&b).key("hot").body(ByteStream::from(body(0))).send().await.expect("first put");
    let writer = {
        let (c, b) = (c.clone(), b.clone());
        tokio::spawn(async move {
            for i in 1..=40u8 {
                c.put_object().bucket(&b).key("hot").body(ByteStream::from(body(i))).send().await.expect("overwrite");
            }
        })
    };
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (c, b) = (c.clone(), b.clone());
        readers.push(tokio::spawn(async move {
            for _ in 0..30 {
                let got = c.get_object().bucket(&b).key("hot").send().await.expect("read during overwrites");
                let etag = got.e_tag().unwrap_or_default().to_string();
                let data = got.body.collect().await.expect("whole body").into_bytes();
                assert_eq!(data.len(), 512 * 1024);
                assert!(data.iter().all(|x| *x == data[0]), "a mixed body");
                assert_eq!(md5_etag(&data), etag);
            }
        }));
    }
    writer.await.expect("writer");
    for r in readers {
        r.await.expect("reader");
    }
}

/// Everything S3 keeps is there after a restart (`--fsync`): versions and delete markers,
/// bucket configurations, tags; blob files no version names (a crash between a file's
/// rename and its commit) are swept at start, and a torn temp file is removed.
#[tokio::test]
async fn state_survives_a_restart_and_orphans_are_swept() {
    let mut n = Nimbus::start_with(nimbus_tests::StartOptions { extra_args: vec!["--fsync".into()], ..Default::default() });
    let c = n.s3_client();
    let b = bucket(&c).await;
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .expect("versioning");
    let v1 = c.put_object().bucket(&b).key("k").tagging("t=1").body(ByteStream::from_static(b"one")).send().await.expect("v1").version_id().unwrap_or_default().to_string();
    c.delete_object().bucket(&b).key("k").send().await.expect("marker");
    let tags = Tagging::builder().tag_set(Tag::builder().key("team").value("s3").build().expect("tag")).build().expect("tagging");
    c.put_bucket_tagging().bucket(&b).tagging(tags).send().await.expect("bucket tags");
    let data = n.data_dir().expect("on disk");
    std::fs::write(data.join("s3").join("0123456789abcdef0123456789abcdef"), b"orphan").expect("orphan file");
    std::fs::write(data.join("s3").join("tmp").join("torn"), b"half").expect("torn temp file");

    n.restart();
    let c = n.s3_client();
    assert_eq!(c.get_bucket_versioning().bucket(&b).send().await.expect("versioning").status(), Some(&BucketVersioningStatus::Enabled));
    let gone = c.get_object().bucket(&b).key("k").send().await.expect_err("still deleted");
    assert_eq!(code(&gone), ("NoSuchKey".into(), 404));
    let old = c.get_object().bucket(&b).key("k").version_id(&v1).send().await.expect("old version");
    assert_eq!(old.body.collect().await.expect("body").into_bytes().as_ref(), b"one");
    let t = c.get_object_tagging().bucket(&b).key("k").version_id(&v1).send().await.expect("tags");
    assert_eq!(t.tag_set().len(), 1);
    assert_eq!(c.get_bucket_tagging().bucket(&b).send().await.expect("bucket tags").tag_set().len(), 1);
    assert!(!data.join("s3").join("0123456789abcdef0123456789abcdef").exists(), "the orphan was swept");
    assert!(!data.join("s3").join("tmp").join("torn").exists(), "the temp file was removed");
}
