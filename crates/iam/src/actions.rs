//! Which IAM action(s) each operation of nimbus's services needs, on which resource ARN(s)
//! (`--auth iam`). The map is data, `crates/iam/data/actions.json`, taken from AWS's
//! Service Authorization Reference (one `sources` list per signing name: `sqs`,
//! `dynamodb` — DynamoDB Streams signs as `dynamodb` too —, `lambda`, `logs`, `iam`,
//! `sts`, `sns`, `events`, `apigateway`, `execute-api`, `ssm`, `kms`, `secretsmanager`, `s3`,
//! `kinesis`, `states`); this file only reads it and fills
//! ARN templates from the decoded request. API Gateway v2's control plane authorizes HTTP
//! verbs on REST paths: its entries carry a `path` (the model's request URI) filled from
//! the input's members.
//!
//! Each operation lists check entries: an action, a resource type (an ARN template, `arn`
//! for an ARN the request carries verbatim, or none for `*`), `bind` (ARN variable →
//! input path; `a.b` walks objects, `a[]` each list item, `a{}` each map key — one such
//! fan-out per entry, one check per value), and `if` / `unless` (an input path that must
//! be present / absent, or `path=value`: present with that value, as `publish=true`). The
//! only per-service code derives names from the input forms
//! AWS accepts: queue URLs, table ARNs, function names / partial ARNs / qualified ARNs,
//! log group ARNs, SSM parameter names (no leading slash, no selector) or ARNs, EventBridge bus names or ARNs (the default bus has no segment in rule
//! ARNs), PartiQL statements (kind and table), shard iterators and message-move task
//! handles, S3 copy sources (`x-amz-copy-source`: bucket, key, optional version), Kinesis
//! stream names or stream ARNs and nimbus's Kinesis shard iterators (they carry the
//! stream's name), and Step Functions state machine ARNs (a version or alias ARN is
//! authorized as its state machine's, its qualifier in `states:StateMachineQualifier`).
//!
//! IAM ARNs carry the entity's path, which the request does not: `checks_with` takes a
//! lookup closure `(kind, name) -> full ARN` (kinds `role`, `user`, `group`,
//! `instance-profile`, `server-certificate`, `access-key` → owner's user ARN,
//! `service-linked-role` → the role of that service, `kms-key` → the key ARN an alias, key
//! id or ciphertext blob names, `secret` → the full ARN of the secret a SecretId names,
//! `kinesis-consumer` → a consumer's ARN with its creation timestamp; a resource type's
//! lookup is asked with the `Name` its entry binds, then, with none bound, with the ARN
//! its template makes; the name `""` of kind `user` is the
//! caller itself, for operations whose UserName is optional). Without one (`checks`),
//! entities are named without a path (`arn:aws:iam::<acct>:role/<name>`).
//!
//! Entries may also name service-specific condition keys (`keys`: key → input path,
//! `=literal`, or `path|transform`), which the check carries to the evaluator; keys that
//! need a resource's own data (DynamoDB's `dynamodb:LeadingKeys` needs the table's key
//! schema) come from the owning service through `ResourcePolicies::condition_keys`.
//!
//! Known gaps (also in docs/iam.md): unparseable PartiQL statements give the action
//! `dynamodb:PartiQLUnknown`; entries marked
//! `unverified` in the data were derived by rule, not confirmed against the reference
//! (operations newer than it, authorized as their same-name action on `*` or the ARN
//! they carry, and TagResource on DynamoDB / Lambda creates with tags).

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/actions.json");

/// One authorization check: an action on a resource ARN ("*" when the reference says so),
/// with the service-specific condition keys the request gives it (`lambda:Principal`,
/// `iam:PolicyARN`, `sts:RoleSessionName`, …; empty lists are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub action: String,
    pub resource: String,
    pub keys: Vec<(String, Vec<String>)>,
}

/// `(kind, name) -> full ARN` for entities whose ARN the request does not spell out.
pub type Lookup<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

#[derive(Deserialize)]
struct Map {
    partition: String,
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
struct Service {
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    resources: BTreeMap<String, ResourceType>,
    operations: BTreeMap<String, Vec<Entry>>,
}

#[derive(Deserialize)]
struct ResourceType {
    arn: String,
    #[serde(default)]
    qualified: Option<String>,
    #[serde(default)]
    lookup: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    action: String,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    bind: BTreeMap<String, String>,
    #[serde(default, rename = "if")]
    when: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    decode: Option<String>,
    /// A REST path (`/apis/{ApiId}/routes/{RouteId}`) whose `{Member}` placeholders are
    /// filled from the input's top-level members (`{Member|urlencode}` percent-encodes the
    /// value); the result is the `Path` variable (API Gateway's resource ARNs are paths).
    #[serde(default)]
    path: Option<String>,
    /// Condition key → where its values come from: an input path, `=literal`, or
    /// `path|transform` (`function-arn`, `role-boundary`, `user-boundary`).
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

fn load() -> Result<Map, String> {
    let map: Map = serde_json::from_str(DATA).map_err(|e| format!("crates/iam/data/actions.json: {e}"))?;
    for (name, service) in &map.services {
        for (op, entries) in &service.operations {
            for e in entries {
                let known = match e.resource.as_deref() {
                    None | Some("*") | Some("arn") => true,
                    Some(t) => service.resources.contains_key(t),
                };
                if !known {
                    return Err(format!("actions.json: {name} {op}: unknown resource type {:?}", e.resource));
                }
            }
        }
    }
    Ok(map)
}

fn map() -> Option<&'static Map> {
    static MAP: OnceLock<Result<Map, String>> = OnceLock::new();
    match MAP.get_or_init(load) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::error!("IAM action map unreadable: {e}");
            None
        }
    }
}

/// The checks an operation needs; None when the operation is unknown to the map (the
/// authorizer then denies, naming the gap). Entities are named without their IAM path.
pub fn checks(signing_name: &str, operation: &str, region: &str, account: &str, input: &Value) -> Option<Vec<Check>> {
    checks_with(signing_name, operation, region, account, input, &|_, _| None)
}

/// `checks`, with `lookup` giving the full ARN of IAM entities named in the request.
pub fn checks_with(signing_name: &str, operation: &str, region: &str, account: &str, input: &Value, lookup: Lookup) -> Option<Vec<Check>> {
    let map = map()?;
    let service = map.services.get(signing_name)?;
    let entries = service.operations.get(operation)?;
    let req = Request { partition: &map.partition, region, account, input, service, lookup };
    let mut out: Vec<Check> = Vec::new();
    for entry in entries.iter().filter(|e| applies(e, input)) {
        for check in req.expand(entry) {
            if !out.contains(&check) {
                out.push(check);
            }
        }
    }
    if out.is_empty() {
        // Every entry fanned out over nothing (an empty batch): still ask for the first
        // action, so a malformed request is not authorized for free.
        if let Some(first) = entries.first() {
            out.push(req.build(first, Vars::new()));
        }
    }
    Some(out)
}


/// The signing names and operations the map knows, for completeness tests and docs.
pub fn operations(signing_name: &str) -> Vec<String> {
    map().and_then(|m| m.services.get(signing_name)).map(|s| s.operations.keys().cloned().collect()).unwrap_or_default()
}

fn applies(e: &Entry, input: &Value) -> bool {
    let present = |p: &str| match p.split_once('=') {
        Some((path, want)) => select(input, path).iter().any(|v| v == want),
        None => !select(input, p).is_empty(),
    };
    e.when.as_deref().is_none_or(present) && !e.unless.as_deref().is_some_and(present)
}

type Vars = BTreeMap<&'static str, String>;

struct Request<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    input: &'a Value,
    service: &'a Service,
    lookup: Lookup<'a>,
}

impl Request<'_> {
    fn expand(&self, entry: &Entry) -> Vec<Check> {
        let fan = entry.bind.iter().find(|(_, p)| p.contains("[]") || p.contains("{}"));
        let mut base = Vars::new();
        if let Some(path) = &entry.path {
            base.insert("Path", rest_path(path, self.input));
        }
        for (var, path) in entry.bind.iter().filter(|(_, p)| !(p.contains("[]") || p.contains("{}"))) {
            if let Some(v) = select(self.input, path).into_iter().next() {
                derive(var, &v, entry.decode.as_deref(), &mut base);
            }
        }
        let Some((var, path)) = fan else { return vec![self.build(entry, base)] };
        select(self.input, path)
            .into_iter()
            .map(|v| {
                let mut vars = base.clone();
                derive(var, &v, entry.decode.as_deref(), &mut vars);
                self.build(entry, vars)
            })
            .collect()
    }

    fn build(&self, entry: &Entry, mut vars: Vars) -> Check {
        vars.entry("Partition").or_insert_with(|| self.partition.to_string());
        vars.entry("Region").or_insert_with(|| self.region.to_string());
        vars.entry("Account").or_insert_with(|| self.account.to_string());
        let kind = vars.get("StatementKind").cloned().unwrap_or_else(|| "Unknown".into());
        let action = entry.action.replace("${StatementKind}", &kind);
        let resource = match entry.resource.as_deref() {
            None | Some("*") => "*".to_string(),
            Some("arn") => vars.get("Arn").filter(|a| !a.is_empty()).cloned().unwrap_or_else(|| "*".into()),
            Some(t) => self.resource(t, &vars),
        };
        let keys = entry.keys.iter().map(|(k, spec)| (k.clone(), self.key_values(spec))).filter(|(_, v)| !v.is_empty()).collect();
        Check { action, resource, keys }
    }

    /// A condition key's values from its spec (see `Entry::keys`).
    fn key_values(&self, spec: &str) -> Vec<String> {
        if let Some(literal) = spec.strip_prefix('=') {
            return vec![literal.to_string()];
        }
        let (path, transform) = spec.split_once('|').unwrap_or((spec, ""));
        let values = select(self.input, path);
        match transform {
            "" => values.into_iter().filter(|v| !v.is_empty()).collect(),
            "function-arn" => values
                .iter()
                .map(|v| {
                    let mut vars = Vars::new();
                    function(v, &mut vars);
                    let get = |k: &str| vars.get(k).cloned().unwrap_or_else(|| if k == "Region" { self.region.into() } else { self.account.into() });
                    let base = format!("arn:{}:lambda:{}:{}:function:{}", self.partition, get("Region"), get("Account"), vars.get("FunctionName").cloned().unwrap_or_default());
                    match vars.get("Qualifier") {
                        Some(q) => format!("{base}:{q}"),
                        None => base,
                    }
                })
                .collect(),
            // A Step Functions version number or alias name: what follows the state
            // machine's name in a qualified ARN (`stateMachine:<name>:<qualifier>`).
            "state-machine-qualifier" => values.iter().filter_map(|v| state_machine_parts(v).and_then(|(_, _, _, q)| q)).map(str::to_string).collect(),
            "role-boundary" | "user-boundary" => {
                let kind = transform;
                let name = values.into_iter().next().unwrap_or_default();
                (self.lookup)(kind, &name).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn resource(&self, type_name: &str, vars: &Vars) -> String {
        let Some(rt) = self.service.resources.get(type_name) else { return "*".into() };
        let value = |k: &str| vars.get(k).cloned().or_else(|| self.service.defaults.get(k).cloned()).unwrap_or_default();
        if let Some(kind) = &rt.lookup {
            // The lookup is asked with the `Name` the entry binds (`""` when none: the
            // caller, for `user`), then, with no `Name`, with the ARN the template makes
            // of what the request gives (a Kinesis consumer's, whose creation timestamp
            // only Kinesis knows).
            let name = vars.get("Name");
            let found = (self.lookup)(kind, name.map(String::as_str).unwrap_or("")).or_else(|| name.is_none().then(|| (self.lookup)(kind, &fill(&rt.arn, value))).flatten());
            if let Some(arn) = found {
                return arn;
            }
        }
        let qualified = rt.qualified.as_deref().filter(|q| template_vars(q).iter().all(|k| !value(k).is_empty()));
        fill(qualified.unwrap_or(&rt.arn), value)
    }
}

/// `entry.path` filled from the input (see `Entry::path`); absent members give "".
fn rest_path(template: &str, input: &Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let Some((spec, tail)) = after.split_once('}') else {
            out.push('{');
            rest = after;
            continue;
        };
        let (member, transform) = spec.split_once('|').unwrap_or((spec, ""));
        let value = select(input, member).into_iter().next().unwrap_or_default();
        match transform {
            "urlencode" => out.push_str(&percent_encode(&value)),
            _ => out.push_str(&value),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// EventBridge's `EventBusName`: a name or a bus ARN (which also names region and account).
/// `RuleBus` is the bus segment of a rule ARN: none for the default bus
/// (`rule/<name>`), the bus name otherwise (`rule/<bus>/<name>`).
fn event_bus(value: &str, vars: &mut Vars) {
    let name = match arn_parts(value) {
        Some(parts) => {
            let resource = in_scope(vars, parts);
            resource.strip_prefix("event-bus/").unwrap_or(resource)
        }
        None => value,
    };
    set(vars, "EventBusName", name);
    if name != "default" {
        set(vars, "RuleBus", name);
    }
}

/// Takes an ARN's region and account as the check's; answers its resource.
fn in_scope<'a>(vars: &mut Vars, (region, account, resource): (&str, &str, &'a str)) -> &'a str {
    set(vars, "Region", region);
    set(vars, "Account", account);
    resource
}

/// An SSM parameter as its ARN names it: the name without its leading `/` and without a
/// `:version` / `:label` selector; a parameter ARN also names region and account.
fn parameter(value: &str, vars: &mut Vars) {
    let name = match arn_parts(value) {
        Some(parts) => {
            let resource = in_scope(vars, parts);
            resource.strip_prefix("parameter").unwrap_or(resource)
        }
        None if value.starts_with("arn:") => value,
        None => value.split(':').next().unwrap_or(value),
    };
    set(vars, "ParameterName", name.trim_start_matches('/'));
}

/// A Secrets Manager SecretId: a name, or a full or partial ARN (which also names region
/// and account). The full ARN of an existing secret comes from the lookup (kind `secret`).
fn secret(value: &str, vars: &mut Vars) {
    let name = match arn_parts(value) {
        Some(parts @ (_, _, resource)) if resource.starts_with("secret:") => &in_scope(vars, parts)["secret:".len()..],
        _ => value,
    };
    set(vars, "SecretName", name);
}

/// S3's `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, percent-encoded, or an access
/// point ARN (left as is: nimbus has no access points). Names the source object.
fn copy_source(value: &str, vars: &mut Vars) {
    let path = value.split('?').next().unwrap_or(value);
    let decoded = percent_decode(path.trim_start_matches('/'));
    let (bucket, key) = decoded.split_once('/').unwrap_or((&decoded, ""));
    set(vars, "BucketName", bucket);
    set(vars, "ObjectName", key);
}

/// `%XX` sequences decoded (invalid ones kept as they are); UTF-8 lossy.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `${Name}` variables of a template.
fn template_vars(t: &str) -> Vec<&str> {
    t.split("${").skip(1).filter_map(|s| s.split_once('}').map(|(k, _)| k)).collect()
}

fn fill(template: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("${") {
        out.push_str(before);
        match after.split_once('}') {
            Some((k, tail)) => {
                out.push_str(&value(k));
                rest = tail;
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The string values at `path` (`a.b`, `a[]`, `a{}`); numbers as their text.
fn select(input: &Value, path: &str) -> Vec<String> {
    let mut current = vec![input.clone()];
    for seg in path.split('.') {
        let (name, suffix) = match seg.strip_suffix("[]").map(|n| (n, "[]")).or_else(|| seg.strip_suffix("{}").map(|n| (n, "{}"))) {
            Some(x) => x,
            None => (seg, ""),
        };
        let mut next = Vec::new();
        for v in current {
            let Some(child) = v.get(name) else { continue };
            match (suffix, child) {
                ("[]", Value::Array(items)) => next.extend(items.iter().cloned()),
                ("{}", Value::Object(m)) => next.extend(m.keys().map(|k| Value::String(k.clone()))),
                ("", c) if !c.is_null() => next.push(c.clone()),
                _ => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Object(_) | Value::Array(_) => Some(String::new()),
            Value::Null => None,
        })
        .collect()
}

/// Sets `var` (and what its input form also names: account, region, qualifier…).
fn derive(var: &str, value: &str, decode: Option<&str>, vars: &mut Vars) {
    match var {
        "QueueName" => queue(value, vars),
        "TableName" => table(value, vars),
        "FunctionName" => function(value, vars),
        "LogGroupName" => log_group(value, vars),
        "Statement" => partiql(value, vars),
        "OidcProviderName" => set(vars, "OidcProviderName", value.trim_start_matches("https://")),
        "Arn" => set(vars, "Arn", &decoded_arn(value, decode)),
        "EventBusName" => event_bus(value, vars),
        "ParameterName" => parameter(value, vars),
        "SecretName" => secret(value, vars),
        "CopySource" => copy_source(value, vars),
        "StreamARN" => stream_arn(value, vars),
        "KinesisShardIterator" => kinesis_iterator(value, vars),
        "StateMachineArn" => state_machine(value, vars),
        "Account" if value.is_empty() => {}
        other => {
            if let Some(k) = KNOWN_VARS.iter().find(|k| **k == other) {
                vars.insert(k, value.to_string());
            }
        }
    }
}

/// The ARN variables the data may bind directly (names must be `'static` map keys).
const KNOWN_VARS: &[&str] = &[
    "Account", "Qualifier", "IndexName", "UUID", "LayerName", "LayerVersion", "CapacityProviderName", "LogStreamName",
    "DestinationName", "DeliverySourceName", "DeliveryDestinationName", "DeliveryId", "IntegrationName", "Name", "Path",
    "GlobalTableName", "SamlProviderName", "EntityPath", "UserName", "TopicName", "RuleName", "ArchiveName", "ReplayName",
    "ConnectionName", "ApiDestinationName", "EndpointName", "EventSourceName", "KeyId", "AliasName", "BucketName",
    "ObjectName", "AlarmName", "StreamName", "ConsumerName", "StateMachineName", "ActivityName",
];

fn set(vars: &mut Vars, k: &'static str, v: &str) {
    vars.insert(k, v.to_string());
}

/// The queue an SQS QueueUrl names: `…/queue/<region>/<account>/<name>`,
/// `…/<account>/<name>` (region from an AWS-style host) or a bare queue name.
fn queue(url: &str, vars: &mut Vars) {
    if !url.contains('/') {
        return set(vars, "QueueName", url);
    }
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", url),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["queue", region, account, name] => {
            set(vars, "Region", region);
            set(vars, "Account", account);
            set(vars, "QueueName", name);
        }
        [account, name] => {
            if let Some(region) = region_of_sqs_host(host) {
                set(vars, "Region", region);
            }
            set(vars, "Account", account);
            set(vars, "QueueName", name);
        }
        _ => set(vars, "QueueName", segs.last().copied().unwrap_or("")),
    }
}

/// `sqs.<region>.amazonaws.com` / `<region>.queue.amazonaws.com`.
fn region_of_sqs_host(host: &str) -> Option<&str> {
    let host = host.split(':').next().unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        ["sqs", region, _, ..] | [region, "queue", _, ..] if region.split('-').count() >= 3 => Some(region),
        _ => None,
    }
}

/// `arn:partition:service:region:account:resource` → (region, account, resource).
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some(_), Some(region), Some(account), Some(resource)) = (it.next(), it.next(), it.next(), it.next(), it.next(), it.next()) else {
        return None;
    };
    Some((region, account, resource))
}

/// A Kinesis StreamARN (`arn:…:kinesis:<region>:<acct>:stream/<name>`): the stream's
/// name, region and account. Operations that take a StreamName or a StreamARN bind both
/// (bindings are derived in name order: given both, the StreamName names the stream).
fn stream_arn(value: &str, vars: &mut Vars) {
    if let Some(parts) = arn_parts(value) {
        let resource = in_scope(vars, parts);
        set(vars, "StreamName", resource.strip_prefix("stream/").unwrap_or(resource));
    }
}

/// The stream a nimbus Kinesis shard iterator names: base64 of
/// `nimbus-kinesis-iterator|<id>|<shard>|<position>|<issued>|<stream name>` (the request's
/// own account and region: an iterator is only good there). Anything else names nothing.
fn kinesis_iterator(value: &str, vars: &mut Vars) {
    let text = base64::engine::general_purpose::STANDARD.decode(value).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    let mut parts = text.splitn(6, '|');
    if parts.next() == Some("nimbus-kinesis-iterator") {
        if let Some(name) = parts.nth(4) {
            set(vars, "StreamName", name);
        }
    }
}

/// `arn:<partition>:states:<region>:<acct>:stateMachine:<name>[:<qualifier>]` →
/// (region, account, name, qualifier).
fn state_machine_parts(arn: &str) -> Option<(&str, &str, &str, Option<&str>)> {
    let (region, account, resource) = arn_parts(arn)?;
    let rest = resource.strip_prefix("stateMachine:")?;
    let (name, qualifier) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, None),
    };
    Some((region, account, name, qualifier))
}

/// A state machine, version or alias ARN: the state machine it belongs to (Step Functions
/// authorizes versions and aliases on the state machine's ARN).
fn state_machine(value: &str, vars: &mut Vars) {
    if let Some((region, account, name, _)) = state_machine_parts(value) {
        set(vars, "Region", region);
        set(vars, "Account", account);
        set(vars, "StateMachineName", name);
    }
}

/// A table name or table ARN (`arn:…:table/<name>`, possibly with `/index/…` after it).
fn table(value: &str, vars: &mut Vars) {
    match arn_parts(value) {
        Some(parts) => {
            let resource = in_scope(vars, parts);
            let name = resource.strip_prefix("table/").unwrap_or(resource);
            set(vars, "TableName", name.split('/').next().unwrap_or(name));
        }
        None => set(vars, "TableName", value),
    }
}

/// A Lambda FunctionName: `f`, `f:qual`, `<acct>:function:f[:qual]` or
/// `arn:aws:lambda:<region>:<acct>:function:f[:qual]`.
fn function(value: &str, vars: &mut Vars) {
    let parts: Vec<&str> = value.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        ["arn", _, _, region, account, "function", name, rest @ ..] => {
            set(vars, "Region", region);
            set(vars, "Account", account);
            (*name, rest.first().copied())
        }
        [account, "function", name, rest @ ..] => {
            set(vars, "Account", account);
            (*name, rest.first().copied())
        }
        [name, qualifier] => (*name, Some(*qualifier)),
        _ => (value, None),
    };
    set(vars, "FunctionName", name);
    if let Some(q) = qualifier.filter(|q| !q.is_empty()) {
        set(vars, "Qualifier", q);
    }
}

/// A log group name or ARN (`arn:…:log-group:<name>` with an optional `:*`).
fn log_group(value: &str, vars: &mut Vars) {
    match arn_parts(value) {
        Some(parts) => {
            let resource = in_scope(vars, parts);
            let name = resource.strip_prefix("log-group:").unwrap_or(resource);
            set(vars, "LogGroupName", name.strip_suffix(":*").unwrap_or(name));
        }
        None => set(vars, "LogGroupName", value),
    }
}

/// The ARN a value carries: verbatim, or the stream ARN of a shard iterator
/// (`<stream ARN>|1|…`), or the source queue ARN of a message-move task handle
/// (base64 JSON with `sourceArn`).
fn decoded_arn(value: &str, decode: Option<&str>) -> String {
    match decode {
        Some("shard-iterator") => value.split('|').next().unwrap_or("").to_string(),
        Some("task-handle") => base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("sourceArn").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default(),
        _ => value.to_string(),
    }
}

/// A PartiQL statement's kind and target: `SELECT … FROM t[.i]`, `INSERT INTO t`,
/// `UPDATE t`, `DELETE FROM t`, `EXISTS(SELECT …)` (a transaction's condition check).
fn partiql(statement: &str, vars: &mut Vars) {
    let tokens = partiql_tokens(statement);
    let word = |i: usize| tokens.get(i).map(|(t, quoted)| if *quoted { String::new() } else { t.to_ascii_uppercase() });
    let mut start = 0;
    if word(0).as_deref() == Some("EXISTS") {
        start = 1 + usize::from(tokens.get(1).is_some_and(|(t, q)| !q && t == "("));
    }
    let (kind, target) = match word(start).as_deref() {
        Some("SELECT") => ("Select", tokens.iter().skip(start).position(|(t, q)| !q && t.eq_ignore_ascii_case("FROM")).map(|p| start + p + 1)),
        Some("INSERT") => ("Insert", (word(start + 1).as_deref() == Some("INTO")).then_some(start + 2)),
        Some("UPDATE") => ("Update", Some(start + 1)),
        Some("DELETE") => ("Delete", (word(start + 1).as_deref() == Some("FROM")).then_some(start + 2)),
        _ => return,
    };
    let Some((table, _)) = target.and_then(|i| tokens.get(i)) else { return };
    set(vars, "StatementKind", kind);
    self::table(table, vars);
    if let (Some((dot, false)), Some((index, _))) = (target.and_then(|i| tokens.get(i + 1)), target.and_then(|i| tokens.get(i + 2))) {
        if dot == "." {
            set(vars, "IndexName", index);
        }
    }
}

/// Tokens of a PartiQL statement: (text, was a double-quoted identifier). Single-quoted
/// strings and parameters are skipped; `.`, `(`, `)` are tokens of their own.
fn partiql_tokens(s: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let mut text = String::new();
                while let Some(n) = chars.next() {
                    if n == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                            text.push(c);
                            continue;
                        }
                        break;
                    }
                    text.push(n);
                }
                if c == '"' {
                    out.push((text, true));
                }
            }
            '.' | '(' | ')' | ',' => out.push((c.to_string(), false)),
            c if c.is_whitespace() => {}
            c => {
                let mut text = c.to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '.' | '(' | ')' | ',' | '"' | '\'') {
                        break;
                    }
                    text.push(n);
                    chars.next();
                }
                out.push((text, false));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_names_only_known_resource_types() {
        if let Err(e) = load() {
            panic!("{e}");
        }
    }

    #[test]
    fn templates_fill_and_list_their_variables() {
        assert_eq!(template_vars("a:${X}:${Y}"), vec!["X", "Y"]);
        assert_eq!(fill("a:${X}:${Y}", |k| k.to_lowercase()), "a:x:y");
    }

    #[test]
    fn partiql_tokens_keep_quoted_identifiers_and_skip_strings() {
        let t = partiql_tokens(r#"SELECT "a""b" FROM "T"."I" WHERE x = 'it''s'"#);
        let texts: Vec<&str> = t.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(texts, vec!["SELECT", "a\"b", "FROM", "T", ".", "I", "WHERE", "x", "="]);
    }

    #[test]
    fn ssm_parameters_are_named_without_slash_or_selector() {
        let arn = |input: serde_json::Value, op: &str| checks("ssm", op, "us-east-1", "111122223333", &input).unwrap();
        let c = arn(serde_json::json!({"Name": "/app/db/password:3"}), "GetParameter");
        assert_eq!(c[0].resource, "arn:aws:ssm:us-east-1:111122223333:parameter/app/db/password");
        let c = arn(serde_json::json!({"Name": "arn:aws:ssm:eu-west-1:444455556666:parameter/x"}), "GetParameter");
        assert_eq!(c[0].resource, "arn:aws:ssm:eu-west-1:444455556666:parameter/x");
        let c = arn(serde_json::json!({"Names": ["a", "/b"]}), "GetParameters");
        assert_eq!(c.iter().map(|c| c.resource.as_str()).collect::<Vec<_>>(), ["arn:aws:ssm:us-east-1:111122223333:parameter/a", "arn:aws:ssm:us-east-1:111122223333:parameter/b"]);
        let c = arn(serde_json::json!({"Name": "/p", "Value": "v", "Tags": [{"Key": "k", "Value": "v"}]}), "PutParameter");
        assert_eq!(c.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(), ["ssm:PutParameter", "ssm:AddTagsToResource"]);
        assert_eq!(arn(serde_json::json!({}), "DescribeParameters")[0].resource, "*");
    }

    #[test]
    fn s3_checks_name_buckets_and_objects_without_region_or_account() {
        let c = |input: serde_json::Value, op: &str| checks("s3", op, "us-east-1", "111122223333", &input).unwrap();
        let get = c(serde_json::json!({"Bucket": "b", "Key": "a/b.txt"}), "GetObject");
        assert_eq!((get[0].action.as_str(), get[0].resource.as_str()), ("s3:GetObject", "arn:aws:s3:::b/a/b.txt"));
        let ver = c(serde_json::json!({"Bucket": "b", "Key": "k", "VersionId": "v1"}), "GetObject");
        assert_eq!(ver.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(), ["s3:GetObjectVersion"]);
        assert_eq!(ver[0].keys, vec![("s3:versionid".to_string(), vec!["v1".to_string()])]);
        let list = c(serde_json::json!({"Bucket": "b", "Prefix": "p/", "MaxKeys": 5}), "ListObjectsV2");
        assert_eq!((list[0].action.as_str(), list[0].resource.as_str()), ("s3:ListBucket", "arn:aws:s3:::b"));
        assert!(list[0].keys.contains(&("s3:prefix".to_string(), vec!["p/".to_string()])));
        assert!(list[0].keys.contains(&("s3:max-keys".to_string(), vec!["5".to_string()])));
        let copy = c(serde_json::json!({"Bucket": "t", "Key": "k2", "CopySource": "/src/a%20b/c.txt?versionId=x"}), "CopyObject");
        let pairs: Vec<(&str, &str)> = copy.iter().map(|c| (c.action.as_str(), c.resource.as_str())).collect();
        assert_eq!(pairs, [("s3:GetObject", "arn:aws:s3:::src/a b/c.txt"), ("s3:PutObject", "arn:aws:s3:::t/k2")]);
        let del = c(serde_json::json!({"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y"}]}}), "DeleteObjects");
        assert_eq!(del.iter().map(|c| c.resource.as_str()).collect::<Vec<_>>(), ["arn:aws:s3:::b/x", "arn:aws:s3:::b/y"]);
        assert_eq!(c(serde_json::json!({}), "ListBuckets")[0].resource, "*");
    }
}
