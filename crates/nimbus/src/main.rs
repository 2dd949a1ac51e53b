//! The `nimbus` binary: parses configuration, opens storage, registers the services on
//! one router and serves them until SIGINT/SIGTERM.

use clap::{Parser, Subcommand};
use nimbus_core::authn::{AuthMode, Authenticator};
use nimbus_core::doc_store::{DocStore, MemoryDocs, SqliteDocs};
use nimbus_core::internal::{CredentialResolver, ResolvedKey};
use nimbus_core::server::{serve, Router};
use nimbus_core::storage::Durability;
use nimbus_core::Clock;
use nimbus_sqs::store::{MemoryStore, SqliteStore, SqsStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

mod cli_logs;
mod cli_trace;
mod root_keys;
use root_keys::RootKeys;

/// jemalloc: its malloc/free fast paths cost far fewer instructions than glibc's on the
/// request path (about 8% of a SendMessage), and unlike mimalloc it keeps idle RSS low
/// (about 16 MiB; the target is 20). No background threads: the default config.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "nimbus", version, about = "AWS's event-driven serverless services in one binary")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every service on one port.
    Serve(ServeArgs),
    /// List the Lambda runtimes nimbus can run here and the interpreter found for each.
    Runtimes(RuntimesArgs),
    /// Read a running nimbus's CloudWatch Logs: `nimbus logs tail [--trace ID] [--follow]`.
    #[command(subcommand)]
    Logs(cli_logs::LogsCommand),
    /// Show a running nimbus's traces as waterfalls, with their functions' log lines.
    Trace(cli_trace::TraceArgs),
}

#[derive(clap::Args)]
struct RuntimesArgs {
    /// Print JSON (one object per runtime) instead of a table.
    #[arg(long)]
    json: bool,
    /// The interpreter of a runtime, as for `serve`: `python3.12=/usr/bin/python3.12`.
    #[arg(long = "runtime", value_name = "RUNTIME=PATH", value_parser = runtime_override)]
    runtimes: Vec<(String, PathBuf)>,
    /// A runtimes file, as for `serve`.
    #[arg(long, env = "NIMBUS_RUNTIMES_FILE", value_name = "FILE")]
    runtimes_file: Option<PathBuf>,
}

/// The interpreters named by `--runtime` flags and the runtimes file.
fn explicit_interpreters(flags: &[(String, PathBuf)], file: Option<&std::path::Path>) -> Result<nimbus_lambda::interpreters::Explicit, String> {
    let mut given = nimbus_lambda::interpreters::Explicit { flags: flags.iter().cloned().collect(), ..Default::default() };
    if let Some(f) = file {
        given.read_file(f)?;
    }
    Ok(given)
}

/// `python3.12=/path/to/python` → ("python3.12", path), for a runtime nimbus runs on an
/// interpreter.
fn runtime_override(s: &str) -> Result<(String, PathBuf), String> {
    let (runtime, path) = s.split_once('=').ok_or_else(|| format!("expected RUNTIME=PATH, got {s:?}"))?;
    if nimbus_lambda::interpreters::Managed::parse(runtime).is_none() {
        return Err(format!("{runtime} is not a runtime nimbus runs on an interpreter (python3.8-python3.14, nodejs18.x-nodejs24.x)"));
    }
    Ok((runtime.to_string(), PathBuf::from(path)))
}

fn parse_auth_mode(s: &str) -> Result<AuthMode, String> {
    s.parse()
}

/// IAM users' access keys and STS's temporary credentials.
struct IamKeys(Arc<nimbus_iam::Iam>);

impl CredentialResolver for IamKeys {
    fn resolve(&self, access_key_id: &str) -> Option<ResolvedKey> {
        self.0.dir.resolve(access_key_id)
    }
    fn note_used(&self, access_key_id: &str, service: &str, region: &str) {
        self.0.dir.note_used(access_key_id, service, region);
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NIMBUS_LISTEN", default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// Directory for durable state.
    #[arg(long, env = "NIMBUS_DATA_DIR", default_value = "./.nimbus")]
    data_dir: PathBuf,
    /// Keep everything in memory (nothing survives a restart).
    #[arg(long, env = "NIMBUS_IN_MEMORY")]
    in_memory: bool,
    /// fsync every group commit (survives power loss, not just a crash of nimbus).
    #[arg(long, env = "NIMBUS_FSYNC")]
    fsync: bool,
    /// Log filter, e.g. `info` or `nimbus_core=debug`.
    #[arg(long, env = "NIMBUS_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Allow `POST /_nimbus/clock/advance?seconds=N` (tests move time with it).
    #[arg(long, env = "NIMBUS_CLOCK_CONTROL")]
    clock_control: bool,
    /// Request authentication: `open` (any credentials accepted), `sigv4` (every request's
    /// Signature Version 4 verified against known keys), `iam` (sigv4, then IAM policies).
    #[arg(long, env = "NIMBUS_AUTH", default_value = "open", value_parser = parse_auth_mode)]
    auth: AuthMode,
    /// The access key id of account 000000000000's root key pair.
    #[arg(long, env = "NIMBUS_ROOT_ACCESS_KEY_ID", default_value = "test", hide_env_values = true)]
    root_access_key_id: String,
    /// The secret of the root key pair.
    #[arg(long, env = "NIMBUS_ROOT_SECRET_ACCESS_KEY", default_value = "test", hide_env_values = true, hide_default_value = true)]
    root_secret_access_key: String,
    /// Root key pairs of other accounts: `<account>:<access key id>:<secret>,…`.
    #[arg(long, env = "NIMBUS_ROOT_KEYS", default_value = "", hide_env_values = true, hide_default_value = true)]
    root_keys: String,
    /// Lambda: concurrent executions per account (AWS's default is 1000).
    #[arg(long, env = "NIMBUS_LAMBDA_CONCURRENCY", default_value_t = 1000)]
    lambda_concurrency: u32,
    /// Lambda: seconds an idle execution environment stays warm.
    #[arg(long, env = "NIMBUS_LAMBDA_IDLE_SECONDS", default_value_t = 300)]
    lambda_idle_seconds: u64,
    /// Lambda: the interpreter of a runtime, e.g. `--runtime python3.12=/usr/bin/python3.12`
    /// (repeatable; also `NIMBUS_RUNTIME_PYTHON3_12=…`). See `nimbus runtimes`.
    #[arg(long = "runtime", value_name = "RUNTIME=PATH", value_parser = runtime_override)]
    runtimes: Vec<(String, PathBuf)>,
    /// Lambda: a file of `runtime = /path/to/interpreter` lines (`#` comments), below
    /// `--runtime` and the `NIMBUS_RUNTIME_*` variables.
    #[arg(long, env = "NIMBUS_RUNTIMES_FILE", value_name = "FILE")]
    runtimes_file: Option<PathBuf>,
    /// Send `AWS API Call via CloudTrail` events for write management calls to each
    /// account's default event bus, as AWS does when a CloudTrail trail is logging.
    #[arg(long, env = "NIMBUS_CLOUDTRAIL_EVENTS")]
    cloudtrail_events: bool,
    /// Do not emit the services' standard CloudWatch metrics (AWS/Lambda, AWS/SQS, …).
    #[arg(long, env = "NIMBUS_NO_SERVICE_METRICS")]
    no_service_metrics: bool,
    /// Kinesis: do not enforce the per-shard throughput limits (1 MiB/s or 1,000
    /// records/s in, 2 MiB/s and 5 GetRecords/s out) of provisioned streams.
    #[arg(long, env = "NIMBUS_KINESIS_NO_THROUGHPUT_LIMITS")]
    kinesis_no_throughput_limits: bool,
    /// A PEM file of extra root certificates trusted by every outbound TLS connection (SNS
    /// https subscribers, JWKS fetches), besides the public web roots: for local CAs.
    #[arg(long, env = "NIMBUS_CA_BUNDLE", value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// X-Ray: the UDP address of nimbus's X-Ray daemon socket, where X-Ray SDKs and
    /// OpenTelemetry X-Ray exporters send segments (functions get it as
    /// `AWS_XRAY_DAEMON_ADDRESS`); port 0 picks a free port; `off` disables it.
    #[arg(long, env = "NIMBUS_XRAY_DAEMON_ADDRESS", default_value = "127.0.0.1:2000")]
    xray_daemon_address: String,
    /// X-Ray: also export every trace as OpenTelemetry spans, OTLP/HTTP JSON POSTed to
    /// `<URL>/v1/traces` (e.g. `http://localhost:4318`).
    #[arg(long, env = "NIMBUS_OTLP_ENDPOINT", value_name = "URL")]
    otlp_endpoint: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            if let Err(e) = run(args) {
                eprintln!("nimbus: {e}");
                std::process::exit(1);
            }
        }
        Command::Runtimes(args) => {
            if let Err(e) = list_runtimes(args) {
                eprintln!("nimbus: {e}");
                std::process::exit(1);
            }
        }
        Command::Logs(cmd) => {
            if let Err(e) = cli_logs::run(cmd) {
                eprintln!("nimbus: {e}");
                std::process::exit(1);
            }
        }
        Command::Trace(args) => {
            if let Err(e) = cli_trace::run(args) {
                eprintln!("nimbus trace: {e}");
                std::process::exit(1);
            }
        }
    }
}

/// `nimbus runtimes`: what CreateFunction will accept on this machine, and why.
fn list_runtimes(args: RuntimesArgs) -> Result<(), String> {
    use nimbus_lambda::interpreters::{report, Missing};
    let given = explicit_interpreters(&args.runtimes, args.runtimes_file.as_deref())?;
    let rows = report(&given);
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, found)| match found {
                Ok(f) => serde_json::json!({ "runtime": r.name(), "available": true, "path": f.path, "version": f.version, "source": f.source }),
                Err(m) => serde_json::json!({ "runtime": r.name(), "available": false, "problem": m.message() }),
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    println!("{:<13} {:<9} {:<10} interpreter", "runtime", "version", "found by");
    println!("{:<13} {:<9} {:<10} the package's own bootstrap", "provided.*", "-", "-");
    for (r, found) in rows {
        match found {
            Ok(f) => println!("{:<13} {:<9} {:<10} {}", r.name(), f.version, f.source, f.path.display()),
            Err(Missing::NotFound { .. }) => println!("{:<13} {:<9} {:<10} not found (install {}, or set {})", r.name(), "-", "-", r.interpreter(), r.variable()),
            Err(m) => println!("{:<13} {:<9} {:<10} {}", r.name(), "-", "error", m.message()),
        }
    }
    Ok(())
}

fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    // Before anything touches the directory: a second nimbus on it leaves at once
    // instead of waiting on SQLite's locks. Held (open) until the process ends.
    let _lock = if args.in_memory { None } else { Some(lock_data_dir(&args.data_dir)?) };
    let interpreters = explicit_interpreters(&args.runtimes, args.runtimes_file.as_deref())?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log_level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    if let Some(bundle) = &args.ca_bundle {
        let n = nimbus_core::outbound_tls::trust_ca_bundle(bundle)?;
        tracing::info!(certificates = n, bundle = %bundle.display(), "extra trusted root certificates for outbound TLS");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let clock = Clock::new();
        let stores = open_stores(&args)?;
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let local = listener.local_addr()?;
        let mut router = Router::new(clock.clone(), args.clock_control);
        // X-Ray: the trace store every hop records into (installed as core's recorder
        // before any service runs), optionally exported over OTLP.
        let otlp = args.otlp_endpoint.as_deref().map(nimbus_xray::otlp::Exporter::parse).transpose()?;
        let xray = Arc::new(nimbus_xray::XrayService::new(stores.xray, clock.clone(), otlp));
        nimbus_core::trace::install(xray.sink());
        router.register(xray.clone());
        let xray_daemon = start_xray_daemon(&args.xray_daemon_address, &xray).await?;
        let sqs = Arc::new(nimbus_sqs::SqsService::new(clock.clone(), stores.sqs)?);
        router.register(sqs.clone());
        // Also the `LogSink` other services (Lambda) write through.
        let logs = Arc::new(nimbus_logs::LogsService::new(clock.clone(), stores.logs)?);
        router.register(logs.clone());
        let lambda_dir = if args.in_memory {
            sweep_dead_temp_dirs();
            temp_dir_of(std::process::id()).join("lambda")
        } else {
            args.data_dir.join("lambda")
        };
        let iam = nimbus_iam::Iam::open(clock.clone(), stores.iam).map_err(|e| format!("iam: {e:?}"))?;
        // Trust policies are checked when enforcing policies (`--auth iam`).
        iam.set_enforcing(args.auth == AuthMode::Iam);
        // The root key pair, then IAM's access keys and STS's temporary credentials.
        let others = root_keys::parse(&args.root_keys)?;
        let credentials = Arc::new(RootKeys::new((&args.root_access_key_id, &args.root_secret_access_key), others, Arc::new(IamKeys(iam.clone())))?);
        if credentials.accounts() > 1 {
            tracing::info!(accounts = credentials.accounts(), "root key pairs of several accounts (NIMBUS_ROOT_KEYS)");
        }
        router.set_auth(Authenticator::new(args.auth, credentials.clone()));
        if args.auth == AuthMode::Iam {
            router.set_authorizer(iam.clone());
        }
        let dynamodb = Arc::new(nimbus_dynamodb::DynamoDbService::new(clock.clone(), stores.dynamodb)?);
        let streams = Arc::new(dynamodb.streams());
        let lambda = Arc::new(nimbus_lambda::LambdaService::new(
            nimbus_lambda::LambdaConfig {
                data_dir: lambda_dir,
                endpoint_url: format!("http://{local}"),
                account_concurrency: args.lambda_concurrency,
                idle_timeout: std::time::Duration::from_secs(args.lambda_idle_seconds),
                interpreters,
            },
            clock.clone(),
            stores.lambda,
            logs.clone(),
            sqs.clone(),
            sqs.clone(),
            streams.clone(),
            iam.clone(),
        )?);
        router.register(lambda.clone());
        if let Some(udp) = xray_daemon {
            lambda.set_xray_daemon_address(udp);
        }
        // CloudWatch Logs' subscription filters deliver to functions (`EventInvoker`).
        logs.set_event_invoker(lambda.clone());
        // Under `--auth iam`, the function's policy must allow CloudWatch Logs.
        logs.set_grants(iam.clone());
        iam.add_resource_policies("sqs", sqs.clone());
        iam.add_resource_policies("lambda", lambda.clone());
        iam.add_resource_policies("dynamodb", dynamodb.clone());
        iam.add_resource_policies("logs", logs.clone());
        router.register(Arc::new(nimbus_iam::IamService::new(iam.clone())));
        router.register(Arc::new(nimbus_iam::StsService::new(iam.clone())));
        router.register(streams);
        router.register(dynamodb.clone());
        // API Gateway v2: the control plane, and the execute-api data plane invoking
        // Lambda proxy integrations through `FunctionInvoker`, SQS integrations through
        // `QueueSender`, and writing stage access logs through `LogSink`.
        let apis = Arc::new(nimbus_apigateway::registry::Registry::open(stores.apigateway).map_err(|e| format!("apigateway: {e}"))?);
        router.register(Arc::new(nimbus_apigateway::ApiGatewayService::new(apis.clone(), clock.clone())));
        // SNS: deliveries to SQS through `QueueSender` and to Lambda through `EventInvoker`;
        // Lambda's destinations on topics publish through it (`TopicPublisher`).
        let sns = Arc::new(nimbus_sns::SnsService::open(stores.sns, clock.clone(), format!("http://{local}"), (!args.in_memory).then(|| args.data_dir.join("sns")), sqs.clone(), lambda.clone()).map_err(|e| format!("sns: {e}"))?);
        lambda.set_topic_publisher(sns.clone());
        // Deliveries need the subscriber's resource policy to allow SNS (`--auth iam`).
        sns.set_grants(iam.clone());
        iam.add_resource_policies("sns", sns.clone());
        router.add_data_plane(nimbus_sns::data_plane::PREFIX, Arc::new(nimbus_sns::data_plane::SnsPlane(sns.sns.clone())));
        router.register(sns.clone());
        // EventBridge: targets reached through SQS (`QueueSender`), Lambda's
        // asynchronous invoke (`EventInvoker`), CloudWatch Logs (`LogSink`) and SNS
        // (`TopicPublisher`).
        let events_targets = nimbus_events::Targets { queues: sqs.clone(), functions: lambda.clone(), logs: logs.clone(), topics: Some(sns.clone()), grants: iam.clone() };
        let events = Arc::new(nimbus_events::EventsService::new(clock.clone(), stores.events, events_targets).map_err(|e| format!("events: {e}"))?);
        router.register(events.clone());
        if args.cloudtrail_events {
            router.set_api_call_recorder(events.clone());
        }
        // Lambda's destinations on event buses put events through it (`EventPublisher`).
        lambda.set_event_publisher(events.clone());
        // KMS: keys sealed under `<data>/kms/master.key`; other services encrypt through
        // it as `KeyService` (`kms` below).
        let kms = Arc::new(nimbus_kms::KmsService::open(stores.kms, (!args.in_memory).then(|| args.data_dir.join("kms")), clock.clone()).map_err(|e| format!("kms: {e}"))?);
        router.register(kms.clone());
        // Under `--auth iam`, key policies and tags, and the key an alias or blob names.
        iam.add_resource_policies("kms", kms.clone());
        // Secrets Manager and SSM (SecureString) take this `KeyService`.
        let key_service: Arc<dyn nimbus_core::internal::KeyService> = kms;
        // SSM Parameter Store: values in `ssm.db`, SecureString through `KeyService`.
        router.register(Arc::new(nimbus_ssm::SsmService::new(stores.ssm, key_service.clone(), clock.clone())));
        // Secrets Manager: values encrypted through KMS (`KeyService`), rotation functions
        // run through Lambda (`FunctionInvoker`).
        let secrets = Arc::new(nimbus_secretsmanager::SecretsManagerService::open(stores.secretsmanager, key_service.clone(), lambda.clone(), clock.clone()).map_err(|e| format!("secretsmanager: {e}"))?);
        router.register(secrets.clone());
        // CloudWatch metrics: datapoints in `cloudwatch.db`, read back per query.
        let cloudwatch = Arc::new(nimbus_cloudwatch::CloudWatchService::new(stores.cloudwatch, clock.clone()));
        router.register(cloudwatch.clone());
        // Alarm actions: SNS topics (`TopicPublisher`), Lambda functions (`EventInvoker`);
        // state changes go to the default event bus (`EventPublisher`).
        cloudwatch.set_topic_publisher(sns.clone());
        cloudwatch.set_event_invoker(lambda.clone());
        cloudwatch.set_event_publisher(events.clone());
        // Under `--auth iam`, a Lambda action needs the function's policy to allow CloudWatch alarms.
        cloudwatch.set_grants(iam.clone());
        // CloudWatch Logs' metric filters put their datapoints here (`MetricSink`).
        logs.set_metric_sink(cloudwatch.clone());
        // The standard metrics of the services (AWS/Lambda, AWS/SQS, AWS/DynamoDB, …):
        // recorded into core's in-memory aggregator, flushed to CloudWatch as per-minute
        // statistic sets every few seconds of the clock (`nimbus_core::metrics`).
        let metrics = (!args.no_service_metrics).then(|| nimbus_core::metrics::MetricsHub::start(clock.clone(), cloudwatch.clone()));
        if let Some(metrics) = &metrics {
            // Alarms drain it before evaluating, so a period's last datapoints count.
            cloudwatch.set_metrics_hub(metrics.clone());
            sqs.set_metrics(metrics.clone());
            lambda.set_metrics(metrics.clone());
            dynamodb.set_metrics(metrics.clone());
            sns.set_metrics(metrics.clone());
            events.set_metrics(metrics.clone());
        }
        // S3 (REST-XML): buckets and objects. Metadata in `s3.db` (in-memory SQLite with
        // `--in-memory`), object bytes under `<data-dir>/s3/` (with `--in-memory`: the temp
        // dir removed at exit). Object events go to SQS (`QueueSender`), Lambda
        // (`EventInvoker`), SNS (`TopicPublisher`) and EventBridge (`EventPublisher`);
        // Lambda reads `Code.S3Bucket` packages through it (`ObjectReader`).
        let s3_blobs = if args.in_memory { temp_dir_of(std::process::id()).join("s3") } else { args.data_dir.join("s3") };
        let s3 = Arc::new(nimbus_s3::S3Service::open(stores.s3, &s3_blobs, args.fsync, clock.clone()).map_err(|e| format!("s3: {e}"))?);
        s3.set_destinations(nimbus_s3::notify::Destinations { queues: sqs.clone(), functions: lambda.clone(), topics: sns.clone(), events: events.clone(), grants: iam.clone() });
        lambda.set_object_reader(s3.clone());
        // Notification configurations loaded, the lifecycle timer started on the clock.
        s3.start_events();
        // Under `--auth iam`, bucket policies and bucket owners.
        iam.add_resource_policies("s3", s3.clone());
        router.register(s3);
        iam.add_resource_policies("secretsmanager", secrets);
        // Kinesis Data Streams: records in `kinesis.db`.
        let durability = if args.fsync { nimbus_core::storage::Durability::Fsync } else { nimbus_core::storage::Durability::Process };
        let db_path = |name: &str| (!args.in_memory).then(|| args.data_dir.join(name));
        let kinesis = Arc::new(nimbus_kinesis::KinesisService::open(db_path("kinesis.db").as_deref(), durability, clock.clone()).map_err(|e| format!("kinesis: {e}"))?);
        kinesis.set_key_service(key_service.clone());
        kinesis.set_throughput_limits(!args.kinesis_no_throughput_limits);
        router.register(kinesis.clone());
        // Stream and consumer resource policies, stream tags, consumer ARNs (`--auth iam`).
        iam.add_resource_policies("kinesis", kinesis.clone());
        // Lambda's event source mappings read Kinesis (`StreamSource`); DynamoDB's streaming
        // destinations, Logs subscription filters and EventBridge targets write to it (`RecordSink`).
        lambda.set_kinesis_source(kinesis.clone());
        dynamodb.set_record_sink(kinesis.clone());
        logs.set_record_sink(kinesis.clone());
        events.set_record_sink(kinesis.clone());
        // Step Functions: state machines and STANDARD executions in `stepfunctions.db`;
        // Task states call the other services in-process (`ServiceCaller`, set below once
        // every service is registered).
        let stepfunctions = Arc::new(nimbus_stepfunctions::StepFunctionsService::open(db_path("stepfunctions.db").as_deref(), durability, clock.clone()).map_err(|e| format!("stepfunctions: {e}"))?);
        // Executions' events to CloudWatch Logs (`loggingConfiguration`).
        stepfunctions.set_log_sink(logs.clone());
        router.register(stepfunctions.clone());
        // State machine and activity tags as `aws:ResourceTag/<key>` (`--auth iam`).
        iam.add_resource_policies("states", stepfunctions.clone());
        let execute_api = nimbus_apigateway::ExecuteApi::new(apis, lambda.clone(), sqs.clone(), events, logs.clone(), clock.clone());
        // AWS_IAM routes: a SigV4 signature from a key nimbus knows, whatever `--auth` is;
        // under `--auth iam` also `execute-api:Invoke` through IAM's policy evaluation.
        let invoke_policies: Option<Arc<dyn nimbus_core::internal::Authorizer>> = (args.auth == AuthMode::Iam).then(|| iam.clone() as Arc<dyn nimbus_core::internal::Authorizer>);
        execute_api.authorizers().set_iam(Arc::new(Authenticator::new(AuthMode::SigV4, credentials)), invoke_policies);
        if let Some(metrics) = &metrics {
            execute_api.set_metrics(metrics.clone());
        }
        let execute_api = Arc::new(execute_api);
        router.add_data_plane(nimbus_apigateway::data_plane::PREFIX, execute_api.clone());
        let execute_api_plane: Arc<dyn nimbus_core::data_plane::DataPlane> = execute_api.clone();
        router.add_host_data_plane(nimbus_apigateway::data_plane::HOST_SUFFIX, execute_api);
        // Step Functions' Task states call every service registered above: keep this after
        // the last `router.register`.
        // Under `--auth iam` a Task's call is authorized as the state machine's role.
        let in_process = nimbus_core::in_process::InProcessServices::new(router.services());
        let in_process = if args.auth == AuthMode::Iam { in_process.with_authorizer(iam.clone()) } else { in_process };
        stepfunctions.set_service_caller(Arc::new(in_process));
        // Task states' integrations (Lambda, DynamoDB, SQS, SNS, EventBridge, nested
        // executions, API Gateway, aws-sdk:*) over those services; `.sync` waits through
        // the engine; `apigateway:invoke` calls the execute-api endpoint in process.
        if let Some(caller) = stepfunctions.service_caller() {
            let integrations = Arc::new(nimbus_stepfunctions::tasks::Integrations::new(caller, clock.clone()));
            integrations.set_watcher(stepfunctions.execution_watcher());
            integrations.set_execute_api(execute_api_plane);
            stepfunctions.set_task_runner(integrations);
        }
        // STANDARD executions stored as running (a restart, a crash) go on from their
        // checkpoints: keep this after the task runner is set.
        stepfunctions.resume_executions();
        // The web console reads every service registered above: keep this after the last
        // `router.register`.
        router.add_data_plane(nimbus_console::PREFIX, Arc::new(nimbus_console::Console::new(router.services())));
        tracing::info!(listen = %local, data_dir = %args.data_dir.display(), in_memory = args.in_memory, auth = args.auth.as_str(), "nimbus ready");
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = tx.send(true);
        });
        serve(listener, Arc::new(router), rx).await?;
        lambda.shutdown();
        // Segments still queued for the trace store are written.
        xray.flush().await;
        if args.in_memory {
            let _ = std::fs::remove_dir_all(temp_dir_of(std::process::id()));
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Dropping the runtime dropped the services and their storage writers, which
    // checkpoint and close.
    tracing::info!("stopped");
    Ok(())
}

/// Binds the X-Ray daemon's UDP socket (`--xray-daemon-address`). The default address
/// being taken (another nimbus, a real daemon) is logged, not fatal; an address given
/// explicitly must bind.
async fn start_xray_daemon(flag: &str, xray: &nimbus_xray::XrayService) -> Result<Option<SocketAddr>, Box<dyn std::error::Error>> {
    if matches!(flag, "off" | "0" | "") {
        return Ok(None);
    }
    let addr: SocketAddr = flag.parse().map_err(|_| format!("--xray-daemon-address: {flag} is not an address (host:port, or off)"))?;
    match xray.start_daemon(addr).await {
        Ok(bound) => {
            tracing::info!(address = %bound, "X-Ray daemon socket (UDP)");
            Ok(Some(bound))
        }
        Err(e) if std::env::var_os("NIMBUS_XRAY_DAEMON_ADDRESS").is_none() && flag == "127.0.0.1:2000" => {
            tracing::warn!(error = %e, "X-Ray daemon socket 127.0.0.1:2000 not available; segments from function SDKs will not reach nimbus (set --xray-daemon-address)");
            Ok(None)
        }
        Err(e) => Err(format!("--xray-daemon-address {addr}: {e}").into()),
    }
}

/// Where an `--in-memory` server keeps Lambda code: `<tmp>/nimbus-<pid>`.
fn temp_dir_of(pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("nimbus-{pid}"))
}

/// Removes the temp dirs of `--in-memory` servers that no longer run (killed servers
/// never remove theirs: test suites left hundreds behind). Linux only (`/proc`); a PID
/// that was reused keeps its dir, which is harmless.
fn sweep_dead_temp_dirs() {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("nimbus-")).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Takes `<data dir>/nimbus.pid`'s exclusive lock (flock: released by the kernel however
/// the process ends, `kill -9` included) and writes this process's PID into it. If another
/// process holds it, the error names that process's PID (read from the file).
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    use std::io::{Read, Seek, Write};
    let shown = || std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).display().to_string();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    let path = dir.join("nimbus.pid");
    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!("another nimbus (PID {pid})"),
                Err(_) => "another nimbus (PID unknown)".to_string(),
            };
            return Err(format!(
                "{holder} holds the data directory {}: stop it, or give this one another --data-dir (or --in-memory)",
                shown()
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
    }
    let written = file.set_len(0).and_then(|_| file.rewind()).and_then(|_| writeln!(file, "{}", std::process::id())).and_then(|_| file.flush());
    written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(file)
}

struct Stores {
    sqs: Arc<dyn SqsStore>,
    logs: Arc<dyn nimbus_logs::store::LogsStore>,
    lambda: Arc<dyn nimbus_lambda::store::LambdaStore>,
    dynamodb: Arc<dyn nimbus_dynamodb::store::DdbStore>,
    iam: Arc<dyn DocStore>,
    apigateway: Arc<dyn DocStore>,
    events: Arc<dyn DocStore>,
    sns: Arc<dyn DocStore>,
    kms: Arc<dyn DocStore>,
    ssm: nimbus_ssm::store::Store,
    secretsmanager: Arc<dyn nimbus_secretsmanager::store::SecretStore>,
    s3: nimbus_s3::store::Store,
    cloudwatch: nimbus_cloudwatch::store::Store,
    xray: nimbus_xray::store::Store,
}

type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Opens every service's storage and parses the service models, in parallel: creating a
/// database waits on the disk and the models are large JSON documents, and neither
/// depends on the other. (Start-up time is a product feature: tests start nimbus often.)
fn open_stores(args: &ServeArgs) -> Result<Stores, Box<dyn std::error::Error>> {
    let durability = if args.fsync { Durability::Fsync } else { Durability::Process };
    let dir = &args.data_dir;
    let in_memory = args.in_memory;
    let result: Result<Stores, StartError> = std::thread::scope(|s| {
        s.spawn(|| nimbus_sqs::service::model());
        s.spawn(|| nimbus_logs::service::model());
        s.spawn(|| nimbus_apigateway::service::model());
        s.spawn(|| nimbus_events::service::model());
        s.spawn(|| nimbus_sns::service::model());
        s.spawn(|| nimbus_kms::service::model());
        s.spawn(|| nimbus_ssm::service::model());
        s.spawn(|| nimbus_secretsmanager::service::model());
        s.spawn(|| nimbus_lambda::service::model());
        s.spawn(|| nimbus_s3::service::model());
        s.spawn(|| nimbus_cloudwatch::service::model());
        s.spawn(|| nimbus_xray::service::model());
        s.spawn(|| nimbus_kinesis::service::model());
        s.spawn(|| nimbus_stepfunctions::service::model());
        s.spawn(|| (nimbus_dynamodb::service::model(), nimbus_dynamodb::service::streams_model()));
        let sqs = s.spawn(move || -> Result<Arc<dyn SqsStore>, StartError> {
            Ok(if in_memory { Arc::new(MemoryStore) } else { Arc::new(SqliteStore::open(&dir.join("sqs.db"), durability)?) })
        });
        let logs = s.spawn(move || -> Result<Arc<dyn nimbus_logs::store::LogsStore>, StartError> {
            Ok(if in_memory {
                Arc::new(nimbus_logs::store::MemoryStore::new())
            } else {
                Arc::new(nimbus_logs::store::SqliteStore::open(&dir.join("logs.db"), durability)?)
            })
        });
        let lambda = s.spawn(move || -> Result<Arc<dyn nimbus_lambda::store::LambdaStore>, StartError> {
            Ok(if in_memory {
                Arc::new(nimbus_lambda::store::MemoryStore)
            } else {
                Arc::new(nimbus_lambda::store::SqliteStore::open(&dir.join("lambda.db"), durability)?)
            })
        });
        let dynamodb = s.spawn(move || -> Result<Arc<dyn nimbus_dynamodb::store::DdbStore>, StartError> {
            Ok(if in_memory {
                Arc::new(nimbus_dynamodb::store::MemoryStore)
            } else {
                Arc::new(nimbus_dynamodb::store::SqliteStore::open(&dir.join("dynamodb.db"), durability)?)
            })
        });
        let iam = s.spawn(move || -> Result<Arc<dyn DocStore>, StartError> {
            Ok(if in_memory {
                Arc::new(MemoryDocs)
            } else {
                Arc::new(SqliteDocs::open(&dir.join("iam.db"), durability, nimbus_iam::store::TABLE, "iam")?)
            })
        });
        let apigateway = s.spawn(move || -> Result<Arc<dyn DocStore>, StartError> {
            Ok(if in_memory {
                Arc::new(MemoryDocs)
            } else {
                Arc::new(SqliteDocs::open(&dir.join("apigateway.db"), durability, nimbus_apigateway::store::TABLE, "apigateway")?)
            })
        });
        let events = s.spawn(move || -> Result<Arc<dyn DocStore>, StartError> {
            Ok(if in_memory { Arc::new(MemoryDocs) } else { Arc::new(SqliteDocs::open(&dir.join("events.db"), durability, nimbus_events::store::TABLE, "events")?) })
        });
        let sns = s.spawn(move || -> Result<Arc<dyn DocStore>, StartError> {
            Ok(if in_memory { Arc::new(MemoryDocs) } else { Arc::new(SqliteDocs::open(&dir.join("sns.db"), durability, nimbus_sns::store::TABLE, "sns")?) })
        });
        let kms = s.spawn(move || -> Result<Arc<dyn DocStore>, StartError> {
            Ok(if in_memory { Arc::new(MemoryDocs) } else { Arc::new(SqliteDocs::open(&dir.join("kms.db"), durability, nimbus_kms::store::TABLE, "kms")?) })
        });
        let ssm = s.spawn(move || -> Result<nimbus_ssm::store::Store, StartError> {
            Ok(nimbus_ssm::store::Store::open((!in_memory).then(|| dir.join("ssm.db")).as_deref(), durability)?)
        });
        let secretsmanager = s.spawn(move || -> Result<Arc<dyn nimbus_secretsmanager::store::SecretStore>, StartError> {
            Ok(if in_memory {
                Arc::new(nimbus_secretsmanager::store::MemoryStore::default())
            } else {
                Arc::new(nimbus_secretsmanager::store::SqliteStore::open(&dir.join("secretsmanager.db"), durability)?)
            })
        });
        let s3 = s.spawn(move || -> Result<nimbus_s3::store::Store, StartError> {
            Ok(nimbus_s3::store::Store::open((!in_memory).then(|| dir.join("s3.db")).as_deref(), durability)?)
        });
        let cloudwatch = s.spawn(move || -> Result<nimbus_cloudwatch::store::Store, StartError> {
            Ok(nimbus_cloudwatch::store::Store::open((!in_memory).then(|| dir.join("cloudwatch.db")).as_deref(), durability)?)
        });
        let xray = s.spawn(move || -> Result<nimbus_xray::store::Store, StartError> {
            Ok(nimbus_xray::store::Store::open((!in_memory).then(|| dir.join("xray.db")).as_deref(), durability)?)
        });
        Ok(Stores {
            sqs: joined(sqs.join())?,
            logs: joined(logs.join())?,
            lambda: joined(lambda.join())?,
            dynamodb: joined(dynamodb.join())?,
            iam: joined(iam.join())?,
            apigateway: joined(apigateway.join())?,
            events: joined(events.join())?,
            sns: joined(sns.join())?,
            kms: joined(kms.join())?,
            ssm: joined(ssm.join())?,
            secretsmanager: joined(secretsmanager.join())?,
            s3: joined(s3.join())?,
            cloudwatch: joined(cloudwatch.join())?,
            xray: joined(xray.join())?,
        })
    });
    result.map_err(|e| e as Box<dyn std::error::Error>)
}

fn joined<T>(r: std::thread::Result<Result<T, StartError>>) -> Result<T, StartError> {
    r.unwrap_or_else(|_| Err(StartError::from("storage start-up panicked")))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
