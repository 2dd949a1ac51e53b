//! The Parameter Store service as the router sees it: the vendored SSM model, dispatch of
//! the parameter operations (every other SSM operation answers "not supported"), the
//! in-memory index of parameters (`Meta`, no values) and the input helpers the `ops_*`
//! files share.

use crate::errors::{ssm_names, SsmError, SsmResult};
use crate::params::Meta;
use crate::store::{Change, Store};
use nimbus_core::internal::KeyService;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/ssm-2014-11-06.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored SSM model parses"))
}

/// (account, region).
pub type Scope = (String, String);

pub struct SsmService {
    pub(crate) clock: Clock,
    pub(crate) store: Store,
    pub(crate) keys: Arc<dyn KeyService>,
    /// Each scope's parameters by name (ordered: paths are prefixes).
    pub(crate) params: Mutex<HashMap<Scope, BTreeMap<String, Meta>>>,
}

impl SsmService {
    /// Reads the index back from the store.
    pub fn new(store: Store, keys: Arc<dyn KeyService>, clock: Clock) -> SsmService {
        let mut params: HashMap<Scope, BTreeMap<String, Meta>> = HashMap::new();
        for (scope, name, meta) in store.take_loaded() {
            params.entry(scope).or_default().insert(name, meta);
        }
        SsmService { clock, store, keys, params: Mutex::new(params) }
    }

    pub(crate) fn scope(ctx: &RequestContext) -> Scope {
        (ctx.account_id.clone(), ctx.region.clone())
    }

    /// A parameter's index entry, cloned out of the lock.
    pub(crate) fn meta(&self, ctx: &RequestContext, name: &str) -> SsmResult<Meta> {
        self.params.lock().get(&Self::scope(ctx)).and_then(|m| m.get(name)).cloned().ok_or(SsmError::NotFound)
    }

    /// Writes a changed index entry (labels, tags) and waits for it.
    pub(crate) async fn save_meta(&self, ctx: &RequestContext, name: &str, edit: impl FnOnce(&mut Meta) -> SsmResult<Value>) -> SsmResult<Value> {
        let pending = {
            let mut all = self.params.lock();
            let meta = all.get_mut(&Self::scope(ctx)).and_then(|m| m.get_mut(name)).ok_or(SsmError::NotFound)?;
            let mut edited = meta.clone();
            let out = edit(&mut edited)?;
            let doc = serde_json::to_string(&edited).map_err(|e| SsmError::Internal(e.to_string()))?;
            *meta = edited;
            (self.store.apply(Change::Meta { account: ctx.account_id.clone(), region: ctx.region.clone(), name: name.to_string(), meta: doc }), out)
        };
        pending.0.wait().await.map_err(SsmError::Internal)?;
        Ok(pending.1)
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> SsmResult<Value> {
        match op {
            "PutParameter" => self.put_parameter(ctx, &input).await,
            "DeleteParameter" => self.delete_parameter(ctx, &input).await,
            "DeleteParameters" => self.delete_parameters(ctx, &input).await,
            "GetParameter" => self.get_parameter(ctx, &input).await,
            "GetParameters" => self.get_parameters(ctx, &input).await,
            "GetParametersByPath" => self.get_parameters_by_path(ctx, &input).await,
            "GetParameterHistory" => self.get_parameter_history(ctx, &input).await,
            "DescribeParameters" => self.describe_parameters(ctx, &input),
            "LabelParameterVersion" => self.label_parameter_version(ctx, &input).await,
            "UnlabelParameterVersion" => self.unlabel_parameter_version(ctx, &input).await,
            "AddTagsToResource" => self.add_tags(ctx, &input).await,
            "RemoveTagsFromResource" => self.remove_tags(ctx, &input).await,
            "ListTagsForResource" => self.list_tags(ctx, &input),
            other => Err(SsmError::NotSupported(format!("The SSM operation {other}"))),
        }
    }
}

impl AwsService for SsmService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from).map_err(ssm_names) })
    }
}

/// A string member.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A required string member.
pub(crate) fn req<'a>(input: &'a Value, member: &str) -> SsmResult<&'a str> {
    s(input, member).ok_or_else(|| SsmError::missing(&lower_first(member)))
}

pub(crate) fn flag(input: &Value, member: &str) -> bool {
    input.get(member).and_then(Value::as_bool).unwrap_or(false)
}

/// A list of strings member.
pub(crate) fn strings(input: &Value, member: &str) -> Vec<String> {
    input.get(member).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// An optional integer member within `min..=max`.
pub(crate) fn int_in(input: &Value, member: &str, min: i64, max: i64) -> SsmResult<Option<i64>> {
    match input.get(member).and_then(Value::as_i64) {
        None => Ok(None),
        Some(v) if v < min => Err(SsmError::constraint(v, &lower_first(member), &format!("Member must have value greater than or equal to {min}"))),
        Some(v) if v > max => Err(SsmError::constraint(v, &lower_first(member), &format!("Member must have value less than or equal to {max}"))),
        Some(v) => Ok(Some(v)),
    }
}

/// AWS names members in validation messages with a lower-case first letter.
pub(crate) fn lower_first(member: &str) -> String {
    let mut c = member.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

pub(crate) fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// An opaque NextToken for a position (a name or a version number).
pub(crate) fn token(position: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("nimbus-ssm:{position}"))
}

pub(crate) fn untoken(token: &str) -> SsmResult<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| SsmError::InvalidNextToken)?;
    let text = String::from_utf8(bytes).map_err(|_| SsmError::InvalidNextToken)?;
    text.strip_prefix("nimbus-ssm:").map(str::to_string).ok_or(SsmError::InvalidNextToken)
}
