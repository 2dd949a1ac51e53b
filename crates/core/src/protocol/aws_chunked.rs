//! S3's `aws-chunked` request bodies, decoded as they stream: the SDKs' uploads with
//! `Content-Encoding: aws-chunked` and an `x-amz-content-sha256` of
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (chunks `<hex size>\r\n<data>\r\n`, trailing
//! checksum headers after the final empty chunk), `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
//! (`<hex size>;chunk-signature=<sig>\r\n…`, each signature chained from the seed) and
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (signed chunks, then the trailing headers
//! with `x-amz-trailer-signature`). Also the check of a plain streamed body against a hex
//! `x-amz-content-sha256`.
//!
//! [`Decoder`] is the sans-I/O state machine (bytes in, decoded data slices out, never the
//! whole body); [`DecodedBody`] runs it over a request body and yields the decoded bytes
//! as data frames and the trailing headers as one trailers frame at the end, which is the
//! body the service reads. Errors are S3's (`IncompleteBody`, `InvalidChunkSizeError`,
//! `SignatureDoesNotMatch`, `MalformedTrailerError`, `XAmzContentSHA256Mismatch`), carried
//! inside the `io::Error` ([`aws_error_of`]) and reported to the router ([`BodyWatch`]).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>

use crate::error::AwsError;
use crate::sigv4_chunk::ChunkSigner;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use hyper::body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/// Smallest signed chunk but the last (sigv4-streaming.html: "at least 8 KB").
const MIN_SIGNED_CHUNK: u64 = 8192;
/// Longest chunk header line (`<size>;chunk-signature=<64 hex>`) and trailer section.
const MAX_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// How a request's body is encoded, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    /// As sent.
    Plain,
    /// As sent, and its SHA-256 must be this (lower-case hex `x-amz-content-sha256`).
    PlainHashed(String),
    /// `aws-chunked`: `signed` when the chunks carry signatures, `trailer` names the
    /// trailing header announced by `x-amz-trailer`, `decoded_length` is
    /// `x-amz-decoded-content-length`.
    Chunked { signed: bool, trailer: Option<String>, decoded_length: Option<u64> },
}

impl Encoding {
    pub fn of(headers: &HeaderMap) -> Encoding {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let sha = get("x-amz-content-sha256").unwrap_or("");
        let chunked_coding = headers
            .get_all(http::header::CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|c| c.trim().eq_ignore_ascii_case("aws-chunked"));
        let signed = sha == STREAMING_SIGNED || sha == STREAMING_SIGNED_TRAILER;
        if signed || sha == STREAMING_UNSIGNED_TRAILER || chunked_coding {
            return Encoding::Chunked {
                signed,
                trailer: get("x-amz-trailer").filter(|t| !t.is_empty()).map(str::to_ascii_lowercase),
                decoded_length: get("x-amz-decoded-content-length").and_then(|v| v.parse().ok()),
            };
        }
        if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Encoding::PlainHashed(sha.to_ascii_lowercase());
        }
        Encoding::Plain
    }

    pub fn is_chunked(&self) -> bool {
        matches!(self, Encoding::Chunked { .. })
    }
}

// ---------------------------------------------------------------------------------------
// Errors

/// `IncompleteBody`: the body ended early, or its framing is not `aws-chunked`'s.
pub fn incomplete_body() -> AwsError {
    AwsError::new("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
}

fn chunk_too_small(chunk: u64, size: u64) -> AwsError {
    AwsError::new("InvalidChunkSizeError", 403, "Only the last chunk is allowed to have a size less than 8192 bytes")
        .with_member("Chunk", chunk)
        .with_member("BadChunkSize", size)
}

fn signature_mismatch() -> AwsError {
    AwsError::new(
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

fn malformed_trailer() -> AwsError {
    AwsError::new("MalformedTrailerError", 400, "The request contained trailing data that was not well-formed or did not conform to our published schema.")
}

/// `XAmzContentSHA256Mismatch` with both hashes.
pub fn sha256_mismatch(client: &str, computed: &str) -> AwsError {
    AwsError::new("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.")
        .with_member("ClientComputedContentSHA256", client)
        .with_member("S3ComputedContentSHA256", computed)
}

/// An `aws-chunked` body without `x-amz-decoded-content-length`.
pub fn missing_decoded_length() -> AwsError {
    AwsError::new("MissingContentLength", 411, "You must provide the Content-Length HTTP header.")
}

/// The S3 error a decoded body's read failed with, inside the `io::Error` the service sees.
#[derive(Debug, Clone)]
pub struct BodyError(pub AwsError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl std::error::Error for BodyError {}

/// The S3 error behind a body read's `io::Error`, when the decoder raised it.
pub fn aws_error_of(e: &std::io::Error) -> Option<AwsError> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<BodyError>()).map(|b| b.0.clone())
}

// ---------------------------------------------------------------------------------------
// The decoder

#[derive(Debug)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Inside a chunk's data: bytes still to come.
    Data { remaining: u64 },
    /// After a chunk's data: how many of its `\r\n` have been seen.
    DataEnd { seen: u8 },
    /// After the final (empty) chunk's header: trailer lines up to an empty one.
    Trailers,
    Done,
}

/// The `aws-chunked` state machine: [`Decoder::push`] takes bytes as they arrive and
/// appends the decoded data (slices of the input, no copies); [`Decoder::finish`] at the
/// end of the body returns the trailing headers.
pub struct Decoder {
    state: State,
    /// The chunks carry `chunk-signature`s (whether or not they are checked).
    signed: bool,
    /// The current header or trailer line, up to its `\r\n`.
    line: Vec<u8>,
    signer: Option<ChunkSigner>,
    /// The current chunk's signature and the hash of its data so far.
    chunk_signature: Option<String>,
    chunk_hash: Sha256,
    chunk_size: u64,
    chunks: u64,
    decoded: u64,
    expected_length: Option<u64>,
    trailer_expected: Option<String>,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
    trailer_bytes: usize,
    /// An empty line right after the final chunk's header, before any trailer.
    separator_seen: bool,
}

impl Decoder {
    /// `signed`: the payload is a signed one (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD…`);
    /// `signer`: its chunk signatures are checked (under `--auth sigv4`/`iam`);
    /// `expected_length`: `x-amz-decoded-content-length`; `trailer`: `x-amz-trailer`.
    pub fn new(signed: bool, signer: Option<ChunkSigner>, expected_length: Option<u64>, trailer: Option<String>) -> Decoder {
        Decoder {
            state: State::Header,
            signed: signed || signer.is_some(),
            line: Vec::new(),
            signer,
            chunk_signature: None,
            chunk_hash: Sha256::new(),
            chunk_size: 0,
            chunks: 0,
            decoded: 0,
            expected_length,
            trailer_expected: trailer,
            trailers: Vec::new(),
            trailer_signature: None,
            trailer_bytes: 0,
            separator_seen: false,
        }
    }

    /// Decoded bytes so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Feeds the next bytes of the body; decoded data goes to `out`.
    pub fn push(&mut self, mut input: Bytes, out: &mut VecDeque<Bytes>) -> Result<(), AwsError> {
        while !input.is_empty() {
            match self.state {
                State::Header | State::Trailers => {
                    let Some(line) = self.take_line(&mut input)? else { return Ok(()) };
                    if matches!(self.state, State::Header) {
                        self.chunk_header(&line)?;
                    } else {
                        self.trailer_line(&line)?;
                    }
                }
                State::Data { remaining } => {
                    let n = remaining.min(input.len() as u64) as usize;
                    let data = input.split_to(n);
                    if self.signer.is_some() {
                        self.chunk_hash.update(&data);
                    }
                    out.push_back(data);
                    self.state = if remaining == n as u64 { State::DataEnd { seen: 0 } } else { State::Data { remaining: remaining - n as u64 } };
                }
                State::DataEnd { seen } => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if input[0] != expected {
                        return Err(incomplete_body());
                    }
                    let _ = input.split_to(1);
                    if seen == 0 {
                        self.state = State::DataEnd { seen: 1 };
                    } else {
                        self.end_chunk()?;
                        self.state = State::Header;
                    }
                }
                State::Done => {
                    // Whitespace after the end is tolerated; anything else is not aws-chunked.
                    if input.iter().all(|b| b.is_ascii_whitespace()) {
                        return Ok(());
                    }
                    return Err(incomplete_body());
                }
            }
        }
        Ok(())
    }

    /// The body ended: the trailing headers (without `x-amz-trailer-signature`), once the
    /// framing, the length and the signatures are all good.
    pub fn finish(&mut self) -> Result<HeaderMap, AwsError> {
        let complete = match self.state {
            State::Done => true,
            // The final chunk's header was read and nothing is half-way through a line.
            State::Trailers => self.line.is_empty(),
            _ => false,
        };
        if !complete {
            return Err(incomplete_body());
        }
        self.state = State::Done;
        self.check_trailers()
    }

    /// Takes bytes up to and including `\r\n`; `None` when the line is not complete yet.
    fn take_line(&mut self, input: &mut Bytes) -> Result<Option<Vec<u8>>, AwsError> {
        let limit = if matches!(self.state, State::Trailers) { MAX_TRAILERS } else { MAX_LINE };
        match input.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.line.extend_from_slice(&input[..i]);
                let _ = input.split_to(i + 1);
                let mut line = std::mem::take(&mut self.line);
                if line.last() != Some(&b'\r') {
                    return Err(if matches!(self.state, State::Trailers) { malformed_trailer() } else { incomplete_body() });
                }
                line.pop();
                Ok(Some(line))
            }
            None => {
                self.line.extend_from_slice(input);
                input.clear();
                if self.line.len() > limit {
                    return Err(incomplete_body());
                }
                Ok(None)
            }
        }
    }

    /// `<hex size>[;chunk-signature=<sig>]`.
    fn chunk_header(&mut self, line: &[u8]) -> Result<(), AwsError> {
        let line = std::str::from_utf8(line).map_err(|_| incomplete_body())?;
        let (size, extensions) = line.split_once(';').unwrap_or((line, ""));
        let size = size.trim();
        if size.is_empty() || size.len() > 16 {
            return Err(incomplete_body());
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| incomplete_body())?;
        let signature = extensions.split(';').find_map(|e| e.trim().strip_prefix("chunk-signature=")).map(str::to_string);
        if self.signer.is_some() && signature.is_none() {
            return Err(signature_mismatch());
        }
        if self.signed {
            // The previous chunk was not the last, so it had to be 8 KiB or more.
            if self.chunks > 0 && self.chunk_size < MIN_SIGNED_CHUNK && size > 0 {
                return Err(chunk_too_small(self.chunks, self.chunk_size));
            }
        }
        self.chunks += 1;
        self.chunk_size = size;
        self.chunk_signature = signature;
        self.decoded += size;
        if self.expected_length.is_some_and(|n| self.decoded > n) {
            return Err(incomplete_body());
        }
        if size == 0 {
            self.end_chunk()?;
            self.state = State::Trailers;
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    /// A chunk's data is complete: its signature checks out.
    fn end_chunk(&mut self) -> Result<(), AwsError> {
        let hash = std::mem::take(&mut self.chunk_hash).finalize();
        if let Some(signer) = self.signer.as_mut() {
            let sent = self.chunk_signature.take().unwrap_or_default();
            if !signer.verify_chunk(&sent, &hash) {
                return Err(signature_mismatch());
            }
        }
        Ok(())
    }

    /// One line after the final chunk: `name:value`, or the empty line that ends them.
    fn trailer_line(&mut self, line: &[u8]) -> Result<(), AwsError> {
        self.trailer_bytes += line.len() + 2;
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(malformed_trailer());
        }
        if line.is_empty() {
            // Signed bodies end the final chunk with its own `\r\n` before the trailers.
            if self.trailers.is_empty() && self.trailer_signature.is_none() && !self.separator_seen && self.trailer_expected.is_some() {
                self.separator_seen = true;
                return Ok(());
            }
            self.state = State::Done;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| malformed_trailer())?;
        let (name, value) = line.split_once(':').ok_or_else(malformed_trailer)?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(malformed_trailer());
        }
        if name == "x-amz-trailer-signature" {
            self.trailer_signature = Some(value.trim().to_string());
        } else {
            self.trailers.push((name, value.trim().to_string()));
        }
        Ok(())
    }

    fn check_trailers(&mut self) -> Result<HeaderMap, AwsError> {
        if self.expected_length.is_some_and(|n| self.decoded != n) {
            return Err(incomplete_body());
        }
        if let Some(expected) = &self.trailer_expected {
            if !self.trailers.iter().any(|(n, _)| n == expected) {
                return Err(malformed_trailer());
            }
        }
        if let Some(signer) = self.signer.as_mut() {
            if !self.trailers.is_empty() || self.trailer_signature.is_some() {
                let sent = self.trailer_signature.clone().unwrap_or_default();
                if !signer.verify_trailer(&sent, &self.trailers) {
                    return Err(signature_mismatch());
                }
            }
        }
        let mut map = HeaderMap::new();
        for (name, value) in &self.trailers {
            let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else { return Err(malformed_trailer()) };
            map.append(n, v);
        }
        Ok(map)
    }
}

// ---------------------------------------------------------------------------------------
// The body the service reads

/// What the router learns about a request body while the service reads it: whether it was
/// read to its end (if not, the answer closes the connection) and the S3 error its decoding
/// failed with (which the answer reports, whatever the service made of the read error).
#[derive(Clone, Default)]
pub struct BodyWatch {
    inner: Arc<WatchInner>,
}

#[derive(Default)]
struct WatchInner {
    finished: AtomicBool,
    error: Mutex<Option<AwsError>>,
}

impl BodyWatch {
    pub fn new() -> BodyWatch {
        BodyWatch::default()
    }

    pub fn finished(&self) -> bool {
        self.inner.finished.load(Ordering::Acquire)
    }

    pub fn mark_finished(&self) {
        self.inner.finished.store(true, Ordering::Release);
    }

    pub fn error(&self) -> Option<AwsError> {
        self.inner.error.lock().clone()
    }

    fn fail(&self, e: AwsError) -> std::io::Error {
        *self.inner.error.lock() = Some(e.clone());
        std::io::Error::new(std::io::ErrorKind::InvalidData, BodyError(e))
    }
}

enum Mode {
    Plain,
    Hashed { expected: String, hasher: Sha256 },
    Chunked(Box<Decoder>),
}

/// A request body as the service reads it: decoded when `aws-chunked`, hash-checked when
/// `x-amz-content-sha256` is a hex digest, and watched for completion either way.
pub struct DecodedBody<B> {
    inner: B,
    mode: Mode,
    pending: VecDeque<Bytes>,
    /// HTTP trailers the connection itself delivered (`Transfer-Encoding: chunked`).
    http_trailers: Option<HeaderMap>,
    trailers: Option<HeaderMap>,
    ended: bool,
    failed: Option<AwsError>,
    watch: BodyWatch,
}

impl<B> DecodedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    /// `signer`: the chunk signatures to check (signed `aws-chunked` under `--auth
    /// sigv4`/`iam`), else `None`.
    pub fn new(inner: B, encoding: &Encoding, signer: Option<ChunkSigner>, watch: BodyWatch) -> DecodedBody<B> {
        let mode = match encoding {
            Encoding::Plain => Mode::Plain,
            Encoding::PlainHashed(expected) => Mode::Hashed { expected: expected.clone(), hasher: Sha256::new() },
            Encoding::Chunked { signed, trailer, decoded_length } => Mode::Chunked(Box::new(Decoder::new(*signed, signer, *decoded_length, trailer.clone()))),
        };
        if inner.is_end_stream() && matches!(mode, Mode::Plain) {
            watch.mark_finished();
        }
        DecodedBody { inner, mode, pending: VecDeque::new(), http_trailers: None, trailers: None, ended: false, failed: None, watch }
    }

    fn fail(&mut self, e: AwsError) -> std::io::Error {
        self.failed = Some(e.clone());
        self.watch.fail(e)
    }

    /// The inner body ended: final checks, and the trailers frame to send last.
    fn end(&mut self) -> Result<(), AwsError> {
        self.ended = true;
        let mut trailers = match &mut self.mode {
            Mode::Plain => HeaderMap::new(),
            Mode::Hashed { expected, hasher } => {
                let computed = hex(&std::mem::take(hasher).finalize());
                if computed != *expected {
                    return Err(sha256_mismatch(expected, &computed));
                }
                HeaderMap::new()
            }
            Mode::Chunked(decoder) => decoder.finish()?,
        };
        if let Some(extra) = self.http_trailers.take() {
            trailers.extend(extra);
        }
        self.trailers = (!trailers.is_empty()).then_some(trailers);
        Ok(())
    }
}

impl<B> Body for DecodedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(e) = &this.failed {
                return Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::InvalidData, BodyError(e.clone())))));
            }
            if let Some(data) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            if this.ended {
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.watch.mark_finished();
                    if let Err(e) = this.end() {
                        return Poll::Ready(Some(Err(this.fail(e))));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    // The connection failed (client gone, framing): the body is incomplete.
                    let err = std::io::Error::other(e.to_string());
                    this.failed = Some(incomplete_body());
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => match &mut this.mode {
                        Mode::Plain => return Poll::Ready(Some(Ok(Frame::data(data)))),
                        Mode::Hashed { hasher, .. } => {
                            hasher.update(&data);
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                        Mode::Chunked(decoder) => {
                            if let Err(e) = decoder.push(data, &mut this.pending) {
                                return Poll::Ready(Some(Err(this.fail(e))));
                            }
                        }
                    },
                    Err(frame) => {
                        if let Ok(t) = frame.into_trailers() {
                            this.http_trailers.get_or_insert_with(HeaderMap::new).extend(t);
                        }
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed.is_none() && self.ended && self.pending.is_empty() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.mode {
            Mode::Chunked(d) => match d.expected_length {
                Some(n) => SizeHint::with_exact(n.saturating_sub(d.decoded()) + self.pending.iter().map(|b| b.len() as u64).sum::<u64>()),
                None => SizeHint::default(),
            },
            _ => self.inner.size_hint(),
        }
    }
}

use crate::hex::hex;

/// Decodes a whole body already in memory (a request document sent `aws-chunked`).
pub fn decode_whole(body: Bytes, encoding: &Encoding, signer: Option<ChunkSigner>) -> Result<(Bytes, HeaderMap), AwsError> {
    match encoding {
        Encoding::Plain => Ok((body, HeaderMap::new())),
        Encoding::PlainHashed(expected) => {
            let computed = hex(&Sha256::digest(&body));
            if computed != *expected {
                return Err(sha256_mismatch(expected, &computed));
            }
            Ok((body, HeaderMap::new()))
        }
        Encoding::Chunked { signed, trailer, decoded_length } => {
            let mut decoder = Decoder::new(*signed, signer, *decoded_length, trailer.clone());
            let mut out = VecDeque::new();
            decoder.push(body, &mut out)?;
            let trailers = decoder.finish()?;
            let mut whole = BytesMut::new();
            for b in out {
                whole.extend_from_slice(&b);
            }
            Ok((whole.freeze(), trailers))
        }
    }
}

#[cfg(test)]
#[path = "aws_chunked_tests.rs"]
mod tests;
