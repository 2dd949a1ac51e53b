//! aws-sdk-s3's own `aws-chunked` uploads: a body from a file (a streaming body) goes as
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with its checksum (CRC32 by default, or the one
//! asked for) in a trailer; nimbus stores the decoded bytes and the trailer's checksum, in
//! `--auth open` and under `--auth sigv4` (the seed signature over the streaming literal).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use nimbus_tests::{unique_name, Nimbus, StartOptions, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect()
}

async fn put_file_and_read_back(n: &Nimbus, algorithm: Option<ChecksumAlgorithm>, len: usize) {
    let c = n.s3_client();
    let bucket = unique_name("chunked").to_lowercase();
    c.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    let body = data(len);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.bin");
    std::fs::write(&path, &body).unwrap();
    let mut put = c.put_object().bucket(&bucket).key("from-file").body(ByteStream::from_path(&path).await.unwrap());
    if let Some(a) = algorithm.clone() {
        put = put.checksum_algorithm(a);
    }
    let out = put.send().await.expect("aws-chunked PutObject");
    let got = c.get_object().bucket(&bucket).key("from-file").checksum_mode(ChecksumMode::Enabled).send().await.expect("GetObject");
    assert_eq!(got.content_length(), Some(len as i64));
    assert_eq!(got.content_encoding(), None, "aws-chunked is not the object's content coding");
    let (crc32, sha256) = (got.checksum_crc32().map(str::to_string), got.checksum_sha256().map(str::to_string));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(bytes.as_ref() == body.as_slice(), "decoded bytes stored");
    match algorithm {
        Some(ChecksumAlgorithm::Sha256) => {
            use base64::Engine;
            use sha2::Digest;
            let want = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
            assert_eq!(sha256.as_deref(), Some(want.as_str()));
            assert_eq!(out.checksum_sha256(), Some(want.as_str()));
        }
        _ => {
            assert!(crc32.is_some(), "the trailer's CRC32 was stored");
            assert_eq!(out.checksum_crc32(), crc32.as_deref());
        }
    }
}

#[tokio::test]
async fn sdk_streaming_upload_with_default_crc32_trailer() {
    let n = Nimbus::start_in_memory();
    put_file_and_read_back(&n, None, 3 * 1024 * 1024 + 17).await;
}

#[tokio::test]
async fn sdk_streaming_upload_with_sha256_trailer_and_empty_body() {
    let n = Nimbus::start_in_memory();
    put_file_and_read_back(&n, Some(ChecksumAlgorithm::Sha256), 200_000).await;
    put_file_and_read_back(&n, None, 0).await;
}

#[tokio::test]
async fn sdk_streaming_upload_under_sigv4() {
    let n = Nimbus::start_with(StartOptions {
        in_memory: true,
        extra_args: vec!["--auth".into(), "sigv4".into()],
        env: vec![
            ("NIMBUS_ROOT_ACCESS_KEY_ID".into(), DEFAULT_ACCESS_KEY.into()),
            ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), DEFAULT_SECRET_KEY.into()),
        ],
    });
    put_file_and_read_back(&n, None, 1024 * 1024).await;
}
