//! Delivery policies: the retry schedule of every delivery and the `DeliveryPolicy`
//! documents of topics and HTTP/S subscriptions. A schedule has AWS's four phases —
//! immediate retries, pre-backoff retries `minDelayTarget` apart, backoff retries from
//! `minDelayTarget` to `maxDelayTarget` by the `backoffFunction`, post-backoff retries
//! `maxDelayTarget` apart. SQS and Lambda (AWS-managed endpoints) have AWS's fixed policy:
//! 3 immediate, 2 at 1 s, 10 exponential from 1 s to 20 s, 100,000 at 20 s (23 days).
//! HTTP/S: the subscription's `healthyRetryPolicy`, else the topic's
//! `http.defaultHealthyRetryPolicy`, else AWS's default (3 retries 20 s apart), checked
//! as AWS checks them (InvalidParameter "DeliveryPolicy: …").
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
//! (sections "Delivery policy stages" and "Creating an HTTP/S delivery policy")

use crate::errors::{SnsError, SnsResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How the backoff phase goes from `minDelayTarget` to `maxDelayTarget`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    /// Equal steps.
    #[default]
    Linear,
    /// Steps growing by a constant amount (a quadratic curve: slow, then fast).
    Arithmetic,
    /// A constant ratio between consecutive delays.
    Geometric,
    /// Doubling from `minDelayTarget`, capped at `maxDelayTarget`.
    Exponential,
}

impl Backoff {
    fn parse(s: &str) -> Option<Backoff> {
        Some(match s {
            "linear" => Backoff::Linear,
            "arithmetic" => Backoff::Arithmetic,
            "geometric" => Backoff::Geometric,
            "exponential" => Backoff::Exponential,
            _ => return None,
        })
    }
}

/// A retry schedule (AWS's `healthyRetryPolicy`) and the HTTP content type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RetryPolicy {
    pub num_retries: u32,
    pub num_no_delay_retries: u32,
    pub num_min_delay_retries: u32,
    pub num_max_delay_retries: u32,
    pub min_delay_s: u64,
    pub max_delay_s: u64,
    pub backoff: Backoff,
    pub content_type: String,
}

impl Default for RetryPolicy {
    /// AWS's default for HTTP/S: 3 retries, 20 s apart.
    fn default() -> RetryPolicy {
        RetryPolicy {
            num_retries: 3,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            num_max_delay_retries: 0,
            min_delay_s: 20,
            max_delay_s: 20,
            backoff: Backoff::Linear,
            content_type: "text/plain; charset=UTF-8".into(),
        }
    }
}

/// The most retries an HTTP/S policy may ask for, and its longest total retry time.
const MAX_RETRIES: u64 = 100;
const MAX_TOTAL_S: u64 = 3600;

impl RetryPolicy {
    /// AWS's fixed policy for AWS-managed endpoints (SQS, Lambda).
    pub fn aws_managed() -> RetryPolicy {
        RetryPolicy {
            num_retries: 3 + 2 + 10 + 100_000,
            num_no_delay_retries: 3,
            num_min_delay_retries: 2,
            num_max_delay_retries: 100_000,
            min_delay_s: 1,
            max_delay_s: 20,
            backoff: Backoff::Exponential,
            content_type: String::new(),
        }
    }

    /// An HTTP/S subscription's policy: its own `DeliveryPolicy` over the topic's `http`
    /// section (unless the topic sets `disableSubscriptionOverrides`) over AWS's default.
    /// Both documents were checked when set; what does not read is left at the default.
    pub fn of(topic_policy: Option<&str>, subscription_policy: Option<&str>) -> RetryPolicy {
        let mut p = RetryPolicy::default();
        let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
        let mut overrides = true;
        if let Some(t) = parse(topic_policy) {
            p.apply(t.pointer("/http/defaultHealthyRetryPolicy"), t.pointer("/http/defaultRequestPolicy/headerContentType"));
            overrides = !t.pointer("/http/disableSubscriptionOverrides").and_then(Value::as_bool).unwrap_or(false);
        }
        if let Some(s) = parse(subscription_policy).filter(|_| overrides) {
            p.apply(s.get("healthyRetryPolicy"), s.pointer("/requestPolicy/headerContentType"));
        }
        p
    }

    fn apply(&mut self, retry: Option<&Value>, content_type: Option<&Value>) {
        if let Some(r) = retry {
            let n = |k: &str| r.get(k).and_then(Value::as_u64);
            let count = |v: u64| v.min(MAX_RETRIES) as u32;
            if let Some(v) = n("numRetries") {
                self.num_retries = count(v);
            }
            if let Some(v) = n("numNoDelayRetries") {
                self.num_no_delay_retries = count(v);
            }
            if let Some(v) = n("numMinDelayRetries") {
                self.num_min_delay_retries = count(v);
            }
            if let Some(v) = n("numMaxDelayRetries") {
                self.num_max_delay_retries = count(v);
            }
            if let Some(v) = n("minDelayTarget") {
                self.min_delay_s = v;
            }
            if let Some(v) = n("maxDelayTarget") {
                self.max_delay_s = v;
            }
            self.max_delay_s = self.max_delay_s.max(self.min_delay_s);
            if let Some(b) = r.get("backoffFunction").and_then(Value::as_str).and_then(Backoff::parse) {
                self.backoff = b;
            }
        }
        if let Some(c) = content_type.and_then(Value::as_str) {
            self.content_type = c.to_string();
        }
    }

    /// The retries of the backoff phase.
    fn num_backoff_retries(&self) -> u32 {
        self.num_retries.saturating_sub(self.num_no_delay_retries).saturating_sub(self.num_min_delay_retries).saturating_sub(self.num_max_delay_retries)
    }

    /// The wait before retry `n` (1-based; `n <= num_retries`), in milliseconds.
    pub fn delay_ms(&self, n: u32) -> u64 {
        let mut i = n.saturating_sub(1);
        if i < self.num_no_delay_retries {
            return 0;
        }
        i -= self.num_no_delay_retries;
        if i < self.num_min_delay_retries {
            return self.min_delay_s * 1000;
        }
        i -= self.num_min_delay_retries;
        let steps = self.num_backoff_retries();
        if i >= steps {
            return self.max_delay_s * 1000;
        }
        let (lo, hi) = (self.min_delay_s as f64, self.max_delay_s as f64);
        // Where retry `i` sits in the backoff phase: 0 at its first, 1 at its last.
        let at = if steps <= 1 { 1.0 } else { i as f64 / (steps - 1) as f64 };
        let s = match self.backoff {
            Backoff::Linear => lo + (hi - lo) * at,
            Backoff::Arithmetic => lo + (hi - lo) * at * at,
            Backoff::Geometric => lo * (hi / lo.max(1.0)).powf(at),
            Backoff::Exponential => (lo * 2f64.powi(i.min(62) as i32)).min(hi),
        };
        (s.clamp(lo, hi) * 1000.0).round() as u64
    }

    /// The whole schedule's retry time, in seconds (HTTP/S policies: at most 3,600).
    fn total_s(&self) -> u64 {
        (1..=self.num_retries).map(|n| self.delay_ms(n)).sum::<u64>() / 1000
    }
}

/// Checks a subscription's `DeliveryPolicy` (`healthyRetryPolicy`, `throttlePolicy`,
/// `requestPolicy`).
pub fn check_subscription_policy(doc: &str) -> SnsResult<()> {
    let v = object_of(doc)?;
    for (k, section) in &v {
        match k.as_str() {
            "healthyRetryPolicy" => check_retry(section, "healthyRetryPolicy")?,
            "throttlePolicy" => check_throttle(section, "throttlePolicy")?,
            "requestPolicy" => check_request(section, "requestPolicy")?,
            "sicklyRetryPolicy" | "guaranteed" => {}
            other => return Err(unexpected(other)),
        }
    }
    Ok(())
}

/// Checks a topic's `DeliveryPolicy`: its `http` (or `https`) section's defaults.
pub fn check_topic_policy(doc: &str) -> SnsResult<()> {
    let v = object_of(doc)?;
    for (protocol, section) in &v {
        if !matches!(protocol.as_str(), "http" | "https") {
            return Err(unexpected(protocol));
        }
        let Value::Object(m) = section else { return Err(bad(format!("{protocol} must be an object"))) };
        for (k, s) in m {
            let path = format!("{protocol}.{k}");
            match k.as_str() {
                "defaultHealthyRetryPolicy" => check_retry(s, &path)?,
                "defaultThrottlePolicy" => check_throttle(s, &path)?,
                "defaultRequestPolicy" => check_request(s, &path)?,
                "disableSubscriptionOverrides" if s.is_boolean() => {}
                "disableSubscriptionOverrides" => return Err(bad(format!("{path} must be a boolean"))),
                "defaultSicklyRetryPolicy" => {}
                other => return Err(unexpected(other)),
            }
        }
    }
    Ok(())
}

fn object_of(doc: &str) -> SnsResult<Map<String, Value>> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(SnsError::invalid("DeliveryPolicy: failed to parse JSON")),
    }
}

fn bad(what: String) -> SnsError {
    SnsError::invalid(format!("DeliveryPolicy: {what}"))
}

fn unexpected(member: &str) -> SnsError {
    bad(format!("Unexpected JSON member: {member}"))
}

const RETRY_MEMBERS: [&str; 7] = ["numRetries", "numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries", "minDelayTarget", "maxDelayTarget", "backoffFunction"];

fn check_retry(v: &Value, path: &str) -> SnsResult<()> {
    let Value::Object(m) = v else { return Err(bad(format!("{path} must be an object"))) };
    if let Some(k) = m.keys().find(|k| !RETRY_MEMBERS.contains(&k.as_str())) {
        return Err(unexpected(k));
    }
    let int = |k: &str| -> SnsResult<Option<u64>> {
        match m.get(k) {
            None => Ok(None),
            Some(x) => match x.as_i64() {
                Some(i) if i < 0 => Err(bad(format!("{path}.{k} must be greater than or equal to 0"))),
                Some(i) => Ok(Some(i as u64)),
                None => Err(bad(format!("{path}.{k} must be an integer"))),
            },
        }
    };
    let retries = int("numRetries")?.unwrap_or(3);
    if retries > MAX_RETRIES {
        return Err(bad(format!("{path}.numRetries must be less than or equal to {MAX_RETRIES}")));
    }
    let mut phases = 0;
    for k in ["numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"] {
        let n = int(k)?.unwrap_or(0);
        if n > retries {
            return Err(bad(format!("{path}.{k} must be less than or equal to numRetries")));
        }
        phases += n;
    }
    if phases > retries {
        return Err(bad(format!("{path}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must be less than or equal to numRetries")));
    }
    let min = int("minDelayTarget")?.unwrap_or(20);
    let max = int("maxDelayTarget")?.unwrap_or(20);
    if min < 1 {
        return Err(bad(format!("{path}.minDelayTarget must be greater than or equal to 1")));
    }
    if max > MAX_TOTAL_S {
        return Err(bad(format!("{path}.maxDelayTarget must be less than or equal to {MAX_TOTAL_S}")));
    }
    if min > max {
        return Err(bad(format!("{path}.minDelayTarget must be less than or equal to maxDelayTarget")));
    }
    if let Some(b) = m.get("backoffFunction") {
        if b.as_str().and_then(Backoff::parse).is_none() {
            return Err(bad(format!("{path}.backoffFunction must be one of: linear, arithmetic, geometric, exponential")));
        }
    }
    let mut p = RetryPolicy::default();
    p.apply(Some(v), None);
    if p.total_s() > MAX_TOTAL_S {
        return Err(bad(format!("{path}: the total retry time must be less than or equal to {MAX_TOTAL_S} seconds")));
    }
    Ok(())
}

fn check_throttle(v: &Value, path: &str) -> SnsResult<()> {
    let Value::Object(m) = v else { return Err(bad(format!("{path} must be an object"))) };
    if let Some(k) = m.keys().find(|k| k.as_str() != "maxReceivesPerSecond") {
        return Err(unexpected(k));
    }
    match m.get("maxReceivesPerSecond") {
        Some(x) if x.as_i64().is_none_or(|n| n < 1) => Err(bad(format!("{path}.maxReceivesPerSecond must be greater than or equal to 1"))),
        _ => Ok(()),
    }
}

fn check_request(v: &Value, path: &str) -> SnsResult<()> {
    let Value::Object(m) = v else { return Err(bad(format!("{path} must be an object"))) };
    if let Some(k) = m.keys().find(|k| k.as_str() != "headerContentType") {
        return Err(unexpected(k));
    }
    match m.get("headerContentType") {
        Some(x) if !x.is_string() => Err(bad(format!("{path}.headerContentType must be a string"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(p: &RetryPolicy) -> Vec<u64> {
        (1..=p.num_retries).map(|n| p.delay_ms(n) / 1000).collect()
    }

    #[test]
    fn aws_managed_policy_has_the_four_phases_over_23_days() {
        let p = RetryPolicy::aws_managed();
        let s = schedule(&p);
        assert_eq!(s.len(), 100_015);
        assert_eq!(&s[..15], &[0, 0, 0, 1, 1, 1, 2, 4, 8, 16, 20, 20, 20, 20, 20]);
        assert!(s[15..].iter().all(|d| *d == 20));
        let days = s.iter().sum::<u64>() as f64 / 86_400.0;
        assert!((23.0..23.2).contains(&days), "{days} days");
    }

    #[test]
    fn http_policies_merge_and_schedule_by_backoff_function() {
        let p = RetryPolicy::of(None, None);
        assert_eq!(schedule(&p), [20, 20, 20]);
        let sub = r#"{"healthyRetryPolicy":{"numRetries":4,"numNoDelayRetries":1,"minDelayTarget":1,"maxDelayTarget":4},"requestPolicy":{"headerContentType":"application/json"}}"#;
        let p = RetryPolicy::of(Some(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":9}}}"#), Some(sub));
        assert_eq!((p.num_retries, p.content_type.as_str()), (4, "application/json"));
        assert_eq!(schedule(&p), [0, 1, 2, 4]);
        let base = |backoff: &str| {
            let doc = format!(
                r#"{{"healthyRetryPolicy":{{"numRetries":9,"numNoDelayRetries":1,"numMinDelayRetries":1,"numMaxDelayRetries":2,"minDelayTarget":2,"maxDelayTarget":32,"backoffFunction":"{backoff}"}}}}"#
            );
            schedule(&RetryPolicy::of(None, Some(&doc)))
        };
        // immediate, pre-backoff at min, five backoff retries from min to max, two at max.
        assert_eq!(base("linear"), [0, 2, 2, 9, 17, 24, 32, 32, 32]);
        assert_eq!(base("arithmetic"), [0, 2, 2, 3, 9, 18, 32, 32, 32]);
        assert_eq!(base("geometric"), [0, 2, 2, 4, 8, 16, 32, 32, 32]);
        assert_eq!(base("exponential"), [0, 2, 2, 4, 8, 16, 32, 32, 32]);
        let doc = r#"{"healthyRetryPolicy":{"numRetries":6,"minDelayTarget":1,"maxDelayTarget":5,"backoffFunction":"exponential"}}"#;
        assert_eq!(schedule(&RetryPolicy::of(None, Some(doc))), [1, 2, 4, 5, 5, 5]);
        // The topic can forbid subscription overrides.
        let topic = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":1},"disableSubscriptionOverrides":true}}"#;
        assert_eq!(RetryPolicy::of(Some(topic), Some(sub)).num_retries, 1);
    }

    #[test]
    fn bad_policies_answer_aws_style_messages() {
        let err = |doc: &str, topic: bool| {
            let r = if topic { check_topic_policy(doc) } else { check_subscription_policy(doc) };
            match r {
                Err(SnsError::InvalidParameter(m)) => m,
                other => panic!("{doc}: {other:?}"),
            }
        };
        assert_eq!(err(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"#, true), "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100");
        assert_eq!(err(r#"{"throttlePolicy":{"maxReceivesPerSecond":1}}"#, true), "Invalid parameter: DeliveryPolicy: Unexpected JSON member: throttlePolicy");
        assert_eq!(err("[]", false), "Invalid parameter: DeliveryPolicy: failed to parse JSON");
        assert!(err(r#"{"healthyRetryPolicy":{"minDelayTarget":0}}"#, false).ends_with("healthyRetryPolicy.minDelayTarget must be greater than or equal to 1"));
        assert!(err(r#"{"healthyRetryPolicy":{"minDelayTarget":30,"maxDelayTarget":10}}"#, false).ends_with("minDelayTarget must be less than or equal to maxDelayTarget"));
        assert!(err(r#"{"healthyRetryPolicy":{"maxDelayTarget":3601}}"#, false).ends_with("maxDelayTarget must be less than or equal to 3600"));
        assert!(err(r#"{"healthyRetryPolicy":{"backoffFunction":"cubic"}}"#, false).contains("backoffFunction must be one of"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetries":2,"numMaxDelayRetries":3}}"#, false).contains("numMaxDelayRetries must be less than or equal to numRetries"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetries":3,"numNoDelayRetries":2,"numMaxDelayRetries":2}}"#, false).contains("must be less than or equal to numRetries"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetries":-1}}"#, false).ends_with("numRetries must be greater than or equal to 0"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetries":"3"}}"#, false).ends_with("numRetries must be an integer"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetries":100,"minDelayTarget":60,"maxDelayTarget":60}}"#, false).contains("total retry time"));
        assert!(err(r#"{"healthyRetryPolicy":{"numRetriez":1}}"#, false).ends_with("Unexpected JSON member: numRetriez"));
        assert!(err(r#"{"throttlePolicy":{"maxReceivesPerSecond":0}}"#, false).ends_with("maxReceivesPerSecond must be greater than or equal to 1"));
        check_subscription_policy(r#"{"healthyRetryPolicy":{"numRetries":9,"numNoDelayRetries":1,"numMinDelayRetries":1,"numMaxDelayRetries":2,"minDelayTarget":2,"maxDelayTarget":32,"backoffFunction":"geometric"},"throttlePolicy":{"maxReceivesPerSecond":10},"requestPolicy":{"headerContentType":"application/json"}}"#).expect("valid");
        check_topic_policy(&crate::topic_attrs::default_delivery_policy().to_string()).expect("AWS's default is valid");
    }
}
