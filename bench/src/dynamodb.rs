//! `nimbus-bench dynamodb`: closed-loop DynamoDB load against one or more endpoints.
//!
//! Per target, set up once (not measured): a data table (`pk` S HASH, `sk` N RANGE,
//! PAY_PER_REQUEST) prefilled with `--partitions` × `--items` items of ~`--item-size`
//! bytes by BatchWriteItem, for `get`, `query` and `update`. `put` gets a fresh table
//! per run (and, with `--stream`, a second one with a NEW_AND_OLD_IMAGES stream). Then
//! for every (workload, mode, [stream,] target, client count): N clients in a closed
//! loop for warmup + duration, the latency of every request issued after the warmup in
//! an HDR histogram. Every loop is bounded by the duration and the request timeout.

use crate::report::ratio;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::{json, Value};

use crate::client::{request_timeout, status_error, RawConn, Target};
use crate::payload;
use crate::sqs::Mode;

/// Credential scope `…/us-east-1/dynamodb/aws4_request`: emulators that route by the
/// signing service (moto) see DynamoDB; the signature is not verified.
pub const AUTHORIZATION_DDB: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// BatchWriteItem's limit.
const BATCH: usize = 25;
/// Connections used for the prefill.
const PREFILL_CONNS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Put,
    Get,
    Query,
    Update,
}

impl Workload {
    pub fn parse(s: &str) -> Result<Workload, String> {
        match s {
            "put" => Ok(Workload::Put),
            "get" => Ok(Workload::Get),
            "query" => Ok(Workload::Query),
            "update" => Ok(Workload::Update),
            _ => Err(format!("unknown workload {s:?} (put | get | query | update)")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Query => "query",
            Workload::Update => "update",
        }
    }
    fn op(self) -> &'static str {
        match self {
            Workload::Put => "PutItem",
            Workload::Get => "GetItem",
            Workload::Query => "Query",
            Workload::Update => "UpdateItem",
        }
    }
    fn needs_data(self) -> bool {
        self != Workload::Put
    }
}

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub modes: Vec<Mode>,
    pub workloads: Vec<Workload>,
    pub stream: bool,
    /// Put runs on the stream table only.
    pub stream_only: bool,
    /// Put overwrites this many keys at random instead of writing new ones.
    pub put_keys: Option<usize>,
    pub partitions: usize,
    pub items: usize,
    pub item_size: usize,
    pub prefill_timeout: Duration,
    pub pause: Duration,
    pub baseline: String,
    pub null_name: String,
    pub json: Option<String>,
}

#[derive(serde::Serialize, Clone)]
pub struct RunResult {
    pub target: String,
    pub workload: Workload,
    pub mode: Mode,
    pub clients: usize,
    /// The table had a NEW_AND_OLD_IMAGES stream (put with `--stream`).
    pub stream: bool,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub req_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub first_error: Option<String>,
    pub setup_error: Option<String>,
}

// ---------------------------------------------------------------------------------
// Items and requests

/// The fixed part of every item: `data` pads the item to ~`item_size` bytes (DynamoDB's
/// item size: attribute names plus values).
fn filler(item_size: usize) -> String {
    payload::message_body(item_size.saturating_sub(20).max(1))
}

fn pk(p: usize) -> String {
    format!("p{p:06}")
}

fn item(pk: &str, sk: usize, data: &str) -> Value {
    json!({
        "pk": {"S": pk},
        "sk": {"N": sk.to_string()},
        "c": {"N": "0"},
        "data": {"S": data},
    })
}

fn key(pk: &str, sk: usize) -> Value {
    json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}})
}

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap())
}

fn create_table_body(table: &str, stream: bool) -> Bytes {
    let mut v = json!({
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    });
    if stream {
        v["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"});
    }
    to_bytes(&v)
}

/// A PutItem body with the key and the counter attribute `c` left out, so that every
/// put writes a new item (or a new version of one) at the cost of a few copies.
struct PutTemplate {
    /// The body split at the two holes; `pk_first` tells which hole comes first.
    parts: [Bytes; 3],
    pk_first: bool,
}

impl PutTemplate {
    fn new(table: &str, item_size: usize) -> PutTemplate {
        const PK: &str = "@@PK@@";
        const C: &str = "@@C@@";
        let mut v = json!({"TableName": table, "Item": item(PK, 0, &filler(item_size))});
        v["Item"]["c"] = json!({"N": C});
        let s = serde_json::to_string(&v).unwrap();
        let (at_pk, at_c) = (s.find(PK).unwrap(), s.find(C).unwrap());
        let ((first, first_len), (second, second_len)) = if at_pk < at_c { ((at_pk, PK.len()), (at_c, C.len())) } else { ((at_c, C.len()), (at_pk, PK.len())) };
        let b = s.as_bytes();
        PutTemplate {
            parts: [
                Bytes::copy_from_slice(&b[..first]),
                Bytes::copy_from_slice(&b[first + first_len..second]),
                Bytes::copy_from_slice(&b[second + second_len..]),
            ],
            pk_first: at_pk < at_c,
        }
    }
    fn body(&self, pk: &str, counter: u64) -> Bytes {
        let c = counter.to_string();
        let (x, y) = if self.pk_first { (pk, c.as_str()) } else { (c.as_str(), pk) };
        let mut v = Vec::with_capacity(self.parts.iter().map(Bytes::len).sum::<usize>() + x.len() + y.len());
        v.extend_from_slice(&self.parts[0]);
        v.extend_from_slice(x.as_bytes());
        v.extend_from_slice(&self.parts[1]);
        v.extend_from_slice(y.as_bytes());
        v.extend_from_slice(&self.parts[2]);
        Bytes::from(v)
    }
}

/// Pre-built GetItem / UpdateItem bodies (one per prefilled item) and Query bodies (one
/// per partition) for the data table, shared by every client and target.
struct DataBodies {
    get: Vec<Bytes>,
    update: Vec<Bytes>,
    query: Vec<Bytes>,
}

impl DataBodies {
    fn new(cfg: &Config, table: &str) -> DataBodies {
        let want = |w| cfg.workloads.contains(&w);
        let n = cfg.partitions * cfg.items;
        let each = |f: &dyn Fn(&str, usize) -> Value| -> Vec<Bytes> {
            let mut v = Vec::with_capacity(n);
            for p in 0..cfg.partitions {
                let pk = pk(p);
                for j in 0..cfg.items {
                    v.push(to_bytes(&f(&pk, j)));
                }
            }
            v
        };
        DataBodies {
            get: if want(Workload::Get) {
                each(&|pk, j| json!({"TableName": table, "Key": key(pk, j)}))
            } else {
                Vec::new()
            },
            update: if want(Workload::Update) {
                each(&|pk, j| {
                    json!({
                        "TableName": table,
                        "Key": key(pk, j),
                        "UpdateExpression": "SET #c = #c + :one",
                        "ExpressionAttributeNames": {"#c": "c"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    })
                })
            } else {
                Vec::new()
            },
            query: if want(Workload::Query) {
                (0..cfg.partitions)
                    .map(|p| {
                        to_bytes(&json!({
                            "TableName": table,
                            "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": pk(p)}},
                        }))
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

// ---------------------------------------------------------------------------------
// Raw HTTP

#[derive(Clone)]
struct DdbHeaders {
    put: HeaderMap,
    get: HeaderMap,
    query: HeaderMap,
    update: HeaderMap,
    batch_write: HeaderMap,
    create_table: HeaderMap,
    describe_table: HeaderMap,
    delete_table: HeaderMap,
}

impl DdbHeaders {
    fn new(host: &str) -> DdbHeaders {
        let base = |op: &str| {
            let mut h = HeaderMap::new();
            h.insert(HOST, HeaderValue::from_str(host).unwrap());
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
            h.insert(
                "x-amz-target",
                HeaderValue::from_str(&format!("DynamoDB_20120810.{op}")).unwrap(),
            );
            h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
            h.insert(AUTHORIZATION, HeaderValue::from_static(AUTHORIZATION_DDB));
            h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
            h
        };
        DdbHeaders {
            put: base("PutItem"),
            get: base("GetItem"),
            query: base("Query"),
            update: base("UpdateItem"),
            batch_write: base("BatchWriteItem"),
            create_table: base("CreateTable"),
            describe_table: base("DescribeTable"),
            delete_table: base("DeleteTable"),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `"Count":N` of a Query response, looked for near both ends first (where servers put
/// it) so that a 20 KB response costs the load generator little.
fn query_count(body: &[u8]) -> Option<u64> {
    const K: &[u8] = b"\"Count\":";
    let head = &body[..body.len().min(256)];
    let tail_from = body.len().saturating_sub(256);
    let at = find(head, K)
        .or_else(|| find(&body[tail_from..], K).map(|i| i + tail_from))
        .or_else(|| find(body, K))?;
    let rest = &body[at + K.len()..];
    let rest = &rest[rest.iter().take_while(|b| **b == b' ').count()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

struct Admin {
    conn: RawConn,
    h: DdbHeaders,
}

impl Admin {
    fn new(target: &Target) -> Admin {
        Admin { conn: RawConn::new(target.addr), h: DdbHeaders::new(&target.host) }
    }

    async fn call(&mut self, op: &str, headers: &HeaderMap, body: Bytes) -> Result<Bytes, String> {
        let (status, resp) = self.conn.call(headers, body).await?;
        if !status.is_success() {
            return Err(status_error(op, status, &resp));
        }
        Ok(resp)
    }

    /// CreateTable, then DescribeTable every 5 ms until ACTIVE (at most 30 s).
    async fn create_table(&mut self, table: &str, stream: bool) -> Result<(), String> {
        let h = self.h.create_table.clone();
        self.call("CreateTable", &h, create_table_body(table, stream)).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let h = self.h.describe_table.clone();
        let body = to_bytes(&json!({"TableName": table}));
        loop {
            let resp = self.call("DescribeTable", &h, body.clone()).await?;
            let v: Value = serde_json::from_slice(&resp).map_err(|e| format!("DescribeTable: bad JSON: {e}"))?;
            let status = v.pointer("/Table/TableStatus").and_then(|s| s.as_str()).unwrap_or("");
            if status == "ACTIVE" {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("table {table} not ACTIVE after 30 s (status {status:?})"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn delete_table(&mut self, table: &str) -> Result<(), String> {
        let h = self.h.delete_table.clone();
        self.call("DeleteTable", &h, to_bytes(&json!({"TableName": table}))).await.map(|_| ())
    }

    /// One BatchWriteItem, re-sending UnprocessedItems (up to 20 times).
    async fn batch_write(&mut self, table: &str, requests: Vec<Value>) -> Result<(), String> {
        let h = self.h.batch_write.clone();
        let mut pending = json!({ table: requests });
        for _ in 0..20 {
            let resp = self
                .call("BatchWriteItem", &h, to_bytes(&json!({"RequestItems": pending})))
                .await?;
            let v: Value = serde_json::from_slice(&resp).map_err(|e| format!("BatchWriteItem: bad JSON: {e}"))?;
            match v.get("UnprocessedItems").and_then(|u| u.get(table)) {
                Some(Value::Array(a)) if !a.is_empty() => {
                    pending = json!({ table: a });
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                _ => return Ok(()),
            }
        }
        Err("BatchWriteItem: items still unprocessed after 20 attempts".into())
    }
}

/// Fills the data table: `partitions × items` items, BATCH per call, PREFILL_CONNS
/// connections. Returns the items written.
async fn prefill(cfg: &Config, target: &Target, table: &str) -> Result<usize, String> {
    let total_batches = (cfg.partitions * cfg.items).div_ceil(BATCH);
    let next = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + cfg.prefill_timeout;
    let data: Arc<str> = filler(cfg.item_size).into();
    let (partitions, items) = (cfg.partitions, cfg.items);
    let mut tasks = Vec::new();
    for _ in 0..PREFILL_CONNS {
        let (target, table, next, written, data) =
            (target.clone(), table.to_string(), next.clone(), written.clone(), data.clone());
        tasks.push(tokio::spawn(async move {
            let mut admin = Admin::new(&target);
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed) as usize;
                if b >= total_batches || Instant::now() > deadline {
                    return Ok::<(), String>(());
                }
                let reqs: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(partitions * items))
                    .map(|i| json!({"PutRequest": {"Item": item(&pk(i / items), i % items, &data)}}))
                    .collect();
                let n = reqs.len() as u64;
                admin.batch_write(&table, reqs).await?;
                written.fetch_add(n, Ordering::Relaxed);
            }
        }));
    }
    let mut first_err = None;
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(format!("prefill task: {e}"));
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let n = written.load(Ordering::Relaxed) as usize;
    if n < partitions * items {
        return Err(format!(
            "prefill: only {n} of {} items written within --prefill-timeout",
            partitions * items
        ));
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------
// SDK

pub fn build_sdk(target: &Target) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let http = aws_smithy_http_client::Builder::new().build_http();
    let creds = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "nimbus-bench",
    );
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&target.url)
        .credentials_provider(creds)
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(request_timeout()).build())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn sdk_err<E: std::error::Error>(op: &str, e: E) -> String {
    format!("{op}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e))
}

// ---------------------------------------------------------------------------------
// Clients

/// What a client works on during one run.
#[derive(Clone)]
struct RunSpec {
    workload: Workload,
    table: Arc<str>,
    put: Arc<PutTemplate>,
    data: Arc<DataBodies>,
    data_str: Arc<str>,
    partitions: usize,
    items: usize,
    /// Put cycles over this many keys (None: a new key per put).
    put_keys: Option<usize>,
}

enum Conn {
    Raw(RawConn, Box<DdbHeaders>),
    Sdk(aws_sdk_dynamodb::Client),
}

struct Worker {
    id: usize,
    conn: Conn,
    spec: RunSpec,
    seq: u64,
    rng: u64,
}

impl Worker {
    fn next_rand(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    async fn one(&mut self) -> Result<(), String> {
        let n_items = self.spec.partitions * self.spec.items;
        match self.spec.workload {
            Workload::Put => {
                let pk = match self.spec.put_keys {
                    Some(keys) => format!("k{}", self.next_rand() % keys as u64),
                    None => format!("w{}-{}", self.id, self.seq),
                };
                self.seq += 1;
                let s = &self.spec;
                match &mut self.conn {
                    Conn::Raw(conn, h) => {
                        let body = self.spec.put.body(&pk, self.seq);
                        let (st, resp) = conn.call(&h.put, body).await?;
                        if !st.is_success() {
                            return Err(status_error("PutItem", st, &resp));
                        }
                        Ok(())
                    }
                    Conn::Sdk(c) => {
                        use aws_sdk_dynamodb::types::AttributeValue as A;
                        let mut item = HashMap::with_capacity(4);
                        item.insert("pk".to_string(), A::S(pk));
                        item.insert("sk".to_string(), A::N("0".into()));
                        item.insert("c".to_string(), A::N(self.seq.to_string()));
                        item.insert("data".to_string(), A::S(s.data_str.to_string()));
                        c.put_item()
                            .table_name(&*s.table)
                            .set_item(Some(item))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| sdk_err("PutItem", e))
                    }
                }
            }
            Workload::Get | Workload::Update => {
                let i = (self.next_rand() % n_items as u64) as usize;
                let s = &self.spec;
                let get = s.workload == Workload::Get;
                match &mut self.conn {
                    Conn::Raw(conn, h) => {
                        let (hdr, body) = if get {
                            (&h.get, s.data.get[i].clone())
                        } else {
                            (&h.update, s.data.update[i].clone())
                        };
                        let (st, resp) = conn.call(hdr, body).await?;
                        if !st.is_success() {
                            return Err(status_error(s.workload.op(), st, &resp));
                        }
                        if get && find(&resp, b"\"Item\"").is_none() {
                            return Err(format!(
                                "GetItem: no Item in {}",
                                String::from_utf8_lossy(&resp[..resp.len().min(200)])
                            ));
                        }
                        Ok(())
                    }
                    Conn::Sdk(c) => {
                        use aws_sdk_dynamodb::types::AttributeValue as A;
                        let pkv = A::S(pk(i / s.items));
                        let skv = A::N((i % s.items).to_string());
                        if get {
                            let out = c
                                .get_item()
                                .table_name(&*s.table)
                                .key("pk", pkv)
                                .key("sk", skv)
                                .send()
                                .await
                                .map_err(|e| sdk_err("GetItem", e))?;
                            if out.item.is_none() {
                                return Err("GetItem: no Item".into());
                            }
                            Ok(())
                        } else {
                            c.update_item()
                                .table_name(&*s.table)
                                .key("pk", pkv)
                                .key("sk", skv)
                                .update_expression("SET #c = #c + :one")
                                .expression_attribute_names("#c", "c")
                                .expression_attribute_values(":one", A::N("1".into()))
                                .send()
                                .await
                                .map(|_| ())
                                .map_err(|e| sdk_err("UpdateItem", e))
                        }
                    }
                }
            }
            Workload::Query => {
                let partitions = self.spec.partitions as u64;
                let p = (self.next_rand() % partitions) as usize;
                let s = &self.spec;
                let want = s.items as u64;
                let got = match &mut self.conn {
                    Conn::Raw(conn, h) => {
                        let (st, resp) = conn.call(&h.query, s.data.query[p].clone()).await?;
                        if !st.is_success() {
                            return Err(status_error("Query", st, &resp));
                        }
                        query_count(&resp)
                    }
                    Conn::Sdk(c) => {
                        use aws_sdk_dynamodb::types::AttributeValue as A;
                        let out = c
                            .query()
                            .table_name(&*s.table)
                            .key_condition_expression("pk = :p")
                            .expression_attribute_values(":p", A::S(pk(p)))
                            .send()
                            .await
                            .map_err(|e| sdk_err("Query", e))?;
                        Some(out.count as u64)
                    }
                };
                if got != Some(want) {
                    return Err(format!("Query: Count {got:?}, expected {want}"));
                }
                Ok(())
            }
        }
    }
}

struct Stats {
    hist: Histogram<u64>,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
}

struct Shared {
    record_from: Instant,
    end: Instant,
    stop: AtomicBool,
}

async fn worker_loop(mut w: Worker, shared: Arc<Shared>) -> Stats {
    let mut st = Stats {
        hist: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
        requests: 0,
        errors: 0,
        first_error: None,
    };
    loop {
        let now = Instant::now();
        if now >= shared.end || shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let recording = now >= shared.record_from;
        let t = Instant::now();
        match w.one().await {
            Ok(()) => {
                if recording && Instant::now() <= shared.end {
                    st.hist.saturating_record(t.elapsed().as_micros().max(1) as u64);
                    st.requests += 1;
                }
            }
            Err(e) => {
                // Also a request sent during the warmup that fails (times out) inside the
                // measured window: a target that never answers shows errors, not nothing.
                if recording || Instant::now() >= shared.record_from {
                    st.errors += 1;
                }
                st.first_error.get_or_insert(e);
            }
        }
    }
    st
}

// ---------------------------------------------------------------------------------
// Runs

struct TargetState {
    target: Target,
    /// Set up the data table, or why not.
    data_ready: Result<(), String>,
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    cfg: &Config,
    ts: &TargetState,
    data_table: &Arc<str>,
    data: &Arc<DataBodies>,
    workload: Workload,
    mode: Mode,
    stream: bool,
    clients: usize,
) -> RunResult {
    let target = &ts.target;
    let mut r = RunResult {
        target: target.name.clone(),
        workload,
        mode,
        clients,
        stream,
        seconds: 0.0,
        requests: 0,
        errors: 0,
        req_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        p999_ms: 0.0,
        max_ms: 0.0,
        first_error: None,
        setup_error: None,
    };
    let table: Arc<str> = if workload == Workload::Put {
        let name = format!(
            "bench-put-{}{}-c{}-{}",
            mode.name(),
            if stream { "-stream" } else { "" },
            clients,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        if let Err(e) = Admin::new(target).create_table(&name, stream).await {
            r.setup_error = Some(e);
            return r;
        }
        name.into()
    } else {
        if let Err(e) = &ts.data_ready {
            r.setup_error = Some(e.clone());
            return r;
        }
        data_table.clone()
    };
    let spec = RunSpec {
        workload,
        table: table.clone(),
        put: Arc::new(PutTemplate::new(&table, cfg.item_size)),
        data: data.clone(),
        data_str: filler(cfg.item_size).into(),
        partitions: cfg.partitions,
        items: cfg.items,
        put_keys: cfg.put_keys,
    };
    let sdk = (mode == Mode::Sdk).then(|| build_sdk(target));
    let start = Instant::now();
    let shared = Arc::new(Shared {
        record_from: start + cfg.warmup,
        end: start + cfg.warmup + cfg.duration,
        stop: AtomicBool::new(false),
    });
    let mut tasks = Vec::with_capacity(clients);
    for id in 0..clients {
        let conn = match &sdk {
            Some(c) => Conn::Sdk(c.clone()),
            None => Conn::Raw(RawConn::new(target.addr), Box::new(DdbHeaders::new(&target.host))),
        };
        let w = Worker {
            id,
            conn,
            spec: spec.clone(),
            seq: 0,
            rng: 0x9e37_79b9_7f4a_7c15 ^ ((id as u64 + 1) * 0x1000_0000_01b3),
        };
        tasks.push(tokio::spawn(worker_loop(w, shared.clone())));
    }
    let mut hist: Histogram<u64> = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
    for t in tasks {
        match t.await {
            Ok(st) => {
                hist.add(&st.hist).unwrap();
                r.requests += st.requests;
                r.errors += st.errors;
                if r.first_error.is_none() {
                    r.first_error = st.first_error;
                }
            }
            Err(e) => {
                r.errors += 1;
                r.first_error.get_or_insert(format!("client task panicked: {e}"));
            }
        }
    }
    let secs = cfg.duration.as_secs_f64();
    r.seconds = secs;
    r.req_per_s = r.requests as f64 / secs;
    if !hist.is_empty() {
        r.p50_ms = hist.value_at_quantile(0.50) as f64 / 1000.0;
        r.p99_ms = hist.value_at_quantile(0.99) as f64 / 1000.0;
        r.p999_ms = hist.value_at_quantile(0.999) as f64 / 1000.0;
        r.max_ms = hist.max() as f64 / 1000.0;
    }
    if workload == Workload::Put {
        let _ = Admin::new(target).delete_table(&table).await;
    }
    r
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let data_table: Arc<str> =
        format!("bench-data-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).into();
    let needs_data = cfg.workloads.iter().any(|w| w.needs_data());
    let data = Arc::new(if needs_data {
        DataBodies::new(&cfg, &data_table)
    } else {
        DataBodies { get: Vec::new(), update: Vec::new(), query: Vec::new() }
    });

    // Setup (not measured): the data table on every target.
    let mut states = Vec::new();
    for t in &cfg.targets {
        let mut st = TargetState { target: t.clone(), data_ready: Ok(()) };
        if needs_data {
            let t0 = Instant::now();
            eprint!(
                "[setup {:>10}] CreateTable {data_table} + {} × {} items of ~{} B ... ",
                t.name, cfg.partitions, cfg.items, cfg.item_size
            );
            st.data_ready = async {
                Admin::new(t).create_table(&data_table, false).await?;
                prefill(&cfg, t, &data_table).await
            }
            .await
            .map(|n| eprintln!("{n} items in {:.1} s", t0.elapsed().as_secs_f64()));
            if let Err(e) = &st.data_ready {
                eprintln!("FAILED: {e}");
            }
        }
        states.push(st);
    }

    let mut all: Vec<RunResult> = Vec::new();
    for &workload in &cfg.workloads {
        for &mode in &cfg.modes {
            let variants: &[bool] = match (workload == Workload::Put, cfg.stream, cfg.stream_only) {
                (true, _, true) => &[true],
                (true, true, false) => &[false, true],
                _ => &[false],
            };
            let mut section = Vec::new();
            for &stream in variants {
                for ts in &states {
                    for &clients in &cfg.clients {
                        eprint!(
                            "[{}{} {} {:>10} c={:<4}] ",
                            workload.name(),
                            if stream { "+stream" } else { "" },
                            mode.name(),
                            ts.target.name,
                            clients
                        );
                        let r = run_one(&cfg, ts, &data_table, &data, workload, mode, stream, clients).await;
                        eprintln!("{}", one_line(&r));
                        section.push(r);
                        tokio::time::sleep(cfg.pause).await;
                    }
                }
            }
            print_section(&cfg, workload, mode, &section);
            all.extend(section);
        }
    }

    if needs_data {
        for ts in &states {
            if ts.data_ready.is_ok() {
                let _ = Admin::new(&ts.target).delete_table(&data_table).await;
            }
        }
    }

    if let Some(path) = &cfg.json {
        let doc = json!({
            "duration_s": cfg.duration.as_secs_f64(),
            "warmup_s": cfg.warmup.as_secs_f64(),
            "partitions": cfg.partitions,
            "items_per_partition": cfg.items,
            "item_size": cfg.item_size,
            "results": all,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).map_err(|e| format!("write {path}: {e}"))?;
        eprintln!("results written to {path}");
    }
    Ok(())
}

/// req/s with a decimal when small (moto's Query: ~1 req/s).
fn rate(x: f64) -> String {
    if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

fn one_line(r: &RunResult) -> String {
    if let Some(e) = &r.setup_error {
        return format!("SETUP FAILED: {e}");
    }
    let mut s = format!(
        "{:>9} req/s  p50 {:.3} ms  p99 {:.3} ms  p999 {:.3} ms  errors {}",
        rate(r.req_per_s), r.p50_ms, r.p99_ms, r.p999_ms, r.errors
    );
    if let Some(e) = &r.first_error {
        s.push_str(&format!("\n    first error: {e}"));
    }
    s
}

fn print_section(cfg: &Config, workload: Workload, mode: Mode, rs: &[RunResult]) {
    println!();
    let what = match workload {
        Workload::Put => format!("PutItem of a new ~{} B item", cfg.item_size),
        Workload::Get => format!("GetItem of a random item of {} × {}", cfg.partitions, cfg.items),
        Workload::Query => format!("Query pk = :p of a random partition ({} items each)", cfg.items),
        Workload::Update => "UpdateItem SET #c = #c + :one of a random item".to_string(),
    };
    println!(
        "== dynamodb workload={} mode={} duration={:.1}s warmup={:.1}s ({what})",
        workload.name(),
        mode.name(),
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
    );
    println!(
        "{:<12} {:>6} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7}  note",
        "target", "stream", "clients", "req/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "errors"
    );
    for r in rs {
        let note = match &r.setup_error {
            Some(e) => format!("setup failed: {}", e.chars().take(80).collect::<String>()),
            None => String::new(),
        };
        println!(
            "{:<12} {:>6} {:>7} {:>10} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7}  {}",
            r.target,
            if r.stream { "yes" } else { "no" },
            r.clients,
            rate(r.req_per_s),
            r.p50_ms,
            r.p99_ms,
            r.p999_ms,
            r.max_ms,
            r.errors,
            note
        );
    }
    let mut others: Vec<&str> = Vec::new();
    for r in rs {
        if r.target != cfg.baseline && !others.contains(&r.target.as_str()) {
            others.push(&r.target);
        }
    }
    if rs.iter().any(|r| r.target == cfg.baseline) && !others.is_empty() {
        println!(
            "-- ratios {b}/peer: throughput (>1 = {b} faster), p50 and p99 latency (<1 = {b} faster)",
            b = cfg.baseline
        );
        println!("{:<24} {:>6} {:>7} {:>11} {:>9} {:>9}", "ratio", "stream", "clients", "throughput", "p50", "p99");
        for stream in [false, true] {
            for other in &others {
                for &c in &cfg.clients {
                    let find = |t: &str| rs.iter().find(|r| r.target == t && r.clients == c && r.stream == stream);
                    if let (Some(b), Some(o)) = (find(&cfg.baseline), find(other)) {
                        let label = if *other == cfg.null_name {
                            format!("{}/{} (ceiling)", cfg.baseline, other)
                        } else {
                            format!("{}/{}", cfg.baseline, other)
                        };
                        println!(
                            "{:<24} {:>6} {:>7} {:>11} {:>9} {:>9}",
                            label,
                            if stream { "yes" } else { "no" },
                            c,
                            ratio(b.req_per_s, o.req_per_s),
                            ratio(b.p50_ms, o.p50_ms),
                            ratio(b.p99_ms, o.p99_ms)
                        );
                    }
                }
            }
        }
    }
    if rs.iter().any(|r| r.stream) {
        println!("-- cost of a NEW_AND_OLD_IMAGES stream: PutItem throughput with / without (1 = free)");
        println!("{:<12} {:>7} {:>12} {:>12} {:>9} {:>9}", "target", "clients", "no stream", "stream", "ratio", "cost");
        for r in rs.iter().filter(|r| r.stream) {
            if let Some(p) = rs.iter().find(|p| !p.stream && p.target == r.target && p.clients == r.clients) {
                let cost = if p.req_per_s > 0.0 {
                    format!("{:.1}%", (1.0 - r.req_per_s / p.req_per_s) * 100.0)
                } else {
                    "-".into()
                };
                println!(
                    "{:<12} {:>7} {:>12} {:>12} {:>9} {:>9}",
                    r.target,
                    r.clients,
                    rate(p.req_per_s),
                    rate(r.req_per_s),
                    ratio(r.req_per_s, p.req_per_s),
                    cost
                );
            }
        }
    }
}
