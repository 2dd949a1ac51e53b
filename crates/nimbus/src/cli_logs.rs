//! `nimbus logs tail`: every log group of a running nimbus merged in time order, one
//! line an event (`<time> <group> <stream> <message>`), optionally narrowed to one
//! trace, one function, a group name prefix or a filter pattern, and followed as new
//! events arrive.
//!
//! It reads the server's CloudWatch Logs API like any client: DescribeLogGroups and
//! FilterLogEvents over HTTP/1.1 (JSON 1.1), signed with SigV4 (credentials from
//! `--access-key`/`--secret-key` or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
//! defaulting to nimbus's `test` root key), so it works under `--auth open`, `sigv4`
//! and `iam` alike. A hand-rolled client on `std::net` keeps the binary free of an HTTP
//! client dependency; `http://` endpoints only.
//!
//! `--trace ID` keeps events whose message contains the trace id (the `Root=` value,
//! e.g. in REPORT lines' `XRAY TraceId:` or a function's own log lines), plus every line
//! of the Lambda invocations those events belong to: the runtime's
//! `START`/`END`/`REPORT RequestId: …` lines, lines with the request id column of the
//! runtimes' loggers, and whatever the function printed in that stream between its
//! START and REPORT lines. `--follow` polls once a second (never faster than 500 ms).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct TailArgs {
    /// Only events of this trace (an X-Ray trace id, `1-…`, or `Root=1-…;…`), and the
    /// other lines of the invocations they belong to.
    #[arg(long)]
    trace: Option<String>,
    /// Keep printing new events as they arrive.
    #[arg(long, short)]
    follow: bool,
    /// Only log groups whose name starts with this prefix.
    #[arg(long)]
    group: Option<String>,
    /// Only the log group of this Lambda function (`/aws/lambda/NAME`).
    #[arg(long)]
    function: Option<String>,
    /// A CloudWatch Logs filter pattern (as FilterLogEvents takes it).
    #[arg(long)]
    filter: Option<String>,
    /// How far back to start: `30s`, `10m`, `2h`, `1d`.
    #[arg(long, default_value = "10m")]
    since: String,
    /// The nimbus endpoint.
    #[arg(long, env = "NIMBUS_ENDPOINT", default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// The region whose log groups to read.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Access key id to sign with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "test", hide_env_values = true)]
    access_key: String,
    /// Secret access key to sign with.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", default_value = "test", hide_env_values = true, hide_default_value = true)]
    secret_key: String,
}

#[derive(clap::Subcommand)]
pub enum LogsCommand {
    /// Print every log group's events merged in time order (like `aws logs tail`, across groups).
    Tail(TailArgs),
}

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_millis(1000);

pub fn run(cmd: LogsCommand) -> Result<(), String> {
    match cmd {
        LogsCommand::Tail(args) => tail(args),
    }
}

/// `10m` → milliseconds.
fn parse_since(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("--since {s}: expected a number and a unit (s, m, h, d, w)"))?;
    let ms = match unit {
        "s" | "" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(format!("--since {s}: unknown unit {unit} (s, m, h, d, w)")),
    };
    Ok(n * ms)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct Client {
    host: String,
    args_region: String,
    access_key: String,
    secret_key: String,
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    nimbus_core::hex::hex(&sha2::Sha256::digest(data))
}

impl Client {
    fn new(args: &TailArgs) -> Result<Client, String> {
        let rest = args.endpoint.strip_prefix("http://").ok_or_else(|| format!("--endpoint {}: only http:// endpoints are supported", args.endpoint))?;
        let host = rest.trim_end_matches('/').to_string();
        Ok(Client { host, args_region: args.region.clone(), access_key: args.access_key.clone(), secret_key: args.secret_key.clone() })
    }

    /// One Logs API call (JSON 1.1), signed with SigV4.
    fn call(&self, op: &str, body: &serde_json::Value) -> Result<serde_json::Value, String> {
        let payload = body.to_string();
        let secs = now_ms() / 1000;
        let amz_date = nimbus_core::sigv4::format_amz_date(secs);
        let day = &amz_date[..8];
        let target = format!("Logs_20140328.{op}");
        let content_type = "application/x-amz-json-1.1";
        let signed = "content-type;host;x-amz-date;x-amz-target";
        let canonical = format!(
            "POST\n/\n\ncontent-type:{content_type}\nhost:{}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{signed}\n{}",
            self.host,
            sha256_hex(payload.as_bytes())
        );
        let scope = format!("{day}/{}/logs/aws4_request", self.args_region);
        let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
        let key = aws_sigv4::sign::v4::generate_signing_key(&self.secret_key, UNIX_EPOCH + Duration::from_secs(secs), &self.args_region, "logs");
        let signature = aws_sigv4::sign::v4::calculate_signature(key, to_sign.as_bytes());
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nX-Amz-Date: {amz_date}\r\nX-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={signed}, Signature={signature}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{payload}",
            host = self.host,
            ak = self.access_key,
            len = payload.len()
        );
        let mut stream = TcpStream::connect(&self.host).map_err(|e| format!("cannot reach nimbus at http://{}: {e}", self.host))?;
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        stream.write_all(request.as_bytes()).map_err(|e| format!("sending {op}: {e}"))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| format!("reading {op}: {e}"))?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| format!("{op}: malformed HTTP response"))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut body = raw[split + 4..].to_vec();
        if head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked")) {
            body = dechunk(&body);
        }
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if status != 200 {
            let code = value.get("__type").and_then(|v| v.as_str()).unwrap_or("error");
            let msg = value.get("message").or_else(|| value.get("Message")).and_then(|v| v.as_str()).unwrap_or("");
            return Err(format!("{op} failed ({status}): {code}: {msg}"));
        }
        Ok(value)
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}

/// The groups to read, by name.
fn groups(client: &Client, args: &TailArgs) -> Result<Vec<String>, String> {
    let prefix = match (&args.function, &args.group) {
        (Some(f), _) => Some(format!("/aws/lambda/{f}")),
        (None, g) => g.clone(),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = serde_json::json!({});
        if let Some(p) = &prefix {
            req["logGroupNamePrefix"] = serde_json::json!(p);
        }
        if let Some(t) = &token {
            req["nextToken"] = serde_json::json!(t);
        }
        let resp = client.call("DescribeLogGroups", &req)?;
        for g in resp["logGroups"].as_array().into_iter().flatten() {
            if let Some(name) = g["logGroupName"].as_str() {
                if args.function.as_ref().is_none_or(|f| name == format!("/aws/lambda/{f}")) {
                    out.push(name.to_string());
                }
            }
        }
        match resp["nextToken"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

#[derive(Clone)]
struct Line {
    timestamp: u64,
    group: String,
    stream: String,
    message: String,
    id: String,
}

/// One group's events from `start` on (FilterLogEvents, every page).
fn events(client: &Client, group: &str, start: u64, pattern: Option<&str>) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = serde_json::json!({ "logGroupName": group, "startTime": start });
        if let Some(p) = pattern {
            req["filterPattern"] = serde_json::json!(p);
        }
        if let Some(t) = &token {
            req["nextToken"] = serde_json::json!(t);
        }
        let resp = match client.call("FilterLogEvents", &req) {
            Ok(r) => r,
            // A group deleted between listing and reading.
            Err(e) if e.contains("ResourceNotFoundException") => return Ok(out),
            Err(e) => return Err(e),
        };
        for e in resp["events"].as_array().into_iter().flatten() {
            out.push(Line {
                timestamp: e["timestamp"].as_u64().unwrap_or(0),
                group: group.to_string(),
                stream: e["logStreamName"].as_str().unwrap_or("").to_string(),
                message: e["message"].as_str().unwrap_or("").to_string(),
                id: e["eventId"].as_str().unwrap_or("").to_string(),
            });
        }
        match resp["nextToken"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The trace root a user typed: `Root=1-…;Parent=…` → `1-…`.
fn trace_root(t: &str) -> String {
    let first = t.split(';').find(|p| p.trim_start().starts_with("Root=")).unwrap_or(t.split(';').next().unwrap_or(t));
    first.trim().trim_start_matches("Root=").to_string()
}

/// The Lambda request id a log line belongs to, if it shows one.
fn request_id(message: &str) -> Option<String> {
    for kind in ["START", "END", "REPORT"] {
        if let Some(rest) = message.strip_prefix(kind).and_then(|r| r.strip_prefix(" RequestId: ")) {
            return rest.split(|c: char| c.is_whitespace()).next().map(str::to_string);
        }
    }
    // Runtime log lines: `<time>\t<request id>\t<LEVEL>\t<message>`; Lambda's
    // timeout line: `<time> <request id> Task timed out after …`.
    let is_id = |id: &str| id.len() == 36 && id.matches('-').count() == 4;
    let tab = message.split('\t').nth(1).filter(|id| is_id(id));
    let space = || message.split(' ').nth(1).filter(|id| is_id(id));
    tab.or_else(space).map(str::to_string)
}

/// Follows Lambda invocations through a stream of lines: which request each line
/// belongs to, and which requests belong to the trace.
#[derive(Default)]
struct Tracer {
    /// The request running in each (group, stream): between its START and REPORT lines,
    /// a function's own output (a bare `print`) belongs to it — an execution environment
    /// runs one invocation at a time.
    current: HashMap<(String, String), String>,
    /// (group, request id) of the invocations that belong to the trace.
    requests: HashSet<(String, String)>,
}

impl Tracer {
    /// The request a line belongs to, updating the running request of its stream.
    fn request_of(&mut self, l: &Line) -> Option<String> {
        let key = (l.group.clone(), l.stream.clone());
        let rid = request_id(&l.message);
        if let Some(r) = &rid {
            if l.message.starts_with("START ") {
                self.current.insert(key, r.clone());
            } else if l.message.starts_with("REPORT ") {
                self.current.remove(&key);
            }
            return rid;
        }
        self.current.get(&key).cloned()
    }

    /// Keeps the lines of the trace: those naming it, and the lines of their invocations.
    fn select(&mut self, lines: Vec<Line>, trace: &str) -> Vec<Line> {
        let tagged: Vec<(Line, Option<String>)> = lines.into_iter().map(|l| {
            let rid = self.request_of(&l);
            (l, rid)
        }).collect();
        for (l, rid) in &tagged {
            if let (true, Some(r)) = (l.message.contains(trace), rid) {
                self.requests.insert((l.group.clone(), r.clone()));
            }
        }
        tagged
            .into_iter()
            .filter(|(l, rid)| l.message.contains(trace) || rid.as_ref().is_some_and(|r| self.requests.contains(&(l.group.clone(), r.clone()))))
            .map(|(l, _)| l)
            .collect()
    }
}

fn print(lines: &[Line]) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for l in lines {
        let _ = writeln!(out, "{} {} {} {}", nimbus_core::time::iso8601_ms(l.timestamp), l.group, l.stream, l.message.trim_end_matches(['\n', '\r']));
    }
    let _ = out.flush();
}

fn tail(args: TailArgs) -> Result<(), String> {
    let client = Client::new(&args)?;
    let since = parse_since(&args.since)?;
    let trace = args.trace.as_deref().map(trace_root);
    let start = now_ms().saturating_sub(since);
    // Per group: the newest timestamp printed and the ids printed at it.
    let mut seen: HashMap<String, (u64, HashSet<String>)> = HashMap::new();
    let mut tracer = Tracer::default();
    loop {
        let mut batch = Vec::new();
        for g in groups(&client, &args)? {
            let from = seen.get(&g).map_or(start, |(t, _)| *t);
            let fresh: Vec<Line> = events(&client, &g, from, args.filter.as_deref())?
                .into_iter()
                .filter(|l| seen.get(&g).is_none_or(|(t, ids)| l.timestamp > *t || (l.timestamp == *t && !ids.contains(&l.id))))
                .collect();
            if let Some(newest) = fresh.iter().map(|l| l.timestamp).max() {
                let entry = seen.entry(g.clone()).or_insert_with(|| (newest, HashSet::new()));
                if newest > entry.0 {
                    *entry = (newest, HashSet::new());
                }
                entry.1.extend(fresh.iter().filter(|l| l.timestamp == newest).map(|l| l.id.clone()));
            }
            batch.extend(fresh);
        }
        // Time order across groups; within a timestamp, by group then event id.
        let mut ordered: BTreeMap<(u64, String, String), Line> = BTreeMap::new();
        for l in batch {
            ordered.insert((l.timestamp, l.group.clone(), l.id.clone()), l);
        }
        let mut lines: Vec<Line> = ordered.into_values().collect();
        if let Some(t) = &trace {
            lines = tracer.select(lines, t);
        }
        print(&lines);
        if !args.follow {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_trace_and_request_ids() {
        assert_eq!(parse_since("10m"), Ok(600_000));
        assert_eq!(parse_since("2h"), Ok(7_200_000));
        assert!(parse_since("5x").is_err());
        assert_eq!(trace_root("Root=1-abc-def;Parent=12;Sampled=1"), "1-abc-def");
        assert_eq!(trace_root("1-abc-def"), "1-abc-def");
        assert_eq!(request_id("REPORT RequestId: r-1\tDuration: 1 ms"), Some("r-1".into()));
        assert_eq!(request_id("START RequestId: r-2 Version: $LATEST"), Some("r-2".into()));
        assert_eq!(request_id("2026-12-04T17:00:00.000Z\t8f3a1c2e-1111-2222-3333-444455556666\tINFO\thi"), Some("8f3a1c2e-1111-2222-3333-444455556666".into()));
        assert_eq!(request_id("plain"), None);
        assert_eq!(request_id("2026-12-04T17:00:00.000Z 8f3a1c2e-1111-2222-3333-444455556666 Task timed out after 3.00 seconds"), Some("8f3a1c2e-1111-2222-3333-444455556666".into()));
        let line = |stream: &str, message: &str| Line { timestamp: 0, group: "g".into(), stream: stream.into(), message: message.into(), id: String::new() };
        let lines = vec![
            line("a", "START RequestId: r1 Version: $LATEST"),
            line("b", "START RequestId: r2 Version: $LATEST"),
            line("a", "printed by r1"),
            line("b", "printed by r2"),
            line("a", "END RequestId: r1"),
            line("a", "REPORT RequestId: r1\tDuration: 1 ms\t\nXRAY TraceId: 1-abc\tSegmentId: 1\tSampled: true"),
            line("a", "after r1"),
            line("b", "REPORT RequestId: r2\tDuration: 1 ms"),
        ];
        let kept: Vec<String> = Tracer::default().select(lines, "1-abc").into_iter().map(|l| l.message).collect();
        assert_eq!(kept.len(), 4);
        assert_eq!(kept[1], "printed by r1");
    }
}
