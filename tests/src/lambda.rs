//! Helpers shared by the Lambda tests: deployment packages (zips of the test
//! functions in `tests/functions/`), function creation and JSON invocations.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use aws_sdk_lambda::Client;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A role ARN that passes Lambda's validation (nimbus does not check IAM).
pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// `tests/functions/<sub>`.
pub fn functions_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("functions").join(sub)
}

/// Path of the `nimbus-test-fn` `bootstrap` binary, built (or found up to date) once per
/// test process, so an edited test function is never run stale (`NIMBUS_TEST_FN_BIN`
/// overrides).
pub fn rust_bootstrap_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(p) = std::env::var("NIMBUS_TEST_FN_BIN") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let bin = root.join("target").join("debug").join("bootstrap");
        {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "-q", "-p", "nimbus-test-fn"])
                .current_dir(&root)
                .status()
                .expect("run cargo build -p nimbus-test-fn");
            assert!(status.success(), "cargo build -p nimbus-test-fn failed");
        }
        bin
    })
    .clone()
}

/// Zip of (name, contents, unix mode) entries.
pub fn zip_entries(entries: &[(String, Vec<u8>, u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(name.as_str(), opts).expect("zip start_file");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// The bootstrap binary's bytes, without debug info when `strip` is available (the
/// debug build is ~30 MB; zipping and unpacking that in debug builds takes seconds).
pub fn rust_bootstrap_bytes() -> Vec<u8> {
    static BIN: OnceLock<Vec<u8>> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = rust_bootstrap_path();
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("bootstrap");
        let stripped = std::process::Command::new("strip")
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        std::fs::read(if stripped { &out } else { &src }).expect("read bootstrap binary")
    })
    .clone()
}

/// The Rust test function's package: `bootstrap` with mode 0755 (cached).
pub fn rust_zip() -> Vec<u8> {
    static ZIP: OnceLock<Vec<u8>> = OnceLock::new();
    ZIP.get_or_init(|| zip_entries(&[("bootstrap".to_string(), rust_bootstrap_bytes(), 0o755)])).clone()
}

/// Zip every regular file under `dir` (skipping `__pycache__`), paths relative to it.
pub fn zip_dir(dir: &Path) -> Vec<u8> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, u32)>) {
        let mut items: Vec<_> = std::fs::read_dir(dir).expect("read_dir").map(|e| e.expect("dir entry").path()).collect();
        items.sort();
        for p in items {
            if p.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).expect("read file"), 0o644));
            }
        }
    }
    let mut entries = Vec::new();
    walk(dir, dir, &mut entries);
    zip_entries(&entries)
}

/// What `nimbus runtimes --json` reports on this machine (run once per test process):
/// one object per runtime with `runtime`, `available`, and `version` / `path` / `source`
/// or `problem`.
pub fn host_runtimes() -> &'static [Value] {
    static LIST: OnceLock<Vec<Value>> = OnceLock::new();
    LIST.get_or_init(|| {
        let out = std::process::Command::new(crate::Nimbus::binary())
            .args(["runtimes", "--json"])
            .output()
            .unwrap_or_else(|e| panic!("run `nimbus runtimes --json`: {e}"));
        assert!(out.status.success(), "nimbus runtimes --json: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("nimbus runtimes --json printed no JSON ({e})"))
    })
}

/// The runtime the tests create functions with for a language (`python3.`, `nodejs`):
/// the one whose interpreter the command `probe` runs here (`python3`, `node` on PATH:
/// the one with the test's packages, e.g. boto3) when nimbus finds it, else the first
/// one nimbus finds. So the suite runs on any machine with some Python 3 and Node.js.
fn host_runtime(prefix: &str, probe: &[&str]) -> Runtime {
    let available: Vec<&str> = host_runtimes()
        .iter()
        .filter(|r| r["available"] == true)
        .filter_map(|r| r["runtime"].as_str())
        .filter(|r| r.starts_with(prefix))
        .collect();
    let preferred = std::process::Command::new(probe[0])
        .args(&probe[1..])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let pick = preferred
        .as_deref()
        .filter(|p| available.contains(p))
        .or_else(|| available.first().copied())
        .unwrap_or_else(|| panic!("no {prefix}* runtime available here: `nimbus runtimes` found none (install one, or set NIMBUS_RUNTIME_…)"));
    Runtime::from(pick)
}

/// See [`host_runtime`]: the Python runtime of `python3` on PATH, e.g. `python3.11`.
pub fn python_runtime() -> Runtime {
    host_runtime("python3.", &["python3", "-c", "import sys; print('python3.%d' % sys.version_info[1])"])
}

/// See [`host_runtime`]: the Node.js runtime of `node` on PATH, e.g. `nodejs20.x`.
pub fn node_runtime() -> Runtime {
    host_runtime("nodejs", &["node", "-e", "console.log('nodejs' + process.versions.node.split('.')[0] + '.x')"])
}

/// What to create.
pub struct FnSpec {
    pub runtime: Runtime,
    pub handler: Option<String>,
    pub zip: Vec<u8>,
    pub env: Vec<(String, String)>,
    pub timeout: Option<i32>,
}

impl FnSpec {
    pub fn rust() -> FnSpec {
        FnSpec { runtime: Runtime::Providedal2023, handler: None, zip: rust_zip(), env: vec![], timeout: None }
    }
    pub fn python(handler: &str) -> FnSpec {
        FnSpec {
            runtime: python_runtime(),
            handler: Some(handler.into()),
            zip: zip_dir(&functions_dir("python")),
            env: vec![],
            timeout: None,
        }
    }
    pub fn env(mut self, k: &str, v: &str) -> FnSpec {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn timeout(mut self, t: i32) -> FnSpec {
        self.timeout = Some(t);
        self
    }
}

/// CreateFunction; panics on error. Returns the function ARN.
pub async fn create(client: &Client, name: &str, spec: FnSpec) -> String {
    let mut req = client
        .create_function()
        .function_name(name)
        .runtime(spec.runtime)
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(spec.zip)).build())
        .set_handler(spec.handler)
        .set_timeout(spec.timeout);
    if !spec.env.is_empty() {
        let mut e = Environment::builder();
        for (k, v) in spec.env {
            e = e.variables(k, v);
        }
        req = req.environment(e.build());
    }
    let out = req.send().await.unwrap_or_else(|e| panic!("create_function {name}: {e:?}"));
    out.function_arn.expect("FunctionArn")
}

/// A synchronous invocation's outcome.
pub struct Invoked {
    pub status: i32,
    pub function_error: Option<String>,
    pub executed_version: Option<String>,
    /// Decoded `LogResult` (LogType=Tail), if any.
    pub log: Option<String>,
    pub payload: Value,
    pub raw: Vec<u8>,
}

/// Invoke (RequestResponse) with a JSON payload; panics on an API error.
pub async fn invoke(client: &Client, name: &str, payload: &Value) -> Invoked {
    invoke_with(client, name, None, false, payload).await
}

pub async fn invoke_with(client: &Client, name: &str, qualifier: Option<&str>, tail: bool, payload: &Value) -> Invoked {
    use base64::Engine;
    let mut req = client.invoke().function_name(name).payload(Blob::new(payload.to_string())).set_qualifier(qualifier.map(str::to_string));
    if tail {
        req = req.log_type(aws_sdk_lambda::types::LogType::Tail);
    }
    let out = req.send().await.unwrap_or_else(|e| panic!("invoke {name}: {e:?}"));
    let raw = out.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
    let payload = serde_json::from_slice(&raw).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let log = out.log_result().map(|l| {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(l).expect("LogResult is base64")).expect("LogResult is UTF-8")
    });
    Invoked {
        status: out.status_code(),
        function_error: out.function_error().map(str::to_string),
        executed_version: out.executed_version().map(str::to_string),
        log,
        payload,
        raw,
    }
}

/// The `pid` field of an echo / sleep result.
pub fn pid(v: &Value) -> u64 {
    v.get("pid").and_then(Value::as_u64).unwrap_or_else(|| panic!("no pid in {v}"))
}

/// Asserts a failed call's error code (and HTTP status when given); returns the message.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug, E, R>(
    res: Result<T, aws_sdk_lambda::error::SdkError<E, R>>,
    code: &str,
    status: Option<u16>,
) -> String
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug + HttpStatus,
{
    match res {
        Ok(v) => panic!("expected {code}, got success: {v:?}"),
        Err(e) => {
            use aws_sdk_lambda::error::ProvideErrorMetadata;
            assert_eq!(e.code(), Some(code), "wrong error code: {e:?}");
            if let Some(s) = status {
                let got = e.raw_response().map(|r| r.http_status());
                assert_eq!(got, Some(s), "wrong HTTP status: {e:?}");
            }
            e.message().unwrap_or_default().to_string()
        }
    }
}

/// The HTTP status of a raw SDK response.
pub trait HttpStatus {
    fn http_status(&self) -> u16;
}

impl HttpStatus for aws_sdk_lambda::config::http::HttpResponse {
    fn http_status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Prefix of the report line the Rust test function prints per `Records` event when
/// `ESM_REPORT=1` is set (see `tests/functions/rust/src/main.rs`).
pub const ESM_REPORT_PREFIX: &str = "ESM-REPORT ";

/// The Rust test function, recording the `Records` events it gets (`ESM_REPORT=1`).
pub fn rust_esm_reporter() -> FnSpec {
    FnSpec::rust().env("ESM_REPORT", "1")
}

/// Every `ESM-REPORT` line the function has logged so far (CloudWatch Logs group
/// `/aws/lambda/<function>`, all streams, every page of FilterLogEvents), parsed, ordered
/// by the invocation's `start_ns`. Empty while the log group does not exist yet.
pub async fn esm_reports(logs: &aws_sdk_cloudwatchlogs::Client, function: &str) -> Vec<Value> {
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
    let group = format!("/aws/lambda/{function}");
    let mut out: Vec<Value> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = match logs.filter_log_events().log_group_name(&group).set_next_token(token.take()).send().await {
            Ok(p) => p,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Vec::new(),
            Err(e) => panic!("filter_log_events {group}: {e:?}"),
        };
        for ev in page.events() {
            if let Some(json) = ev.message().and_then(|m| m.strip_prefix(ESM_REPORT_PREFIX)) {
                out.push(serde_json::from_str(json.trim_end()).unwrap_or_else(|e| panic!("ESM-REPORT line is not JSON ({e}): {json}")));
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    out.sort_by_key(|r| r["start_ns"].as_u64().unwrap_or(0));
    out
}

/// [`esm_reports`] polled every 100 ms until `done` holds or `secs` have passed; the
/// last read either way.
pub async fn esm_reports_until(logs: &aws_sdk_cloudwatchlogs::Client, function: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let reports = esm_reports(logs, function).await;
        if done(&reports) || std::time::Instant::now() >= deadline {
            return reports;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
