//! Sampling rules: AWS's `Default` rule (1 request per second and 5% of the rest), rules
//! made with Create/Update/DeleteSamplingRule (kept in `xray.db`, at most 25 besides the
//! default as AWS allows), the targets the SDKs and the daemon ask for with
//! GetSamplingTargets, and the last statistics they reported. nimbus's own hops record
//! every sampled trace whatever the rules say (see docs/xray.md); the rules steer the
//! X-Ray SDKs inside functions, as on AWS.
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_GetSamplingTargets.html>

use crate::errors::{XrayError, XrayResult};
use crate::service::{s, time_secs};
use crate::store::Store;
use nimbus_core::storage::Pending;
use nimbus_core::{Clock, RequestContext};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rules besides `Default` (AWS's quota).
pub const MAX_RULES: usize = 25;
/// Seconds between the SDKs' GetSamplingTargets calls.
pub const TARGET_INTERVAL: u64 = 10;

/// One rule: the `SamplingRule` shape (without the account's ARN) and its times.
#[derive(Clone)]
struct Rule {
    rule: Map<String, Value>,
    created: f64,
    modified: f64,
}

pub struct Rules {
    rules: Mutex<BTreeMap<String, Rule>>,
    /// The last statistics reported per rule: (request, sampled, borrow, timestamp).
    stats: Mutex<BTreeMap<String, (i64, i64, i64, f64)>>,
    store: Option<Arc<Store>>,
}

fn default_rule() -> Rule {
    let rule = json!({
        "RuleName": "Default", "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1,
        "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1, "Attributes": {}
    });
    Rule { rule: rule.as_object().cloned().unwrap_or_default(), created: 0.0, modified: 0.0 }
}

fn arn(ctx: &RequestContext, name: &str) -> String {
    format!("arn:aws:xray:{}:{}:sampling-rule/{name}", ctx.region, ctx.account_id)
}

impl Rules {
    /// The default rule and the stored ones.
    pub fn new(store: Option<Arc<Store>>) -> Rules {
        let mut rules = BTreeMap::new();
        rules.insert("Default".to_string(), default_rule());
        if let Some(st) = &store {
            for (rule, created, modified) in st.rules().unwrap_or_default() {
                if let (Some(name), Value::Object(rule)) = (rule.get("RuleName").and_then(Value::as_str).map(str::to_string), rule) {
                    rules.insert(name, Rule { rule, created, modified });
                }
            }
        }
        Rules { rules: Mutex::new(rules), stats: Mutex::new(BTreeMap::new()), store }
    }

    fn record(ctx: &RequestContext, r: &Rule) -> Value {
        let mut rule = r.rule.clone();
        let name = rule.get("RuleName").and_then(Value::as_str).unwrap_or("").to_string();
        rule.insert("RuleARN".into(), arn(ctx, &name).into());
        json!({ "SamplingRule": rule, "CreatedAt": r.created, "ModifiedAt": r.modified })
    }

    pub fn get_sampling_rules(&self, ctx: &RequestContext) -> Value {
        let rules = self.rules.lock();
        let mut list: Vec<&Rule> = rules.values().collect();
        list.sort_by_key(|r| r.rule.get("Priority").and_then(Value::as_i64).unwrap_or(10000));
        json!({ "SamplingRuleRecords": list.into_iter().map(|r| Self::record(ctx, r)).collect::<Vec<_>>() })
    }

    pub fn get_sampling_targets(&self, _ctx: &RequestContext, input: &Value, clock: &Clock) -> XrayResult<Value> {
        let docs = input.get("SamplingStatisticsDocuments").and_then(Value::as_array).ok_or_else(|| XrayError::invalid("SamplingStatisticsDocuments is required."))?;
        if docs.len() > 25 {
            return Err(XrayError::invalid("SamplingStatisticsDocuments can contain at most 25 documents."));
        }
        let now = clock.now_ms() as f64 / 1000.0;
        let rules = self.rules.lock();
        let mut targets = Vec::new();
        let mut unprocessed = Vec::new();
        for d in docs {
            let name = d.get("RuleName").and_then(Value::as_str).unwrap_or("");
            let Some(r) = rules.get(name) else {
                unprocessed.push(json!({ "RuleName": name, "ErrorCode": "400", "Message": format!("Sampling rule {name} does not exist.") }));
                continue;
            };
            let count = |k: &str| d.get(k).and_then(Value::as_i64).unwrap_or(0);
            let ts = time_secs(d, "Timestamp")?.unwrap_or(now);
            self.stats.lock().insert(name.to_string(), (count("RequestCount"), count("SampledCount"), count("BorrowCount"), ts));
            targets.push(json!({
                "RuleName": name,
                "FixedRate": r.rule.get("FixedRate").cloned().unwrap_or(json!(0.05)),
                "ReservoirQuota": r.rule.get("ReservoirSize").cloned().unwrap_or(json!(1)),
                "ReservoirQuotaTTL": now + TARGET_INTERVAL as f64,
                "Interval": TARGET_INTERVAL,
            }));
        }
        let last = rules.values().map(|r| r.modified).fold(0.0, f64::max);
        Ok(json!({ "SamplingTargetDocuments": targets, "LastRuleModification": last, "UnprocessedStatistics": unprocessed }))
    }

    pub fn statistic_summaries(&self) -> Value {
        let stats = self.stats.lock();
        let list: Vec<Value> = stats
            .iter()
            .map(|(name, (req, sampled, borrow, ts))| json!({ "RuleName": name, "RequestCount": req, "SampledCount": sampled, "BorrowCount": borrow, "Timestamp": ts }))
            .collect();
        json!({ "SamplingStatisticSummaries": list })
    }

    /// Stores the change; the caller awaits the commit before answering.
    fn persist(&self, name: &str, r: Option<&Rule>) -> Pending {
        match &self.store {
            Some(st) => st.put_rule(name, r.map(|r| (Value::Object(r.rule.clone()), r.created, r.modified))),
            None => Pending::done(),
        }
    }

    pub fn create(&self, ctx: &RequestContext, input: &Value, clock: &Clock) -> XrayResult<(Value, Pending)> {
        let rule = input.get("SamplingRule").and_then(Value::as_object).ok_or_else(|| XrayError::invalid("SamplingRule is required."))?;
        let name = rule.get("RuleName").and_then(Value::as_str).ok_or_else(|| XrayError::invalid("RuleName is required."))?.to_string();
        for f in ["ResourceARN", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath"] {
            if rule.get(f).and_then(Value::as_str).is_none() {
                return Err(XrayError::invalid(format!("{f} is required.")));
            }
        }
        if rule.get("Version").and_then(Value::as_i64) != Some(1) {
            return Err(XrayError::invalid("Version must be 1."));
        }
        check_numbers(rule)?;
        if rule.get("ResourceARN").and_then(Value::as_str) != Some("*") {
            return Err(XrayError::invalid("ResourceARN must be '*'."));
        }
        let mut rules = self.rules.lock();
        if rules.contains_key(&name) {
            return Err(XrayError::invalid(format!("A sampling rule with the name {name} already exists.")));
        }
        if rules.len() > MAX_RULES {
            return Err(XrayError::RuleLimit(format!("You have reached the maximum number of sampling rules ({MAX_RULES}).")));
        }
        let now = clock.now_ms() as f64 / 1000.0;
        let mut stored = rule.clone();
        stored.remove("RuleARN");
        stored.entry("Attributes").or_insert_with(|| json!({}));
        let r = Rule { rule: stored, created: now, modified: now };
        let pending = self.persist(&name, Some(&r));
        let out = Self::record(ctx, &r);
        rules.insert(name, r);
        Ok((json!({ "SamplingRuleRecord": out }), pending))
    }

    /// The rule `RuleName` or `RuleARN` names.
    fn name_of(input: &Value) -> XrayResult<String> {
        if let Some(n) = s(input, "RuleName") {
            return Ok(n.to_string());
        }
        match s(input, "RuleARN").and_then(|a| a.rsplit_once("sampling-rule/")) {
            Some((_, n)) => Ok(n.to_string()),
            None => Err(XrayError::invalid("RuleName or RuleARN is required.")),
        }
    }

    pub fn update(&self, ctx: &RequestContext, input: &Value, clock: &Clock) -> XrayResult<(Value, Pending)> {
        let update = input.get("SamplingRuleUpdate").and_then(Value::as_object).ok_or_else(|| XrayError::invalid("SamplingRuleUpdate is required."))?;
        let name = Self::name_of(&Value::Object(update.clone()))?;
        let mut rules = self.rules.lock();
        let r = rules.get_mut(&name).ok_or_else(|| XrayError::invalid(format!("Sampling rule {name} does not exist.")))?;
        for (k, v) in update {
            if k == "RuleName" || k == "RuleARN" {
                continue;
            }
            if name == "Default" && !["FixedRate", "ReservoirSize"].contains(&k.as_str()) {
                return Err(XrayError::invalid(format!("The Default rule's {k} cannot be changed.")));
            }
            r.rule.insert(k.clone(), v.clone());
        }
        check_numbers(&r.rule)?;
        r.modified = clock.now_ms() as f64 / 1000.0;
        let r = r.clone();
        let pending = self.persist(&name, Some(&r));
        Ok((json!({ "SamplingRuleRecord": Self::record(ctx, &r) }), pending))
    }

    pub fn delete(&self, ctx: &RequestContext, input: &Value) -> XrayResult<(Value, Pending)> {
        let name = Self::name_of(input)?;
        if name == "Default" {
            return Err(XrayError::invalid("The Default sampling rule cannot be deleted."));
        }
        let mut rules = self.rules.lock();
        let r = rules.remove(&name).ok_or_else(|| XrayError::invalid(format!("Sampling rule {name} does not exist.")))?;
        let pending = self.persist(&name, None);
        Ok((json!({ "SamplingRuleRecord": Self::record(ctx, &r) }), pending))
    }
}

fn check_numbers(rule: &Map<String, Value>) -> XrayResult<()> {
    let name = rule.get("RuleName").and_then(Value::as_str).unwrap_or("");
    match rule.get("Priority").and_then(Value::as_i64) {
        Some(p) if (1..=9999).contains(&p) || (name == "Default" && p == 10000) => {}
        _ => return Err(XrayError::invalid("Priority must be between 1 and 9999.")),
    }
    match rule.get("FixedRate").and_then(Value::as_f64) {
        Some(f) if (0.0..=1.0).contains(&f) => {}
        _ => return Err(XrayError::invalid("FixedRate must be between 0 and 1.")),
    }
    match rule.get("ReservoirSize").and_then(Value::as_i64) {
        Some(n) if n >= 0 => Ok(()),
        _ => Err(XrayError::invalid("ReservoirSize must be 0 or more.")),
    }
}
