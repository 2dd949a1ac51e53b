//! The Step Functions service as the router sees it: the vendored model and the dispatch
//! of operations.

use nimbus_core::internal::ServiceCaller;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::storage::Durability;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/stepfunctions-2016-11-23.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Step Functions model parses"))
}

pub struct StepFunctionsService {
    #[allow(dead_code)]
    clock: Clock,
    /// Every other service, for Task states (set by the binary once all are registered).
    caller: OnceLock<Arc<dyn ServiceCaller>>,
}

impl StepFunctionsService {
    /// Opens `<data dir>/stepfunctions.db` (`None`: in memory).
    pub fn open(_db: Option<&Path>, _durability: Durability, clock: Clock) -> Result<StepFunctionsService, String> {
        Ok(StepFunctionsService { clock, caller: OnceLock::new() })
    }

    /// The services Task states call (the binary sets it after registering them all).
    pub fn set_service_caller(&self, caller: Arc<dyn ServiceCaller>) {
        let _ = self.caller.set(caller);
    }
}

impl AwsService for StepFunctionsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, _ctx: &'a RequestContext, operation: &'a str, _input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { Err(AwsError::new("InvalidArgumentException", 400, format!("Step Functions {operation} is not supported by nimbus"))) })
    }
}
