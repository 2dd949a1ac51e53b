//! The `aws-chunked` decoder: every framing split at every byte boundary decodes to the
//! same bytes and trailers; bad sizes, framing, lengths, trailers and signatures fail with
//! S3's errors; the body adapter yields the data frames and one trailers frame.

use super::*;
use crate::sigv4_chunk::tests::example_signer;
use http_body_util::BodyExt;

/// An unsigned body with a trailer, as the SDKs send `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
fn unsigned(chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (k, v) in trailers {
        out.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A signed body from AWS's example seed; with `trailers`, the final chunk is followed by
/// the trailing headers and their signature.
fn signed(chunks: &[Vec<u8>], trailers: Option<&[(&str, &str)]>) -> Vec<u8> {
    let mut signer = example_signer();
    let mut out = Vec::new();
    for c in chunks.iter().map(Vec::as_slice).chain([&b""[..]]) {
        let hash = Sha256::digest(c);
        let sig = signer.chunk_signature(&hash);
        assert!(signer.verify_chunk(&sig, &hash));
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        if !c.is_empty() {
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
    }
    match trailers {
        None => out.extend_from_slice(b"\r\n"),
        Some(t) => {
            let pairs: Vec<(String, String)> = t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let sig = signer.trailer_signature(&pairs);
            for (k, v) in t {
                out.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
            }
            out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n\r\n").as_bytes());
        }
    }
    out
}

/// Decodes `body` fed in the given pieces.
fn decode(pieces: &[&[u8]], signed_format: bool, signer: Option<ChunkSigner>, length: Option<u64>, trailer: Option<&str>) -> Result<(Vec<u8>, HeaderMap), AwsError> {
    let mut decoder = Decoder::new(signed_format, signer, length, trailer.map(str::to_string));
    let mut out = VecDeque::new();
    for p in pieces {
        decoder.push(Bytes::copy_from_slice(p), &mut out)?;
    }
    let trailers = decoder.finish()?;
    Ok((out.into_iter().flat_map(|b| b.to_vec()).collect(), trailers))
}

fn code(r: Result<(Vec<u8>, HeaderMap), AwsError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.code.to_string(),
    }
}

#[test]
fn unsigned_trailer_body_split_at_every_byte_boundary() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let body = unsigned(&[&data[..200], &data[200..]], &[("x-amz-checksum-crc32", "AAAAAA==")]);
    for i in 0..=body.len() {
        for j in i..=body.len() {
            let (out, trailers) = decode(&[&body[..i], &body[i..j], &body[j..]], false, None, Some(300), Some("x-amz-checksum-crc32")).unwrap();
            assert_eq!(out, data, "split at {i}/{j}");
            assert_eq!(trailers.get("x-amz-checksum-crc32").unwrap(), "AAAAAA==");
        }
    }
    // One byte at a time.
    let singles: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode(&singles, false, None, Some(300), Some("x-amz-checksum-crc32")).unwrap().0, data);
}

#[test]
fn signed_body_verifies_every_chunk_split_anywhere() {
    let chunks = vec![vec![b'a'; 65_536], vec![b'a'; 1024]];
    let body = signed(&chunks, None);
    // AWS's documented first chunk signature (sigv4-streaming.html).
    assert!(body.starts_with(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"));
    let boundaries = (0..body.len()).step_by(977).chain(60..200).chain(body.len() - 300..=body.len());
    for i in boundaries {
        let (out, trailers) = decode(&[&body[..i], &body[i..]], true, Some(example_signer()), Some(66_560), None).unwrap();
        assert_eq!(out.len(), 66_560, "split at {i}");
        assert!(trailers.is_empty());
    }
}

#[test]
fn signed_trailer_body_checks_the_trailer_signature() {
    let chunks = vec![vec![b'x'; 9000], vec![b'y'; 10]];
    let trailer = [("x-amz-checksum-crc32c", "sOO8/Q==")];
    let body = signed(&chunks, Some(&trailer));
    for i in (0..body.len()).step_by(13).chain(body.len() - 200..=body.len()) {
        let (out, trailers) = decode(&[&body[..i], &body[i..]], true, Some(example_signer()), Some(9010), Some("x-amz-checksum-crc32c")).unwrap();
        assert_eq!(out.len(), 9010);
        assert_eq!(trailers.get("x-amz-checksum-crc32c").unwrap(), "sOO8/Q==");
        assert!(trailers.get("x-amz-trailer-signature").is_none());
    }
    // A tampered trailer value breaks the trailer signature.
    let tampered = String::from_utf8_lossy(&body).replace("sOO8/Q==", "sOO8/R==").into_bytes();
    assert_eq!(code(decode(&[&tampered], true, Some(example_signer()), Some(9010), Some("x-amz-checksum-crc32c"))), "SignatureDoesNotMatch");
    // Under --auth open the signatures are framing only.
    assert_eq!(code(decode(&[&tampered], true, None, Some(9010), Some("x-amz-checksum-crc32c"))), "ok");
}

#[test]
fn bad_signatures_are_refused() {
    let chunks = vec![vec![b'a'; 65_536], vec![b'a'; 1024]];
    let mut body = signed(&chunks, None);
    let mut data_tampered = body.clone();
    data_tampered[200] = b'b';
    assert_eq!(code(decode(&[&data_tampered], true, Some(example_signer()), Some(66_560), None)), "SignatureDoesNotMatch");
    // Another seed (another request's signature) fails the first chunk.
    let other = ChunkSigner::new([7u8; 32], "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", &"0".repeat(64));
    assert_eq!(code(decode(&[&body], true, Some(other), Some(66_560), None)), "SignatureDoesNotMatch");
    // A signed chunk without its signature.
    let unsigned_body = unsigned(&[&[b'a'; 10]], &[]);
    assert_eq!(code(decode(&[&unsigned_body], true, Some(example_signer()), Some(10), None)), "SignatureDoesNotMatch");
    // The final chunk's signature tampered with.
    let n = body.len();
    body[n - 5] = if body[n - 5] == b'0' { b'1' } else { b'0' };
    assert_eq!(code(decode(&[&body], true, Some(example_signer()), Some(66_560), None)), "SignatureDoesNotMatch");
}

#[test]
fn bad_chunk_sizes_and_framing() {
    // Not hex, empty, too long.
    for body in [&b"zz\r\nab\r\n0\r\n\r\n"[..], b"\r\n0\r\n\r\n", b"10000000000000000\r\n"] {
        assert_eq!(code(decode(&[body], false, None, None, None)), "IncompleteBody", "{body:?}");
    }
    // Data not followed by CRLF.
    assert_eq!(code(decode(&[b"2\r\nabc\r\n0\r\n\r\n"], false, None, None, None)), "IncompleteBody");
    // Ends inside a chunk, or before the final chunk.
    assert_eq!(code(decode(&[b"5\r\nab"], false, None, None, None)), "IncompleteBody");
    assert_eq!(code(decode(&[b"2\r\nab\r\n"], false, None, None, None)), "IncompleteBody");
    // A signed chunk under 8 KiB that is not the last.
    let e = decode(&[&signed(&[vec![b'a'; 1000], vec![b'a'; 1000]], None)], true, Some(example_signer()), Some(2000), None).unwrap_err();
    assert_eq!((e.code.as_ref(), e.status, e.members["Chunk"].as_u64(), e.members["BadChunkSize"].as_u64()), ("InvalidChunkSizeError", 403, Some(1), Some(1000)));
    // A header line without end.
    assert_eq!(code(decode(&[&vec![b'1'; 5000]], false, None, None, None)), "IncompleteBody");
}

#[test]
fn decoded_length_and_trailers_must_match_the_headers() {
    let body = unsigned(&[b"hello"], &[("x-amz-checksum-crc32", "NhCmhg==")]);
    assert_eq!(code(decode(&[&body], false, None, Some(5), Some("x-amz-checksum-crc32"))), "ok");
    assert_eq!(code(decode(&[&body], false, None, Some(6), Some("x-amz-checksum-crc32"))), "IncompleteBody");
    assert_eq!(code(decode(&[&body], false, None, Some(4), Some("x-amz-checksum-crc32"))), "IncompleteBody");
    // x-amz-trailer names a header the trailer does not carry.
    assert_eq!(code(decode(&[&body], false, None, Some(5), Some("x-amz-checksum-sha256"))), "MalformedTrailerError");
    assert_eq!(code(decode(&[b"5\r\nhello\r\n0\r\nno colon\r\n\r\n"], false, None, Some(5), None)), "MalformedTrailerError");
    // No trailer at all when one was announced.
    assert_eq!(code(decode(&[b"5\r\nhello\r\n0\r\n\r\n"], false, None, Some(5), Some("x-amz-checksum-crc32"))), "MalformedTrailerError");
}

/// A body delivering the given frames.
struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn frames(body: &[u8], size: usize) -> Frames {
    Frames(body.chunks(size).map(|c| Frame::data(Bytes::copy_from_slice(c))).collect())
}

#[tokio::test]
async fn the_service_reads_decoded_data_then_a_trailers_frame() {
    let data = vec![b'q'; 100_000];
    let body = unsigned(&[&data[..65_536], &data[65_536..]], &[("x-amz-checksum-crc32", "AAAAAA==")]);
    let encoding = Encoding::Chunked { signed: false, trailer: Some("x-amz-checksum-crc32".into()), decoded_length: Some(100_000) };
    let watch = BodyWatch::new();
    let decoded = DecodedBody::new(frames(&body, 1000), &encoding, None, watch.clone());
    let collected = decoded.collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap().get("x-amz-checksum-crc32").unwrap(), "AAAAAA==");
    assert_eq!(collected.to_bytes().len(), 100_000);
    assert!(watch.finished());
    assert!(watch.error().is_none());
}

#[tokio::test]
async fn a_decoding_error_reaches_the_reader_and_the_watch() {
    let encoding = Encoding::Chunked { signed: false, trailer: None, decoded_length: Some(10) };
    let watch = BodyWatch::new();
    let decoded = DecodedBody::new(frames(b"5\r\nhello\r\n0\r\n\r\n", 3), &encoding, None, watch.clone());
    let err = decoded.collect().await.unwrap_err();
    assert_eq!(aws_error_of(&err).unwrap().code, "IncompleteBody");
    assert_eq!(watch.error().unwrap().code, "IncompleteBody");
}

#[tokio::test]
async fn a_plain_body_is_checked_against_x_amz_content_sha256() {
    let good = Encoding::PlainHashed(hex(&Sha256::digest(b"hello")));
    let body = DecodedBody::new(frames(b"hello", 2), &good, None, BodyWatch::new());
    assert_eq!(body.collect().await.unwrap().to_bytes(), "hello");
    let bad = Encoding::PlainHashed("0".repeat(64));
    let watch = BodyWatch::new();
    let err = DecodedBody::new(frames(b"hello", 2), &bad, None, watch.clone()).collect().await.unwrap_err();
    let e = aws_error_of(&err).unwrap();
    assert_eq!((e.code.as_ref(), e.status), ("XAmzContentSHA256Mismatch", 400));
    assert_eq!(e.members["S3ComputedContentSHA256"], hex(&Sha256::digest(b"hello")));
    assert!(watch.finished(), "read to its end");
}

#[test]
fn encodings_from_headers() {
    let mut h = HeaderMap::new();
    assert_eq!(Encoding::of(&h), Encoding::Plain);
    h.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    assert_eq!(Encoding::of(&h), Encoding::Plain);
    h.insert("x-amz-content-sha256", HeaderValue::from_static("STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    h.insert("x-amz-trailer", HeaderValue::from_static("x-amz-checksum-CRC32"));
    h.insert("x-amz-decoded-content-length", HeaderValue::from_static("12"));
    assert_eq!(Encoding::of(&h), Encoding::Chunked { signed: false, trailer: Some("x-amz-checksum-crc32".into()), decoded_length: Some(12) });
    h.insert("x-amz-content-sha256", HeaderValue::from_static("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
    assert!(matches!(Encoding::of(&h), Encoding::Chunked { signed: true, .. }));
    let mut h = HeaderMap::new();
    h.insert("content-encoding", HeaderValue::from_static("gzip, aws-chunked"));
    assert!(Encoding::of(&h).is_chunked());
}
