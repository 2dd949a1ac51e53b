//! Who signed a request, and whether nimbus believes it: the `--auth` mode, the check the
//! router runs once it knows a request's service and operation, and the seam where the
//! IAM policy check will go.
//!
//! - `open` (default): nothing is verified; when the credential resolver knows the access
//!   key, the request context names the real signer (principal ARN, user id, account).
//! - `sigv4`: every request to a service must carry a valid Signature Version 4 from a
//!   known, active key (session token and expiry checked for temporary credentials).
//! - `iam`: `sigv4`, then [`authorize`] (allows everything until the policy evaluator lands).

use crate::clock::Clock;
use crate::context::RequestContext;
use crate::error::AwsError;
use crate::internal::{CredentialResolver, ResolvedKey};
use crate::sigv4::{self, KeyCache, SigV4Error, SignableRequest, VerifyOptions};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    #[default]
    Open,
    SigV4,
    Iam,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Open => "open",
            AuthMode::SigV4 => "sigv4",
            AuthMode::Iam => "iam",
        }
    }
}

impl std::str::FromStr for AuthMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "open" => Ok(AuthMode::Open),
            "sigv4" => Ok(AuthMode::SigV4),
            "iam" => Ok(AuthMode::Iam),
            other => Err(format!("unknown auth mode '{other}' (expected open, sigv4 or iam)")),
        }
    }
}

/// The mode, the keys it knows, and the signing keys it has derived.
pub struct Authenticator {
    mode: AuthMode,
    credentials: Arc<dyn CredentialResolver>,
    keys: KeyCache,
}

impl Authenticator {
    pub fn new(mode: AuthMode, credentials: Arc<dyn CredentialResolver>) -> Self {
        Authenticator { mode, credentials, keys: KeyCache::new() }
    }

    /// Open mode with no keys known.
    pub fn open() -> Self {
        Self::new(AuthMode::Open, Arc::new(crate::internal::NoCredentials))
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The check for a request to `service` (its signing name) and `operation`, on the
    /// server clock. Fills the context's signer on success; the error is the service
    /// family's (see `sigv4::style_for`). Open mode reads neither the clock nor the request.
    pub fn check(&self, req: &SignableRequest<'_>, service: &str, operation: &str, clock: &Clock, ctx: &mut RequestContext) -> Result<(), AwsError> {
        if self.mode == AuthMode::Open {
            // No allocation unless the key is known.
            if let Some(key) = self.credentials.resolve(&ctx.access_key_id) {
                self.credentials.note_used(&ctx.access_key_id, service, &ctx.region);
                name_signer(ctx, key);
            }
            return Ok(());
        }
        // `iam` adds authorization after the request is decoded (the router calls its
        // `Authorizer` with the input, where the resource names are).
        let _ = operation;
        self.verify(req, service, clock.now_ms(), ctx).map_err(|e| e.to_aws(sigv4::style_for(service)))
    }

    /// Verifies a request's SigV4 signature for `service` whatever the mode — API Gateway's
    /// `AWS_IAM` routes always need one — and names the signer in the context. The error is
    /// left for the caller to render (the execute-api data plane has its own shapes).
    pub fn verify_signature(&self, req: &SignableRequest<'_>, service: &str, now_ms: u64, ctx: &mut RequestContext) -> Result<(), SigV4Error> {
        self.verify(req, service, now_ms, ctx)
    }

    /// The chunk-signature chain of a signed `aws-chunked` body (S3's
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), seeded by the request's header
    /// signature, which [`Authenticator::check`] has verified. `None` under `--auth open`
    /// (nothing is verified) and for requests whose chunks are not signed.
    pub fn chunk_signer(&self, req: &SignableRequest<'_>) -> Option<crate::sigv4_chunk::ChunkSigner> {
        if self.mode == AuthMode::Open {
            return None;
        }
        let payload = req.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok())?;
        if !payload.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
            return None;
        }
        let sig = sigv4::parse(req).ok()??;
        if sig.form != sigv4::Form::Header {
            return None;
        }
        let key = self.credentials.resolve(&sig.access_key_id)?;
        let signing_key = self.keys.signing_key(&key.secret_access_key, &sig.scope_date, &sig.region, &sig.service).ok()?;
        Some(crate::sigv4_chunk::ChunkSigner::new(signing_key, &sig.amz_date, &sig.scope(), &sig.signature))
    }

    fn verify(&self, req: &SignableRequest<'_>, service: &str, now_ms: u64, ctx: &mut RequestContext) -> Result<(), SigV4Error> {
        let sig = sigv4::parse(req)?.ok_or(SigV4Error::MissingAuthenticationToken)?;
        let key = self.credentials.resolve(&sig.access_key_id).filter(|k| k.active).ok_or(SigV4Error::InvalidClientTokenId)?;
        let token_ok = match (&key.session_token, &sig.security_token) {
            (Some(expected), Some(sent)) => sigv4::constant_time_eq(expected.as_bytes(), sent.as_bytes()),
            (None, None) => true,
            _ => false,
        };
        if !token_ok {
            return Err(SigV4Error::InvalidClientTokenId);
        }
        if key.expires_at_ms.is_some_and(|at| now_ms >= at) {
            return Err(SigV4Error::ExpiredToken);
        }
        if sig.service != service {
            return Err(SigV4Error::SignatureMismatchWithMessage(format!("Credential should be scoped to correct service: '{service}'. ")));
        }
        let opts = VerifyOptions {
            now_secs: now_ms / 1000,
            max_skew_secs: sigv4::style_for(service).skew_minutes * 60,
            double_encode_path: service != "s3",
        };
        sigv4::verify(req, &sig, &key.secret_access_key, &opts, &self.keys)?;
        ctx.access_key_id = sig.access_key_id;
        ctx.region = sig.region;
        self.credentials.note_used(&ctx.access_key_id, service, &ctx.region);
        name_signer(ctx, key);
        Ok(())
    }
}

fn name_signer(ctx: &mut RequestContext, key: ResolvedKey) {
    ctx.account_id = key.account_id;
    ctx.principal_arn = Some(key.principal_arn);
    ctx.user_id = Some(key.user_id);
}

#[cfg(test)]
mod tests {
    //! The checks around the signature (key state, session tokens, expiry, scope) with an
    //! in-memory resolver; the signature itself is covered in `sigv4`'s tests.
    use super::*;
    use crate::auth::Caller;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest as SdkRequest, SigningSettings};
    use http::HeaderMap;
    use std::time::{Duration, UNIX_EPOCH};

    /// Wall time when the test signs (the server clock starts there and tests move it on).
    fn now_ms() -> u64 {
        Clock::new().now_ms()
    }

    struct Keys(Vec<(&'static str, ResolvedKey)>);

    impl CredentialResolver for Keys {
        fn resolve(&self, id: &str) -> Option<ResolvedKey> {
            self.0.iter().find(|(k, _)| *k == id).map(|(_, v)| v.clone())
        }
    }

    fn key(token: Option<&str>, expires_at_ms: Option<u64>, active: bool) -> ResolvedKey {
        ResolvedKey {
            secret_access_key: "secret".into(),
            account_id: "111122223333".into(),
            principal_arn: "arn:aws:sts::111122223333:assumed-role/r/s".into(),
            user_id: "AROAEXAMPLE:s".into(),
            session_token: token.map(str::to_string),
            expires_at_ms,
            active,
        }
    }

    /// Headers of a request to `service` signed by `id` (with `token`).
    fn signed(id: &str, token: Option<&str>, service: &str) -> HeaderMap {
        let headers = [("host", "localhost")];
        let signable = SdkRequest::new("POST", "http://localhost/", headers.into_iter(), SignableBody::Bytes(b"{}")).unwrap();
        let identity = Credentials::new(id, "secret", token.map(str::to_string), None, "t").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(UNIX_EPOCH + Duration::from_millis(now_ms()))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = http::Request::builder().method("POST").uri("http://localhost/").header("host", "localhost").body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        request.into_parts().0.headers
    }

    /// Checks the request on a server clock `later_ms` ahead of wall time.
    fn run(auth: &Authenticator, headers: &HeaderMap, service: &str, later_ms: u64) -> Result<RequestContext, AwsError> {
        let clock = Clock::new();
        clock.advance_ms(later_ms);
        let req = SignableRequest { method: "POST", path: "/", query: "", headers, body: b"{}" , body_streamed: false };
        let caller = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::auth::from_authorization_header)
            .unwrap_or_else(Caller::default);
        let mut ctx = RequestContext::new(caller, "localhost".into(), "/".into());
        auth.check(&req, service, "ListTables", &clock, &mut ctx).map(|()| ctx)
    }

    fn code(r: Result<RequestContext, AwsError>) -> String {
        r.err().map(|e| e.code.to_string()).unwrap_or_else(|| "ok".into())
    }

    #[test]
    fn temporary_credentials_need_their_token_and_expire_on_the_clock() {
        let keys = Keys(vec![("ASIATEMP", key(Some("tok"), Some(now_ms() + 60_000), true))]);
        let auth = Authenticator::new(AuthMode::SigV4, Arc::new(keys));
        let ctx = run(&auth, &signed("ASIATEMP", Some("tok"), "sqs"), "sqs", 0).unwrap();
        assert_eq!(ctx.principal_arn.as_deref(), Some("arn:aws:sts::111122223333:assumed-role/r/s"));
        assert_eq!(ctx.user_id.as_deref(), Some("AROAEXAMPLE:s"));
        assert_eq!(ctx.account_id, "111122223333");
        assert_eq!(code(run(&auth, &signed("ASIATEMP", None, "sqs"), "sqs", 0)), "InvalidClientTokenId");
        assert_eq!(code(run(&auth, &signed("ASIATEMP", Some("other"), "sqs"), "sqs", 0)), "InvalidClientTokenId");
        let expired = run(&auth, &signed("ASIATEMP", Some("tok"), "sqs"), "sqs", 60_000).unwrap_err();
        assert_eq!((expired.code.as_ref(), expired.message.as_str()), ("ExpiredToken", "The security token included in the request is expired"));
        assert_eq!(code(run(&auth, &signed("ASIATEMP", Some("tok"), "dynamodb"), "dynamodb", 60_000)), "ExpiredTokenException");
    }

    #[test]
    fn inactive_and_unknown_keys_are_invalid() {
        let keys = Keys(vec![("AKIAOFF", key(None, None, false))]);
        let auth = Authenticator::new(AuthMode::SigV4, Arc::new(keys));
        assert_eq!(code(run(&auth, &signed("AKIAOFF", None, "sts"), "sts", 0)), "InvalidClientTokenId");
        assert_eq!(code(run(&auth, &signed("AKIANONE", None, "sts"), "sts", 0)), "InvalidClientTokenId");
        assert_eq!(code(run(&auth, &signed("AKIANONE", None, "lambda"), "lambda", 0)), "UnrecognizedClientException");
        assert_eq!(code(run(&auth, &HeaderMap::new(), "dynamodb", 0)), "MissingAuthenticationTokenException");
    }

    #[test]
    fn credential_scope_must_name_the_service() {
        let keys = Keys(vec![("AKIAON", key(None, None, true))]);
        let auth = Authenticator::new(AuthMode::Iam, Arc::new(keys));
        assert_eq!(code(run(&auth, &signed("AKIAON", None, "dynamodb"), "dynamodb", 0)), "ok");
        let e = run(&auth, &signed("AKIAON", None, "sqs"), "dynamodb", 0).unwrap_err();
        assert_eq!((e.code.as_ref(), e.message.as_str()), ("InvalidSignatureException", "Credential should be scoped to correct service: 'dynamodb'. "));
    }

    #[test]
    fn open_mode_names_known_signers_only() {
        let keys = Keys(vec![("AKIAKNOWN", key(None, None, true))]);
        let auth = Authenticator::new(AuthMode::Open, Arc::new(keys));
        let ctx = run(&auth, &HeaderMap::new(), "sqs", 0).unwrap();
        assert_eq!((ctx.principal_arn, ctx.user_id), (None, None));
        let mut wrong = signed("AKIAKNOWN", None, "sqs");
        wrong.insert("x-amz-date", http::HeaderValue::from_static("19990101T000000Z"));
        let ctx = run(&auth, &wrong, "sqs", 0).unwrap();
        assert_eq!(ctx.principal_arn.as_deref(), Some("arn:aws:sts::111122223333:assumed-role/r/s"));
        assert_eq!(ctx.account_id, "111122223333");
    }

    #[test]
    fn modes_parse() {
        assert_eq!("SigV4".parse::<AuthMode>(), Ok(AuthMode::SigV4));
        assert_eq!("iam".parse::<AuthMode>(), Ok(AuthMode::Iam));
        assert!("none".parse::<AuthMode>().is_err());
    }
}
