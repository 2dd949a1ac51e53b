//! The Secrets Manager service as the router sees it (JSON 1.1, target prefix
//! `secretsmanager`): model, dispatch, and what every operation shares — reading members,
//! dates, the shared state (`Inner`) the timer also works on.

use crate::errors::{sm_names, SmError, SmResult};
use crate::registry::Registry;
use crate::store::SecretStore;
use base64::Engine;
use nimbus_core::internal::{FunctionInvoker, KeyService};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/secretsmanager-2017-10-17.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Secrets Manager model parses"))
}

/// What the operations and the timer share.
pub struct Inner {
    pub(crate) reg: Registry,
    pub(crate) keys: Arc<dyn KeyService>,
    pub(crate) functions: Arc<dyn FunctionInvoker>,
    pub(crate) clock: Clock,
    /// Serialises changes to secrets (a change reads, encrypts, then writes back). Not
    /// held while a rotation function runs: it calls back in.
    pub(crate) write: tokio::sync::Mutex<()>,
    /// Wakes the timer when a deletion or rotation date changes.
    pub(crate) changed: tokio::sync::Notify,
}

pub struct SecretsManagerService {
    pub(crate) inner: Arc<Inner>,
}

impl SecretsManagerService {
    /// Opens the secrets in `store`; values are encrypted through `keys`, rotation
    /// functions run through `functions`. Starts the deletion / rotation timer (when a
    /// Tokio runtime runs).
    pub fn open(store: Arc<dyn SecretStore>, keys: Arc<dyn KeyService>, functions: Arc<dyn FunctionInvoker>, clock: Clock) -> Result<SecretsManagerService, String> {
        let inner = Arc::new(Inner { reg: Registry::open(store, clock.clone())?, keys, functions, clock, write: tokio::sync::Mutex::new(()), changed: tokio::sync::Notify::new() });
        crate::timer::start(inner.clone());
        Ok(SecretsManagerService { inner })
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> SmResult<Value> {
        let (a, r) = (ctx.account_id.as_str(), ctx.region.as_str());
        let i = &self.inner;
        match op {
            "CreateSecret" => i.create_secret(a, r, &input).await,
            "DescribeSecret" => i.describe_secret(a, r, &input),
            "UpdateSecret" => i.update_secret(a, r, &input).await,
            "DeleteSecret" => i.delete_secret(a, r, &input).await,
            "RestoreSecret" => i.restore_secret(a, r, &input).await,
            "ListSecrets" => i.list_secrets(a, r, &input),
            "TagResource" => i.tag_resource(a, r, &input).await,
            "UntagResource" => i.untag_resource(a, r, &input).await,
            "GetSecretValue" => i.get_secret_value(a, r, &input).await,
            "PutSecretValue" => i.put_secret_value(a, r, &input).await,
            "BatchGetSecretValue" => i.batch_get_secret_value(a, r, &input).await,
            "ListSecretVersionIds" => i.list_secret_version_ids(a, r, &input),
            "UpdateSecretVersionStage" => i.update_secret_version_stage(a, r, &input).await,
            "GetResourcePolicy" => i.get_resource_policy(a, r, &input),
            "PutResourcePolicy" => i.put_resource_policy(a, r, &input).await,
            "DeleteResourcePolicy" => i.delete_resource_policy(a, r, &input).await,
            "ValidateResourcePolicy" => i.validate_resource_policy(a, r, &input),
            "GetRandomPassword" => crate::password::get_random_password(&input),
            "RotateSecret" => i.rotate_secret(a, r, &input).await,
            "CancelRotateSecret" => i.cancel_rotate_secret(a, r, &input).await,
            other => Err(SmError::NotSupported(format!("The operation {other}"))),
        }
    }
}

impl AwsService for SecretsManagerService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from).map_err(sm_names) })
    }
}

/// A string member of the input.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// The `SecretId` member, required.
pub(crate) fn secret_id(input: &Value) -> SmResult<&str> {
    s(input, "SecretId").ok_or_else(|| SmError::missing("secretId"))
}

/// A timestamp as the JSON protocol carries it (epoch seconds).
pub(crate) fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

pub(crate) fn b64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

pub(crate) fn unb64(text: &str, member: &str) -> SmResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| SmError::InvalidParameter(format!("Invalid base64 in {member}.")))
}
