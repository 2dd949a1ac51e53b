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
    /// That header read (`None` when absent or malformed), or the root the router started
    /// for an operation that starts traces on AWS (Lambda's Invoke).
    pub trace: Option<crate::trace::TraceHeader>,
    /// The id of the segment the router records for this request (when its trace is
    /// sampled and a recorder is installed): the parent of whatever the request starts.
    pub segment_id: Option<String>,
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
            trace: None,
            segment_id: None,
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

    /// Reads `X-Amzn-Trace-Id`; when the trace is sampled and segments are recorded, the
    /// request gets the id of the segment the router will record for it.
    pub fn set_trace_header(&mut self, header: Option<String>) {
        self.trace = header.as_deref().and_then(crate::trace::TraceHeader::parse);
        if self.trace.as_ref().is_some_and(|t| t.is_sampled()) && crate::trace::recording() {
            self.segment_id = Some(crate::trace::new_segment_id());
        }
        self.trace_id = header;
    }

    /// Starts a new trace for this request (operations that start traces on AWS when the
    /// caller sent none: Lambda's Invoke).
    pub fn start_trace(&mut self, now_ms: u64) {
        let root = crate::trace::TraceHeader::new_root(now_ms);
        if crate::trace::recording() {
            self.segment_id = Some(crate::trace::new_segment_id());
        }
        self.trace = Some(root);
    }

    /// The trace header this request hands to what it starts downstream (an invocation, a
    /// delivery, a target): the same root with this request's segment as the parent.
    /// `None` when the request carries no trace.
    pub fn downstream_trace(&self) -> Option<crate::trace::TraceHeader> {
        let t = self.trace.as_ref()?;
        Some(match &self.segment_id {
            Some(id) => t.with_parent(id),
            None => t.clone(),
        })
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.region, self.account_id)
    }
}
