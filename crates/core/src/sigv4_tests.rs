//! Tests of `sigv4`: requests signed by the `aws-sigv4` crate (the AWS SDK for Rust's own
//! signer) in every form, verified; tampered ones rejected.

use super::*;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest as SdkRequest, SignatureLocation, SigningSettings,
};
use http::{HeaderName, HeaderValue};

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const T0: &str = "20261203T120000Z";

fn t0() -> u64 {
    parse_amz_date(T0).unwrap()
}

/// A request as the server sees it: method, raw path and query, headers, body.
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Wire {
    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest { method: &self.method, path: &self.path, query: &self.query, headers: &self.headers, body: &self.body , body_streamed: false }
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
}

struct Signing<'a> {
    method: &'a str,
    path_and_query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
    body_mode: BodyMode,
    settings: SigningSettings,
    token: Option<&'a str>,
    service: &'a str,
    time: u64,
}

#[derive(Clone, Copy)]
enum BodyMode {
    Hash,
    Unsigned,
}

impl<'a> Signing<'a> {
    fn new(method: &'a str, path_and_query: &'a str, body: &'a [u8]) -> Self {
        Signing {
            method,
            path_and_query,
            headers: vec![("content-type", "application/x-amz-json-1.0")],
            body,
            body_mode: BodyMode::Hash,
            settings: SigningSettings::default(),
            token: None,
            service: "dynamodb",
            time: t0(),
        }
    }

    fn presigned(mut self, expires: u64) -> Self {
        self.settings.signature_location = SignatureLocation::QueryParams;
        self.settings.expires_in = Some(Duration::from_secs(expires));
        self
    }

    /// Signs with the SDK's signer and returns the request as it goes on the wire.
    fn sign(self, secret: &str) -> Wire {
        let uri = format!("http://localhost:4566{}", self.path_and_query);
        let mut headers: Vec<(&str, &str)> = vec![("host", "localhost:4566")];
        headers.extend(self.headers.iter().copied());
        let body = match self.body_mode {
            BodyMode::Hash => SignableBody::Bytes(self.body),
            BodyMode::Unsigned => SignableBody::UnsignedPayload,
        };
        let signable = SdkRequest::new(self.method, uri.clone(), headers.iter().copied(), body).unwrap();
        let identity = Credentials::new(KEY, secret, self.token.map(str::to_string), None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(self.service)
            .time(UNIX_EPOCH + Duration::from_secs(self.time))
            .settings(self.settings)
            .build()
            .unwrap()
            .into();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        let mut builder = http::Request::builder().method(self.method).uri(&uri);
        for (k, v) in &headers {
            builder = builder.header(*k, *v);
        }
        let mut request = builder.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        let (parts, ()) = request.into_parts();
        Wire {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body: self.body.to_vec(),
        }
    }
}

fn opts() -> VerifyOptions {
    VerifyOptions { now_secs: t0() + 30, max_skew_secs: 300, double_encode_path: true }
}

fn check(wire: &Wire, secret: &str, opts: &VerifyOptions) -> Result<ParsedSignature, SigV4Error> {
    let req = wire.signable();
    let sig = parse(&req)?.expect("signed");
    verify(&req, &sig, secret, opts, &KeyCache::new())?;
    Ok(sig)
}

#[test]
fn header_form_verifies_and_names_the_scope() {
    let wire = Signing::new("POST", "/", br#"{"TableName":"t"}"#).sign(SECRET);
    let sig = check(&wire, SECRET, &opts()).unwrap();
    assert_eq!(sig.form, Form::Header);
    assert_eq!(sig.access_key_id, KEY);
    assert_eq!((sig.scope_date.as_str(), sig.region.as_str(), sig.service.as_str()), ("20261203", "us-east-1", "dynamodb"));
    assert_eq!(sig.amz_date, T0);
    assert!(sig.security_token.is_none());
}

#[test]
fn wrong_secret_does_not_match() {
    let wire = Signing::new("POST", "/", b"{}").sign(SECRET);
    assert_eq!(check(&wire, "another-secret", &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn tampered_body_query_header_method_fail() {
    let signing = || Signing::new("POST", "/?Action=SendMessage&MessageBody=hi", b"{\"a\":1}");
    let mut body = signing().sign(SECRET);
    body.body = b"{\"a\":2}".to_vec();
    assert_eq!(check(&body, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut query = signing().sign(SECRET);
    query.query = query.query.replace("hi", "ho");
    assert_eq!(check(&query, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut header = signing().sign(SECRET);
    header.set_header("content-type", "text/plain");
    assert_eq!(check(&header, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut method = signing().sign(SECRET);
    method.method = "PUT".into();
    assert_eq!(check(&method, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut sig = signing().sign(SECRET);
    let auth = sig.headers[http::header::AUTHORIZATION].to_str().unwrap().to_string();
    let flipped = format!("{}{}", &auth[..auth.len() - 1], if auth.ends_with('0') { '1' } else { '0' });
    sig.set_header("authorization", &flipped);
    assert_eq!(check(&sig, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn presigned_form_verifies_and_tampering_fails() {
    let wire = Signing::new("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", b"").presigned(900).sign(SECRET);
    assert!(wire.query.contains("X-Amz-Signature="), "{}", wire.query);
    assert!(!wire.headers.contains_key(http::header::AUTHORIZATION));
    let sig = check(&wire, SECRET, &opts()).unwrap();
    assert_eq!(sig.form, Form::Presigned);
    assert_eq!(sig.expires_secs, Some(900));
    let mut tampered = Signing::new("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", b"").presigned(900).sign(SECRET);
    tampered.query = tampered.query.replace("GetCallerIdentity", "GetSessionToken");
    assert_eq!(check(&tampered, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut longer = Signing::new("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", b"").presigned(900).sign(SECRET);
    longer.query = longer.query.replace("X-Amz-Expires=900", "X-Amz-Expires=3600");
    assert_eq!(check(&longer, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn presigned_with_unsigned_payload_verifies() {
    let mut s = Signing::new("GET", "/path", b"").presigned(60);
    s.body_mode = BodyMode::Unsigned;
    let wire = s.sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
}

#[test]
fn presigned_expiry_is_checked_on_the_server_clock() {
    let wire = Signing::new("GET", "/", b"").presigned(60).sign(SECRET);
    let mut late = opts();
    late.now_secs = t0() + 60;
    check(&wire, SECRET, &late).unwrap();
    late.now_secs = t0() + 61;
    assert_eq!(check(&wire, SECRET, &late).unwrap_err(), SigV4Error::RequestExpired);
}

#[test]
fn presigned_expires_out_of_range_is_incomplete() {
    let wire = Signing::new("GET", "/", b"").presigned(60).sign(SECRET);
    for bad in ["0", "604801", "x"] {
        let mut w = Signing::new("GET", "/", b"").presigned(60).sign(SECRET);
        w.query = wire.query.replace("X-Amz-Expires=60", &format!("X-Amz-Expires={bad}"));
        assert!(matches!(parse(&w.signable()), Err(SigV4Error::IncompleteSignature(_))), "{bad}");
    }
}

#[test]
fn session_token_is_parsed_and_signed() {
    for presigned in [false, true] {
        let mut s = Signing::new("POST", "/", b"{}");
        s.token = Some("FwoGZXIvYXdzEXAMPLETOKEN+/=");
        let s = if presigned { s.presigned(300) } else { s };
        let wire = s.sign(SECRET);
        let sig = check(&wire, SECRET, &opts()).unwrap();
        assert_eq!(sig.security_token.as_deref(), Some("FwoGZXIvYXdzEXAMPLETOKEN+/="), "presigned={presigned}");
    }
}

#[test]
fn unsigned_payload_header_is_taken_as_signed() {
    let mut s = Signing::new("PUT", "/bucket/key", b"any body at all");
    s.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    s.body_mode = BodyMode::Unsigned;
    let mut wire = s.sign(SECRET);
    assert_eq!(wire.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    check(&wire, SECRET, &opts()).unwrap();
    wire.body = b"another body".to_vec();
    check(&wire, SECRET, &opts()).unwrap();
}

#[test]
fn sent_content_sha256_must_be_the_body_hash() {
    let mut s = Signing::new("POST", "/", b"{\"x\":1}");
    s.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let mut wire = s.sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
    wire.body = b"{\"x\":2}".to_vec();
    assert!(matches!(check(&wire, SECRET, &opts()), Err(SigV4Error::SignatureMismatchWithMessage(m)) if m.contains("x-amz-content-sha256")));
}

#[test]
fn streaming_literal_is_accepted_for_the_seed_signature() {
    for literal in ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"] {
        let mut s = Signing::new("PUT", "/b/k", b"chunked...");
        s.headers.push(("x-amz-content-sha256", literal));
        let wire = s.sign(SECRET);
        // The SDK signed the body's hash as the payload; the seed signature signs the literal.
        let req = wire.signable();
        let sig = parse(&req).unwrap().unwrap();
        let canonical = canonical_request(&req, &sig, literal, true);
        let key = KeyCache::new().signing_key(SECRET, &sig.scope_date, &sig.region, &sig.service).unwrap();
        let mut resigned = wire;
        let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign(&sig, &canonical).as_bytes());
        let auth = resigned.headers[http::header::AUTHORIZATION].to_str().unwrap().to_string();
        let auth = format!("{}{signature}", &auth[..auth.len() - 64]);
        resigned.set_header("authorization", &auth);
        check(&resigned, SECRET, &opts()).unwrap();
    }
}

#[test]
fn query_strings_with_odd_characters_and_repeated_keys() {
    let path = "/?b=a%20b%2Bc&a=%E2%9C%93&a=1&c=~-._&empty=&flag&d=%2F%3D%26&e=%21%27%28%29%2A";
    let wire = Signing::new("GET", path, b"").sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
    let presigned = Signing::new("GET", path, b"").presigned(60).sign(SECRET);
    check(&presigned, SECRET, &opts()).unwrap();
    let mut reordered = Signing::new("GET", path, b"").sign(SECRET);
    reordered.query = reordered.query.replace("a=%E2%9C%93&a=1", "a=1&a=%E2%9C%93");
    check(&reordered, SECRET, &opts()).unwrap();
    let mut changed = Signing::new("GET", path, b"").sign(SECRET);
    changed.query = changed.query.replace("a=1", "a=2");
    assert_eq!(check(&changed, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn paths_with_spaces_and_unicode_are_encoded_again() {
    let path = "/2015-03-31/functions/my%20fn%E2%9C%93%3Aprod/invocations";
    let mut s = Signing::new("POST", path, b"{}");
    s.service = "lambda";
    let wire = s.sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
    // S3 signs the path as sent: a single-encoded signature fails the double-encoding check
    // and passes the S3 one.
    let mut s3 = Signing::new("GET", "/bucket/my%20key%E2%9C%93", b"");
    s3.settings.percent_encoding_mode = PercentEncodingMode::Single;
    s3.service = "s3";
    let s3 = s3.sign(SECRET);
    assert_eq!(check(&s3, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    check(&s3, SECRET, &VerifyOptions { double_encode_path: false, ..opts() }).unwrap();
}

#[test]
fn dot_segments_are_normalized() {
    assert_eq!(normalize_path("/a/./b/../c//d/"), "/a/c/d/");
    assert_eq!(normalize_path(""), "/");
    assert_eq!(normalize_path("/"), "/");
    let wire = Signing::new("GET", "/a/./b/../c", b"").sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
}

#[test]
fn headers_with_folded_whitespace_and_repeats() {
    let mut s = Signing::new("POST", "/", b"{}");
    s.headers.push(("x-amz-meta-note", "  several   spaces  inside  "));
    let mut wire = s.sign(SECRET);
    check(&wire, SECRET, &opts()).unwrap();
    // The canonical form trims and collapses, so a differently spaced value still matches…
    wire.set_header("x-amz-meta-note", "several spaces inside");
    check(&wire, SECRET, &opts()).unwrap();
    // …and different text does not.
    wire.set_header("x-amz-meta-note", "several spaces outside");
    assert_eq!(check(&wire, SECRET, &opts()).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut map = HeaderMap::new();
    map.append("x-r", HeaderValue::from_static(" a  b "));
    map.append("x-r", HeaderValue::from_static("c"));
    assert_eq!(canonical_header_value(&map, "x-r"), "a b,c");
}

#[test]
fn clock_skew_in_both_directions() {
    let wire = Signing::new("POST", "/", b"{}").sign(SECRET);
    let mut o = opts();
    o.now_secs = t0() + 300;
    check(&wire, SECRET, &o).unwrap();
    o.now_secs = t0() + 301;
    let err = check(&wire, SECRET, &o).unwrap_err();
    assert_eq!(
        err.to_aws(&JSON_STYLE).message,
        "Signature expired: 20261203T120000Z is now earlier than 20261203T120001Z (20261203T120501Z - 5 min.)"
    );
    o.now_secs = t0() - 301;
    let err = check(&wire, SECRET, &o).unwrap_err();
    assert!(matches!(err, SigV4Error::SignatureNotYetCurrent { .. }), "{err:?}");
    assert!(err.to_aws(&QUERY_STYLE).message.starts_with("Signature not yet current: 20261203T120000Z is still later than"));
}

#[test]
fn date_header_instead_of_x_amz_date() {
    // A request signed with `Date` (RFC 7231) only: the time signed is its ISO 8601 form.
    let mut wire = Signing::new("POST", "/", b"{}").sign(SECRET);
    wire.headers.remove("x-amz-date");
    wire.set_header("date", "Thu, 03 Dec 2026 12:00:00 GMT");
    let sig = parse(&wire.signable()).unwrap().unwrap();
    assert_eq!(sig.request_time_secs, t0());
    assert_eq!(sig.amz_date, T0);
}

#[test]
fn scope_date_must_match_the_request_date() {
    let mut wire = Signing::new("POST", "/", b"{}").sign(SECRET);
    wire.set_header("x-amz-date", "20261203T235959Z");
    let mut o = opts();
    o.now_secs = parse_amz_date("20261203T235959Z").unwrap();
    // Same day: the signature no longer matches (the date is signed).
    assert_eq!(check(&wire, SECRET, &o).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    wire.set_header("x-amz-date", "20261204T000001Z");
    o.now_secs = parse_amz_date("20261204T000001Z").unwrap();
    assert!(matches!(check(&wire, SECRET, &o), Err(SigV4Error::SignatureMismatchWithMessage(m)) if m.starts_with("Date in Credential scope does not match")));
}

#[test]
fn unsigned_and_incomplete_requests() {
    let mut wire = Signing::new("POST", "/", b"{}").sign(SECRET);
    wire.headers.remove(http::header::AUTHORIZATION);
    assert_eq!(parse(&wire.signable()).unwrap(), None);
    wire.set_header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host");
    let Err(SigV4Error::IncompleteSignature(m)) = parse(&wire.signable()) else { panic!() };
    assert!(m.starts_with("Authorization header requires 'Signature' parameter."), "{m}");
    wire.set_header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1, SignedHeaders=host, Signature=00");
    let Err(SigV4Error::IncompleteSignature(m)) = parse(&wire.signable()) else { panic!() };
    assert!(m.starts_with("Credential must have exactly 5 slash-delimited elements"), "{m}");
    // The wording DynamoDB answers for a stray space after `Credential=`.
    wire.set_header("authorization", "AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00");
    let Err(SigV4Error::IncompleteSignature(m)) = parse(&wire.signable()) else { panic!() };
    assert!(m.starts_with("'AKIDEXAMPLE/20261203/us-east-1/dynamodb/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= AKID"), "{m}");
    wire.set_header("authorization", "AWS AKIDEXAMPLE:c2lnbmF0dXJl");
    assert!(matches!(parse(&wire.signable()), Err(SigV4Error::IncompleteSignature(_))));
    wire.headers.remove(http::header::AUTHORIZATION);
    wire.headers.remove("x-amz-date");
    wire.set_header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00");
    let Err(SigV4Error::IncompleteSignature(m)) = parse(&wire.signable()) else { panic!() };
    assert!(m.contains("requires existence of either a 'X-Amz-Date' or a 'Date' header"), "{m}");
}

#[test]
fn signing_keys_are_derived_once_per_scope() {
    let cache = KeyCache::new();
    for _ in 0..3 {
        let wire = Signing::new("POST", "/", b"{}").sign(SECRET);
        let req = wire.signable();
        let sig = parse(&req).unwrap().unwrap();
        verify(&req, &sig, SECRET, &opts(), &cache).unwrap();
    }
    assert_eq!(cache.len(), 1);
    let wire = Signing::new("POST", "/", b"{}").sign("other");
    let req = wire.signable();
    let sig = parse(&req).unwrap().unwrap();
    verify(&req, &sig, "other", &opts(), &cache).unwrap();
    assert_eq!(cache.len(), 2);
}

#[test]
fn errors_by_service_family() {
    let e = SigV4Error::SignatureDoesNotMatch.to_aws(style_for("sqs"));
    assert_eq!((e.code.as_ref(), e.status), ("SignatureDoesNotMatch", 403));
    assert!(e.message.starts_with("The request signature we calculated does not match"));
    let e = SigV4Error::InvalidClientTokenId.to_aws(style_for("sts"));
    assert_eq!((e.code.as_ref(), e.status, e.message.as_str()), ("InvalidClientTokenId", 403, "The security token included in the request is invalid."));
    let e = SigV4Error::InvalidClientTokenId.to_aws(style_for("dynamodb"));
    assert_eq!((e.code.as_ref(), e.status), ("UnrecognizedClientException", 400));
    let e = SigV4Error::SignatureDoesNotMatch.to_aws(style_for("lambda"));
    assert_eq!((e.code.as_ref(), e.status), ("InvalidSignatureException", 403));
    let e = SigV4Error::MissingAuthenticationToken.to_aws(style_for("lambda"));
    assert_eq!((e.code.as_ref(), e.message.as_str()), ("MissingAuthenticationTokenException", "Missing Authentication Token"));
    let e = SigV4Error::ExpiredToken.to_aws(style_for("sqs"));
    assert_eq!((e.code.as_ref(), e.message.as_str()), ("ExpiredToken", "The security token included in the request is expired"));
    assert_eq!(style_for("sqs").skew_minutes, 15);
    assert_eq!(style_for("dynamodb").skew_minutes, 5);
}

#[test]
fn dates_round_trip() {
    for s in ["19700101T000000Z", "20000229T235959Z", "20261203T120000Z", "21000301T000000Z"] {
        assert_eq!(format_amz_date(parse_amz_date(s).unwrap()), s);
    }
    assert_eq!(parse_amz_date("20261303T120000Z"), None);
    assert_eq!(parse_amz_date("2026-12-03T12:00:00Z"), None);
    assert_eq!(parse_http_date("Thu, 03 Dec 2026 12:00:00 GMT"), Some(t0()));
    assert_eq!(parse_http_date("Thu, 03 Dec 2026 12:00:00 PST"), None);
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}

/// Cost probe (run with `cargo test --release -p nimbus-core cost_of_verify -- --ignored --nocapture`):
/// parse + verify of a header-signed 256-byte JSON request with a warm key cache.
#[test]
#[ignore]
fn cost_of_verify() {
    let body = vec![b'x'; 256];
    let wire = Signing::new("POST", "/", &body).sign(SECRET);
    let cache = KeyCache::new();
    let n = 20_000;
    let started = std::time::Instant::now();
    for _ in 0..n {
        let req = wire.signable();
        let sig = parse(&req).unwrap().unwrap();
        verify(&req, &sig, SECRET, &opts(), &cache).unwrap();
    }
    println!("parse + verify: {} ns per request", started.elapsed().as_nanos() / n);
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(parse(&wire.signable()).unwrap());
    }
    println!("parse: {} ns per request", started.elapsed().as_nanos() / n);
    let req = wire.signable();
    let sig = parse(&req).unwrap().unwrap();
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(cache.signing_key(SECRET, &sig.scope_date, &sig.region, &sig.service).unwrap());
    }
    println!("key cache: {} ns per request", started.elapsed().as_nanos() / n);
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(canonical_request(&req, &sig, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true));
    }
    println!("canonical request: {} ns per request", started.elapsed().as_nanos() / n);
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(hex_sha256(&body));
    }
    println!("body hash: {} ns per request", started.elapsed().as_nanos() / n);
}
