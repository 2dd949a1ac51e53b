//! `nimbus trace [TRACE_ID | --last N | --errors]`: traces of a running nimbus as
//! waterfalls in the terminal — one line per segment and subsegment, indented under its
//! parent, with its service, operation, resource, start offset, duration, outcome and a
//! bar on the trace's time axis — then the log lines of each Lambda invocation in it.
//!
//! It reads the server over plain HTTP, unsigned, through the web console's endpoints
//! (`/_nimbus/console/api/xray/GetTraceSummaries` to find traces, and the trace view
//! `/_nimbus/console/trace/<id>`, which joins BatchGetTraces with the functions' logs), so
//! it works under every `--auth` mode and shows exactly what the console's trace page shows.

use serde_json::{json, Value};
use std::io::{IsTerminal, Read, Write};

#[derive(clap::Args)]
pub struct TraceArgs {
    /// The trace to show (`1-5759e988-bd862e3fe1be46a994272793`).
    trace_id: Option<String>,
    /// Show the newest N traces.
    #[arg(long, value_name = "N", conflicts_with = "trace_id")]
    last: Option<usize>,
    /// Only traces with an error, fault or throttle (the newest one, or --last N of them).
    #[arg(long, conflicts_with = "trace_id")]
    errors: bool,
    /// How far back to look for traces, in minutes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    since: u64,
    /// The running nimbus.
    #[arg(long, env = "NIMBUS_ENDPOINT", default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// The region whose traces to read.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Width of the time bar, in columns.
    #[arg(long, default_value_t = 40)]
    bar_width: usize,
    /// No ANSI colours (also when NO_COLOR is set or stdout is not a terminal).
    #[arg(long)]
    no_color: bool,
}

/// Runs the command; the error is printed by `main`.
pub fn run(args: TraceArgs) -> Result<(), String> {
    let server = Server::parse(&args.endpoint)?;
    let ids = match &args.trace_id {
        Some(id) => vec![id.clone()],
        None => newest(&server, &args)?,
    };
    if ids.is_empty() {
        let what = if args.errors { "with errors " } else { "" };
        return Err(format!("no traces {what}in the last {} minutes at {} ({})", args.since, args.endpoint, args.region));
    }
    let color = !args.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let mut out = String::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let path = format!("/_nimbus/console/trace/{id}?region={}", args.region);
        let view = server.get(&path)?;
        render(&mut out, &view, args.bar_width.clamp(10, 200), color);
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes()).map_err(|e| e.to_string())
}

/// The ids of the newest traces (`--last`, default 1), newest first.
fn newest(server: &Server, args: &TraceArgs) -> Result<Vec<String>, String> {
    let now_ms = server.get("/_nimbus/clock")?.get("now_ms").and_then(Value::as_f64).unwrap_or(0.0);
    let end = now_ms / 1000.0 + 1.0;
    let mut input = json!({ "StartTime": end - (args.since as f64) * 60.0 - 1.0, "EndTime": end, "Sampling": false });
    let mut found: Vec<(f64, String)> = Vec::new();
    // nimbus's X-Ray answers newest first (AWS promises no order): pages are read until
    // enough traces are found (bounded).
    let wanted = args.last.unwrap_or(1).max(1);
    for _ in 0..200 {
        let page = server.post(&format!("/_nimbus/console/api/xray/GetTraceSummaries?region={}", args.region), &input)?;
        for s in page.get("TraceSummaries").and_then(Value::as_array).into_iter().flatten() {
            let flag = |k: &str| s.get(k).and_then(Value::as_bool) == Some(true);
            if args.errors && !(flag("HasError") || flag("HasFault") || flag("HasThrottle")) {
                continue;
            }
            let Some(id) = s.get("Id").and_then(Value::as_str) else { continue };
            found.push((start_of(s, id), id.to_string()));
        }
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() && found.len() < wanted => input["NextToken"] = json!(t),
            _ => break,
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    found.dedup_by(|a, b| a.1 == b.1);
    Ok(found.into_iter().take(wanted).map(|(_, id)| id).collect())
}

/// A summary's start (`StartTime`, else the seconds in its id).
fn start_of(summary: &Value, id: &str) -> f64 {
    summary
        .get("StartTime")
        .and_then(Value::as_f64)
        .or_else(|| id.get(2..10).and_then(|h| u32::from_str_radix(h, 16).ok()).map(f64::from))
        .unwrap_or(0.0)
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn outcome_color(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "32",
        "error" => "33",
        "fault" => "31",
        "throttle" => "35",
        _ => "90",
    }
}

/// `12.3 ms`, `1.20 s`.
fn duration(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Cuts `s` to `n` characters (an ellipsis marks the cut) and pads it to `n`.
fn fit(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count > n {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        format!("{s}{}", " ".repeat(n - count))
    }
}

/// One trace view as text.
fn render(out: &mut String, view: &Value, width: usize, color: bool) {
    let rows = view.get("Rows").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = view.get("DurationMs").and_then(Value::as_f64).unwrap_or(0.0).max(0.001);
    let start_ms = view.get("StartTime").and_then(Value::as_f64).unwrap_or(0.0) * 1000.0;
    let worst = ["fault", "throttle", "error"].into_iter().find(|o| rows.iter().any(|r| r["outcome"] == *o)).unwrap_or("ok");
    out.push_str(&format!(
        "{}  {}  ·  {}  ·  {} segments  ·  {}\n",
        paint(color, "1", &format!("Trace {}", view["TraceId"].as_str().unwrap_or(""))),
        nimbus_core::time::iso8601_ms(start_ms as u64),
        duration(total),
        rows.len(),
        paint(color, outcome_color(worst), &worst.to_uppercase()),
    ));
    const LABEL: usize = 64;
    out.push_str(&format!("{:>10} {:>10}  {:<8}  {}  {}\n", "start", "duration", "outcome", fit("segment · operation · resource", LABEL), "timeline"));
    for r in &rows {
        let depth = r["depth"].as_u64().unwrap_or(0) as usize;
        let name = r["name"].as_str().unwrap_or("");
        let mut label = format!("{}{name}", "  ".repeat(depth.min(12)));
        for key in ["operation", "resource"] {
            // A function's segment is named after the function: its resource adds nothing.
            if let Some(v) = r[key].as_str().filter(|v| !v.is_empty() && !(key == "resource" && *v == name)) {
                label.push_str(" · ");
                label.push_str(v);
            }
        }
        let offset = r["offset_ms"].as_f64().unwrap_or(0.0);
        let dur = r["duration_ms"].as_f64().unwrap_or(0.0);
        let outcome = r["outcome"].as_str().unwrap_or("ok");
        let from = ((offset / total) * width as f64).floor().min(width as f64 - 1.0) as usize;
        let len = (((dur / total) * width as f64).round() as usize).clamp(1, width - from);
        let bar = format!("{}{}{}", " ".repeat(from), "█".repeat(len), " ".repeat(width - from - len));
        out.push_str(&format!(
            "{:>10} {:>10}  {}  {}  │{}│\n",
            format!("+{}", duration(offset)),
            duration(dur),
            paint(color, outcome_color(outcome), &format!("{outcome:<8}")),
            fit(&label, LABEL),
            paint(color, outcome_color(outcome), &bar),
        ));
        if let Some(cause) = r["cause"].as_str() {
            out.push_str(&format!("{:>34}{}\n", "", paint(color, outcome_color(outcome), &format!("{}  ↳ {cause}", "  ".repeat(depth.min(12))))));
        }
    }
    for inv in view.get("Invocations").and_then(Value::as_array).into_iter().flatten() {
        let request = inv["request_id"].as_str().map(|r| format!("request {r}")).unwrap_or_else(|| "lines with the trace id".into());
        out.push_str(&format!(
            "\n{} {}  ({request}, {})\n",
            paint(color, "1", "Logs of"),
            paint(color, "1", inv["function"].as_str().unwrap_or("")),
            inv["log_group"].as_str().unwrap_or("")
        ));
        for line in inv["lines"].as_array().into_iter().flatten() {
            let ts = line["timestamp"].as_u64().unwrap_or(0);
            let time = nimbus_core::time::iso8601_ms(ts);
            let clock = time.get(11..23).unwrap_or(&time);
            for (i, text) in line["message"].as_str().unwrap_or("").split(['\n', '\r']).filter(|t| !t.is_empty()).enumerate() {
                out.push_str(&format!("  {}  {text}\n", paint(color, "90", if i == 0 { clock } else { "            " })));
            }
        }
    }
}

/// The server: `http://host:port`, spoken to with one HTTP/1.1 exchange per request.
struct Server {
    authority: String,
}

impl Server {
    fn parse(endpoint: &str) -> Result<Server, String> {
        let rest = endpoint.strip_prefix("http://").ok_or_else(|| format!("--endpoint must be an http:// URL, got {endpoint}"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        if authority.is_empty() {
            return Err(format!("--endpoint has no host: {endpoint}"));
        }
        let authority = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
        Ok(Server { authority })
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        self.exchange("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.exchange("POST", path, Some(body.to_string()))
    }

    fn exchange(&self, method: &str, path: &str, body: Option<String>) -> Result<Value, String> {
        let mut stream = std::net::TcpStream::connect(&self.authority).map_err(|e| format!("cannot reach nimbus at {}: {e}", self.authority))?;
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(120)));
        let body = body.unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.authority,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("nimbus sent no HTTP answer")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut payload = raw[split + 4..].to_vec();
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            payload = dechunk(&payload);
        }
        let value: Value = serde_json::from_slice(&payload).map_err(|_| format!("{method} {path}: HTTP {status}: {}", String::from_utf8_lossy(&payload)))?;
        if status != 200 {
            let kind = value.get("__type").and_then(Value::as_str).unwrap_or("Error");
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(format!("{kind}: {message}"));
        }
        Ok(value)
    }
}

/// A chunked body's bytes.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rows_indented_with_bars_and_logs() {
        let view = json!({
            "TraceId": "1-5759e988-bd862e3fe1be46a994272793", "StartTime": 1.0, "DurationMs": 100.0,
            "Rows": [
                { "depth": 0, "name": "Lambda", "operation": "Invoke", "resource": "greeter", "offset_ms": 0.0, "duration_ms": 100.0, "outcome": "ok" },
                { "depth": 1, "name": "greeter", "operation": "", "resource": "", "offset_ms": 50.0, "duration_ms": 50.0, "outcome": "fault", "cause": "ValueError: boom" }
            ],
            "Invocations": [{ "function": "greeter", "request_id": "r1", "log_group": "/aws/lambda/greeter", "lines": [{ "timestamp": 1000, "message": "hello\n" }] }]
        });
        let mut out = String::new();
        render(&mut out, &view, 10, false);
        assert!(out.contains("Trace 1-5759e988-bd862e3fe1be46a994272793"), "{out}");
        assert!(out.contains("FAULT"), "{out}");
        assert!(out.contains("Lambda · Invoke · greeter"), "{out}");
        assert!(out.contains("  greeter "), "{out}");
        assert!(out.contains("│██████████│"), "{out}");
        assert!(out.contains("│     █████│"), "{out}");
        assert!(out.contains("↳ ValueError: boom"), "{out}");
        assert!(out.contains("00:00:01.000  hello"), "{out}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
