//! nimbus-bench: the benchmark harness for nimbus. See bench/README.md.

mod apigw;
mod apigw_ws;
mod awsjson;
mod client;
mod dynamodb;
mod esm;
mod kinesis;
mod lambda;
mod null_server;
mod payload;
mod report;
mod s3;
mod secrets;
mod sfn;
mod sns;
mod sqs;
mod startup;
mod trace;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nimbus-bench", about = "Benchmarks for nimbus (SQS, Lambda, DynamoDB) against peers and a null server")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// A hyper http1 server answering every request with a constant small JSON body.
    NullServer {
        #[arg(long, default_value = "127.0.0.1:4580")]
        listen: SocketAddr,
        /// Tokio worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// DynamoDB Query answers carry this many items (match `dynamodb --items`).
        #[arg(long, default_value_t = 100)]
        query_items: usize,
        /// Size of the items in DynamoDB answers (match `dynamodb --item-size`).
        #[arg(long, default_value_t = 200)]
        item_size: usize,
    },
    /// Closed-loop SQS load against one or more targets; prints a comparison table.
    Sqs {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated concurrent client counts.
        #[arg(long, default_value = "1,16,64")]
        clients: String,
        /// Measured time per (target, client count), e.g. 5s, 500ms, 1m.
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Unmeasured time before each measurement (connections, caches).
        #[arg(long, default_value = "500ms")]
        warmup: String,
        /// raw | sdk, or a comma-separated list.
        #[arg(long, default_value = "raw")]
        mode: String,
        /// send | recv-delete, or a comma-separated list.
        #[arg(long, default_value = "send")]
        workload: String,
        /// Message body size in bytes.
        #[arg(long, default_value_t = payload::DEFAULT_MESSAGE_SIZE)]
        message_size: usize,
        /// recv-delete: messages put in the queue before each fill-and-drain round (same
        /// for every target, so every target works on a queue 0..prefill deep).
        #[arg(long, default_value_t = 2_000)]
        prefill: u64,
        /// recv-delete: give up prefilling after this long and run with what is in.
        #[arg(long, default_value = "30s")]
        prefill_timeout: String,
        /// Pause between runs, to let the servers settle.
        #[arg(long, default_value = "300ms")]
        pause: String,
        /// The target the ratios are computed for (baseline/peer).
        #[arg(long, default_value = "nimbus")]
        baseline: String,
        /// The target that is the null server (labelled as the ceiling in the ratios).
        #[arg(long, default_value = "null")]
        null_name: String,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Tokio worker threads for the load generator (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Per-request timeout (counted as an error; keeps every loop bounded).
        #[arg(long, default_value = "10s")]
        request_timeout: String,
    },
    /// Closed-loop DynamoDB load (PutItem, GetItem, Query, UpdateItem) against one or
    /// more targets; prints a comparison table.
    Dynamodb {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated concurrent client counts.
        #[arg(long, default_value = "1,16,64")]
        clients: String,
        /// Measured time per (workload, mode, target, client count).
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Unmeasured time before each measurement.
        #[arg(long, default_value = "500ms")]
        warmup: String,
        /// raw | sdk, or a comma-separated list.
        #[arg(long, default_value = "raw")]
        mode: String,
        /// put | get | query | update, or a comma-separated list (run in that order; moto
        /// keeps working on abandoned Queries, so put query last).
        #[arg(long, default_value = "put,get,update,query")]
        workload: String,
        /// put also runs on a table with a NEW_AND_OLD_IMAGES stream; prints the cost.
        #[arg(long)]
        stream: bool,
        /// put runs only on the table with a stream (a soak of streamed writes; see soak.sh).
        #[arg(long)]
        stream_only: bool,
        /// put overwrites this many keys at random (default: a new key per put).
        #[arg(long)]
        put_keys: Option<usize>,
        /// Partitions (distinct pk) of the prefilled data table.
        #[arg(long, default_value_t = 1_000)]
        partitions: usize,
        /// Items per partition (what one Query returns).
        #[arg(long, default_value_t = 100)]
        items: usize,
        /// Approximate item size in bytes (attribute names + values).
        #[arg(long, default_value_t = 200)]
        item_size: usize,
        /// Give up prefilling a target after this long (its get/query/update runs fail).
        #[arg(long, default_value = "180s")]
        prefill_timeout: String,
        /// Pause between runs.
        #[arg(long, default_value = "300ms")]
        pause: String,
        #[arg(long, default_value = "nimbus")]
        baseline: String,
        #[arg(long, default_value = "null")]
        null_name: String,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Tokio worker threads for the load generator (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Per-request timeout (counted as an error).
        #[arg(long, default_value = "10s")]
        request_timeout: String,
    },
    /// Lambda: warm-invoke throughput/latency and cold-start latency of the
    /// provided.al2023 test function (raw REST-JSON); prints a table.
    Lambda {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated concurrent client counts (warm invoke).
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Measured time per (target, client count).
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Unmeasured warm invokes before each measurement (after priming N environments).
        #[arg(long, default_value = "500ms")]
        warmup: String,
        /// The function's `bootstrap` (cargo build --release -p nimbus-test-fn).
        #[arg(long, default_value = "target/release/bootstrap")]
        bootstrap: PathBuf,
        /// Cold starts to time (UpdateFunctionConfiguration + one invoke each); 0 = none.
        #[arg(long, default_value_t = 20)]
        cold_starts: usize,
        /// Every Nth measured warm invoke asks for LogType=Tail to read nimbus's REPORT
        /// Duration; 0 = never.
        #[arg(long, default_value_t = 20)]
        tail_every: u64,
        /// The function's Timeout (seconds).
        #[arg(long, default_value_t = 30)]
        function_timeout: u32,
        /// The function's MemorySize (MB; reported by nimbus, not enforced).
        #[arg(long, default_value_t = 128)]
        memory: u32,
        /// Pause between runs.
        #[arg(long, default_value = "300ms")]
        pause: String,
        /// Do not delete the function at the end.
        #[arg(long)]
        keep_function: bool,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Tokio worker threads for the load generator (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Per-request timeout (counted as an error); above the function's Timeout.
        #[arg(long, default_value = "35s")]
        request_timeout: String,
    },
    /// SQS → Lambda event source mappings: SendMessage → handler start latency of an
    /// idle mapping, and drain throughput of a prefilled queue per batch size.
    Esm {
        /// NAME=URL of the nimbus to measure, e.g. nimbus=http://127.0.0.1:4566
        #[arg(long, default_value = "nimbus=http://127.0.0.1:4566")]
        target: String,
        /// The function's `bootstrap` (cargo build --release -p nimbus-test-fn).
        #[arg(long, default_value = "target/release/bootstrap")]
        bootstrap: PathBuf,
        /// Latency samples (one message each); 0 = skip.
        #[arg(long, default_value_t = 100)]
        samples: usize,
        /// Messages prefilled per throughput run.
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        /// Comma-separated batch sizes of the throughput runs; empty = skip.
        #[arg(long, default_value = "10,100")]
        batch_sizes: String,
        /// MaximumBatchingWindowInSeconds of the throughput runs.
        #[arg(long, default_value_t = 1)]
        window: u32,
        /// Throughput runs per batch size (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Per-request timeout.
        #[arg(long, default_value = "35s")]
        request_timeout: String,
    },
    /// What an API Gateway HTTP API adds in front of a Lambda function: the same event
    /// through the gateway and by direct Invoke, alternating rounds (see apigw.rs).
    Apigw {
        /// NAME=URL of the nimbus to measure.
        #[arg(long, default_value = "nimbus=http://127.0.0.1:4566")]
        target: String,
        /// The function's `bootstrap` (cargo build --release -p nimbus-test-fn).
        #[arg(long, default_value = "target/release/bootstrap")]
        bootstrap: PathBuf,
        /// Comma-separated concurrent client counts.
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Measured time per round and side.
        #[arg(long, default_value = "3s")]
        duration: String,
        /// Unmeasured time before each measurement.
        #[arg(long, default_value = "500ms")]
        warmup: String,
        /// Alternating direct/gateway rounds per client count (medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also echo WebSocket messages through a WebSocket API's `$default` route.
        #[arg(long)]
        ws: bool,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
    },
    /// SNS fan-out: Publish into 1, 10, 100 raw SQS subscriptions; publishes/s and
    /// publish-to-last-delivery p50/p99 per target (see sns.rs).
    Sns {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated subscription counts.
        #[arg(long, default_value = "1,10,100")]
        subscriptions: String,
        /// Publishes per (target, subscription count).
        #[arg(long, default_value_t = 2000)]
        publishes: usize,
        /// Concurrent publishing clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Give up on deliveries after this long without one.
        #[arg(long, default_value = "10s")]
        drain_timeout: String,
        /// Subscribe without RawMessageDelivery: each message arrives in SNS's signed
        /// JSON envelope (what most applications use).
        #[arg(long)]
        enveloped: bool,
    },
    /// The cost of tracing: SendMessage and Invoke throughput without and with
    /// `X-Amzn-Trace-Id` in the same run, and GetTraceSummaries latency over many stored
    /// traces (see trace.rs).
    Trace {
        /// NAME=URL of one nimbus, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long, default_value = "nimbus=http://127.0.0.1:4566")]
        target: String,
        /// Comma-separated client counts.
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Time per (case, round).
        #[arg(long, default_value = "3s")]
        duration: String,
        /// Rounds alternating untraced and traced runs.
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// The test function's `bootstrap` (Invoke is skipped when it does not exist).
        #[arg(long, default_value = "target/release/bootstrap")]
        bootstrap: PathBuf,
        /// Traces stored before GetTraceSummaries is timed (0: skip).
        #[arg(long, default_value_t = 100_000)]
        traces: usize,
        /// GetTraceSummaries calls timed per filter.
        #[arg(long, default_value_t = 50)]
        samples: usize,
    },
    /// Reading secrets: KMS Decrypt and Secrets Manager GetSecretValue, req/s and
    /// p50/p99 per target and client count (see secrets.rs).
    Secrets {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated client counts.
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Time per (target, operation, client count).
        #[arg(long, default_value = "3s")]
        duration: String,
        /// Comma-separated: decrypt, get-secret-value.
        #[arg(long, default_value = "decrypt,get-secret-value")]
        operations: String,
    },
    /// S3 objects: PUT and GET of 1 KB and 8 MiB objects, req/s, MB/s and p50/p99 per
    /// target, size and client count, plus the disk's write speed as the ceiling (see s3.rs).
    S3 {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated client counts.
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Time per (target, operation, size, client count).
        #[arg(long, default_value = "3s")]
        duration: String,
        /// Comma-separated object sizes in bytes.
        #[arg(long, default_value = "1000,8388608")]
        sizes: String,
        /// Comma-separated: put, get.
        #[arg(long, default_value = "put,get")]
        operations: String,
        /// Measure the disk's write speed (8 MiB files, fdatasync) in this directory.
        #[arg(long)]
        disk_dir: Option<PathBuf>,
    },
    /// Step Functions: state transitions/s of STANDARD executions of a chain of Pass
    /// states and of a chain of Lambda tasks, started by N clients that each wait for
    /// the end with DescribeExecution (see sfn.rs).
    Sfn {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated client counts.
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Measured time per (round, chain, client count, target).
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Unmeasured time before each measurement.
        #[arg(long, default_value = "1s")]
        warmup: String,
        /// pass | lambda, or a comma-separated list.
        #[arg(long, default_value = "pass,lambda")]
        chains: String,
        /// States per chain.
        #[arg(long, default_value_t = 10)]
        states: usize,
        /// The test function's `bootstrap` (cargo build --release -p nimbus-test-fn).
        #[arg(long, default_value = "target/release/bootstrap")]
        bootstrap: PathBuf,
        /// Pause between a client's DescribeExecution polls (0ms: back to back).
        #[arg(long, default_value = "0ms")]
        poll: String,
        /// Rounds (each alternates the targets); the summary gives medians.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// An execution still RUNNING after this long counts as an error.
        #[arg(long, default_value = "60s")]
        execution_timeout: String,
        /// Pause between runs.
        #[arg(long, default_value = "300ms")]
        pause: String,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Per-request timeout (counted as an error).
        #[arg(long, default_value = "10s")]
        request_timeout: String,
    },
    /// Kinesis: PutRecords records/s (batches of 500), put→visible GetRecords latency, and
    /// GetRecords on a filled shard (see kinesis.rs).
    Kinesis {
        /// NAME=URL, repeatable, e.g. --target nimbus=http://127.0.0.1:4566
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Comma-separated client counts (put, get; latency uses one client).
        #[arg(long, default_value = "1,16")]
        clients: String,
        /// Measured time per (round, workload, client count, target).
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Unmeasured time before each measurement.
        #[arg(long, default_value = "500ms")]
        warmup: String,
        /// put | latency | get, or a comma-separated list.
        #[arg(long, default_value = "put,latency,get")]
        workload: String,
        /// Shards of the put stream.
        #[arg(long, default_value_t = 4)]
        shards: u32,
        /// Records per PutRecords call (1..500).
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Bytes per record.
        #[arg(long, default_value_t = 100)]
        record_size: usize,
        /// latency: put→visible samples.
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        /// get: records in the filled shard.
        #[arg(long, default_value_t = 10_000)]
        fill: usize,
        /// get: GetRecords Limit.
        #[arg(long, default_value_t = 1000)]
        get_limit: usize,
        /// Rounds (each alternates the targets); the summary gives medians.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Pause between runs.
        #[arg(long, default_value = "300ms")]
        pause: String,
        /// Also write all figures as JSON to this file.
        #[arg(long)]
        json: Option<String>,
        /// Per-request timeout (counted as an error).
        #[arg(long, default_value = "10s")]
        request_timeout: String,
    },
    /// Time from spawn to first healthy response, and idle RSS, of a nimbus binary.
    Startup {
        #[arg(long)]
        bin: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Port to listen on (default: a free one).
        #[arg(long)]
        port: Option<u16>,
        #[arg(long, default_value = "/_nimbus/health")]
        health_path: String,
        #[arg(long, default_value = "30s")]
        timeout: String,
        /// Idle time before reading VmRSS.
        #[arg(long, default_value = "1s")]
        idle: String,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn list<T>(s: &str, f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(f).collect()
}

/// The load generator's runtime: `threads` workers (default: one per core).
fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(t) = threads {
        rt.worker_threads(t);
    }
    rt.build().map_err(|e| e.to_string())
}

async fn parse_targets(targets: &[String]) -> Result<Vec<client::Target>, String> {
    let mut ts = Vec::new();
    for t in targets {
        ts.push(client::Target::parse(t).await?);
    }
    Ok(ts)
}

/// `--clients 1,16,64`: positive counts.
fn client_counts(s: &str) -> Result<Vec<usize>, String> {
    list(s, |c| c.parse::<usize>().ok().filter(|n| *n > 0).ok_or(format!("bad client count {c:?}")))
}

fn main() {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::NullServer { listen, threads, query_items, item_size } => {
            null_server::run(listen, threads, query_items, item_size)
        }
        Cmd::Sqs {
            targets,
            clients,
            duration,
            warmup,
            mode,
            workload,
            message_size,
            prefill,
            prefill_timeout,
            pause,
            baseline,
            null_name,
            json,
            threads,
            request_timeout,
        } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            let rt = runtime(threads)?;
            rt.block_on(async move {
                let ts = parse_targets(&targets).await?;
                let cfg = sqs::Config {
                    targets: ts,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    modes: list(&mode, sqs::Mode::parse)?,
                    workloads: list(&workload, sqs::Workload::parse)?,
                    message_size,
                    prefill,
                    prefill_timeout: parse_duration(&prefill_timeout)?,
                    pause: parse_duration(&pause)?,
                    baseline,
                    null_name,
                    json,
                };
                sqs::run(cfg).await
            })
        })(),
        Cmd::Dynamodb {
            targets,
            clients,
            duration,
            warmup,
            mode,
            workload,
            stream,
            stream_only,
            put_keys,
            partitions,
            items,
            item_size,
            prefill_timeout,
            pause,
            baseline,
            null_name,
            json,
            threads,
            request_timeout,
        } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            if partitions == 0 || items == 0 {
                return Err("--partitions and --items must be > 0".to_string());
            }
            let rt = runtime(threads)?;
            rt.block_on(async move {
                let ts = parse_targets(&targets).await?;
                dynamodb::run(dynamodb::Config {
                    targets: ts,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    modes: list(&mode, sqs::Mode::parse)?,
                    workloads: list(&workload, dynamodb::Workload::parse)?,
                    stream: stream || stream_only,
                    stream_only,
                    put_keys,
                    partitions,
                    items,
                    item_size,
                    prefill_timeout: parse_duration(&prefill_timeout)?,
                    pause: parse_duration(&pause)?,
                    baseline,
                    null_name,
                    json,
                })
                .await
            })
        })(),
        Cmd::Lambda {
            targets,
            clients,
            duration,
            warmup,
            bootstrap,
            cold_starts,
            tail_every,
            function_timeout,
            memory,
            pause,
            keep_function,
            json,
            threads,
            request_timeout,
        } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            let rt = runtime(threads)?;
            rt.block_on(async move {
                let ts = parse_targets(&targets).await?;
                lambda::run(lambda::Config {
                    targets: ts,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    bootstrap,
                    cold_starts,
                    tail_every,
                    timeout_s: function_timeout,
                    memory_mb: memory,
                    pause: parse_duration(&pause)?,
                    keep_function,
                    json,
                })
                .await
            })
        })(),
        Cmd::Esm {
            target,
            bootstrap,
            samples,
            messages,
            batch_sizes,
            window,
            runs,
            json,
            request_timeout,
        } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            let rt = runtime(None)?;
            rt.block_on(async move {
                esm::run(esm::Config {
                    target: client::Target::parse(&target).await?,
                    bootstrap,
                    samples,
                    messages,
                    batch_sizes: list(&batch_sizes, |b| {
                        b.parse::<u32>().map_err(|_| format!("bad batch size {b:?}"))
                    })?,
                    window_s: window,
                    runs: runs.max(1),
                    json,
                })
                .await
            })
        })(),
        Cmd::Apigw { target, bootstrap, clients, duration, warmup, rounds, ws, json } => (|| {
            let rt = runtime(None)?;
            rt.block_on(async move {
                apigw::run(apigw::Config {
                    target: client::Target::parse(&target).await?,
                    bootstrap,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    rounds: rounds.max(1),
                    ws,
                    json,
                })
                .await
            })
        })(),
        Cmd::Sns { targets, subscriptions, publishes, clients, drain_timeout, enveloped } => (|| {
            let rt = runtime(None)?;
            rt.block_on(async move {
                sns::run(sns::Config {
                    targets: parse_targets(&targets).await?,
                    fanouts: client_counts(&subscriptions)?,
                    publishes: publishes.max(1),
                    clients: clients.max(1),
                    drain_timeout: parse_duration(&drain_timeout)?,
                    enveloped,
                })
                .await
            })
        })(),
        Cmd::Trace { target, clients, duration, rounds, bootstrap, traces, samples } => (|| {
            let rt = runtime(None)?;
            rt.block_on(async move {
                trace::run(trace::Config {
                    target: client::Target::parse(&target).await?,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    rounds,
                    bootstrap,
                    traces,
                    samples,
                })
                .await
            })
        })(),
        Cmd::Secrets { targets, clients, duration, operations } => (|| {
            let rt = runtime(None)?;
            rt.block_on(async move {
                secrets::run(secrets::Config {
                    targets: parse_targets(&targets).await?,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    operations: list(&operations, |o| Ok(o.to_string()))?,
                })
                .await
            })
        })(),
        Cmd::S3 { targets, clients, duration, sizes, operations, disk_dir } => (|| {
            let rt = runtime(None)?;
            rt.block_on(async move {
                s3::run(s3::Config {
                    targets: parse_targets(&targets).await?,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    sizes: list(&sizes, |s| s.parse::<usize>().map_err(|e| format!("size {s}: {e}")))?,
                    operations: list(&operations, |o| Ok(o.to_string()))?,
                    disk_dir,
                })
                .await
            })
        })(),
        Cmd::Sfn { targets, clients, duration, warmup, chains, states, bootstrap, poll, rounds, execution_timeout, pause, json, request_timeout } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            if states == 0 {
                return Err("--states must be > 0".to_string());
            }
            let rt = runtime(None)?;
            rt.block_on(async move {
                sfn::run(sfn::Config {
                    targets: parse_targets(&targets).await?,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    chains: list(&chains, sfn::Chain::parse)?,
                    states,
                    bootstrap,
                    poll: parse_duration(&poll)?,
                    rounds: rounds.max(1),
                    execution_timeout: parse_duration(&execution_timeout)?,
                    pause: parse_duration(&pause)?,
                    json,
                })
                .await
            })
        })(),
        Cmd::Kinesis { targets, clients, duration, warmup, workload, shards, batch, record_size, samples, fill, get_limit, rounds, pause, json, request_timeout } => (|| {
            client::set_request_timeout(parse_duration(&request_timeout)?);
            if !(1..=500).contains(&batch) || shards == 0 || get_limit == 0 {
                return Err("--batch must be 1..500, --shards and --get-limit > 0".to_string());
            }
            let rt = runtime(None)?;
            rt.block_on(async move {
                kinesis::run(kinesis::Config {
                    targets: parse_targets(&targets).await?,
                    clients: client_counts(&clients)?,
                    duration: parse_duration(&duration)?,
                    warmup: parse_duration(&warmup)?,
                    workloads: list(&workload, kinesis::Workload::parse)?,
                    shards,
                    batch,
                    record_size,
                    samples: samples.max(1),
                    fill: fill.max(1),
                    get_limit,
                    rounds: rounds.max(1),
                    pause: parse_duration(&pause)?,
                    json,
                })
                .await
            })
        })(),
        Cmd::Startup {
            bin,
            runs,
            port,
            health_path,
            timeout,
            idle,
        } => (|| {
            startup::run(startup::Config {
                bin,
                runs: runs.max(1),
                port,
                timeout: parse_duration(&timeout)?,
                idle: parse_duration(&idle)?,
                health_path,
            })
        })(),
    };
    if let Err(e) = res {
        eprintln!("nimbus-bench: {e}");
        std::process::exit(1);
    }
}
