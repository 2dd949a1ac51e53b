//! The router's S3 request bodies end to end, over a real connection, against a service
//! that echoes what it read: `aws-chunked` bodies reach the service decoded, their
//! trailing checksum as a trailers frame, `ContentLength` from
//! `x-amz-decoded-content-length` and `aws-chunked` gone from `ContentEncoding`; decoding
//! errors answer S3's errors (whatever the service made of the failed read) and close the
//! connection when the body was left unread.

use crate::service::model;
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use nimbus_core::model::ServiceModel;
use nimbus_core::server::{serve, Router};
use nimbus_core::service::{BodyStream, BoxFuture, Streamed};
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// PutObject: reads the body, answers its MD5 as the ETag, the trailer's CRC32 and the
/// input members it got. A failed read answers `InternalError` (the router must replace
/// it with the decoder's error). Another operation answers 404 without reading.
struct Echo;

impl AwsService for Echo {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, _ctx: &'a RequestContext, _op: &'a str, _input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async { Err(AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist")) })
    }

    fn call_streaming<'a>(&'a self, _ctx: &'a RequestContext, op: &'a str, input: Value, body: Option<BodyStream>) -> BoxFuture<'a, Result<Streamed, AwsError>> {
        Box::pin(async move {
            let (Some(mut body), "PutObject") = (body, op) else {
                return Err(AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist"));
            };
            if input["Bucket"] == "missing" {
                return Err(AwsError::new("NoSuchBucket", 404, "The specified bucket does not exist"));
            }
            let mut md5 = Md5::new();
            let mut crc = None;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| AwsError::new("InternalError", 500, e.to_string()))?;
                match frame.into_data() {
                    Ok(d) => md5.update(&d),
                    Err(f) => crc = f.into_trailers().ok().and_then(|t| t.get("x-amz-checksum-crc32").and_then(|v| v.to_str().ok()).map(str::to_string)),
                }
            }
            let etag: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
            let mut out = json!({ "ETag": format!("\"{etag}\""), "VersionId": format!("len={} enc={}", input["ContentLength"], input.get("ContentEncoding").and_then(|v| v.as_str()).unwrap_or("-")) });
            if let Some(c) = crc {
                out["ChecksumCRC32"] = c.into();
            }
            Ok(Streamed::value(out))
        })
    }
}

async fn server() -> String {
    let mut router = Router::new(Clock::new(), false);
    router.register(Arc::new(Echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _keep = _tx;
        let _ = serve(listener, Arc::new(router), rx).await;
    });
    addr.to_string()
}

/// Sends one request (`head` lines, then `body`) on a new connection; the answer's
/// status line and headers (lower-case) and body. `close_write`: the client stops sending
/// after the body (so a server waiting for more sees the end).
async fn exchange(addr: &str, head: &str, body: &[u8]) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (headers, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (headers.to_ascii_lowercase(), rest.to_string())
}

fn chunked(chunks: &[&[u8]], trailers: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    out.extend_from_slice(trailers.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

fn put_head(path: &str, len: usize, extra: &str) -> String {
    format!("PUT {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {len}\r\n{extra}\r\n")
}

#[tokio::test]
async fn unsigned_trailer_body_reaches_the_service_decoded_with_its_trailer() {
    let addr = server().await;
    let body = chunked(&[b"hello ", b"world"], "x-amz-checksum-crc32:DUoRhQ==\r\n");
    let extra = "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\ncontent-encoding: gzip,aws-chunked\r\nx-amz-decoded-content-length: 11\r\nx-amz-trailer: x-amz-checksum-crc32\r\n";
    let (head, _) = exchange(&addr, &put_head("/b/k", body.len(), extra), &body).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let etag: String = Md5::digest(b"hello world").iter().map(|b| format!("{b:02x}")).collect();
    assert!(head.contains(&format!("etag: \"{etag}\"")), "{head}");
    assert!(head.contains("x-amz-checksum-crc32: duorhq=="), "{head}");
    assert!(head.contains("x-amz-version-id: len=11 enc=gzip"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
}

#[tokio::test]
async fn decoding_errors_answer_s3_errors() {
    let addr = server().await;
    let extra = |len: usize| format!("x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\ncontent-encoding: aws-chunked\r\nx-amz-decoded-content-length: {len}\r\n");
    // Shorter than declared.
    let body = chunked(&[b"abc"], "");
    let (head, doc) = exchange(&addr, &put_head("/b/k", body.len(), &extra(5)), &body).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(doc.contains("<Code>IncompleteBody</Code>"), "{doc}");
    // Bad chunk framing.
    let body = b"zz\r\nabc\r\n0\r\n\r\n";
    let (head, doc) = exchange(&addr, &put_head("/b/k", body.len(), &extra(3)), body).await;
    assert!(head.starts_with("http/1.1 400") && doc.contains("<Code>IncompleteBody</Code>"), "{head}{doc}");
    // No decoded length.
    let body = chunked(&[b"abc"], "");
    let (head, doc) = exchange(&addr, &put_head("/b/k", body.len(), "content-encoding: aws-chunked\r\n"), &body).await;
    assert!(head.starts_with("http/1.1 411") && doc.contains("<Code>MissingContentLength</Code>"), "{head}{doc}");
    assert!(head.contains("connection: close"), "the body was left unread: {head}");
    // A plain body that is not what x-amz-content-sha256 says.
    let sha = "0".repeat(64);
    let (head, doc) = exchange(&addr, &put_head("/b/k", 5, &format!("x-amz-content-sha256: {sha}\r\n")), b"hello").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(doc.contains("<Code>XAmzContentSHA256Mismatch</Code>") && doc.contains("<ClientComputedContentSHA256>"), "{doc}");
}

#[tokio::test]
async fn an_error_before_the_body_is_read_closes_the_connection() {
    let addr = server().await;
    let body = vec![b'x'; 100_000];
    let (head, doc) = exchange(&addr, &put_head("/missing/k", body.len(), ""), &body).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert!(doc.contains("<Code>NoSuchBucket</Code>"));
    assert!(head.contains("connection: close"), "{head}");
    // A request whose body was read keeps the connection open.
    let (head, _) = exchange(&addr, &put_head("/b/k", 5, ""), b"hello").await;
    assert!(head.starts_with("http/1.1 200") && !head.contains("connection: close"), "{head}");
}
