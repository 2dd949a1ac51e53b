//! AWS STS for nimbus: GetCallerIdentity, the first call many tools and test fixtures make.
//! The caller's account comes from its access key id (see `nimbus_core::auth`).

use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, RequestContext};
use serde_json::{json, Value};
use std::sync::OnceLock;

const MODEL_JSON: &str = include_str!("../model/sts-2011-06-15.json");

fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored STS model parses"))
}

#[derive(Default)]
pub struct StsService;

impl AwsService for StsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, _input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            match operation {
                // The signer when its key is known (root key pair, IAM keys), else the account root.
                "GetCallerIdentity" => Ok(json!({
                    "UserId": ctx.user_id.as_deref().unwrap_or(&ctx.access_key_id),
                    "Account": ctx.account_id,
                    "Arn": ctx.principal_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account_id)),
                })),
                other => Err(AwsError::not_supported(&format!("STS {other}"))),
            }
        })
    }
}
