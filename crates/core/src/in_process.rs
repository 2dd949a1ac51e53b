//! In-process AWS API calls between services (`internal::ServiceCaller`): the registered
//! services by signing name, and a request context for the account's root, as if a
//! client had called. Step Functions' Task states call through it.

use crate::auth::Caller;
use crate::internal::{InProcessCall, ServiceCaller};
use crate::model::Protocol;
use crate::service::BoxFuture;
use crate::{AwsError, AwsService, RequestContext};
use std::collections::HashMap;
use std::sync::Arc;

/// The registered services by signing name (DynamoDB Streams, which signs as `dynamodb`
/// too, by its target prefix: `dynamodbstreams`).
pub struct InProcessServices {
    by_name: HashMap<String, Arc<dyn AwsService>>,
}

impl InProcessServices {
    pub fn new(services: Vec<Arc<dyn AwsService>>) -> InProcessServices {
        InProcessServices { by_name: by_signing_name(services) }
    }

    /// A context for the root of `account` in `region`, calling `service`.
    fn context(account: &str, region: &str, service: &Arc<dyn AwsService>, trace: Option<String>) -> RequestContext {
        let model = service.model();
        let caller = Caller { access_key_id: "in-process".into(), account_id: account.into(), region: region.into(), service: Some(model.signing_name.clone()) };
        let mut ctx = RequestContext::new(caller, "localhost".into(), "/".into());
        ctx.principal_arn = Some(format!("arn:aws:iam::{account}:root"));
        ctx.protocol = if model.protocols.contains(&Protocol::Json) { Protocol::Json } else { model.protocols.first().copied().unwrap_or(Protocol::Json) };
        ctx.set_trace_header(trace);
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
        Box::pin(async move {
            let Some(service) = self.by_name.get(&call.service) else {
                return Err(AwsError::new("UnknownServiceException", 400, format!("The service {} is not supported by nimbus", call.service)));
            };
            if !service.model().operations.contains_key(&call.operation) {
                return Err(AwsError::new("UnknownOperationException", 400, format!("{}:{} is not an operation of that service", call.service, call.operation)));
            }
            let ctx = Self::context(&call.account, &call.region, service, call.trace);
            service.call(&ctx, &call.operation, call.input).await
        })
    }

    fn has_service(&self, service: &str) -> bool {
        self.by_name.contains_key(service)
    }
}
