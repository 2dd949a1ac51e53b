//! Who is asking, where, and under which request id: the context every operation gets.

use crate::auth::Caller;
use crate::model::Protocol;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub account_id: String,
    pub region: String,
    pub access_key_id: String,
    /// `Host` header as the client sent it (queue URLs are built from it).
    pub host: String,
    /// Path of the HTTP request (query-protocol SQS requests may name the queue by it).
    pub path: String,
    /// The wire protocol of the request (some messages differ by protocol).
    pub protocol: Protocol,
    /// The `X-Amzn-Trace-Id` header, if sent (SQS stores it as a message's AWSTraceHeader).
    pub trace_id: Option<String>,
    /// The signer, when its access key is known to IAM (a user, an assumed-role session,
    /// the root key pair): `arn:aws:iam::<acct>:user/<name>`, `arn:aws:sts::…:assumed-role/…`.
    /// `None` for keys nimbus does not know (accepted in the open mode as the account root).
    pub principal_arn: Option<String>,
    /// The signer's unique id as GetCallerIdentity shows it (`AIDA…`, `AROA…:<session>`).
    pub user_id: Option<String>,
    /// The client's address (the `aws:SourceIp` condition key).
    pub source_ip: Option<std::net::IpAddr>,
}

impl RequestContext {
    /// Takes the caller's strings (no copies: this runs on every request).
    pub fn new(caller: Caller, host: String, path: String) -> Self {
        RequestContext {
            request_id: crate::ids::request_id(),
            account_id: caller.account_id,
            region: caller.region,
            access_key_id: caller.access_key_id,
            host,
            path,
            protocol: Protocol::Json,
            trace_id: None,
            principal_arn: None,
            user_id: None,
            source_ip: None,
        }
    }

    /// S3's `x-amz-id-2`: an opaque id of the host that answered, derived from the request
    /// id (also in S3's event records as `responseElements.x-amz-id-2`).
    pub fn host_id(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("nimbus/{}", self.request_id))
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.region, self.account_id)
    }
}
