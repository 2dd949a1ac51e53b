//! Stage throttling: `ThrottlingRateLimit` / `ThrottlingBurstLimit` from the stage's
//! `RouteSettings` for the route (else its `DefaultRouteSettings`), enforced with a token
//! bucket per API, stage and route on nimbus's clock. A route with neither limit is not
//! throttled (nimbus has no account-level limit).

use crate::registry::Attrs;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;

/// Requests per second and bucket size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub rate: f64,
    pub burst: f64,
}

fn number(settings: Option<&Value>, name: &str) -> Option<f64> {
    settings.and_then(|s| s.get(name)).and_then(Value::as_f64)
}

/// The limits a stage sets for a route key, each from the route's settings else the
/// stage's defaults; `None` when neither is set. A missing half is unlimited.
pub fn limits(stage: &Attrs, route_key: &str) -> Option<Limits> {
    let route = stage.get("RouteSettings").and_then(|r| r.get(route_key));
    let default = stage.get("DefaultRouteSettings");
    let pick = |name| number(route, name).or_else(|| number(default, name));
    let (rate, burst) = (pick("ThrottlingRateLimit"), pick("ThrottlingBurstLimit"));
    if rate.is_none() && burst.is_none() {
        return None;
    }
    Some(Limits { rate: rate.unwrap_or(f64::INFINITY), burst: burst.unwrap_or(f64::INFINITY) })
}

struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// Every (API, stage, route) bucket.
#[derive(Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<(String, String, String), Bucket>>,
}

impl Throttle {
    /// Takes one token from the bucket at `now_ms`: false when it is empty (429).
    pub fn admit(&self, key: (String, String, String), limits: Limits, now_ms: u64) -> bool {
        let mut all = self.buckets.lock();
        let b = all.entry(key).or_insert(Bucket { tokens: limits.burst, at_ms: now_ms });
        let elapsed = now_ms.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * limits.rate).min(limits.burst);
        b.at_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_rate() {
        let t = Throttle::default();
        let l = Limits { rate: 1.0, burst: 2.0 };
        let k = || ("a".to_string(), "s".to_string(), "$default".to_string());
        assert!(t.admit(k(), l, 0));
        assert!(t.admit(k(), l, 0));
        assert!(!t.admit(k(), l, 0));
        assert!(t.admit(k(), l, 1000));
        assert!(!t.admit(k(), l, 1000));
    }

    #[test]
    fn zero_limits_refuse_everything() {
        let t = Throttle::default();
        assert!(!t.admit(("a".into(), "s".into(), "r".into()), Limits { rate: 0.0, burst: 0.0 }, 0));
    }
}
