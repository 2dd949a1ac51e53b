//! Test harness for nimbus' black-box integration tests.
//!
//! [`Nimbus::start`] launches the server binary as a child process on a free
//! loopback port with a fresh temporary data directory, waits for
//! `GET /_nimbus/health` to answer 200, and hands out AWS SDK clients pointed
//! at it. Dropping the handle kills the child.
//!
//! Environment:
//! - `NIMBUS_BIN`: path of the server binary (default
//!   `<workspace root>/target/debug/nimbus`).
//! - `NIMBUS_ENDPOINT`: use an already running server (e.g. moto, for
//!   debugging the tests themselves) instead of spawning one. Crash tests
//!   (which need to kill the process) skip themselves in that mode.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Region};
use aws_smithy_http_client::Builder as HttpClientBuilder;

pub use aws_sdk_apigatewaymanagement;
pub use aws_sdk_cloudwatchlogs;
pub use aws_sdk_dynamodb;
pub use aws_sdk_dynamodbstreams;
pub use aws_sdk_lambda;

pub mod esm;
pub mod lambda;
pub use aws_sdk_sqs;
pub use aws_sdk_sts;

/// Access key the default clients sign with. Not 12 digits, so nimbus maps it
/// to the default account `000000000000`.
pub const DEFAULT_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const DEFAULT_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const DEFAULT_REGION: &str = "us-east-1";
/// Account that nimbus assigns to non-numeric access key ids.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// The account the default access key maps to: `000000000000`, or
/// `NIMBUS_TEST_DEFAULT_ACCOUNT` (e.g. `123456789012` when debugging the
/// tests against moto).
pub fn default_account() -> String {
    std::env::var("NIMBUS_TEST_DEFAULT_ACCOUNT").unwrap_or_else(|_| DEFAULT_ACCOUNT.to_string())
}

const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// A running nimbus server (or an external endpoint).
pub struct Nimbus {
    endpoint: String,
    port: u16,
    child: Option<Child>,
    /// Parent temp dir: holds `data/` (the server's data dir) and `nimbus.log`.
    workdir: Option<tempfile::TempDir>,
    in_memory: bool,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
    external: bool,
    restarts: u32,
}

/// Options for [`Nimbus::start_with`].
#[derive(Default, Clone, Debug)]
pub struct StartOptions {
    pub in_memory: bool,
    /// Extra CLI arguments appended after the standard ones.
    pub extra_args: Vec<String>,
    /// Extra environment variables for the server process.
    pub env: Vec<(String, String)>,
}

impl Nimbus {
    /// Start a server with a fresh on-disk data directory.
    pub fn start() -> Nimbus {
        Self::start_with(StartOptions::default())
    }

    /// Start a server with `--in-memory` (no data dir).
    pub fn start_in_memory() -> Nimbus {
        Self::start_with(StartOptions { in_memory: true, ..Default::default() })
    }

    pub fn start_with(opts: StartOptions) -> Nimbus {
        Self::try_start_with(opts).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Nimbus::start_with`] but returns an error (with the server log)
    /// instead of panicking, e.g. to probe for an optional CLI flag.
    pub fn try_start_with(opts: StartOptions) -> Result<Nimbus, String> {
        if let Ok(ep) = std::env::var("NIMBUS_ENDPOINT") {
            let ep = ep.trim_end_matches('/').to_string();
            let port = ep.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(80);
            return Ok(Nimbus {
                endpoint: ep,
                port,
                child: None,
                workdir: None,
                in_memory: opts.in_memory,
                extra_args: opts.extra_args,
                env: opts.env,
                external: true,
                restarts: 0,
            });
        }
        let workdir = tempfile::Builder::new().prefix("nimbus-test-").tempdir().expect("create tempdir");
        std::fs::create_dir_all(workdir.path().join("data")).expect("create data dir");
        let mut n = Nimbus {
            endpoint: String::new(),
            port: 0,
            child: None,
            workdir: Some(workdir),
            in_memory: opts.in_memory,
            extra_args: opts.extra_args,
            env: opts.env,
            external: false,
            restarts: 0,
        };
        // A free port picked by binding :0 can in theory be taken by someone
        // else before the server binds it; retry a few times on early exit.
        let mut last_err = String::new();
        for _ in 0..3 {
            n.port = free_port();
            n.endpoint = format!("http://127.0.0.1:{}", n.port);
            match n.spawn_and_wait() {
                Ok(()) => return Ok(n),
                Err(e) => last_err = e,
            }
        }
        Err(format!("could not start nimbus: {last_err}\n--- server log ---\n{}", n.log_tail(8000)))
    }

    /// A server whose clock can be moved with [`Nimbus::advance_clock`]. The
    /// flags come from `NIMBUS_CLOCK_ARGS` (default `--clock-control`); if the
    /// server rejects them, a plain server is started instead (and the clock
    /// endpoint will then answer 404 if it is not enabled by default).
    pub fn start_with_clock_control() -> Nimbus {
        let args = std::env::var("NIMBUS_CLOCK_ARGS").unwrap_or_else(|_| "--clock-control".to_string());
        let extra_args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
        match Self::try_start_with(StartOptions { in_memory: false, extra_args, ..Default::default() }) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("server rejected clock flags {args:?}; starting without them:\n{e}");
                Self::start()
            }
        }
    }

    /// True when talking to an external `NIMBUS_ENDPOINT` (no process control).
    pub fn is_external(&self) -> bool {
        self.external
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data directory (None when external or in-memory).
    pub fn data_dir(&self) -> Option<PathBuf> {
        if self.in_memory {
            return None;
        }
        self.workdir.as_ref().map(|w| w.path().join("data"))
    }

    fn log_path(&self) -> Option<PathBuf> {
        self.workdir.as_ref().map(|w| w.path().join("nimbus.log"))
    }

    /// Last `max` bytes of the server's stdout/stderr (all runs appended).
    pub fn log_tail(&self, max: usize) -> String {
        let Some(p) = self.log_path() else { return String::from("(external server: no log)") };
        let data = std::fs::read(&p).unwrap_or_default();
        let start = data.len().saturating_sub(max);
        String::from_utf8_lossy(&data[start..]).into_owned()
    }

    /// The server binary the harness starts (`NIMBUS_BIN`, else `target/debug/nimbus`).
    pub fn binary() -> PathBuf {
        if let Ok(b) = std::env::var("NIMBUS_BIN") {
            return PathBuf::from(b);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        root.join("target").join("debug").join("nimbus")
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let bin = Self::binary();
        if !bin.exists() {
            return Err(format!(
                "nimbus binary not found at {} (build it with `cargo build -p nimbus`, or set NIMBUS_BIN / NIMBUS_ENDPOINT)",
                bin.display()
            ));
        }
        let log_path = self.log_path().expect("workdir");
        let log = File::options().create(true).append(true).open(&log_path).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve").arg("--listen").arg(format!("127.0.0.1:{}", self.port));
        if self.in_memory {
            cmd.arg("--in-memory");
        } else {
            cmd.arg("--data-dir").arg(self.data_dir().expect("data dir"));
        }
        cmd.args(&self.extra_args);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log2));
        let child = cmd.spawn().map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        self.child = Some(child);
        self.wait_healthy()
    }

    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + HEALTH_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("nimbus exited during startup with {status}"));
                }
            }
            if let Ok((200, _)) = http_request(&self.endpoint, "GET", "/_nimbus/health", None) {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill_child();
                return Err(format!("nimbus did not become healthy on {} within {:?}", self.endpoint, HEALTH_TIMEOUT));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill_child(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL on unix
            let _ = c.wait();
        }
    }

    /// SIGKILL the server (no graceful shutdown) and reap it.
    pub fn kill9(&mut self) {
        assert!(!self.external, "kill9 needs a spawned server");
        let mut c = self.child.take().expect("server is not running");
        c.kill().expect("SIGKILL nimbus");
        c.wait().expect("reap nimbus");
    }

    /// Start the server again on the same port and data directory.
    /// Restarts on the same data directory with other extra arguments (e.g. set up in
    /// the open mode, then enforce).
    pub fn restart_with_args(&mut self, extra_args: Vec<String>) {
        self.extra_args = extra_args;
        self.restart();
    }

    pub fn restart(&mut self) {
        assert!(!self.external, "restart needs a spawned server");
        self.kill_child();
        self.restarts += 1;
        {
            let log_path = self.log_path().expect("workdir");
            if let Ok(mut f) = File::options().create(true).append(true).open(log_path) {
                let _ = writeln!(f, "\n===== nimbus-tests: restart #{} =====", self.restarts);
            }
        }
        // The old listener is gone with the process; the port may still be
        // briefly unavailable, so retry the same port, then fall back to a new one.
        let mut last_err = String::new();
        for attempt in 0..4 {
            if attempt == 3 {
                self.port = free_port();
                self.endpoint = format!("http://127.0.0.1:{}", self.port);
            }
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(e) => {
                    last_err = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        panic!("could not restart nimbus: {last_err}\n--- server log ---\n{}", self.log_tail(8000));
    }

    /// Send a raw HTTP request to the server (blocking; short requests only).
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        http_request(&self.endpoint, method, path, body)
    }

    /// `POST /_nimbus/clock/advance?seconds=N`. Returns the HTTP status.
    pub fn advance_clock(&self, seconds: u64) -> u16 {
        let (status, body) = self
            .http("POST", &format!("/_nimbus/clock/advance?seconds={seconds}"), Some(""))
            .expect("clock advance request");
        if status != 200 && status != 204 && status != 404 {
            panic!("clock advance returned {status}: {body}");
        }
        status
    }

    /// SQS client for the default test identity and region.
    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        self.sqs_client_for(DEFAULT_ACCESS_KEY, DEFAULT_REGION)
    }

    /// SQS client signing with `access_key` in `region`.
    pub fn sqs_client_for(&self, access_key: &str, region: &str) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            // No SDK retries: a retried request could hide a server error or
            // double-apply a send. Tests must see exactly what nimbus answered.
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    /// CloudWatch Logs client for the default test identity and region.
    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_cloudwatchlogs::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    /// EventBridge client for the default test identity and region.
    pub fn events_client(&self) -> aws_sdk_eventbridge::Client {
        let conf = aws_sdk_eventbridge::Config::builder()
            .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_eventbridge::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_eventbridge::Client::from_conf(conf)
    }

    /// Secrets Manager client for the default test identity and region.
    pub fn secretsmanager_client(&self) -> aws_sdk_secretsmanager::Client {
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_secretsmanager::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_secretsmanager::Client::from_conf(conf)
    }

    /// S3 client for the default test identity and region, path-style
    /// (`http://localhost:<port>/<bucket>/<key>`: `<bucket>.localhost` may not resolve here).
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        self.s3_client_for(DEFAULT_ACCESS_KEY, DEFAULT_REGION)
    }

    /// S3 client signing with `access_key` (a 12-digit key names its account) in `region`.
    pub fn s3_client_for(&self, access_key: &str, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_s3::config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// KMS client for the default test identity and region.
    pub fn kms_client(&self) -> aws_sdk_kms::Client {
        self.kms_client_for(DEFAULT_ACCESS_KEY, DEFAULT_REGION)
    }

    /// KMS client signing with `access_key` (a 12-digit key names its account) in `region`.
    pub fn kms_client_for(&self, access_key: &str, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_kms::config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// SSM client for the default test identity and region.
    pub fn ssm_client(&self) -> aws_sdk_ssm::Client {
        self.ssm_client_for(DEFAULT_ACCESS_KEY, DEFAULT_REGION)
    }

    /// SSM client signing with `access_key` (a 12-digit key names its account) in `region`.
    pub fn ssm_client_for(&self, access_key: &str, region: &str) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_ssm::config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    /// CloudWatch client for the default test identity and region (the SDK speaks Smithy
    /// RPC v2 CBOR to CloudWatch).
    pub fn cloudwatch_client(&self) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_cloudwatch::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    /// X-Ray client for the default test identity and region.
    pub fn xray_client(&self) -> aws_sdk_xray::Client {
        let conf = aws_sdk_xray::Config::builder()
            .behavior_version(aws_sdk_xray::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_xray::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_xray::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_xray::Client::from_conf(conf)
    }

    /// Lambda client for the default test identity and region.
    pub fn lambda_client(&self) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_lambda::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    /// SNS client for the default test identity and region.
    pub fn sns_client(&self) -> aws_sdk_sns::Client {
        let conf = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_sns::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sns::Client::from_conf(conf)
    }

    /// API Gateway v2 client for the default test identity and region.
    pub fn apigateway_client(&self) -> aws_sdk_apigatewayv2::Client {
        let conf = aws_sdk_apigatewayv2::Config::builder()
            .behavior_version(aws_sdk_apigatewayv2::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_apigatewayv2::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_apigatewayv2::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_apigatewayv2::Client::from_conf(conf)
    }

    /// API Gateway management API (`@connections`) client for `endpoint_url` (an API's
    /// endpoint with its stage), optionally with an interceptor (e.g. one that rewrites
    /// the host form's URI to nimbus's address).
    pub fn apigateway_management_client(
        &self,
        endpoint_url: &str,
        interceptor: Option<aws_sdk_apigatewaymanagement::config::SharedInterceptor>,
    ) -> aws_sdk_apigatewaymanagement::Client {
        let mut conf = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_apigatewaymanagement::config::Region::new(DEFAULT_REGION))
            .endpoint_url(endpoint_url)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_apigatewaymanagement::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts());
        if let Some(i) = interceptor {
            conf.push_interceptor(i);
        }
        aws_sdk_apigatewaymanagement::Client::from_conf(conf.build())
    }

    /// DynamoDB client for the default test identity and region.
    pub fn dynamodb_client(&self) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_dynamodb::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// DynamoDB Streams client for the default test identity and region.
    pub fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        let conf = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_dynamodbstreams::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_dynamodbstreams::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_dynamodbstreams::Client::from_conf(conf)
    }

    pub fn sts_client(&self) -> aws_sdk_sts::Client {
        self.sts_client_for(DEFAULT_ACCESS_KEY, DEFAULT_REGION)
    }

    pub fn sts_client_for(&self, access_key: &str, region: &str) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
            .region(aws_sdk_sts::config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }
}

/// Clients signing with explicit credentials (key, secret, optional session token), for
/// the authentication tests.
pub struct Signer<'a> {
    pub access_key: &'a str,
    pub secret: &'a str,
    pub session_token: Option<&'a str>,
}

impl Signer<'_> {
    fn credentials(&self) -> Credentials {
        Credentials::new(self.access_key, self.secret, self.session_token.map(str::to_string), None, "nimbus-tests")
    }
}

impl Nimbus {
    pub fn sqs_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    pub fn iam_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(aws_sdk_iam::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn sts_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(aws_sdk_sts::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn dynamodb_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(aws_sdk_dynamodb::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub fn lambda_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(aws_sdk_lambda::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub fn logs_client_signed(&self, signer: &Signer<'_>) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .credentials_provider(signer.credentials())
            .region(aws_sdk_cloudwatchlogs::config::Region::new(DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .http_client(HttpClientBuilder::new().build_http())
            .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        // Long polls wait at most 20 s; anything beyond this is a hung server.
        .operation_timeout(Duration::from_secs(45))
        .build()
}

impl Drop for Nimbus {
    fn drop(&mut self) {
        self.kill_child();
        if std::thread::panicking() && !self.external {
            eprintln!("--- nimbus server log (tail) ---\n{}\n--- end of server log ---", self.log_tail(6000));
        }
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Minimal blocking HTTP/1.1 client for the harness' own endpoints.
pub fn http_request(endpoint: &str, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let hostport = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let addr: SocketAddr = match hostport.parse() {
        Ok(a) => a,
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(hostport)?
            .next()
            .ok_or_else(|| std::io::Error::other("unresolvable endpoint"))?,
    };
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response: {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// A queue name that is unique across tests and runs: `<prefix>-<uuid8>`.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// The error code of a failed SDK call (e.g. `AWS.SimpleQueueService.NonExistentQueue`).
pub fn error_code<E, R>(err: &aws_sdk_sqs::error::SdkError<E, R>) -> Option<String>
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    use aws_sdk_sqs::error::ProvideErrorMetadata;
    err.code().map(str::to_string)
}

/// Assert that `res` failed with a service error whose code is `code`;
/// returns the error for further checks.
#[track_caller]
pub fn expect_err_code<T: std::fmt::Debug, E, R>(
    res: Result<T, aws_sdk_sqs::error::SdkError<E, R>>,
    code: &str,
) -> aws_sdk_sqs::error::SdkError<E, R>
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match res {
        Ok(v) => panic!("expected error {code}, but the call succeeded: {v:?}"),
        Err(e) => {
            let got = error_code(&e);
            assert_eq!(got.as_deref(), Some(code), "wrong error code; full error: {e:?}");
            e
        }
    }
}

/// Like [`expect_err_code`] (any service's SDK error: they share one `SdkError`), returning
/// the error's message.
#[track_caller]
pub fn expect_err_message<T: std::fmt::Debug, E, R>(res: Result<T, aws_sdk_sqs::error::SdkError<E, R>>, code: &str) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    use aws_sdk_sqs::error::ProvideErrorMetadata;
    expect_err_code(res, code).message().unwrap_or_default().to_string()
}

/// Like [`expect_err_code`] but accepts any of several codes.
#[track_caller]
pub fn expect_err_code_in<T: std::fmt::Debug, E, R>(
    res: Result<T, aws_sdk_sqs::error::SdkError<E, R>>,
    codes: &[&str],
) -> aws_sdk_sqs::error::SdkError<E, R>
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match res {
        Ok(v) => panic!("expected one of {codes:?}, but the call succeeded: {v:?}"),
        Err(e) => {
            let got = error_code(&e);
            assert!(
                got.as_deref().is_some_and(|c| codes.contains(&c)),
                "wrong error code {got:?}, expected one of {codes:?}; full error: {e:?}"
            );
            e
        }
    }
}

/// MD5 helpers: the Rust SDK does not verify SQS' MD5 digests itself (unlike
/// the Java/Python SDKs), so the tests do it.
pub mod md5 {
    use aws_sdk_sqs::types::MessageAttributeValue;
    use md5::{Digest, Md5};
    use std::collections::HashMap;

    pub fn hex(data: &[u8]) -> String {
        let d = Md5::digest(data);
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buf.extend_from_slice(bytes);
    }

    /// MD5OfMessageAttributes as documented by AWS: attributes sorted by name;
    /// each encoded as len+name, len+data type, transport byte (1 = string
    /// value, 2 = binary value), len+value.
    pub fn of_attributes(attrs: &HashMap<String, MessageAttributeValue>) -> String {
        let mut names: Vec<&String> = attrs.keys().collect();
        names.sort();
        let mut buf = Vec::new();
        for n in names {
            let v = &attrs[n];
            put(&mut buf, n.as_bytes());
            put(&mut buf, v.data_type().as_bytes());
            if let Some(b) = v.binary_value() {
                buf.push(2);
                put(&mut buf, b.as_ref());
            } else {
                buf.push(1);
                put(&mut buf, v.string_value().unwrap_or("").as_bytes());
            }
        }
        hex(&buf)
    }

    /// Panic unless the message's MD5 fields match its body and attributes.
    #[track_caller]
    pub fn verify_message(m: &aws_sdk_sqs::types::Message) {
        let body = m.body().unwrap_or("");
        assert_eq!(m.md5_of_body(), Some(hex(body.as_bytes()).as_str()), "MD5OfBody mismatch for body {body:?}");
        match m.message_attributes() {
            Some(a) if !a.is_empty() => assert_eq!(
                m.md5_of_message_attributes(),
                Some(of_attributes(a).as_str()),
                "MD5OfMessageAttributes mismatch for {a:?}"
            ),
            _ => {}
        }
    }
}

/// Helpers shared by the SQS tests.
pub mod sqs {
    use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
    use aws_sdk_sqs::Client;
    use std::collections::HashMap;

    /// Create a queue and return its URL.
    pub async fn create_queue(client: &Client, name: &str, attrs: &[(QueueAttributeName, &str)]) -> String {
        let mut req = client.create_queue().queue_name(name);
        for (k, v) in attrs {
            req = req.attributes(k.clone(), *v);
        }
        req.send()
            .await
            .unwrap_or_else(|e| panic!("create_queue {name}: {e:?}"))
            .queue_url
            .expect("QueueUrl")
    }

    /// All queue attributes as a string map.
    pub async fn queue_attrs(client: &Client, url: &str) -> HashMap<QueueAttributeName, String> {
        client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get_queue_attributes: {e:?}"))
            .attributes
            .unwrap_or_default()
    }

    /// SendMessage; verifies MD5OfMessageBody and returns the MessageId.
    pub async fn send(client: &Client, url: &str, body: &str) -> String {
        let out = client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("send_message: {e:?}"));
        assert_eq!(out.md5_of_message_body(), Some(crate::md5::hex(body.as_bytes()).as_str()), "MD5OfMessageBody");
        out.message_id.expect("MessageId")
    }

    /// One ReceiveMessage call.
    /// One ReceiveMessage call (all system and message attributes requested);
    /// verifies every message's MD5s.
    pub async fn receive(client: &Client, url: &str, max: i32, wait: i32, visibility: Option<i32>) -> Vec<Message> {
        let msgs = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait)
            .set_visibility_timeout(visibility)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap_or_else(|e| panic!("receive_message: {e:?}"))
            .messages
            .unwrap_or_default();
        msgs.iter().for_each(crate::md5::verify_message);
        msgs
    }

    pub async fn delete(client: &Client, url: &str, m: &Message) {
        client
            .delete_message()
            .queue_url(url)
            .receipt_handle(m.receipt_handle().expect("receipt handle"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete_message: {e:?}"));
    }

    /// Receive (and delete) until `want` messages arrived or `empty_polls`
    /// consecutive short receives come back empty.
    pub async fn drain(client: &Client, url: &str, want: usize) -> Vec<Message> {
        let mut out = Vec::new();
        let mut empty = 0;
        while out.len() < want && empty < 3 {
            let msgs = receive(client, url, 10, 1, Some(30)).await;
            if msgs.is_empty() {
                empty += 1;
                continue;
            }
            empty = 0;
            for m in msgs {
                delete(client, url, &m).await;
                out.push(m);
            }
        }
        out
    }

    /// Receive (without deleting, each message hidden for `visibility` s)
    /// until `want` messages arrived or 3 consecutive 1 s polls are empty.
    pub async fn drain_no_delete(client: &Client, url: &str, want: usize, visibility: i32) -> Vec<Message> {
        let mut out: Vec<Message> = Vec::new();
        let mut empty = 0;
        while out.len() < want && empty < 3 {
            let max = (want - out.len()).min(10) as i32;
            let msgs = receive(client, url, max, 1, Some(visibility)).await;
            if msgs.is_empty() {
                empty += 1;
                continue;
            }
            empty = 0;
            out.extend(msgs);
        }
        out
    }

    /// An integer queue attribute (e.g. ApproximateNumberOfMessages).
    pub async fn attr_num(client: &Client, url: &str, name: QueueAttributeName) -> i64 {
        let a = client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("get_queue_attributes: {e:?}"))
            .attributes
            .unwrap_or_default();
        a.get(&name)
            .unwrap_or_else(|| panic!("attribute {name:?} missing in {a:?}"))
            .parse()
            .expect("numeric attribute")
    }
}
