//! API Gateway v2 as the router sees it: the model and the dispatch of operations. What
//! the model has and nimbus does not is BadRequestException "… is not supported by nimbus
//! yet".

use crate::errors::{ApiGwError, ApiGwResult};
use crate::registry::{Registry, Scope};
use crate::{ops_apis, ops_authorizers, ops_children, ops_responses};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/apigatewayv2-2018-11-29.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored API Gateway v2 model parses"))
}

pub struct ApiGatewayService {
    pub registry: Arc<Registry>,
    pub clock: Clock,
}

/// What an operation sees: the caller's scope, the clock, and the request's host (for
/// `ApiEndpoint`).
pub struct Call<'a> {
    pub scope: Scope,
    pub now: String,
    pub host: &'a str,
    pub registry: &'a Registry,
}

/// A string member of the input.
pub fn text(input: &Value, name: &str) -> Option<String> {
    input.get(name).and_then(Value::as_str).map(str::to_string)
}

pub fn required(input: &Value, name: &str) -> ApiGwResult<String> {
    text(input, name).ok_or_else(|| ApiGwError::BadRequest(format!("{name} is required")))
}

impl ApiGatewayService {
    pub fn new(registry: Arc<Registry>, clock: Clock) -> ApiGatewayService {
        ApiGatewayService { registry, clock }
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> ApiGwResult<Value> {
        let call = Call {
            scope: (ctx.account_id.clone(), ctx.region.clone()),
            now: nimbus_core::time::iso8601(self.clock.now_ms()),
            host: &ctx.host,
            registry: &self.registry,
        };
        match op {
            "CreateApi" => ops_apis::create_api(&call, input).await,
            "GetApi" => ops_apis::get_api(&call, input),
            "GetApis" => ops_apis::get_apis(&call, input),
            "UpdateApi" => ops_apis::update_api(&call, input).await,
            "DeleteApi" => ops_apis::delete_api(&call, input).await,
            "TagResource" => ops_apis::tag_resource(&call, input).await,
            "UntagResource" => ops_apis::untag_resource(&call, input).await,
            "GetTags" => ops_apis::get_tags(&call, input),
            "CreateRoute" | "GetRoute" | "GetRoutes" | "UpdateRoute" | "DeleteRoute" => ops_children::routes(&call, op, input).await,
            "CreateIntegration" | "GetIntegration" | "GetIntegrations" | "UpdateIntegration" | "DeleteIntegration" => ops_children::integrations(&call, op, input).await,
            "CreateStage" | "GetStage" | "GetStages" | "UpdateStage" | "DeleteStage" => ops_children::stages(&call, op, input).await,
            "CreateDeployment" | "GetDeployment" | "GetDeployments" | "DeleteDeployment" => ops_children::deployments(&call, op, input).await,
            "CreateAuthorizer" | "GetAuthorizer" | "GetAuthorizers" | "UpdateAuthorizer" | "DeleteAuthorizer" => ops_authorizers::authorizers(&call, op, input).await,
            "CreateRouteResponse" | "GetRouteResponse" | "GetRouteResponses" | "UpdateRouteResponse" | "DeleteRouteResponse" => ops_responses::route_responses(&call, op, input).await,
            "CreateIntegrationResponse" | "GetIntegrationResponse" | "GetIntegrationResponses" | "UpdateIntegrationResponse" | "DeleteIntegrationResponse" => {
                ops_responses::integration_responses(&call, op, input).await
            }
            other => Err(ApiGwError::NotSupported(other.to_string())),
        }
    }
}

impl AwsService for ApiGatewayService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from) })
    }
}
