//! Who signed a request, and whether nimbus believes it: the `--auth` mode, the check the
//! router runs once it knows a request's service and operation, and the seam where the
//! IAM policy check will go.
//!
//! - `open` (default): nothing is verified; when the credential resolver knows the access
//!   key, the request context names the real signer (principal ARN, user id, account).
//! - `sigv4`: every request to a service must carry a valid Signature Version 4 from a
//!   known, active key (session token and expiry checked for temporary credentials).
//! - `iam`: `sigv4`, then [`authorize`] (allows everything until the policy evaluator lands).

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

    /// The check for a request to `service` (its signing name) and `operation`, at
    /// `now_ms` on the server clock. Fills the context's signer on success; the error is
    /// the service family's (see `sigv4::style_for`).
    pub fn check(&self, req: &SignableRequest<'_>, service: &str, operation: &str, now_ms: u64, ctx: &mut RequestContext) -> Result<(), AwsError> {
        if self.mode == AuthMode::Open {
            // No allocation unless the key is known.
            if let Some(key) = self.credentials.resolve(&ctx.access_key_id) {
                name_signer(ctx, key);
            }
            return Ok(());
        }
        self.verify(req, service, now_ms, ctx).map_err(|e| e.to_aws(sigv4::style_for(service)))?;
        if self.mode == AuthMode::Iam {
            let principal = ctx.principal_arn.as_deref().unwrap_or_default();
            authorize(principal, service, operation, ctx)?;
        }
        Ok(())
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
        name_signer(ctx, key);
        Ok(())
    }
}

fn name_signer(ctx: &mut RequestContext, key: ResolvedKey) {
    ctx.account_id = key.account_id;
    ctx.principal_arn = Some(key.principal_arn);
    ctx.user_id = Some(key.user_id);
}

/// The authorization seam for `--auth iam`: the verified principal may call `operation`
/// of `service` (signing name) in `ctx`'s account and region. Allows everything until
/// the IAM policy evaluator is wired here.
pub fn authorize(_principal_arn: &str, _service: &str, _operation: &str, _ctx: &RequestContext) -> Result<(), AwsError> {
    Ok(())
}
