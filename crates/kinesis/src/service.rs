//! The Kinesis service as the router sees it: the vendored model and the dispatch of
//! operations.

use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::storage::Durability;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

const MODEL_JSON: &str = include_str!("../model/kinesis-2013-12-02.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Kinesis model parses"))
}

pub struct KinesisService {
    #[allow(dead_code)]
    clock: Clock,
}

impl KinesisService {
    /// Opens `<data dir>/kinesis.db` (`None`: in memory).
    pub fn open(_db: Option<&Path>, _durability: Durability, clock: Clock) -> Result<KinesisService, String> {
        Ok(KinesisService { clock })
    }
}

impl AwsService for KinesisService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, _ctx: &'a RequestContext, operation: &'a str, _input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { Err(AwsError::new("InvalidArgumentException", 400, format!("Kinesis {operation} is not supported by nimbus"))) })
    }
}
