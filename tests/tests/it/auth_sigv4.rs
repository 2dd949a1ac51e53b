//! `--auth sigv4` / `--auth iam`: every request's Signature Version 4 verified against the
//! root key pair (and, later, IAM's keys), with AWS's errors per service family; and the
//! default open mode, which verifies nothing but names a known signer.
//! AWS references: "Create a signed AWS API request" and "Authenticating Requests: Using
//! Query Parameters (AWS Signature Version 4)"; the codes and messages are those SQS, STS,
//! DynamoDB and Lambda answer (see `crates/core/src/sigv4.rs`).

use aws_sdk_sqs::error::ProvideErrorMetadata;
use nimbus_tests::{expect_err_code, http_request, unique_name, Nimbus, Signer, StartOptions};
use std::time::{Duration, SystemTime};

const ROOT_KEY: &str = "AKIANIMBUSROOTEXAMPLE";
const ROOT_SECRET: &str = "nimbus/root+secret/EXAMPLEKEY";

fn root() -> Signer<'static> {
    Signer { access_key: ROOT_KEY, secret: ROOT_SECRET, session_token: None }
}

fn start(mode: &str, clock_control: bool) -> Nimbus {
    let mut extra_args = vec!["--auth".to_string(), mode.to_string()];
    if clock_control {
        extra_args.push("--clock-control".into());
    }
    Nimbus::start_with(StartOptions {
        in_memory: true,
        extra_args,
        env: vec![
            ("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()),
            ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into()),
        ],
    })
}

#[tokio::test]
async fn root_key_pair_signs_for_every_service() {
    let n = start("sigv4", false);
    let signer = root();
    let sqs = n.sqs_client_signed(&signer);
    let url = sqs.create_queue().queue_name(unique_name("auth")).send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&url).message_body("signed body ✓ with spaces").send().await.unwrap();
    let got = sqs.receive_message().queue_url(&url).send().await.unwrap();
    assert_eq!(got.messages().len(), 1);
    n.dynamodb_client_signed(&signer).list_tables().send().await.unwrap();
    n.lambda_client_signed(&signer).list_functions().send().await.unwrap();
    // A REST path with an encoded label: signed over the path encoded once more.
    let missing = n.lambda_client_signed(&signer).get_function().function_name("no such:fn").send().await;
    assert_ne!(missing.as_ref().err().and_then(|e| e.code()), Some("InvalidSignatureException"), "{missing:?}");
    n.logs_client_signed(&signer).describe_log_groups().send().await.unwrap();
    let me = n.sts_client_signed(&signer).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:root"));
    assert_eq!(me.user_id(), Some("000000000000"));
    assert_eq!(me.account(), Some("000000000000"));
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let n = start("sigv4", false);
    let bad = Signer { access_key: ROOT_KEY, secret: "not-the-secret", session_token: None };
    let e = expect_err_code(n.sqs_client_signed(&bad).list_queues().send().await, "SignatureDoesNotMatch");
    assert_eq!(
        e.message(),
        Some("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    );
    expect_err_code(n.sts_client_signed(&bad).get_caller_identity().send().await, "SignatureDoesNotMatch");
    expect_err_code(n.dynamodb_client_signed(&bad).list_tables().send().await, "InvalidSignatureException");
    expect_err_code(n.lambda_client_signed(&bad).list_functions().send().await, "InvalidSignatureException");
    expect_err_code(n.logs_client_signed(&bad).describe_log_groups().send().await, "InvalidSignatureException");
}

#[tokio::test]
async fn unknown_key_is_invalid_client_token_id() {
    let n = start("sigv4", false);
    let stranger = Signer { access_key: "AKIAUNKNOWNEXAMPLE00", secret: ROOT_SECRET, session_token: None };
    let e = expect_err_code(n.sqs_client_signed(&stranger).list_queues().send().await, "InvalidClientTokenId");
    assert_eq!(e.message(), Some("The security token included in the request is invalid."));
    expect_err_code(n.sts_client_signed(&stranger).get_caller_identity().send().await, "InvalidClientTokenId");
    expect_err_code(n.dynamodb_client_signed(&stranger).list_tables().send().await, "UnrecognizedClientException");
    expect_err_code(n.lambda_client_signed(&stranger).list_functions().send().await, "UnrecognizedClientException");
    // A session token on a permanent key is not that key's.
    let with_token = Signer { access_key: ROOT_KEY, secret: ROOT_SECRET, session_token: Some("FQoGZXIvYXdzEXAMPLE") };
    expect_err_code(n.sts_client_signed(&with_token).get_caller_identity().send().await, "InvalidClientTokenId");
}

#[tokio::test]
async fn unsigned_request_is_missing_authentication_token() {
    let n = start("sigv4", false);
    let (status, body) = http_request(n.endpoint(), "GET", "/?Action=ListQueues&Version=2012-11-05", None).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>MissingAuthenticationToken</Code>"), "{body}");
    // Internal endpoints stay open.
    assert_eq!(http_request(n.endpoint(), "GET", "/_nimbus/health", None).unwrap().0, 200);
}

#[tokio::test]
async fn iam_mode_verifies_signatures_too() {
    let n = start("iam", false);
    n.sqs_client_signed(&root()).list_queues().send().await.unwrap();
    let bad = Signer { access_key: ROOT_KEY, secret: "wrong", session_token: None };
    expect_err_code(n.sqs_client_signed(&bad).list_queues().send().await, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn open_mode_accepts_any_signature_and_names_the_root_signer() {
    let n = start("open", false);
    let bad = Signer { access_key: ROOT_KEY, secret: "wrong", session_token: None };
    n.sqs_client_signed(&bad).list_queues().send().await.unwrap();
    let me = n.sts_client_signed(&bad).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:root"));
    assert_eq!(me.user_id(), Some("000000000000"));
    // An unknown key: as before, the account root of the key's account.
    let me = n.sts_client_for("123456789012", "us-east-1").get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:root"));
    assert_eq!(me.user_id(), Some("123456789012"));
}

/// "Signature expired: … is now earlier than … (… - 5 min.)" from DynamoDB and Lambda
/// (InvalidSignatureException); SQS and STS allow 15 minutes (SignatureDoesNotMatch).
#[tokio::test]
async fn skewed_clock_is_rejected_per_service_window() {
    let n = start("sigv4", true);
    assert_eq!(n.advance_clock(600), 200);
    let e = expect_err_code(n.dynamodb_client_signed(&root()).list_tables().send().await, "InvalidSignatureException");
    let m = e.message().unwrap_or_default().to_string();
    assert!(m.starts_with("Signature expired: ") && m.contains(" is now earlier than ") && m.ends_with(" - 5 min.)"), "{m}");
    expect_err_code(n.lambda_client_signed(&root()).list_functions().send().await, "InvalidSignatureException");
    n.sqs_client_signed(&root()).list_queues().send().await.unwrap();
    assert_eq!(n.advance_clock(600), 200);
    let e = expect_err_code(n.sqs_client_signed(&root()).list_queues().send().await, "SignatureDoesNotMatch");
    let m = e.message().unwrap_or_default().to_string();
    assert!(m.starts_with("Signature expired: ") && m.ends_with(" - 15 min.)"), "{m}");
    expect_err_code(n.sts_client_signed(&root()).get_caller_identity().send().await, "SignatureDoesNotMatch");
}

/// A presigned GET (query-string authentication) built with the SDK's signer.
fn presign(n: &Nimbus, service: &str, path_and_query: &str, secret: &str, expires: u64) -> String {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
    let host = n.endpoint().trim_start_matches("http://").to_string();
    let uri = format!("{}{path_and_query}", n.endpoint());
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    let identity = aws_credential_types::Credentials::new(ROOT_KEY, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers = [("host", host.as_str())];
    let signable = SignableRequest::new("GET", uri.clone(), headers.into_iter(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder().method("GET").uri(&uri).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    request.uri().path_and_query().unwrap().to_string()
}

#[tokio::test]
async fn presigned_url_works_and_tampered_one_fails() {
    let n = start("sigv4", false);
    let url = presign(&n, "sts", "/?Action=GetCallerIdentity&Version=2011-06-15", ROOT_SECRET, 900);
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, body) = http_request(n.endpoint(), "GET", &url, None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Arn>arn:aws:iam::000000000000:root</Arn>"), "{body}");
    let sqs = presign(&n, "sqs", "/?Action=ListQueues&Version=2012-11-05", ROOT_SECRET, 900);
    assert_eq!(http_request(n.endpoint(), "GET", &sqs, None).unwrap().0, 200);

    let tampered = url.replace("Version=2011-06-15", "Version=2011-06-16");
    let (status, body) = http_request(n.endpoint(), "GET", &tampered, None).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{body}");
    let longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=3600");
    let (status, body) = http_request(n.endpoint(), "GET", &longer, None).unwrap();
    assert_eq!(status, 403, "{body}");
    let wrong_secret = presign(&n, "sts", "/?Action=GetCallerIdentity&Version=2011-06-15", "wrong", 900);
    let (status, body) = http_request(n.endpoint(), "GET", &wrong_secret, None).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{body}");
}

#[tokio::test]
async fn expired_presigned_url_fails() {
    let n = start("sigv4", true);
    let url = presign(&n, "sts", "/?Action=GetCallerIdentity&Version=2011-06-15", ROOT_SECRET, 60);
    assert_eq!(http_request(n.endpoint(), "GET", &url, None).unwrap().0, 200);
    assert_eq!(n.advance_clock(120), 200);
    let (status, body) = http_request(n.endpoint(), "GET", &url, None).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>RequestExpired</Code>") && body.contains("Request has expired."), "{body}");
}
