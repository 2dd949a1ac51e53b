//! A query's pipeline over a stream of events.
//!
//! Commands before the first `stats`, `sort`, `limit` or `dedup` run on each event as it
//! arrives (`fields`, `filter`, `parse`, `display`). If that first barrier is `stats`,
//! events are aggregated as they arrive (memory: one entry per group, plus the values
//! `pct` and `count_distinct` need). Otherwise rows are collected; when nothing after
//! the first barrier can drop rows (no `filter`, `parse`, `stats`, `dedup`), only the
//! best `limit` rows in the first `sort`'s order (or newest first) are kept, so a raw
//! query over a large group holds at most twice the limit. The rest of the commands
//! then run on the collected rows. Without `sort`, raw rows come newest first and
//! `stats` rows in the order of their group values.
//!
//! The output projection: the last `display`, else every `fields` name in order, else
//! (after `stats`) the `by` fields then the aggregates, else every field of the event.
//! Raw rows carry `@ptr`, as AWS's do.

use super::eval::{eval, Record};
use super::fields::{record, Event};
use super::parser::{Command, Expr, Named, ParseHow};
use super::value::{compare, Val};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// GetQueryResults' `statistics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Statistics {
    pub records_matched: u64,
    pub records_scanned: u64,
    pub bytes_scanned: u64,
}

enum Agg {
    Count { star: bool, n: u64 },
    Distinct(HashSet<String>),
    Sum(Option<f64>),
    Avg(f64, u64),
    Min(Option<Val>),
    Max(Option<Val>),
    Pct(Vec<f64>, f64),
    Stddev { n: u64, mean: f64, m2: f64 },
    Earliest(Option<(i64, Val)>),
    Latest(Option<(i64, Val)>),
    SortsFirst(Option<Val>),
    SortsLast(Option<Val>),
}

fn new_agg(e: &Expr) -> Agg {
    let Expr::Call(f, args) = e else { return Agg::Count { star: true, n: 0 } };
    match f.as_str() {
        "count" => Agg::Count { star: args.is_empty() || matches!(args[0], Expr::Star), n: 0 },
        "count_distinct" => Agg::Distinct(HashSet::new()),
        "sum" => Agg::Sum(None),
        "avg" => Agg::Avg(0.0, 0),
        "min" => Agg::Min(None),
        "max" => Agg::Max(None),
        "pct" => Agg::Pct(Vec::new(), match &args[1] {
            Expr::Num(p) => *p,
            _ => 50.0,
        }),
        "stddev" => Agg::Stddev { n: 0, mean: 0.0, m2: 0.0 },
        "earliest" => Agg::Earliest(None),
        "latest" => Agg::Latest(None),
        "sortsfirst" => Agg::SortsFirst(None),
        _ => Agg::SortsLast(None),
    }
}

fn num_less(a: &Val, b: &Val) -> bool {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => x < y,
        _ => compare(a, b) == Ordering::Less,
    }
}

impl Agg {
    fn add(&mut self, e: &Expr, r: &Record) {
        let arg = || match e {
            Expr::Call(_, args) if !args.is_empty() => eval(&args[0], r),
            _ => Val::Null,
        };
        match self {
            Agg::Count { star, n } => {
                if *star || !arg().is_null() {
                    *n += 1
                }
            }
            Agg::Distinct(set) => {
                if let Some(t) = arg().text() {
                    set.insert(t);
                }
            }
            Agg::Sum(s) => {
                if let Some(x) = arg().as_num() {
                    *s = Some(s.unwrap_or(0.0) + x)
                }
            }
            Agg::Avg(s, n) => {
                if let Some(x) = arg().as_num() {
                    *s += x;
                    *n += 1;
                }
            }
            Agg::Min(_) | Agg::Max(_) => {
                let v = arg();
                if v.is_null() {
                    return;
                }
                let is_min = matches!(self, Agg::Min(_));
                let (Agg::Min(m) | Agg::Max(m)) = self else { return };
                let replace = match m {
                    None => true,
                    Some(cur) => if is_min { num_less(&v, cur) } else { num_less(cur, &v) },
                };
                if replace {
                    *m = Some(v);
                }
            }
            Agg::Pct(values, _) => {
                if let Some(x) = arg().as_num() {
                    values.push(x)
                }
            }
            Agg::Stddev { n, mean, m2 } => {
                if let Some(x) = arg().as_num() {
                    *n += 1;
                    let d = x - *mean;
                    *mean += d / *n as f64;
                    *m2 += d * (x - *mean);
                }
            }
            Agg::Earliest(_) | Agg::Latest(_) => {
                let v = arg();
                let Some(t) = r.timestamp() else { return };
                if v.is_null() {
                    return;
                }
                let earliest = matches!(self, Agg::Earliest(_));
                let (Agg::Earliest(cur) | Agg::Latest(cur)) = self else { return };
                let replace = match cur {
                    None => true,
                    Some((ct, _)) => if earliest { t < *ct } else { t > *ct },
                };
                if replace {
                    *cur = Some((t, v));
                }
            }
            Agg::SortsFirst(_) | Agg::SortsLast(_) => {
                let v = arg();
                if v.is_null() {
                    return;
                }
                let first = matches!(self, Agg::SortsFirst(_));
                let (Agg::SortsFirst(cur) | Agg::SortsLast(cur)) = self else { return };
                let replace = match cur {
                    None => true,
                    Some(c) => if first { compare(&v, c).is_lt() } else { compare(&v, c).is_gt() },
                };
                if replace {
                    *cur = Some(v);
                }
            }
        }
    }

    fn result(self) -> Val {
        match self {
            Agg::Count { n, .. } => Val::Num(n as f64),
            Agg::Distinct(s) => Val::Num(s.len() as f64),
            Agg::Sum(s) => s.map(Val::Num).unwrap_or(Val::Null),
            Agg::Avg(s, n) => if n == 0 { Val::Null } else { Val::Num(s / n as f64) },
            Agg::Min(v) | Agg::Max(v) | Agg::SortsFirst(v) | Agg::SortsLast(v) => v.unwrap_or(Val::Null),
            Agg::Pct(mut values, p) => {
                if values.is_empty() {
                    return Val::Null;
                }
                values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
                let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
                Val::Num(values[rank.clamp(1, values.len()) - 1])
            }
            Agg::Stddev { n, m2, .. } => if n < 2 { if n == 1 { Val::Num(0.0) } else { Val::Null } } else { Val::Num((m2 / (n - 1) as f64).sqrt()) },
            Agg::Earliest(v) | Agg::Latest(v) => v.map(|(_, v)| v).unwrap_or(Val::Null),
        }
    }
}

struct Stats {
    aggs: Vec<Named>,
    by: Vec<Named>,
    groups: HashMap<Vec<String>, (Vec<Val>, Vec<Agg>)>,
}

impl Stats {
    fn new(aggs: &[Named], by: &[Named]) -> Stats {
        Stats { aggs: aggs.to_vec(), by: by.to_vec(), groups: HashMap::new() }
    }

    fn add(&mut self, r: &Record) {
        let vals: Vec<Val> = self.by.iter().map(|b| eval(&b.expr, r)).collect();
        let key: Vec<String> = vals.iter().map(|v| v.text().unwrap_or_else(|| "\u{0}null".into())).collect();
        let aggs = &self.aggs;
        let entry = self.groups.entry(key).or_insert_with(|| (vals, aggs.iter().map(|a| new_agg(&a.expr)).collect()));
        for (a, named) in entry.1.iter_mut().zip(aggs.iter()) {
            a.add(&named.expr, r);
        }
    }

    fn finish(self) -> Vec<Record> {
        let mut groups: Vec<(Vec<Val>, Vec<Agg>)> = self.groups.into_values().collect();
        groups.sort_by(|a, b| a.0.iter().zip(b.0.iter()).map(|(x, y)| compare(x, y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal));
        // `stats count(*)` over nothing still answers one row (0), as AWS does.
        if groups.is_empty() && self.by.is_empty() {
            groups.push((Vec::new(), self.aggs.iter().map(|a| new_agg(&a.expr)).collect()));
        }
        groups
            .into_iter()
            .map(|(vals, aggs)| {
                let mut r = Record::default();
                for (b, v) in self.by.iter().zip(vals) {
                    r.set(&b.name, v);
                }
                for (a, agg) in self.aggs.iter().zip(aggs) {
                    r.set(&a.name, agg.result());
                }
                r
            })
            .collect()
    }
}

/// A `parse` command, compiled.
enum Parser {
    Regex(regex_lite::Regex, Vec<String>),
}

fn glob_regex(pattern: &str) -> Option<regex_lite::Regex> {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut re = String::new();
    for (i, p) in parts.iter().enumerate() {
        re.push_str(&regex_lite::escape(p));
        if i + 1 < parts.len() {
            re.push_str(if i + 2 == parts.len() && parts[i + 1].is_empty() { "(.*)" } else { "(.*?)" });
        }
    }
    regex_lite::Regex::new(&re).ok()
}

fn compile_parse(how: &ParseHow) -> Option<Parser> {
    match how {
        ParseHow::Glob { pattern, names } => glob_regex(pattern).map(|re| Parser::Regex(re, names.clone())),
        ParseHow::Regex(re) => {
            let names = re.capture_names().skip(1).map(|n| n.unwrap_or("").to_string()).collect();
            Some(Parser::Regex((**re).clone(), names))
        }
    }
}

fn apply_parse(field: &Expr, p: &Parser, r: &mut Record) {
    let Some(text) = eval(field, r).text() else { return };
    let Parser::Regex(re, names) = p;
    let Some(caps) = re.captures(&text) else { return };
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(m) = caps.get(i + 1) {
            r.set(name, Val::Str(m.as_str().to_string()));
        }
    }
}

fn sort_rows(rows: &mut [Record], keys: &[(Expr, bool)]) {
    let keyed: Vec<Vec<Val>> = rows.iter().map(|r| keys.iter().map(|(e, _)| eval(e, r)).collect()).collect();
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| {
        for (i, (_, desc)) in keys.iter().enumerate() {
            let (x, y) = (&keyed[a][i], &keyed[b][i]);
            // Missing values last in either direction.
            let o = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => if *desc { compare(y, x) } else { compare(x, y) },
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
    let sorted: Vec<Record> = idx.iter().map(|&i| std::mem::take(&mut rows[i])).collect();
    for (slot, r) in rows.iter_mut().zip(sorted) {
        *slot = r;
    }
}

fn newest_first() -> Vec<(Expr, bool)> {
    vec![(Expr::Field("@timestamp".into()), true)]
}

enum Sink {
    Stats(Stats),
    Collect { rows: Vec<Record>, bound: Option<(usize, Vec<(Expr, bool)>)> },
}

pub struct Runner {
    commands: Vec<Command>,
    parsers: Vec<Option<Parser>>,
    /// Commands `[0, pre)` run on each event.
    pre: usize,
    sink: Sink,
    limit: usize,
    pub stats: Statistics,
}

fn is_barrier(c: &Command) -> bool {
    matches!(c, Command::Stats { .. } | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_))
}

impl Runner {
    pub fn new(commands: Vec<Command>, limit: usize) -> Runner {
        let pre = commands.iter().position(is_barrier).unwrap_or(commands.len());
        let parsers = commands.iter().map(|c| if let Command::Parse { how, .. } = c { compile_parse(how) } else { None }).collect();
        let sink = match commands.get(pre) {
            Some(Command::Stats { aggs, by }) => Sink::Stats(Stats::new(aggs, by)),
            first => {
                let drops_rows = commands[pre..].iter().any(|c| matches!(c, Command::Filter(_) | Command::Parse { .. } | Command::Stats { .. } | Command::Dedup(_)));
                let order = match first {
                    Some(Command::Sort(keys)) => keys.clone(),
                    _ => newest_first(),
                };
                Sink::Collect { rows: Vec::new(), bound: (!drops_rows).then_some((limit, order)) }
            }
        };
        Runner { commands, parsers, pre, sink, limit, stats: Statistics::default() }
    }

    fn row_command(&self, i: usize, r: &mut Record) -> bool {
        match &self.commands[i] {
            Command::Fields(list) | Command::Display(list) => {
                for n in list {
                    if !matches!(&n.expr, Expr::Field(f) if *f == n.name) {
                        let v = eval(&n.expr, r);
                        r.set(&n.name, v);
                    }
                }
                true
            }
            Command::Filter(e) => eval(e, r).truthy(),
            Command::Parse { field, .. } => {
                if let Some(p) = &self.parsers[i] {
                    apply_parse(field, p, r);
                }
                true
            }
            _ => true,
        }
    }

    /// Feeds one event.
    pub fn push(&mut self, e: &Event<'_>) {
        self.stats.records_scanned += 1;
        self.stats.bytes_scanned += e.message.len() as u64;
        let mut r = record(e);
        for i in 0..self.pre {
            if !self.row_command(i, &mut r) {
                return;
            }
        }
        self.stats.records_matched += 1;
        match &mut self.sink {
            Sink::Stats(s) => s.add(&r),
            Sink::Collect { rows, bound } => {
                rows.push(r);
                if let Some((k, order)) = bound {
                    if rows.len() >= 2 * *k.max(&mut 1) {
                        sort_rows(rows, order);
                        rows.truncate(*k);
                    }
                }
            }
        }
    }

    /// The result rows as (field, value) lists, in order.
    pub fn finish(self) -> Vec<Vec<(String, String)>> {
        let Runner { commands, parsers, pre, sink, limit, .. } = self;
        let mut aggregated = false;
        let mut projection: Option<Vec<String>> = None;
        let mut display: Option<Vec<String>> = None;
        for c in &commands[..pre] {
            match c {
                Command::Fields(list) => projection.get_or_insert_with(Vec::new).extend(list.iter().map(|n| n.name.clone())),
                Command::Display(list) => display = Some(list.iter().map(|n| n.name.clone()).collect()),
                _ => {}
            }
        }
        let (mut rows, mut next) = match sink {
            Sink::Stats(s) => {
                aggregated = true;
                projection = Some(s.by.iter().chain(s.aggs.iter()).map(|n| n.name.clone()).collect());
                display = None;
                (s.finish(), pre + 1)
            }
            Sink::Collect { rows, .. } => (rows, pre),
        };
        if !aggregated && !matches!(commands.get(pre), Some(Command::Sort(_))) {
            sort_rows(&mut rows, &newest_first());
        }
        while next < commands.len() {
            match &commands[next] {
                Command::Stats { aggs, by } => {
                    let mut s = Stats::new(aggs, by);
                    rows.iter().for_each(|r| s.add(r));
                    projection = Some(by.iter().chain(aggs.iter()).map(|n| n.name.clone()).collect());
                    display = None;
                    aggregated = true;
                    rows = s.finish();
                }
                Command::Sort(keys) => {
                    sort_rows(&mut rows, keys);
                }
                Command::Limit(n) => rows.truncate(*n),
                Command::Dedup(keys) => {
                    let mut seen = HashSet::new();
                    rows.retain(|r| {
                        let vals: Vec<Val> = keys.iter().map(|k| eval(k, r)).collect();
                        if vals.iter().any(Val::is_null) {
                            return true;
                        }
                        seen.insert(vals.iter().map(|v| v.text().unwrap_or_default()).collect::<Vec<_>>())
                    });
                }
                Command::Fields(list) => {
                    for r in rows.iter_mut() {
                        for n in list {
                            let v = eval(&n.expr, r);
                            r.set(&n.name, v);
                        }
                    }
                    projection.get_or_insert_with(Vec::new).extend(list.iter().map(|n| n.name.clone()));
                }
                Command::Display(list) => {
                    for r in rows.iter_mut() {
                        for n in list {
                            let v = eval(&n.expr, r);
                            r.set(&n.name, v);
                        }
                    }
                    display = Some(list.iter().map(|n| n.name.clone()).collect());
                }
                Command::Filter(e) => rows.retain(|r| eval(e, r).truthy()),
                Command::Parse { field, .. } => {
                    if let Some(p) = &parsers[next] {
                        rows.iter_mut().for_each(|r| apply_parse(field, p, r));
                    }
                }
            }
            next += 1;
        }
        rows.truncate(limit);
        let columns = display.or(projection.map(|mut p| {
            let mut seen = HashSet::new();
            p.retain(|n| seen.insert(n.clone()));
            p
        }));
        rows.into_iter()
            .map(|r| {
                let mut out: Vec<(String, String)> = match &columns {
                    Some(cols) => cols.iter().filter_map(|c| r.get(c).text().map(|t| (c.clone(), t))).collect(),
                    None => r.fields.iter().filter_map(|(n, v)| v.text().map(|t| (n.clone(), t))).collect(),
                };
                if !aggregated && columns.is_some() {
                    if let Some(ptr) = r.get("@ptr").text() {
                        if !out.iter().any(|(n, _)| n == "@ptr") {
                            out.push(("@ptr".into(), ptr));
                        }
                    }
                }
                out
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn run(q: &str, events: &[(u64, &str)]) -> Vec<Vec<(String, String)>> {
        let mut r = Runner::new(parse(q).unwrap(), 10_000);
        for (i, (ts, m)) in events.iter().enumerate() {
            r.push(&Event { timestamp: *ts, ingestion_ms: *ts, message: m, stream: "s1", log: "000000000000:g", ptr: format!("p{i}"), lambda: false });
        }
        r.finish()
    }

    fn col(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
        rows.iter().map(|r| r.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()).collect()
    }

    const EVENTS: &[(u64, &str)] = &[
        (60_000, r#"{"level":"INFO","latency":10,"svc":"a"}"#),
        (120_000, r#"{"level":"ERROR","latency":30,"svc":"b"}"#),
        (130_000, r#"{"level":"INFO","latency":20,"svc":"a"}"#),
        (400_000, r#"{"level":"ERROR","latency":50,"svc":"a"}"#),
        (410_000, "plain user=bob action=login"),
    ];

    #[test]
    fn raw_queries() {
        let rows = run("fields @timestamp, level | filter level = 'ERROR'", EVENTS);
        assert_eq!(col(&rows, "level"), ["ERROR", "ERROR"]);
        assert_eq!(col(&rows, "@timestamp"), ["1970-01-01 00:06:40.000", "1970-01-01 00:02:00.000"]);
        assert!(rows[0].iter().any(|(n, _)| n == "@ptr"));
        let rows = run("sort latency desc | limit 2", EVENTS);
        assert_eq!(col(&rows, "latency"), ["50", "30"]);
        let rows = run("fields svc | dedup svc | sort svc asc", &EVENTS[..4]);
        assert_eq!(col(&rows, "svc"), ["a", "b"]);
        let rows = run("parse @message 'user=* action=*' as user, action | filter ispresent(user) | display user, action", EVENTS);
        assert_eq!(rows, vec![vec![("user".to_string(), "bob".to_string()), ("action".to_string(), "login".to_string()), ("@ptr".to_string(), "p4".to_string())]]);
        let rows = run("parse /user=(?<who>\\w+)/ | filter ispresent(who) | fields who", EVENTS);
        assert_eq!(col(&rows, "who"), ["bob"]);
    }

    #[test]
    fn stats_queries() {
        let rows = run("stats count(*) as n, avg(latency), max(latency), min(latency), sum(latency) by svc | sort n desc", &EVENTS[..4]);
        assert_eq!(col(&rows, "svc"), ["a", "b"]);
        assert_eq!(col(&rows, "n"), ["3", "1"]);
        assert_eq!(col(&rows, "avg(latency)"), ["26.666666666666668", "30"]);
        assert_eq!(col(&rows, "sum(latency)"), ["80", "30"]);
        let rows = run("filter ispresent(level) | stats count(*) by bin(5m)", EVENTS);
        assert_eq!(col(&rows, "bin(5m)"), ["1970-01-01 00:00:00.000", "1970-01-01 00:05:00.000"]);
        assert_eq!(col(&rows, "count(*)"), ["3", "1"]);
        let rows = run("stats pct(latency, 50) as p50, count_distinct(svc) as d, stddev(latency) as sd, earliest(level) as e, latest(level) as l, sortsFirst(svc) as f, sortsLast(svc) as z", EVENTS);
        assert_eq!(col(&rows, "p50"), ["20"]);
        assert_eq!(col(&rows, "d"), ["2"]);
        assert_eq!(col(&rows, "e"), ["INFO"]);
        assert_eq!(col(&rows, "l"), ["ERROR"]);
        assert_eq!((col(&rows, "f"), col(&rows, "z")), (vec!["a".to_string()], vec!["b".to_string()]));
        assert!(col(&rows, "sd")[0].starts_with("17.07"));
        let rows = run("filter level = 'nothing' | stats count(*)", EVENTS);
        assert_eq!(col(&rows, "count(*)"), ["0"]);
        let rows = run("stats count(*) as n by svc | filter n > 1", &EVENTS[..4]);
        assert_eq!(col(&rows, "svc"), ["a"]);
    }

    #[test]
    fn bounded_collection_keeps_the_best() {
        let events: Vec<(u64, String)> = (0..1000u64).map(|i| (i, format!("{{\"n\":{}}}", (i * 7919) % 1000))).collect();
        let refs: Vec<(u64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
        let mut r = Runner::new(parse("sort n desc | limit 3").unwrap(), 5);
        for (i, (ts, m)) in refs.iter().enumerate() {
            r.push(&Event { timestamp: *ts, ingestion_ms: *ts, message: m, stream: "s", log: "g", ptr: format!("p{i}"), lambda: false });
        }
        if let Sink::Collect { rows, .. } = &r.sink {
            assert!(rows.len() < 10);
        }
        assert_eq!(col(&r.finish(), "n"), ["999", "998", "997"]);
    }
}
