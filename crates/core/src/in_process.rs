//! In-process AWS API calls between services (`internal::ServiceCaller`): the registered
//! services by signing name, and a request context for the account's root, as if a
//! client had called. Step Functions' Task states call through it. Streaming payloads
//! (S3 object bodies) travel base64-encoded in the values, as every blob does.
//!
//! A call made as a role (`ServiceCaller::call_as`: a Task state acting as its state
//! machine's role) is authorized as that role by the router's `Authorizer` when one is set
//! (`--auth iam`), before the service runs it, and runs with the role as its principal.

use crate::auth::Caller;
use crate::internal::{Authorizer, InProcessCall, ServiceCaller};
use crate::model::{Protocol, ShapeKind};
use crate::service::{BodyStream, BoxFuture};
use base64::Engine;
use http_body_util::BodyExt;
use crate::{AwsError, AwsService, RequestContext};
use std::collections::HashMap;
use std::sync::Arc;

/// The registered services by signing name (DynamoDB Streams, which signs as `dynamodb`
/// too, by its target prefix: `dynamodbstreams`).
pub struct InProcessServices {
    by_name: HashMap<String, Arc<dyn AwsService>>,
    /// Decides calls made as a role (`call_as`); None: they run unchecked.
    authorizer: Option<Arc<dyn Authorizer>>,
}

impl InProcessServices {
    pub fn new(services: Vec<Arc<dyn AwsService>>) -> InProcessServices {
        InProcessServices { by_name: by_signing_name(services), authorizer: None }
    }

    /// Authorizes calls made as a role (`call_as`) with `authorizer` (`--auth iam`).
    pub fn with_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> InProcessServices {
        self.authorizer = Some(authorizer);
        self
    }

    /// A context for the root of `account` in `region`, calling `service`.
    fn context(account: &str, region: &str, service: &Arc<dyn AwsService>, trace: Option<String>) -> RequestContext {
        let model = service.model();
        let caller = Caller { access_key_id: "in-process".into(), account_id: account.into(), region: region.into(), service: Some(model.signing_name.clone()) };
        let mut ctx = RequestContext::new(caller, "localhost".into(), "/".into());
        ctx.principal_arn = Some(format!("arn:aws:iam::{account}:root"));
        ctx.protocol = if model.protocols.contains(&Protocol::Json) { Protocol::Json } else { model.protocols.first().copied().unwrap_or(Protocol::Json) };
        ctx.set_trace_header(trace);
        // No segment is recorded for an in-process call (no router), so what it starts
        // downstream continues from the caller's segment (a Step Functions Task's
        // subsegment), not from an id no document has.
        ctx.segment_id = ctx.trace.as_ref().and_then(|t| t.parent.clone());
        ctx
    }
}

/// The services by signing name. Where two sign with one name (DynamoDB Streams signs as
/// `dynamodb`), the one whose target prefix names it otherwise goes by that name
/// (`DynamoDBStreams_20120810` → `dynamodbstreams`), whatever the registration order.
pub fn by_signing_name(services: Vec<Arc<dyn AwsService>>) -> HashMap<String, Arc<dyn AwsService>> {
    let mut count: HashMap<String, usize> = HashMap::new();
    for s in &services {
        *count.entry(s.model().signing_name.clone()).or_default() += 1;
    }
    let mut by_name = HashMap::new();
    for s in services {
        let model = s.model();
        let signing = model.signing_name.clone();
        let by_prefix = model.target_prefix.as_deref().map(|p| p.split('_').next().unwrap_or(p).to_ascii_lowercase());
        let name = match by_prefix {
            Some(p) if count[&signing] > 1 && p != signing => p,
            _ => signing,
        };
        by_name.insert(name, s);
    }
    by_name
}

impl ServiceCaller for InProcessServices {
    fn call(&self, call: InProcessCall) -> BoxFuture<'_, Result<serde_json::Value, AwsError>> {
        self.run(call, None)
    }

    fn call_as<'a>(&'a self, call: InProcessCall, role_arn: &'a str) -> BoxFuture<'a, Result<serde_json::Value, AwsError>> {
        self.run(call, Some(role_arn))
    }

    fn authorizes_roles(&self) -> bool {
        self.authorizer.is_some()
    }

    fn has_service(&self, service: &str) -> bool {
        self.by_name.contains_key(service)
    }

    fn service_model(&self, service: &str) -> Option<&crate::model::ServiceModel> {
        self.by_name.get(service).map(|s| s.model())
    }
}

impl InProcessServices {
    /// One call, as the account's root or (authorized first, when an authorizer is set)
    /// as `role_arn`.
    fn run<'a>(&'a self, call: InProcessCall, role_arn: Option<&'a str>) -> BoxFuture<'a, Result<serde_json::Value, AwsError>> {
        Box::pin(async move {
            let Some(service) = self.by_name.get(&call.service) else {
                return Err(AwsError::new("UnknownServiceException", 400, format!("The service {} is not supported by nimbus", call.service)));
            };
            if !service.model().operations.contains_key(&call.operation) {
                return Err(AwsError::new("UnknownOperationException", 400, format!("{}:{} is not an operation of that service", call.service, call.operation)));
            }
            let mut ctx = Self::context(&call.account, &call.region, service, call.trace);
            let model = service.model();
            if let (Some(role), Some(authorizer)) = (role_arn.filter(|r| !r.is_empty()), &self.authorizer) {
                ctx.principal_arn = Some(role.to_string());
                authorizer.authorize(&ctx, &model.signing_name, &call.operation, &call.input)?;
            }
            let operation = &model.operations[&call.operation];
            let mut input = call.input;
            // A streaming payload (S3's PutObject `Body`) travels as the request body: the
            // value carries it base64-encoded, as every blob.
            let body = match operation.input.as_deref().and_then(|shape| streaming_payload(model, shape)) {
                Some(member) => {
                    let encoded = input.as_object_mut().and_then(|o| o.remove(member));
                    let bytes = match encoded {
                        Some(serde_json::Value::String(b64)) => base64::engine::general_purpose::STANDARD
                            .decode(b64.as_bytes())
                            .map_err(|_| AwsError::new("SerializationException", 400, format!("{member} is not valid base64")))?,
                        _ => Vec::new(),
                    };
                    Some(full_body(bytes))
                }
                None => None,
            };
            let streamed = service.call_streaming(&ctx, &call.operation, input, body).await?;
            let mut output = streamed.output;
            // A streamed answer (GetObject's `Body`) comes back whole, base64-encoded.
            if let Some(body) = streamed.body {
                let bytes = body.collect().await.map_err(|e| AwsError::internal(format!("reading the answer's body: {e}")))?.to_bytes();
                let member = operation.output.as_deref().and_then(|shape| payload_member(model, shape)).unwrap_or("Body");
                if let Some(o) = output.as_object_mut() {
                    o.insert(member.to_string(), serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)));
                }
            }
            Ok(output)
        })
    }
}

/// The payload member of a structure shape (REST protocols), if it has one.
fn payload_member<'m>(model: &'m crate::model::ServiceModel, shape: &str) -> Option<&'m str> {
    match &model.shape(shape)?.kind {
        ShapeKind::Structure { payload, .. } => payload.as_deref(),
        _ => None,
    }
}

/// The payload member of an input shape when it is a streaming blob.
fn streaming_payload<'m>(model: &'m crate::model::ServiceModel, shape: &str) -> Option<&'m str> {
    let member = payload_member(model, shape)?;
    let ShapeKind::Structure { members, .. } = &model.shape(shape)?.kind else { return None };
    let m = members.iter().find(|m| m.name == member)?;
    let target = model.shape(&m.shape)?;
    (matches!(target.kind, ShapeKind::Blob) && (m.streaming || target.streaming)).then_some(member)
}

fn full_body(bytes: Vec<u8>) -> BodyStream {
    http_body_util::Full::new(bytes::Bytes::from(bytes)).map_err(|never| match never {}).boxed()
}
