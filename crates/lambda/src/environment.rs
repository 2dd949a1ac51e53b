//! One execution environment: a native process (the function's `bootstrap`, or nimbus's
//! Python / Node.js bootstrap) with its own Runtime API, serving one invocation at a
//! time. Captures the process's output line by line for CloudWatch Logs and writes the
//! START / END / REPORT lines around each invocation.

use crate::function::{civil, RuntimeKind};
use crate::runtime_api::{self, Invocation, Outcome, RuntimeState};
use bytes::Bytes;
use nimbus_core::internal::{LogLine, LogSink};
use nimbus_core::Clock;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};

/// How to start an environment.
pub struct Spec {
    pub kind: RuntimeKind,
    /// The Python or Node.js executable (managed runtimes), found by `interpreters`.
    pub interpreter: Option<PathBuf>,
    pub task_root: PathBuf,
    pub runtimes_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub account: String,
    pub region: String,
    pub log_group: String,
    pub version: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// When the role credentials in `env` expire (None: no role credentials).
    pub credentials_expire_ms: Option<u64>,
}

/// How an invocation ended, from the caller's point of view.
pub enum Result_ {
    Ok(Bytes),
    /// A function error (`X-Amz-Function-Error: Unhandled`) with its error document.
    FunctionError(Bytes),
}

pub struct Environment {
    pub id: String,
    pub log_stream: String,
    tx: mpsc::Sender<Invocation>,
    state: Arc<RuntimeState>,
    child: tokio::sync::Mutex<Option<Child>>,
    exited: watch::Receiver<bool>,
    pid: Option<u32>,
    server: tokio::task::JoinHandle<()>,
    logs: Arc<LogCollector>,
    init_ms: Mutex<Option<f64>>,
    spawned: Instant,
    pub dead: AtomicBool,
    spec_memory: u32,
    credentials_expire_ms: Option<u64>,
    spec_timeout: u32,
    version: String,
}

/// Gathers an environment's log lines and hands them to the log sink, keeping the
/// current invocation's lines for `LogType=Tail`.
struct LogCollector {
    sink: Arc<dyn LogSink>,
    clock: Clock,
    account: String,
    region: String,
    group: String,
    stream: String,
    pending: Mutex<Vec<LogLine>>,
    tail: Mutex<Option<Vec<String>>>,
    flushers: Mutex<Vec<mpsc::Sender<oneshot::Sender<()>>>>,
    /// nimbus's Python and Node.js bootstraps write a multi-line message (an error and
    /// its traceback, a multi-line `console.log`) as one line with `\r` between its
    /// lines, the Lambda runtimes' convention: it stays one event, with its newlines back.
    carriage_returns_are_newlines: bool,
}

impl LogCollector {
    fn line(&self, text: String) {
        let text = if self.carriage_returns_are_newlines && text.contains('\r') { text.replace('\r', "\n") } else { text };
        if let Some(t) = self.tail.lock().as_mut() {
            t.push(text.clone());
        }
        self.pending.lock().push(LogLine { timestamp_ms: self.clock.now_ms(), message: text });
    }

    fn ship(&self) {
        let lines = std::mem::take(&mut *self.pending.lock());
        if !lines.is_empty() {
            self.sink.append(&self.account, &self.region, &self.group, &self.stream, lines);
        }
    }

    /// Waits until every byte the process has written so far has been read.
    async fn drain(&self) {
        let flushers: Vec<_> = self.flushers.lock().clone();
        for f in flushers {
            let (tx, rx) = oneshot::channel();
            if f.send(tx).await.is_ok() {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(50), rx).await;
            }
        }
    }
}

/// Reads one output stream; a flush request is answered only once the pipe has nothing
/// more ready to read (the read branch is polled first).
fn pump<R: tokio::io::AsyncRead + Unpin + Send + 'static>(reader: R, logs: Arc<LogCollector>) {
    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<()>>(4);
    logs.flushers.lock().push(tx);
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        loop {
            tokio::select! {
                biased;
                line = lines.next_line() => match line {
                    Ok(Some(l)) => logs.line(l),
                    _ => break,
                },
                Some(done) = rx.recv() => { let _ = done.send(()); }
            }
        }
        // Answer flushes after the stream ended.
        while let Some(done) = rx.recv().await {
            let _ = done.send(());
        }
    });
}

fn stream_name(now_ms: u64, version: &str) -> (String, String) {
    let (y, m, d, ..) = civil((now_ms / 1000) as i64);
    let id: String = uuid::Uuid::new_v4().simple().to_string();
    (id.clone(), format!("{y:04}/{m:02}/{d:02}/[{version}]{id}"))
}

fn max_memory_mb(pid: Option<u32>) -> u64 {
    let Some(pid) = pid else { return 0 };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| kb.div_ceil(1024))
        .unwrap_or(0)
}

impl Environment {
    /// Starts the process and its Runtime API. Returns once it is running (not yet
    /// initialised: the first invocation waits for that).
    pub async fn spawn(spec: Spec, clock: Clock, sink: Arc<dyn LogSink>) -> std::io::Result<Arc<Environment>> {
        let (tx, rx) = mpsc::channel(1);
        let state = RuntimeState::new(rx);
        let (addr, server) = runtime_api::start(state.clone()).await?;
        let (id, log_stream) = stream_name(clock.now_ms(), &spec.version);
        let mut cmd = match spec.kind {
            RuntimeKind::Provided => tokio::process::Command::new(spec.task_root.join("bootstrap")),
            RuntimeKind::Python => {
                let mut c = tokio::process::Command::new(spec.interpreter.clone().unwrap_or_else(|| "python3".into()));
                c.arg("-u").arg(spec.runtimes_dir.join("python").join("bootstrap.py"));
                c
            }
            RuntimeKind::Node => {
                let mut c = tokio::process::Command::new(spec.interpreter.clone().unwrap_or_else(|| "node".into()));
                c.arg(spec.runtimes_dir.join("node").join("bootstrap.mjs"));
                c
            }
        };
        cmd.current_dir(&spec.task_root)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &log_stream)
            .env("LAMBDA_RUNTIME_DIR", &spec.runtimes_dir)
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Ok(home) = std::env::var("HOME") {
            cmd.env("HOME", home);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        };
        let logs = Arc::new(LogCollector {
            sink,
            clock,
            account: spec.account.clone(),
            region: spec.region.clone(),
            group: spec.log_group.clone(),
            stream: log_stream.clone(),
            pending: Mutex::new(Vec::new()),
            tail: Mutex::new(None),
            flushers: Mutex::new(Vec::new()),
            carriage_returns_are_newlines: spec.kind != RuntimeKind::Provided,
        });
        if let Some(out) = child.stdout.take() {
            pump(out, logs.clone());
        }
        if let Some(err) = child.stderr.take() {
            pump(err, logs.clone());
        }
        let pid = child.id();
        let (exit_tx, exit_rx) = watch::channel(false);
        let env = Arc::new(Environment {
            id,
            log_stream,
            tx,
            state,
            child: tokio::sync::Mutex::new(Some(child)),
            exited: exit_rx,
            pid,
            server,
            logs,
            init_ms: Mutex::new(None),
            spawned: Instant::now(),
            dead: AtomicBool::new(false),
            spec_memory: spec.memory_mb,
            credentials_expire_ms: spec.credentials_expire_ms,
            spec_timeout: spec.timeout_s,
            version: spec.version,
        });
        // Watch for the process ending, whatever the reason.
        let watcher = env.clone();
        tokio::spawn(async move {
            let status = {
                let mut guard = watcher.child.lock().await;
                match guard.as_mut() {
                    Some(c) => c.wait().await.ok(),
                    None => None,
                }
            };
            let _ = status;
            watcher.dead.store(true, Ordering::Release);
            let _ = exit_tx.send(true);
        });
        Ok(env)
    }

    pub fn alive(&self) -> bool {
        !self.dead.load(Ordering::Acquire)
    }

    /// Alive, and its role credentials good for five more minutes (an environment whose
    /// credentials are about to expire is retired and a new one gets fresh ones).
    pub fn reusable(&self) -> bool {
        self.alive() && self.credentials_expire_ms.is_none_or(|exp| self.logs.clock.now_ms() + 300_000 < exp)
    }

    /// Ends the process (timeout, retirement, shutdown).
    pub fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        if let Some(pid) = self.pid {
            // By pid: the watcher task owns the Child while it waits on it.
            // SAFETY: kill(2) with a pid we spawned and SIGKILL has no memory effects.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        self.server.abort();
    }

    /// Waits for the process to finish init (its first `next`), fail it, or exit.
    async fn wait_ready(&self) -> Result<(), Bytes> {
        if self.state.asked_once.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut exited = self.exited.clone();
        let ready = self.state.ready.notified();
        tokio::pin!(ready);
        ready.as_mut().enable();
        if !self.state.asked_once.load(Ordering::Acquire) {
            tokio::select! {
                _ = &mut ready => {}
                _ = exited.wait_for(|e| *e) => {}
            }
        }
        if let Some((body, _)) = self.state.init_error.lock().take() {
            self.kill();
            return Err(body);
        }
        if !self.state.asked_once.load(Ordering::Acquire) {
            return Err(Bytes::from(r#"{"errorType":"Runtime.ExitError","errorMessage":"Runtime exited without providing a reason"}"#));
        }
        *self.init_ms.lock() = Some(self.spawned.elapsed().as_secs_f64() * 1000.0);
        Ok(())
    }

    /// Runs one invocation. `tail`: collect its log lines for `LogType=Tail`. Also answers
    /// the cold start's init duration (ms), when this invocation waited for it.
    pub async fn invoke(&self, mut inv: Invocation, tail: bool) -> (Result_, Option<Vec<String>>, Option<f64>) {
        let request_id = inv.request_id.clone();
        let xray = xray_report(&inv.trace_id);
        if tail {
            *self.logs.tail.lock() = Some(Vec::new());
        }
        // AWS limits init to 10 s, then retries it within the function's timeout: an
        // init that never finishes ends as a timeout instead of hanging the caller.
        let init_limit = std::time::Duration::from_secs(10 + self.spec_timeout as u64);
        let mut init_timed_out = false;
        let init = match tokio::time::timeout(init_limit, self.wait_ready()).await {
            Ok(r) => r,
            Err(_) => {
                init_timed_out = true;
                Err(self.timed_out(&request_id))
            }
        };
        // Duration counts the handler only; a cold start's init is reported separately.
        let started = Instant::now();
        self.logs.line(format!("START RequestId: {request_id} Version: {}", self.version));
        let (reply_tx, reply_rx) = oneshot::channel();
        inv.reply = reply_tx;
        let mut status = None;
        let result = match init {
            Err(doc) => {
                status = Some(if init_timed_out { "timeout" } else { "error" });
                Result_::FunctionError(doc)
            }
            Ok(()) => {
                let timeout = std::time::Duration::from_millis(self.spec_timeout as u64 * 1000);
                let mut exited = self.exited.clone();
                if self.tx.send(inv).await.is_err() {
                    Result_::FunctionError(exit_error(&request_id))
                } else {
                    tokio::select! {
                        out = reply_rx => match out {
                            Ok(Outcome::Response(b)) => Result_::Ok(b),
                            Ok(Outcome::Error { body, .. }) => Result_::FunctionError(body),
                            Err(_) => { status = Some("error"); Result_::FunctionError(exit_error(&request_id)) }
                        },
                        _ = exited.wait_for(|e| *e) => {
                            status = Some("error");
                            Result_::FunctionError(exit_error(&request_id))
                        }
                        _ = tokio::time::sleep(timeout) => {
                            status = Some("timeout");
                            Result_::FunctionError(self.timed_out(&request_id))
                        }
                    }
                }
            }
        };
        self.logs.drain().await;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.logs.line(format!("END RequestId: {request_id}"));
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            duration_ms.ceil().max(1.0) as u64,
            self.spec_memory,
            max_memory_mb(self.pid)
        );
        let init_ms = self.init_ms.lock().take();
        if let Some(init) = init_ms {
            report.push_str(&format!("Init Duration: {init:.2} ms\t"));
        }
        if let Some(s) = status {
            report.push_str(&format!("Status: {s}"));
        }
        if let Some(x) = xray {
            // AWS appends the trace of a sampled invocation to the REPORT line
            // (<https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html>).
            report.push('\n');
            report.push_str(&x);
        }
        self.logs.line(report);
        self.logs.ship();
        let tail = self.logs.tail.lock().take();
        (result, tail, init_ms)
    }
}

impl Environment {
    /// Ends an invocation that ran past its timeout: kills the process, logs AWS's
    /// timeout line and returns the error document the caller gets.
    fn timed_out(&self, request_id: &str) -> Bytes {
        self.kill();
        let secs = format!("{:.2}", self.spec_timeout as f64);
        let at = crate::function::timestamp(self.logs.clock.now_ms()).replace("+0000", "Z");
        self.logs.line(format!("{at} {request_id} Task timed out after {secs} seconds"));
        Bytes::from(format!(r#"{{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: {request_id} Error: Task timed out after {secs} seconds"}}"#))
    }
}

/// `XRAY TraceId: … SegmentId: … Sampled: true` for a sampled invocation's REPORT line:
/// the trace root and the function segment (the `Parent` the function was handed).
fn xray_report(trace_header: &str) -> Option<String> {
    let t = nimbus_core::trace::TraceHeader::parse(trace_header)?;
    if t.sampled != Some(true) {
        return None;
    }
    Some(format!("XRAY TraceId: {}\tSegmentId: {}\tSampled: true\t", t.root, t.parent.as_deref().unwrap_or("")))
}

fn exit_error(request_id: &str) -> Bytes {
    Bytes::from(format!(r#"{{"errorType":"Runtime.ExitError","errorMessage":"RequestId: {request_id} Error: Runtime exited with error"}}"#))
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.server.abort();
    }
}
