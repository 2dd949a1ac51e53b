//! Invoke: run an invocation in an environment and return what AWS returns —
//! RequestResponse (the payload, `X-Amz-Function-Error`, `X-Amz-Log-Result`,
//! `X-Amz-Executed-Version`), Event (202, queued durably) or DryRun (204).

use crate::api::Invoke;
use crate::environment::{Environment, Result_, Spec};
use crate::errors::{LambdaError, LambdaResult};
use crate::function::{runtime_kind, RuntimeKind};
use crate::pool::PoolKey;
use crate::runtime_api::Invocation;
use crate::service::{parse_function_name, FunctionKey, Inner};
use base64::Engine;
use bytes::Bytes;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Synchronous payload limit (6 MB) and asynchronous one (1 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;

pub struct Request {
    pub key: FunctionKey,
    pub qualifier: Option<String>,
    pub request_id: String,
    pub payload: Bytes,
    pub tail: bool,
    pub client_context: Option<String>,
    /// The caller's `X-Amzn-Trace-Id` (or `xray::fresh_header`); the function gets it
    /// with its own segment as the parent.
    pub trace_id: String,
    /// A segment this invocation is linked to rather than caused by (a DynamoDB stream
    /// record's write: AWS breaks the trace there; nimbus keeps the root and the link).
    pub linked_from: Option<String>,
}

pub struct Response {
    pub payload: Bytes,
    pub function_error: bool,
    pub log_tail: Option<String>,
    pub executed_version: String,
    /// The trace header the function ran with (`Parent` = its segment): what the
    /// invocation hands on (destinations, dead-letter queues).
    pub trace: String,
}

/// A new trace header with no sampling decision: the function's tracing mode decides.
pub fn new_trace_id(now_ms: u64) -> String {
    crate::xray::fresh_header(now_ms)
}

/// The trace header an API invocation hands its function: the caller's trace (or the one
/// the router started) with the Invoke call's segment as parent, else a new one.
fn request_trace(ctx: &RequestContext, now_ms: u64) -> String {
    ctx.downstream_trace().map(|t| t.render()).unwrap_or_else(|| new_trace_id(now_ms))
}

fn error_doc(kind: &str, message: &str) -> Bytes {
    Bytes::from(json!({ "errorType": kind, "errorMessage": message }).to_string())
}

/// Runs one invocation to completion in a warm or new environment.
pub async fn run(inner: &Arc<Inner>, req: Request) -> LambdaResult<Response> {
    let f = inner.get(&req.key)?;
    let qualified = |q: &str| format!("{}:{q}", f.arn());
    let v = f.resolve_for_invoke(req.qualifier.as_deref()).ok_or_else(|| LambdaError::function_not_found(&qualified(req.qualifier.as_deref().unwrap_or("$LATEST"))))?.clone();
    let kind = runtime_kind(v.runtime.as_deref()).map_err(LambdaError::invalid)?;
    let invoked_arn = match &req.qualifier {
        Some(q) => qualified(q),
        None => f.arn(),
    };
    let key = PoolKey { account: f.account.clone(), region: f.region.clone(), function: f.name.clone(), version: v.version.clone() };
    let received_ms = inner.clock.now_ms();
    let xray = crate::xray::begin(&req.trace_id, v.tracing_mode == "Active", received_ms);
    let reserved_total = inner.reserved_total(&f.account, &f.region, "");
    let target = crate::metrics::Target { account: &f.account, region: &f.region, function: &f.name, qualifier: req.qualifier.as_deref(), executed_version: Some(&v.version) };
    let mut lease = match inner.pool.acquire(key, v.generation, f.reserved_concurrency, reserved_total) {
        Ok(lease) => lease,
        Err(e) => {
            // Throttled requests are not Invocations (AWS counts them only as Throttles).
            crate::metrics::count(&inner.metrics, &target, "Throttles");
            return Err(e);
        }
    };
    crate::metrics::concurrency(&inner.metrics, &target, lease.concurrency.0, lease.concurrency.1);
    let started = std::time::Instant::now();
    let env = match lease.warm.take() {
        Some(env) => env,
        None => match spawn(inner, &f, &v, kind).await {
            Ok(env) => env,
            Err(doc) => {
                inner.pool.release(lease, None);
                // An init failure is an invocation that failed (Errors), as on AWS.
                crate::metrics::invocation(&inner.metrics, &target, true, started.elapsed().as_secs_f64() * 1000.0);
                return Ok(Response { payload: doc, function_error: true, log_tail: None, executed_version: v.version, trace: xray.header });
            }
        },
    };
    // Duration is the function's own time, not its environment's start (Init Duration).
    let started = std::time::Instant::now();
    // The process reads the real clock, so its deadline is in wall time.
    let wall_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let (placeholder, _) = tokio::sync::oneshot::channel();
    let inv = Invocation {
        request_id: req.request_id.clone(),
        payload: req.payload,
        deadline_ms: wall_ms + v.timeout as u64 * 1000,
        invoked_arn: invoked_arn.clone(),
        trace_id: xray.header.clone(),
        client_context: req.client_context,
        cognito_identity: None,
        reply: placeholder,
    };
    let started_ms = inner.clock.now_ms();
    let ran_with = xray.header.clone();
    let (result, tail, init_ms) = env.invoke(inv, req.tail).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    inner.pool.release(lease, Some(env));
    xray.finish(crate::xray::Ran {
        function_name: &f.name,
        function_arn: &invoked_arn,
        request_id: &req.request_id,
        account: &f.account,
        received_ms,
        started_ms,
        ended_ms: inner.clock.now_ms(),
        init_ms,
        error: match &result {
            Result_::FunctionError(doc) => Some(doc),
            Result_::Ok(_) => None,
        },
        linked_from: req.linked_from.as_deref(),
    });
    let log_tail = tail.map(|lines| {
        let text = lines.join("\n") + "\n";
        let start = text.len().saturating_sub(4096);
        let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        B64.encode(&text.as_bytes()[start..])
    });
    let (payload, function_error) = match result {
        Result_::Ok(p) => (p, false),
        Result_::FunctionError(p) => (p, true),
    };
    crate::metrics::invocation(&inner.metrics, &target, function_error, elapsed_ms);
    Ok(Response { payload, function_error, log_tail, executed_version: v.version, trace: ran_with })
}

/// How long a function's role credentials last; environments are retired five minutes
/// before (AWS, too, hands the runtime credentials in its environment and recycles it).
const ROLE_SESSION_S: u64 = 12 * 3600;

/// The execution role's temporary credentials into the environment (as on AWS), so the
/// function's SDK calls are made as its role. Without them (no IAM wired, or a role IAM
/// cannot issue for while not enforcing) a 12-digit access key id names the function's
/// account, as before IAM existed.
async fn role_credentials(inner: &Arc<Inner>, f: &crate::function::Function, v: &crate::function::VersionConfig, env: &mut Vec<(String, String)>) -> Result<Option<u64>, Bytes> {
    match inner.roles.assume_for_service(&v.role, "lambda.amazonaws.com", &f.name, ROLE_SESSION_S).await {
        Ok(c) => {
            env.push(("AWS_ACCESS_KEY_ID".into(), c.access_key_id));
            env.push(("AWS_SECRET_ACCESS_KEY".into(), c.secret_access_key));
            env.push(("AWS_SESSION_TOKEN".into(), c.session_token));
            Ok(Some(c.expires_at_ms))
        }
        Err(reason) if inner.roles.enforcing() => Err(error_doc("Runtime.Unknown", &format!("The role defined for the function cannot be assumed by Lambda: {reason}"))),
        Err(_) => {
            env.push(("AWS_ACCESS_KEY_ID".into(), f.account.clone()));
            env.push(("AWS_SECRET_ACCESS_KEY".into(), "nimbus".into()));
            env.push(("AWS_SESSION_TOKEN".into(), "nimbus".into()));
            Ok(None)
        }
    }
}

/// Where an environment's logs go: CloudWatch Logs, unless IAM enforces and the
/// execution role may not write them — then, as on AWS, nothing reaches CloudWatch Logs
/// (the invocation's `LogType=Tail` still works: the Lambda service keeps that).
fn log_sink(inner: &Arc<Inner>, f: &crate::function::Function, v: &crate::function::VersionConfig) -> Arc<dyn nimbus_core::internal::LogSink> {
    let stream = format!("arn:aws:logs:{}:{}:log-group:{}:log-stream:nimbus", f.region, f.account, f.log_group(v));
    let allowed = ["logs:CreateLogStream", "logs:PutLogEvents"].iter().all(|a| inner.roles.role_allows(&v.role, a, &stream));
    if allowed {
        inner.logs.clone()
    } else {
        tracing::warn!(function = %f.name, role = %v.role, "lambda: the execution role may not write CloudWatch Logs; the function's logs are dropped");
        Arc::new(nimbus_core::internal::NoLogs)
    }
}

async fn spawn(inner: &Arc<Inner>, f: &crate::function::Function, v: &crate::function::VersionConfig, kind: RuntimeKind) -> Result<Arc<Environment>, Bytes> {
    let code = v.code.clone();
    let task_root = {
        let inner = inner.clone();
        tokio::task::spawn_blocking(move || inner.code.task_root(&code)).await.map_err(|e| error_doc("Runtime.Unknown", &e.to_string()))?
    }
    .map_err(|e| error_doc("Runtime.Unknown", &format!("{e:?}")))?;
    if kind == RuntimeKind::Provided && !task_root.join("bootstrap").exists() {
        return Err(error_doc("Runtime.InvalidEntrypoint", "RequestId: Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"));
    }
    // A function created when its interpreter was there, run after it went away.
    let interpreter = inner.interpreter(v.runtime.as_deref()).await.map_err(|m| error_doc("Runtime.Unknown", &m))?.map(|found| found.path);
    let runtime = v.runtime.clone().unwrap_or_else(|| "provided".into());
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_FUNCTION_NAME".into(), f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), v.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), v.memory_size.to_string()),
        ("_HANDLER".into(), v.handler.clone().unwrap_or_default()),
        ("LAMBDA_TASK_ROOT".into(), task_root.display().to_string()),
        ("AWS_REGION".into(), f.region.clone()),
        ("AWS_DEFAULT_REGION".into(), f.region.clone()),
        ("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{runtime}")),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), f.log_group(v)),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_ENDPOINT_URL".into(), inner.endpoint_url.clone()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
    ];
    if let Some(addr) = inner.xray_daemon.get() {
        // As Lambda sets them for the X-Ray SDKs
        // (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>).
        env.push(("AWS_XRAY_DAEMON_ADDRESS".into(), addr.to_string()));
        env.push(("_AWS_XRAY_DAEMON_ADDRESS".into(), addr.ip().to_string()));
        env.push(("_AWS_XRAY_DAEMON_PORT".into(), addr.port().to_string()));
        env.push(("AWS_XRAY_CONTEXT_MISSING".into(), "LOG_ERROR".into()));
    }
    let credentials_expire_ms = role_credentials(inner, f, v, &mut env).await?;
    if matches!(v.code.source, crate::function::CodeSource::HotReload { .. }) {
        // Python's bytecode cache validates by source mtime (whole seconds) and size: an
        // edit within the same second as the last import would run stale code. Also
        // keeps __pycache__ out of the user's directory.
        env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    }
    env.extend(v.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    let spec = Spec {
        credentials_expire_ms,
        kind,
        interpreter,
        task_root,
        runtimes_dir: inner.runtimes_dir.clone(),
        env,
        account: f.account.clone(),
        region: f.region.clone(),
        log_group: f.log_group(v),
        version: v.version.clone(),
        memory_mb: v.memory_size,
        timeout_s: v.timeout,
    };
    Environment::spawn(spec, inner.clock.clone(), log_sink(inner, f, v))
        .await
        .map_err(|e| error_doc("Runtime.InvalidEntrypoint", &format!("RequestId: Error: fork/exec failed: {e}")))
}

/// The Invoke operation.
pub async fn invoke(inner: &Arc<Inner>, ctx: &RequestContext, input: Invoke) -> LambdaResult<Value> {
    let raw = input.function_name.ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
    let (account, name, q) = parse_function_name(ctx, &raw)?;
    let qualifier = input.qualifier.or(q);
    let key = Inner::key(ctx, account, name);
    let payload = match input.payload {
        Some(p) => Bytes::from(B64.decode(p).map_err(|_| LambdaError::InvalidRequestContent("Could not decode payload".into()))?),
        None => Bytes::from_static(b"{}"),
    };
    let payload = if payload.is_empty() { Bytes::from_static(b"{}") } else { payload };
    let kind = input.invocation_type.unwrap_or_else(|| "RequestResponse".into());
    let limit = if kind == "Event" { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
    if payload.len() > limit {
        return Err(LambdaError::RequestTooLarge(format!("{} byte payload is too large for the {} invocation type (limit {limit} bytes)", payload.len(), kind)));
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return Err(LambdaError::InvalidRequestContent("Could not parse request body into json: Unexpected character".into()));
    }
    let client_context = match input.client_context {
        Some(c) => Some(
            B64.decode(&c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| LambdaError::InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.".into()))?,
        ),
        None => None,
    };
    // Resolve now so that a missing function or qualifier fails every invocation type.
    let f = inner.get(&key)?;
    f.resolve(qualifier.as_deref()).ok_or_else(|| LambdaError::function_not_found(&format!("{}:{}", f.arn(), qualifier.as_deref().unwrap_or("$LATEST"))))?;
    let now = inner.clock.now_ms();
    match kind.as_str() {
        "DryRun" => Ok(json!({ "StatusCode": 204 })),
        "Event" => {
            crate::async_invoke::enqueue(inner, &key, qualifier, &payload, ctx.request_id.clone(), request_trace(ctx, now)).await?;
            Ok(json!({ "StatusCode": 202 }))
        }
        "RequestResponse" => {
            let resp = run(
                inner,
                Request { key, qualifier, request_id: ctx.request_id.clone(), payload, tail: input.log_type.as_deref() == Some("Tail"), client_context, trace_id: request_trace(ctx, now), linked_from: None },
            )
            .await?;
            let mut out = json!({ "StatusCode": 200, "ExecutedVersion": resp.executed_version, "Payload": B64.encode(&resp.payload) });
            if resp.function_error {
                out["FunctionError"] = json!("Unhandled");
            }
            if let Some(t) = resp.log_tail {
                out["LogResult"] = json!(t);
            }
            Ok(out)
        }
        other => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}
