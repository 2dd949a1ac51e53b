//! What a function is: its versions' configurations, aliases, concurrency, asynchronous
//! invocation settings, tags and policy — and how a configuration is rendered as AWS's
//! `FunctionConfiguration`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const LATEST: &str = "$LATEST";

/// Where a version's code lives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum CodeSource {
    /// An uploaded zip, stored by its SHA-256 (hex) in the code store.
    Zip { sha256_hex: String },
    /// A local directory, re-read at every cold start (`S3Bucket = "hot-reload"`).
    HotReload { dir: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRef {
    pub source: CodeSource,
    /// Base64 SHA-256 of the package, as AWS reports `CodeSha256`.
    pub sha256_b64: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionConfig {
    pub version: String,
    pub runtime: Option<String>,
    pub role: String,
    pub handler: Option<String>,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub environment: BTreeMap<String, String>,
    pub code: CodeRef,
    pub last_modified: String,
    pub revision_id: String,
    pub dead_letter_target: Option<String>,
    pub tracing_mode: String,
    pub architectures: Vec<String>,
    pub ephemeral_storage: u32,
    pub log_group: Option<String>,
    pub log_format: String,
    /// Bumped by every code or configuration change: environments of an older
    /// generation are retired.
    pub generation: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub function_version: String,
    pub description: String,
    pub routing_weights: BTreeMap<String, f64>,
    pub revision_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_seconds: Option<u32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
    pub last_modified: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub account: String,
    pub region: String,
    pub latest: VersionConfig,
    pub versions: BTreeMap<u64, VersionConfig>,
    pub next_version: u64,
    pub aliases: BTreeMap<String, Alias>,
    pub reserved_concurrency: Option<u32>,
    /// By qualifier (`$LATEST`, a version, or an alias name).
    pub event_invoke_configs: BTreeMap<String, EventInvokeConfig>,
    pub tags: BTreeMap<String, String>,
    pub policy: Vec<Value>,
}

impl Function {
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:function:{}", self.region, self.account, self.name)
    }

    pub fn version(&self, v: &str) -> Option<&VersionConfig> {
        if v == LATEST {
            return Some(&self.latest);
        }
        v.parse::<u64>().ok().and_then(|n| self.versions.get(&n))
    }

    /// Resolves a qualifier (version or alias) to a version; `None` qualifier is $LATEST.
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<&VersionConfig> {
        match qualifier {
            None => Some(&self.latest),
            Some(q) => self.version(q).or_else(|| self.aliases.get(q).and_then(|a| self.version(&a.function_version))),
        }
    }

    /// The version an invocation runs: an alias with `AdditionalVersionWeights` sends
    /// that share of invocations to the other version, the rest to its own.
    pub fn resolve_for_invoke(&self, qualifier: Option<&str>) -> Option<&VersionConfig> {
        if let Some(alias) = qualifier.and_then(|q| self.aliases.get(q)) {
            let roll: f64 = rand::random();
            let mut acc = 0.0;
            for (version, weight) in &alias.routing_weights {
                acc += weight;
                if roll < acc {
                    return self.version(version);
                }
            }
        }
        self.resolve(qualifier)
    }

    pub fn log_group(&self, v: &VersionConfig) -> String {
        v.log_group.clone().unwrap_or_else(|| format!("/aws/lambda/{}", self.name))
    }

    /// AWS's `FunctionConfiguration` for one version.
    pub fn configuration(&self, v: &VersionConfig, state: (&str, &str)) -> Value {
        let arn = if v.version == LATEST { self.arn() } else { format!("{}:{}", self.arn(), v.version) };
        let mut c = json!({
            "FunctionName": self.name,
            "FunctionArn": arn,
            "Role": v.role,
            "CodeSize": v.code.size,
            "Description": v.description,
            "Timeout": v.timeout,
            "MemorySize": v.memory_size,
            "LastModified": v.last_modified,
            "CodeSha256": v.code.sha256_b64,
            "Version": v.version,
            "TracingConfig": { "Mode": v.tracing_mode },
            "RevisionId": v.revision_id,
            "State": state.0,
            "LastUpdateStatus": state.1,
            "PackageType": "Zip",
            "Architectures": v.architectures,
            "EphemeralStorage": { "Size": v.ephemeral_storage },
            "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
            "LoggingConfig": { "LogFormat": v.log_format, "LogGroup": self.log_group(v) },
        });
        if let Some(r) = &v.runtime {
            c["Runtime"] = json!(r);
        }
        if let Some(h) = &v.handler {
            c["Handler"] = json!(h);
        }
        if !v.environment.is_empty() {
            c["Environment"] = json!({ "Variables": v.environment });
        }
        if let Some(d) = &v.dead_letter_target {
            c["DeadLetterConfig"] = json!({ "TargetArn": d });
        }
        if state.0 == "Pending" {
            c["StateReason"] = json!("The function is being created.");
            c["StateReasonCode"] = json!("Creating");
        }
        if state.1 == "InProgress" {
            c["LastUpdateStatusReason"] = json!("The function is being created.");
            c["LastUpdateStatusReasonCode"] = json!("Creating");
        }
        c
    }

    pub fn alias_json(&self, a: &Alias) -> Value {
        let mut v = json!({
            "AliasArn": format!("{}:{}", self.arn(), a.name),
            "Name": a.name,
            "FunctionVersion": a.function_version,
            "Description": a.description,
            "RevisionId": a.revision_id,
        });
        if !a.routing_weights.is_empty() {
            v["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.routing_weights });
        }
        v
    }
}

/// Runtimes nimbus runs, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// The package's own `bootstrap` executable.
    Provided,
    Python,
    Node,
}

/// Runtimes AWS accepts that nimbus cannot run natively.
const AWS_ONLY_RUNTIMES: &[&str] = &["java8", "java8.al2", "java11", "java17", "java21", "dotnet6", "dotnet8", "ruby3.2", "ruby3.3", "ruby3.4", "go1.x"];

pub fn runtime_kind(runtime: Option<&str>) -> Result<RuntimeKind, String> {
    match runtime {
        None | Some("provided") | Some("provided.al2") | Some("provided.al2023") => Ok(RuntimeKind::Provided),
        Some(r) => match crate::interpreters::Managed::parse(r) {
            Some(crate::interpreters::Managed::Python(_)) => Ok(RuntimeKind::Python),
            Some(crate::interpreters::Managed::Node(_)) => Ok(RuntimeKind::Node),
            None => unknown_runtime(r),
        },
    }
}

fn unknown_runtime(r: &str) -> Result<RuntimeKind, String> {
    if AWS_ONLY_RUNTIMES.contains(&r) {
        Err(format!("Runtime {r} is not supported by nimbus: nimbus runs provided.al2023, provided.al2, python3.8-3.14 and nodejs18.x/20.x/22.x/24.x functions as native processes."))
    } else {
        Err(format!(
            "Value {r} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x, python3.9, python3.10, python3.11, python3.12, python3.13, python3.14, provided.al2, provided.al2023, java11, java17, java21, dotnet8, ruby3.3] or be a valid ARN"
        ))
    }
}

/// AWS's timestamp format for LastModified: `2026-11-22T05:30:00.000+0000`.
pub fn timestamp(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}+0000", ms % 1000)
}

/// Date parts of a Unix time (UTC), for log stream names and timestamps.
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, m, d) = nimbus_core::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (y, m, d, (rem / 3600) as u32, ((rem % 3600) / 60) as u32, (rem % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_runtimes() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(timestamp(1_795_325_400_123), "2026-11-22T05:30:00.123+0000");
        assert_eq!(runtime_kind(Some("python3.12")), Ok(RuntimeKind::Python));
        assert_eq!(runtime_kind(Some("nodejs22.x")), Ok(RuntimeKind::Node));
        assert_eq!(runtime_kind(Some("nodejs24.x")), Ok(RuntimeKind::Node));
        assert!(runtime_kind(Some("python3.15")).is_err());
        assert!(runtime_kind(Some("java21")).unwrap_err().contains("not supported by nimbus"));
        assert!(runtime_kind(Some("cobol")).is_err());
    }
}
