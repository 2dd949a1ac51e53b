//! Which environment serves an invocation: a warm idle one of the same function version
//! and generation, or a new one — within the function's reserved concurrency and the
//! account's limit, else `TooManyRequestsException`. Idle environments are retired after
//! a configurable time; environments of an older generation (new code or configuration)
//! are retired instead of reused.

use crate::environment::Environment;
use crate::errors::LambdaError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Identifies a function version's environments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub account: String,
    pub region: String,
    pub function: String,
    pub version: String,
}

#[derive(Default)]
struct State {
    idle: HashMap<PoolKey, Vec<(u64, Arc<Environment>, u64)>>,
    /// Busy environments per function (account, region, name), and per account among
    /// functions without reserved concurrency (they share the unreserved pool).
    busy_function: HashMap<(String, String, String), u32>,
    busy_unreserved: HashMap<String, u32>,
    /// Busy environments per (account, region), reserved or not (ConcurrentExecutions).
    busy_region: HashMap<(String, String), u32>,
    stamp: u64,
}

pub struct Pool {
    state: Mutex<State>,
    pub account_limit: u32,
    pub idle_timeout: Duration,
}

/// A reserved slot: an environment to use (if a warm one was found) and the obligation
/// to release the slot.
pub struct Lease {
    pub key: PoolKey,
    pub generation: u64,
    pub warm: Option<Arc<Environment>>,
    reserved: bool,
    /// Concurrent executions when this one started: of the function, and of every
    /// function of the account in the region (the `ConcurrentExecutions` metric).
    pub concurrency: (u32, u32),
}

impl Pool {
    pub fn new(account_limit: u32, idle_timeout: Duration) -> Arc<Pool> {
        Arc::new(Pool { state: Mutex::new(State::default()), account_limit, idle_timeout })
    }

    /// Takes a concurrency slot for `key`, with a warm environment when one is idle. A
    /// function with reserved concurrency uses only its reservation; the others share
    /// the account's limit less all reservations (`reserved_total`).
    pub fn acquire(&self, key: PoolKey, generation: u64, reserved: Option<u32>, reserved_total: u32) -> Result<Lease, LambdaError> {
        let mut st = self.state.lock();
        let fkey = (key.account.clone(), key.region.clone(), key.function.clone());
        let busy_fn = *st.busy_function.get(&fkey).unwrap_or(&0);
        let busy_shared = *st.busy_unreserved.get(&key.account).unwrap_or(&0);
        if let Some(r) = reserved {
            if busy_fn >= r {
                return Err(LambdaError::TooManyRequests { message: "Rate Exceeded.".into(), reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
            }
        } else if busy_shared >= self.account_limit.saturating_sub(reserved_total) {
            return Err(LambdaError::TooManyRequests { message: "Rate Exceeded.".into(), reason: "ConcurrentInvocationLimitExceeded" });
        }
        *st.busy_function.entry(fkey).or_default() += 1;
        let busy_region = {
            let n = st.busy_region.entry((key.account.clone(), key.region.clone())).or_default();
            *n += 1;
            *n
        };
        if reserved.is_none() {
            *st.busy_unreserved.entry(key.account.clone()).or_default() += 1;
        }
        let mut warm = None;
        if let Some(list) = st.idle.get_mut(&key) {
            while let Some((gen, env, _)) = list.pop() {
                if gen == generation && env.reusable() {
                    warm = Some(env);
                    break;
                }
                env.kill();
            }
        }
        Ok(Lease { key, generation, warm, reserved: reserved.is_some(), concurrency: (busy_fn + 1, busy_region) })
    }

    /// Returns the slot; a live environment goes back to the idle list and is retired
    /// after the idle timeout unless used again.
    pub fn release(self: &Arc<Self>, lease: Lease, env: Option<Arc<Environment>>) {
        let mut st = self.state.lock();
        let fkey = (lease.key.account.clone(), lease.key.region.clone(), lease.key.function.clone());
        if let Some(n) = st.busy_function.get_mut(&fkey) {
            *n = n.saturating_sub(1);
        }
        if let Some(n) = st.busy_region.get_mut(&(lease.key.account.clone(), lease.key.region.clone())) {
            *n = n.saturating_sub(1);
        }
        if !lease.reserved {
            if let Some(n) = st.busy_unreserved.get_mut(&lease.key.account) {
                *n = n.saturating_sub(1);
            }
        }
        let Some(env) = env.filter(|e| e.alive()) else { return };
        st.stamp += 1;
        let stamp = st.stamp;
        st.idle.entry(lease.key.clone()).or_default().push((lease.generation, env, stamp));
        drop(st);
        let pool = self.clone();
        let key = lease.key;
        let wait = self.idle_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let mut st = pool.state.lock();
            if let Some(list) = st.idle.get_mut(&key) {
                if let Some(pos) = list.iter().position(|(_, _, s)| *s == stamp) {
                    let (_, env, _) = list.remove(pos);
                    env.kill();
                }
            }
        });
    }

    /// Retires every idle environment of a function (code or configuration changed, or
    /// the function was deleted).
    pub fn retire_function(&self, account: &str, region: &str, function: &str) {
        let mut st = self.state.lock();
        for (key, list) in st.idle.iter_mut() {
            if key.account == account && key.region == region && key.function == function {
                for (_, env, _) in list.drain(..) {
                    env.kill();
                }
            }
        }
    }

    /// Ends every environment (shutdown).
    pub fn shutdown(&self) {
        let mut st = self.state.lock();
        for (_, list) in st.idle.drain() {
            for (_, env, _) in list {
                env.kill();
            }
        }
    }
}
