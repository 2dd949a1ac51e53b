//! The Lambda service as the router sees it: model, dispatch, the function registry and
//! how a `FunctionName` (name, partial or full ARN, with or without a qualifier) resolves.

use crate::async_invoke::AsyncQueue;
use crate::code::CodeStore;
use crate::errors::{lambda_names, LambdaError, LambdaResult};
use crate::function::Function;
use crate::pool::Pool;
use crate::store::LambdaStore;
use nimbus_core::internal::{LogSink, MessageBus, QueueSource, StreamSource};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{typed, BoxFuture};
use nimbus_core::storage::Pending;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use parking_lot::RwLock;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/lambda-2015-03-31.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored Lambda model parses"))
}

/// (account, region, function name)
pub type FunctionKey = (String, String, String);

/// Settings the binary passes in.
pub struct LambdaConfig {
    /// Where code, unpacked packages and the shipped runtimes live.
    pub data_dir: PathBuf,
    /// `AWS_ENDPOINT_URL` given to functions: how they reach nimbus.
    pub endpoint_url: String,
    pub account_concurrency: u32,
    pub idle_timeout: std::time::Duration,
    /// Interpreters named on the command line (`--runtime python3.12=/path`) or in the
    /// runtimes file.
    pub interpreters: crate::interpreters::Explicit,
}

pub struct LambdaService {
    pub(crate) inner: Arc<Inner>,
}

pub struct Inner {
    pub clock: Clock,
    pub store: Arc<dyn LambdaStore>,
    pub functions: RwLock<HashMap<FunctionKey, Function>>,
    pub code: CodeStore,
    pub runtimes_dir: PathBuf,
    pub interpreters: Arc<crate::interpreters::Interpreters>,
    pub pool: Arc<Pool>,
    pub logs: Arc<dyn LogSink>,
    pub bus: Arc<dyn MessageBus>,
    pub endpoint_url: String,
    pub async_queue: AsyncQueue,
    pub queues: Arc<dyn QueueSource>,
    pub streams: Arc<dyn StreamSource>,
    /// Kinesis Data Streams, for mappings of streams and enhanced fan-out consumers (set
    /// by the binary once Kinesis exists).
    pub kinesis: std::sync::OnceLock<Arc<dyn StreamSource>>,
    pub mappings: RwLock<HashMap<String, crate::esm::Mapping>>,
    /// Stop signals of running event source mapping pollers, by mapping UUID.
    pub pollers: parking_lot::Mutex<HashMap<String, tokio::sync::watch::Sender<bool>>>,
    /// How each mapping's last batches went (`LastProcessingResult`, warnings), by UUID.
    pub mapping_health: parking_lot::Mutex<HashMap<String, crate::esm::Health>>,
    /// How a function gets its execution role's credentials (IAM/STS).
    pub roles: Arc<dyn nimbus_core::internal::RoleAssumer>,
    /// SNS, for OnSuccess / OnFailure destinations on topics (set by the binary once SNS
    /// exists, which itself needs Lambda).
    pub topics: std::sync::OnceLock<Arc<dyn nimbus_core::internal::TopicPublisher>>,
    /// EventBridge, for OnSuccess / OnFailure destinations on event buses (set by the
    /// binary once EventBridge exists, which itself needs Lambda).
    pub events: std::sync::OnceLock<Arc<dyn nimbus_core::internal::EventPublisher>>,
    /// S3, for packages given as `Code.S3Bucket` / `S3Key` (set by the binary once S3 exists).
    pub objects: std::sync::OnceLock<Arc<dyn nimbus_core::internal::ObjectReader>>,
    /// The standard `AWS/Lambda` metrics (`metrics.rs`); a no-op until the binary attaches
    /// the shared aggregator (`set_metrics`).
    pub metrics: nimbus_core::metrics::Metrics,
    /// The X-Ray daemon's UDP address (`127.0.0.1:2000`), handed to functions as
    /// `AWS_XRAY_DAEMON_ADDRESS` (set by the binary when X-Ray is wired).
    pub xray_daemon: std::sync::OnceLock<std::net::SocketAddr>,
}

pub fn validate_name(name: &str) -> LambdaResult<()> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    Ok(())
}

/// Splits `FunctionName` into (account, name, qualifier).
pub fn parse_function_name(ctx: &RequestContext, raw: &str) -> LambdaResult<(String, String, Option<String>)> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (account, name, qualifier) = match parts.as_slice() {
        [name] => (ctx.account_id.clone(), *name, None),
        [name, q] => (ctx.account_id.clone(), *name, Some(*q)),
        [acct, "function", name] => (acct.to_string(), *name, None),
        [acct, "function", name, q] => (acct.to_string(), *name, Some(*q)),
        ["arn", _, "lambda", _region, acct, "function", name] => (acct.to_string(), *name, None),
        ["arn", _, "lambda", _region, acct, "function", name, q] => (acct.to_string(), *name, Some(*q)),
        _ => return Err(LambdaError::Validation(format!("1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern"))),
    };
    validate_name(name)?;
    Ok((account, name.to_string(), qualifier.map(str::to_string)))
}

impl Inner {
    /// The host interpreter of a managed runtime (`None` for `provided*`); the error is
    /// the message CreateFunction answers with when it is missing.
    pub async fn interpreter(&self, runtime: Option<&str>) -> Result<Option<crate::interpreters::Found>, String> {
        let Some(managed) = runtime.and_then(crate::interpreters::Managed::parse) else { return Ok(None) };
        let interpreters = self.interpreters.clone();
        match tokio::task::spawn_blocking(move || interpreters.resolve(managed)).await {
            Ok(Ok(found)) => Ok(Some(found)),
            Ok(Err(missing)) => Err(missing.message()),
            Err(e) => Err(format!("interpreter lookup failed: {e}")),
        }
    }

    pub async fn commit(pending: Pending) -> LambdaResult<()> {
        pending.wait().await.map_err(|e| LambdaError::Service(format!("storage failure: {e}")))
    }

    pub fn key(ctx: &RequestContext, account: String, name: String) -> FunctionKey {
        (account, ctx.region.clone(), name)
    }

    /// A copy of a function, or ResourceNotFound naming its ARN as AWS does.
    pub fn get(&self, key: &FunctionKey) -> LambdaResult<Function> {
        self.functions
            .read()
            .get(key)
            .cloned()
            .ok_or_else(|| LambdaError::function_not_found(&format!("arn:aws:lambda:{}:{}:function:{}", key.1, key.0, key.2)))
    }

    /// Changes a function and makes the change durable.
    pub async fn mutate<T>(&self, key: &FunctionKey, edit: impl FnOnce(&mut Function) -> LambdaResult<T>) -> LambdaResult<T> {
        let (out, pending) = {
            let mut map = self.functions.write();
            let f = map
                .get_mut(key)
                .ok_or_else(|| LambdaError::function_not_found(&format!("arn:aws:lambda:{}:{}:function:{}", key.1, key.0, key.2)))?;
            let mut copy = f.clone();
            let out = edit(&mut copy)?;
            *f = copy;
            (out, self.store.put_function(f))
        };
        Self::commit(pending).await?;
        Ok(out)
    }
}

impl LambdaService {
    pub fn new(
        config: LambdaConfig,
        clock: Clock,
        store: Arc<dyn LambdaStore>,
        logs: Arc<dyn LogSink>,
        bus: Arc<dyn MessageBus>,
        queues: Arc<dyn QueueSource>,
        streams: Arc<dyn StreamSource>,
        roles: Arc<dyn nimbus_core::internal::RoleAssumer>,
    ) -> std::io::Result<LambdaService> {
        let code = CodeStore::new(config.data_dir.join("code"))?;
        let runtimes_dir = config.data_dir.join("runtimes");
        crate::runtimes::install(&runtimes_dir)?;
        let mut functions = HashMap::new();
        for f in store.load_functions().map_err(|e| std::io::Error::other(e.to_string()))? {
            functions.insert((f.account.clone(), f.region.clone(), f.name.clone()), f);
        }
        let events = store.load_events().map_err(|e| std::io::Error::other(e.to_string()))?;
        let mappings: HashMap<String, crate::esm::Mapping> =
            store.load_mappings().map_err(|e| std::io::Error::other(e.to_string()))?.into_iter().map(|m| (m.uuid.clone(), m)).collect();
        let inner = Arc::new(Inner {
            clock,
            store,
            functions: RwLock::new(functions),
            code,
            runtimes_dir,
            interpreters: Arc::new(crate::interpreters::Interpreters::new(config.interpreters)),
            pool: Pool::new(config.account_concurrency, config.idle_timeout),
            logs,
            bus,
            endpoint_url: config.endpoint_url,
            async_queue: AsyncQueue::new(),
            queues,
            streams,
            kinesis: std::sync::OnceLock::new(),
            mappings: RwLock::new(mappings),
            pollers: parking_lot::Mutex::new(HashMap::new()),
            mapping_health: parking_lot::Mutex::new(HashMap::new()),
            roles,
            topics: std::sync::OnceLock::new(),
            events: std::sync::OnceLock::new(),
            objects: std::sync::OnceLock::new(),
            metrics: nimbus_core::metrics::Metrics::new(),
            xray_daemon: std::sync::OnceLock::new(),
        });
        crate::async_invoke::start_worker(inner.clone(), events);
        let existing: Vec<crate::esm::Mapping> = inner.mappings.read().values().cloned().collect();
        for m in &existing {
            inner.start_pollers(m);
        }
        Ok(LambdaService { inner })
    }

    /// Stops the mapping pollers and ends every running environment (shutdown).
    pub fn shutdown(&self) {
        for (_, stop) in self.inner.pollers.lock().drain() {
            let _ = stop.send(true);
        }
        self.inner.pool.shutdown();
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, AwsError> {
        let i = &self.inner;
        let out = match op {
            "CreateFunction" => i.create_function(ctx, typed(input)?).await,
            "GetFunction" => i.get_function(ctx, typed(input)?),
            "GetFunctionConfiguration" => i.get_function_configuration(ctx, typed(input)?),
            "ListFunctions" => i.list_functions(ctx, typed(input)?),
            "UpdateFunctionCode" => i.update_function_code(ctx, typed(input)?).await,
            "UpdateFunctionConfiguration" => i.update_function_configuration(ctx, typed(input)?).await,
            "DeleteFunction" => i.delete_function(ctx, typed(input)?).await,
            "PublishVersion" => i.publish_version(ctx, typed(input)?).await,
            "ListVersionsByFunction" => i.list_versions(ctx, typed(input)?),
            "CreateAlias" => i.create_alias(ctx, typed(input)?).await,
            "GetAlias" => i.get_alias(ctx, typed(input)?),
            "ListAliases" => i.list_aliases(ctx, typed(input)?),
            "UpdateAlias" => i.update_alias(ctx, typed(input)?).await,
            "DeleteAlias" => i.delete_alias(ctx, typed(input)?).await,
            "PutFunctionConcurrency" => i.put_concurrency(ctx, typed(input)?).await,
            "GetFunctionConcurrency" => i.get_concurrency(ctx, typed(input)?),
            "DeleteFunctionConcurrency" => i.delete_concurrency(ctx, typed(input)?).await,
            "PutFunctionEventInvokeConfig" => i.put_event_invoke_config(ctx, typed(input)?, true).await,
            "UpdateFunctionEventInvokeConfig" => i.put_event_invoke_config(ctx, typed(input)?, false).await,
            "GetFunctionEventInvokeConfig" => i.get_event_invoke_config(ctx, typed(input)?),
            "DeleteFunctionEventInvokeConfig" => i.delete_event_invoke_config(ctx, typed(input)?).await,
            "ListFunctionEventInvokeConfigs" => i.list_event_invoke_configs(ctx, typed(input)?),
            "TagResource" => i.tag_resource(ctx, typed(input)?).await,
            "UntagResource" => i.untag_resource(ctx, typed(input)?).await,
            "ListTags" => i.list_tags(ctx, typed(input)?),
            "GetAccountSettings" => Ok(i.account_settings(ctx)),
            "AddPermission" => i.add_permission(ctx, typed(input)?).await,
            "RemovePermission" => i.remove_permission(ctx, typed(input)?).await,
            "GetPolicy" => i.get_policy(ctx, typed(input)?),
            "Invoke" => crate::invoke::invoke(i, ctx, typed(input)?).await,
            "CreateEventSourceMapping" => i.create_mapping(ctx, typed(input)?).await,
            "GetEventSourceMapping" => i.get_mapping(ctx, typed(input)?),
            "ListEventSourceMappings" => i.list_mappings(ctx, typed(input)?),
            "UpdateEventSourceMapping" => i.update_mapping(ctx, typed(input)?).await,
            "DeleteEventSourceMapping" => i.delete_mapping(ctx, typed(input)?).await,
            other => Err(LambdaError::Unsupported(format!("Lambda {other} is not supported by nimbus"))),
        };
        out.map_err(AwsError::from)
    }
}

impl AwsService for LambdaService {
    /// Lambda starts a trace for an invocation that arrives without one
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html>).
    fn starts_trace(&self, operation: &str) -> bool {
        matches!(operation, "Invoke" | "InvokeWithResponseStream" | "InvokeAsync")
    }

    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(lambda_names) })
    }
}

/// A function's resource-based policy (AddPermission), for the IAM authorizer. The ARN
/// may carry a qualifier; the policy is the function's.
impl nimbus_core::internal::ResourcePolicies for LambdaService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let mut parts = arn.split(':');
        let (_, _, _, region, account, _, name) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let f = self.inner.functions.read().get(&(account.to_string(), region.to_string(), name.to_string())).cloned()?;
        if f.policy.is_empty() {
            return None;
        }
        Some(serde_json::json!({ "Version": "2012-10-17", "Id": "default", "Statement": f.policy }).to_string())
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        let mut parts = arn.split(':').skip(3);
        let (Some(region), Some(account), Some(_), Some(name)) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Vec::new() };
        let functions = self.inner.functions.read();
        functions.get(&(account.to_string(), region.to_string(), name.to_string())).map(|f| f.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }

    /// `lambda:FunctionArn` of a request on an event source mapping: the function it maps
    /// to (Get/Delete/UpdateEventSourceMapping; an update naming a new function is keyed
    /// by that one, from the action map).
    fn condition_keys(&self, arn: &str, operation: &str, input: &Value) -> Vec<(String, Vec<String>)> {
        let Some((_, uuid)) = arn.split_once(":event-source-mapping:") else { return Vec::new() };
        if operation == "UpdateEventSourceMapping" && input.get("FunctionName").is_some() {
            return Vec::new();
        }
        let mappings = self.inner.mappings.read();
        mappings.get(uuid).map(|m| vec![("lambda:FunctionArn".to_string(), vec![m.function_arn()])]).unwrap_or_default()
    }
}

/// Synchronous invocations by ARN for API Gateway's `AWS_PROXY` integrations: the same
/// path as Invoke's RequestResponse (`invoke::run`), qualifier from the ARN.
impl nimbus_core::internal::FunctionInvoker for LambdaService {
    fn invoke<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes) -> BoxFuture<'a, Result<nimbus_core::internal::InvokeOutcome, String>> {
        self.invoke_traced(function_arn, payload, None)
    }

    /// Continuing the caller's trace (API Gateway's stage segment as the parent).
    fn invoke_traced<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes, trace: Option<String>) -> BoxFuture<'a, Result<nimbus_core::internal::InvokeOutcome, String>> {
        Box::pin(async move {
            let (key, qualifier) = function_of_arn(function_arn)?;
            let now = self.inner.clock.now_ms();
            let req = crate::invoke::Request {
                key,
                qualifier,
                request_id: nimbus_core::ids::uuid(),
                payload,
                tail: false,
                client_context: None,
                trace_id: trace.filter(|t| t.starts_with("Root=")).unwrap_or_else(|| crate::invoke::new_trace_id(now)),
                linked_from: None,
            };
            match crate::invoke::run(&self.inner, req).await {
                Ok(r) => Ok(nimbus_core::internal::InvokeOutcome { payload: r.payload, function_error: r.function_error }),
                Err(e) => Err(format!("{e:?}")),
            }
        })
    }
}

/// Asynchronous invocations by ARN (EventBridge and SNS targets): the same path as
/// Invoke's `Event` type (`async_invoke::enqueue`, durable, with the function's retries,
/// destinations and dead-letter queue), qualifier from the ARN.
impl nimbus_core::internal::EventInvoker for LambdaService {
    fn invoke_event<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes) -> BoxFuture<'a, Result<(), String>> {
        self.invoke_event_traced(function_arn, payload, None)
    }

    /// With the triggering request's `X-Amzn-Trace-Id` as the invocation's trace header
    /// (S3 event notifications, SNS and EventBridge deliveries), else a new one.
    fn invoke_event_traced<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes, trace_id: Option<String>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let (key, qualifier) = function_of_arn(function_arn)?;
            {
                let f = self.inner.get(&key).map_err(|e| format!("{e:?}"))?;
                if f.resolve(qualifier.as_deref()).is_none() {
                    return Err(format!("Function not found: {function_arn}"));
                }
            }
            let now = self.inner.clock.now_ms();
            let trace_id = trace_id.filter(|t| t.starts_with("Root=")).unwrap_or_else(|| crate::invoke::new_trace_id(now));
            crate::async_invoke::enqueue(&self.inner, &key, qualifier, &payload, nimbus_core::ids::uuid(), trace_id).await.map_err(|e| format!("{e:?}"))
        })
    }

    fn function_exists(&self, function_arn: &str) -> bool {
        let Ok((key, qualifier)) = function_of_arn(function_arn) else { return false };
        self.inner.functions.read().get(&key).map(|f| f.resolve(qualifier.as_deref()).is_some()).unwrap_or(false)
    }
}

/// A function ARN's key and qualifier.
fn function_of_arn(function_arn: &str) -> Result<(FunctionKey, Option<String>), String> {
    let parts: Vec<&str> = function_arn.split(':').collect();
    let (region, account, name, qualifier) = match parts.as_slice() {
        ["arn", _, "lambda", region, account, "function", name] => (*region, *account, *name, None),
        ["arn", _, "lambda", region, account, "function", name, q] => (*region, *account, *name, Some(q.to_string())),
        _ => return Err(format!("not a Lambda function ARN: {function_arn}")),
    };
    Ok(((account.to_string(), region.to_string(), name.to_string()), qualifier))
}

impl LambdaService {
    /// Where OnSuccess / OnFailure destinations on SNS topics publish.
    pub fn set_topic_publisher(&self, topics: Arc<dyn nimbus_core::internal::TopicPublisher>) {
        let _ = self.inner.topics.set(topics);
    }

    /// Where OnSuccess / OnFailure destinations on EventBridge event buses put events.
    pub fn set_event_publisher(&self, events: Arc<dyn nimbus_core::internal::EventPublisher>) {
        let _ = self.inner.events.set(events);
    }

    /// Where the standard `AWS/Lambda` metrics go (core's aggregator, flushed to CloudWatch).
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        self.inner.metrics.attach(hub);
    }

    /// The X-Ray daemon's UDP address functions send their segments to
    /// (`AWS_XRAY_DAEMON_ADDRESS` and friends in every new environment).
    pub fn set_xray_daemon_address(&self, addr: std::net::SocketAddr) {
        let _ = self.inner.xray_daemon.set(addr);
    }

    /// Where Kinesis event source mappings read (nimbus's Kinesis); the stored Kinesis
    /// mappings start now.
    pub fn set_kinesis_source(&self, kinesis: Arc<dyn StreamSource>) {
        if self.inner.kinesis.set(kinesis).is_err() {
            return;
        }
        let stored: Vec<crate::esm::Mapping> = self.inner.mappings.read().values().filter(|m| crate::esm_kinesis::is_kinesis(&m.event_source_arn)).cloned().collect();
        for m in &stored {
            self.inner.start_pollers(m);
        }
    }

    /// Where `Code.S3Bucket` / `S3Key` packages are read from (nimbus's S3).
    pub fn set_object_reader(&self, objects: Arc<dyn nimbus_core::internal::ObjectReader>) {
        let _ = self.inner.objects.set(objects);
    }
}
