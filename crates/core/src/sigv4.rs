//! Signature Version 4 verification, with no I/O: parses a request's signature (the
//! `Authorization` header form and the presigned query form), rebuilds the canonical
//! request and string to sign as AWS documents them ("Create a signed AWS API request",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), and
//! compares signatures in constant time. Key derivation and HMAC come from the `aws-sigv4`
//! crate (the AWS SDK for Rust's signer); signing keys are cached per
//! (secret, date, region, service). The errors carry AWS's codes, messages and statuses,
//! which differ by service family (`AuthErrorStyle`, kept as data).

use crate::error::AwsError;
use http::HeaderMap;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Payload hashes accepted as literals in `x-amz-content-sha256` (the seed signature of
/// a streaming upload signs the literal, not the body).
const PAYLOAD_LITERALS: [&str; 4] = [
    UNSIGNED_PAYLOAD,
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
];
/// Longest `X-Amz-Expires` (seven days, the signing key's validity).
pub const MAX_EXPIRES_SECS: u64 = 604_800;

/// The parts of a request the signature covers. `path` and `query` are as sent (still
/// percent-encoded); `body` is the body as sent (before any content decoding).
pub struct SignableRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The body is streamed to the service unread (S3's PutObject): a hex
    /// `x-amz-content-sha256` is taken as signed here, and checked against the bytes as
    /// they stream (`protocol::aws_chunked`).
    pub body_streamed: bool,
}

/// Which form carried the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Header,
    Presigned,
}

/// A request's signature, parsed but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    pub form: Form,
    pub access_key_id: String,
    /// The credential scope's parts: `<date>/<region>/<service>/aws4_request`.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// The request time in ISO 8601 basic format (`20261203T132800Z`), as signed.
    pub amz_date: String,
    pub request_time_secs: u64,
    /// Presigned only: `X-Amz-Expires`.
    pub expires_secs: Option<u64>,
    /// `X-Amz-Security-Token` (header or query).
    pub security_token: Option<String>,
}

impl ParsedSignature {
    /// `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.scope_date, self.region, self.service)
    }
}

/// Why a request is not authenticated. Rendered per service family by [`SigV4Error::to_aws`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No signature at all.
    MissingAuthenticationToken,
    /// A signature with parts missing or malformed; the message says which.
    IncompleteSignature(String),
    /// The signature does not match (wrong secret, tampered request).
    SignatureDoesNotMatch,
    /// A check that AWS reports under the signature-mismatch code with its own message
    /// (payload hash, credential scope).
    SignatureMismatchWithMessage(String),
    /// Unknown or inactive access key, or a session token that does not belong to it.
    InvalidClientTokenId,
    /// Temporary credentials past their expiry.
    ExpiredToken,
    /// Header form: the request time is more than the allowed skew before the server's
    /// clock (`Signature expired: …`) or after it (`Signature not yet current: …`).
    SignatureExpired { signed: String, limit: String, now: String, minutes: u64 },
    SignatureNotYetCurrent { signed: String, limit: String, now: String, minutes: u64 },
    /// Presigned form: past `X-Amz-Date + X-Amz-Expires`.
    RequestExpired,
}

/// How a service family names the authentication errors (AWS differs by protocol
/// generation): code per error, the HTTP status they share, the clock skew allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthErrorStyle {
    pub status: u16,
    pub signature_does_not_match: &'static str,
    pub invalid_client_token: &'static str,
    pub incomplete_signature: &'static str,
    pub missing_token: &'static str,
    pub missing_token_message: &'static str,
    pub expired_token: &'static str,
    pub request_expired: &'static str,
    /// Allowed difference between the request time and the server clock, in minutes.
    pub skew_minutes: u64,
}

/// Query-protocol services (SQS, STS): `SignatureDoesNotMatch`, `InvalidClientTokenId`, 403,
/// and a 15-minute window ("Signature expired: … (… - 15 min.)", as SQS and STS answer —
/// aws/aws-cli#6676, aws/aws-sdk-php#642).
pub const QUERY_STYLE: AuthErrorStyle = AuthErrorStyle {
    status: 403,
    signature_does_not_match: "SignatureDoesNotMatch",
    invalid_client_token: "InvalidClientTokenId",
    incomplete_signature: "IncompleteSignature",
    missing_token: "MissingAuthenticationToken",
    missing_token_message: "Request is missing Authentication Token",
    expired_token: "ExpiredToken",
    request_expired: "RequestExpired",
    skew_minutes: 15,
};

/// JSON-protocol services (DynamoDB, DynamoDB Streams, CloudWatch Logs): the `…Exception`
/// names, status 400, 5 minutes ("Signature expired: … (… - 5 min.)").
pub const JSON_STYLE: AuthErrorStyle = AuthErrorStyle {
    status: 400,
    signature_does_not_match: "InvalidSignatureException",
    invalid_client_token: "UnrecognizedClientException",
    incomplete_signature: "IncompleteSignatureException",
    missing_token: "MissingAuthenticationTokenException",
    missing_token_message: "Request is missing Authentication Token",
    expired_token: "ExpiredTokenException",
    request_expired: "InvalidSignatureException",
    skew_minutes: 5,
};

/// REST-JSON services (Lambda): the `…Exception` names with status 403
/// (`X-Amzn-Errortype: InvalidSignatureException` with 403, aws/aws-sdk-go#859).
pub const REST_JSON_STYLE: AuthErrorStyle = AuthErrorStyle {
    status: 403,
    missing_token_message: "Missing Authentication Token",
    ..JSON_STYLE
};

/// Each service's family, by signing name. Services not listed use [`JSON_STYLE`].
const STYLES: &[(&str, &AuthErrorStyle)] = &[
    ("sqs", &QUERY_STYLE),
    ("sts", &QUERY_STYLE),
    ("iam", &QUERY_STYLE),
    ("dynamodb", &JSON_STYLE),
    ("logs", &JSON_STYLE),
    ("lambda", &REST_JSON_STYLE),
    ("s3", &S3_STYLE),
];

/// S3: 403 with S3's codes; a presigned URL past its expiry is `AccessDenied` "Request has
/// expired" (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).
pub const S3_STYLE: AuthErrorStyle = AuthErrorStyle {
    status: 403,
    signature_does_not_match: "SignatureDoesNotMatch",
    invalid_client_token: "InvalidAccessKeyId",
    incomplete_signature: "AuthorizationQueryParametersError",
    missing_token: "AccessDenied",
    missing_token_message: "Access Denied",
    expired_token: "ExpiredToken",
    request_expired: "AccessDenied",
    skew_minutes: 15,
};

/// The error style of the service with signing name `service`.
pub fn style_for(service: &str) -> &'static AuthErrorStyle {
    STYLES.iter().find(|(s, _)| *s == service).map(|(_, st)| *st).unwrap_or(&JSON_STYLE)
}

const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN_MESSAGE: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN_MESSAGE: &str = "The security token included in the request is expired";

impl SigV4Error {
    /// The error as `style`'s service answers it. For query-protocol services the code is
    /// also the query code; `Sender` fault.
    pub fn to_aws(&self, style: &AuthErrorStyle) -> AwsError {
        let (code, message) = match self {
            SigV4Error::MissingAuthenticationToken => (style.missing_token, style.missing_token_message.to_string()),
            SigV4Error::IncompleteSignature(m) => (style.incomplete_signature, m.clone()),
            SigV4Error::SignatureDoesNotMatch => (style.signature_does_not_match, SIGNATURE_MISMATCH_MESSAGE.to_string()),
            SigV4Error::SignatureMismatchWithMessage(m) => (style.signature_does_not_match, m.clone()),
            SigV4Error::InvalidClientTokenId => (style.invalid_client_token, INVALID_TOKEN_MESSAGE.to_string()),
            SigV4Error::ExpiredToken => (style.expired_token, EXPIRED_TOKEN_MESSAGE.to_string()),
            SigV4Error::SignatureExpired { signed, limit, now, minutes } => (
                style.signature_does_not_match,
                format!("Signature expired: {signed} is now earlier than {limit} ({now} - {minutes} min.)"),
            ),
            SigV4Error::SignatureNotYetCurrent { signed, limit, now, minutes } => (
                style.signature_does_not_match,
                format!("Signature not yet current: {signed} is still later than {limit} ({now} + {minutes} min.)"),
            ),
            SigV4Error::RequestExpired if style.request_expired == "AccessDenied" => (style.request_expired, "Request has expired".to_string()),
            SigV4Error::RequestExpired => (style.request_expired, "Request has expired.".to_string()),
        };
        AwsError::new(code, style.status, message)
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

/// The request's signature: `Ok(None)` when it carries none (no SigV4 `Authorization`
/// header, no `X-Amz-Algorithm` query parameter).
pub fn parse(req: &SignableRequest<'_>) -> Result<Option<ParsedSignature>, SigV4Error> {
    if let Some(auth) = req.headers.get(http::header::AUTHORIZATION) {
        let auth = auth.to_str().map_err(|_| SigV4Error::IncompleteSignature("Authorization header is not valid ASCII.".into()))?;
        return parse_header_form(auth, req.headers).map(Some);
    }
    let params = query_pairs(req.query);
    if params.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
        return parse_query_form(&params, req.headers).map(Some);
    }
    Ok(None)
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=…`
fn parse_header_form(auth: &str, headers: &HeaderMap) -> Result<ParsedSignature, SigV4Error> {
    let trimmed = auth.trim();
    let Some(rest) = trimmed.strip_prefix(ALGORITHM).filter(|r| r.is_empty() || r.starts_with(' ')) else {
        let algorithm = trimmed.split(' ').next().unwrap_or("");
        return Err(SigV4Error::IncompleteSignature(format!("Unsupported AWS 'algorithm': '{algorithm}'. nimbus verifies AWS4-HMAC-SHA256 only.")));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    // Parts are separated by commas and/or spaces; each must be `key=value`.
    for part in rest.split([',', ' ']).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(SigV4Error::IncompleteSignature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{trimmed}'."
            )));
        };
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let date = header_str(headers, "x-amz-date").map(|d| (d, true)).or_else(|| header_str(headers, "date").map(|d| (d, false)));
    let mut missing = String::new();
    for (name, value) in [("Credential", credential), ("Signature", signature), ("SignedHeaders", signed_headers)] {
        if value.is_none() {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if date.is_none() {
        missing.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((date, iso))) = (credential, signed_headers, signature, date) else {
        return Err(SigV4Error::IncompleteSignature(format!("{missing}Authorization={trimmed}")));
    };
    let request_time_secs = if iso { parse_amz_date(date) } else { parse_http_date(date) }
        .ok_or_else(|| SigV4Error::IncompleteSignature(format!("Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601")))?;
    let (access_key_id, scope_date, region, service) = parse_credential(credential)?;
    Ok(ParsedSignature {
        form: Form::Header,
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: split_signed_headers(signed_headers),
        signature: signature.to_string(),
        amz_date: if iso { date.to_string() } else { format_amz_date(request_time_secs) },
        request_time_secs,
        expires_secs: None,
        security_token: header_str(headers, "x-amz-security-token").map(str::to_string),
    })
}

/// The presigned form's `X-Amz-*` query parameters.
fn parse_query_form(params: &[(String, String)], headers: &HeaderMap) -> Result<ParsedSignature, SigV4Error> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let algorithm = get("X-Amz-Algorithm").unwrap_or("");
    if algorithm != ALGORITHM {
        return Err(SigV4Error::IncompleteSignature(format!("Unsupported AWS 'algorithm': '{algorithm}'. nimbus verifies AWS4-HMAC-SHA256 only.")));
    }
    let mut missing = String::new();
    for name in ["X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"] {
        if get(name).is_none() {
            missing.push_str(&format!("AWS query-string parameters must include '{name}'. "));
        }
    }
    let (Some(credential), Some(date), Some(expires), Some(signed_headers), Some(signature)) =
        (get("X-Amz-Credential"), get("X-Amz-Date"), get("X-Amz-Expires"), get("X-Amz-SignedHeaders"), get("X-Amz-Signature"))
    else {
        return Err(SigV4Error::IncompleteSignature(format!("{missing}Re-examine the query-string parameters.")));
    };
    let request_time_secs = parse_amz_date(date)
        .ok_or_else(|| SigV4Error::IncompleteSignature(format!("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\". Got '{date}'.")))?;
    let expires_secs = expires
        .parse::<u64>()
        .ok()
        .filter(|e| (1..=MAX_EXPIRES_SECS).contains(e))
        .ok_or_else(|| SigV4Error::IncompleteSignature(format!("X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_SECS} (seven days). Got '{expires}'.")))?;
    let (access_key_id, scope_date, region, service) = parse_credential(credential)?;
    Ok(ParsedSignature {
        form: Form::Presigned,
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: split_signed_headers(signed_headers),
        signature: signature.to_string(),
        amz_date: date.to_string(),
        request_time_secs,
        expires_secs: Some(expires_secs),
        security_token: get("X-Amz-Security-Token").or_else(|| header_str(headers, "x-amz-security-token")).map(str::to_string),
    })
}

/// `AKID/20261203/us-east-1/sqs/aws4_request` → (key, date, region, service).
fn parse_credential(credential: &str) -> Result<(String, String, String, String), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let malformed = || {
        SigV4Error::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        ))
    };
    let [key, date, region, service, term] = parts.as_slice() else { return Err(malformed()) };
    if key.is_empty() || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || region.is_empty() || service.is_empty() {
        return Err(malformed());
    }
    if *term != "aws4_request" {
        return Err(SigV4Error::SignatureMismatchWithMessage(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{term}'."
        )));
    }
    Ok((key.to_string(), date.to_string(), region.to_string(), service.to_string()))
}

fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
}

/// The query string's pairs, decoded (`+` as a space, as the SDK's signer reads them).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

// ---------------------------------------------------------------------------------------
// Verification

/// What the verifier needs besides the request and the secret.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Server time, in seconds since the epoch (nimbus's `Clock`).
    pub now_secs: u64,
    /// Header form: allowed skew, in seconds.
    pub max_skew_secs: u64,
    /// True for every service but S3: the canonical URI is the normalized path, encoded
    /// once more. S3 signs the path as sent.
    pub double_encode_path: bool,
}

/// Checks the request time against the server clock (header form: the allowed skew;
/// presigned: `X-Amz-Expires`).
pub fn check_time(sig: &ParsedSignature, now_secs: u64, max_skew_secs: u64) -> Result<(), SigV4Error> {
    match sig.expires_secs {
        Some(expires) => {
            if now_secs > sig.request_time_secs.saturating_add(expires) {
                return Err(SigV4Error::RequestExpired);
            }
            if sig.request_time_secs > now_secs.saturating_add(max_skew_secs) {
                return Err(not_yet_current(sig, now_secs, max_skew_secs));
            }
            Ok(())
        }
        None => {
            if sig.request_time_secs.saturating_add(max_skew_secs) < now_secs {
                return Err(SigV4Error::SignatureExpired {
                    signed: sig.amz_date.clone(),
                    limit: format_amz_date(now_secs - max_skew_secs),
                    now: format_amz_date(now_secs),
                    minutes: max_skew_secs / 60,
                });
            }
            if sig.request_time_secs > now_secs.saturating_add(max_skew_secs) {
                return Err(not_yet_current(sig, now_secs, max_skew_secs));
            }
            Ok(())
        }
    }
}

fn not_yet_current(sig: &ParsedSignature, now_secs: u64, max_skew_secs: u64) -> SigV4Error {
    SigV4Error::SignatureNotYetCurrent {
        signed: sig.amz_date.clone(),
        limit: format_amz_date(now_secs + max_skew_secs),
        now: format_amz_date(now_secs),
        minutes: max_skew_secs / 60,
    }
}

/// Verifies `sig` over `req` with `secret`: time, credential scope date, payload hash,
/// then the signature (constant-time comparison). Signing keys come from `cache`.
pub fn verify(req: &SignableRequest<'_>, sig: &ParsedSignature, secret: &str, opts: &VerifyOptions, cache: &KeyCache) -> Result<(), SigV4Error> {
    check_time(sig, opts.now_secs, opts.max_skew_secs)?;
    if !sig.amz_date.starts_with(&sig.scope_date) {
        return Err(SigV4Error::SignatureMismatchWithMessage(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            sig.scope_date,
            &sig.amz_date[..8.min(sig.amz_date.len())],
            sig.amz_date
        )));
    }
    let key = cache.signing_key(secret, &sig.scope_date, &sig.region, &sig.service)?;
    for payload_hash in payload_hashes(req, sig)? {
        let canonical = canonical_request(req, sig, &payload_hash, opts.double_encode_path);
        let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign(sig, &canonical).as_bytes());
        if constant_time_eq(expected.as_bytes(), sig.signature.as_bytes()) {
            return Ok(());
        }
    }
    Err(SigV4Error::SignatureDoesNotMatch)
}

/// The payload hashes to try, in order. Header form: `x-amz-content-sha256` when sent
/// (a hex hash must be the body's; the streaming / unsigned literals are taken as
/// signed), else the body's hash. Presigned: the body's hash (what botocore and the SDK
/// for Rust sign for every service but S3), then `UNSIGNED-PAYLOAD` (S3's convention).
fn payload_hashes(req: &SignableRequest<'_>, sig: &ParsedSignature) -> Result<Vec<String>, SigV4Error> {
    let body_hash = || hex_sha256(req.body);
    match sig.form {
        Form::Header => match header_str(req.headers, "x-amz-content-sha256") {
            Some(sent) if PAYLOAD_LITERALS.contains(&sent) => Ok(vec![sent.to_string()]),
            Some(sent) if req.body_streamed && sent.len() == 64 && sent.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(vec![sent.to_ascii_lowercase()]),
            Some(sent) => {
                let actual = body_hash();
                if sent.len() == 64 && sent.eq_ignore_ascii_case(&actual) {
                    Ok(vec![sent.to_string()])
                } else {
                    Err(SigV4Error::SignatureMismatchWithMessage(
                        "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
                    ))
                }
            }
            None => Ok(vec![body_hash()]),
        },
        Form::Presigned => {
            let params = query_pairs(req.query);
            match params.iter().find(|(k, _)| k == "X-Amz-Content-Sha256") {
                Some((_, v)) => Ok(vec![v.clone()]),
                None => Ok(vec![body_hash(), UNSIGNED_PAYLOAD.to_string()]),
            }
        }
    }
}

/// The canonical request: method, canonical URI, canonical query string, canonical
/// headers, signed headers, payload hash — one per line.
pub fn canonical_request(req: &SignableRequest<'_>, sig: &ParsedSignature, payload_hash: &str, double_encode_path: bool) -> String {
    let uri = if double_encode_path { uri_encode(&normalize_path(req.path), false) } else { non_empty_path(req.path).to_string() };
    let query = canonical_query(req.query, sig.form == Form::Presigned);
    let mut out = String::with_capacity(256 + req.query.len());
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&uri);
    out.push('\n');
    out.push_str(&query);
    out.push('\n');
    for name in &sig.signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(req.headers, name));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&sig.signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

fn string_to_sign(sig: &ParsedSignature, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}\n{}\n{}", sig.amz_date, sig.scope(), hex_sha256(canonical_request.as_bytes()))
}

fn non_empty_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// RFC 3986 dot-segment removal and empty-segment collapse, keeping a trailing slash.
fn normalize_path(path: &str) -> String {
    let path = non_empty_path(path);
    if !path.contains('.') && !path.contains("//") && path.starts_with('/') {
        return path.to_string();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if path.ends_with('/') && out != "/" {
        out.push('/');
    }
    out
}

/// Query parameters decoded, re-encoded with SigV4's encoding, sorted by name then value;
/// the presigned form leaves out `X-Amz-Signature`.
fn canonical_query(query: &str, presigned: bool) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k, true), uri_encode(&v, true)))
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// SigV4's URI encoding: every byte but the unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// as `%XY` (upper-case hex); `/` too when `encode_slash`.
fn uri_encode(s: &str, encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (b == b'/' && !encode_slash) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// All values of header `name`, each trimmed with inner runs of spaces collapsed, joined
/// with commas.
fn canonical_header_value(headers: &HeaderMap, name: &str) -> String {
    let mut out = String::new();
    for (i, value) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = String::from_utf8_lossy(value.as_bytes());
        let mut last_space = false;
        for c in text.trim_matches(' ').chars() {
            if c == ' ' {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            } else {
                out.push(c);
                last_space = false;
            }
        }
    }
    out
}

fn hex_sha256(data: &[u8]) -> String {
    crate::hex::hex(&Sha256::digest(data))
}

/// Equality whose time depends only on the lengths (signatures are fixed-length hex).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------------------
// Signing keys

/// Signing keys by (secret, date, region, service): derived once per day and scope, not
/// per request. Bounded: cleared when it grows past `MAX_KEYS`.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<KeyScope, [u8; 32]>>,
}

/// (secret, date, region, service).
type KeyScope = (String, String, String, String);

const MAX_KEYS: usize = 4096;

impl KeyCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn signing_key(&self, secret: &str, date: &str, region: &str, service: &str) -> Result<[u8; 32], SigV4Error> {
        let id = (secret.to_string(), date.to_string(), region.to_string(), service.to_string());
        if let Some(k) = self.keys.lock().get(&id) {
            return Ok(*k);
        }
        let day = parse_amz_date(&format!("{date}T000000Z"))
            .ok_or_else(|| SigV4Error::IncompleteSignature(format!("Invalid credential scope date '{date}'.")))?;
        let derived = aws_sigv4::sign::v4::generate_signing_key(secret, UNIX_EPOCH + Duration::from_secs(day), region, service);
        let mut key = [0u8; 32];
        key.copy_from_slice(&derived.as_ref()[..32]);
        let mut keys = self.keys.lock();
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(id, key);
        Ok(key)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.lock().len()
    }
}

// ---------------------------------------------------------------------------------------
// Dates

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn epoch_secs(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<u64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64;
    u64::try_from(secs).ok()
}

/// `20261203T132800Z` → seconds since the epoch.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?.parse().ok() };
    epoch_secs(num(0..4)? as i64, num(4..6)?, num(6..8)?, num(9..11)?, num(11..13)?, num(13..15)?)
}

/// `Thu, 03 Dec 2026 13:28:00 GMT` (RFC 7231 IMF-fixdate) → seconds since the epoch.
pub fn parse_http_date(s: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let d: u32 = it.next()?.parse().ok()?;
    let month = it.next()?;
    let mo = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let y: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u32>().ok());
    let (h, mi, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" {
        return None;
    }
    epoch_secs(y, mo, d, h, mi, sec)
}

/// Seconds since the epoch → `20261203T132800Z`.
pub fn format_amz_date(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", t / 3600, t % 3600 / 60, t % 60)
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
