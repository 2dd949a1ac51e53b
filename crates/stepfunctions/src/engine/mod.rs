//! The execution engine: the registry of state machines, versions, aliases and
//! activities (in memory, written through to the store), the executions that are running
//! (each a tokio task walking its definition), their history, task tokens and activity
//! queues, and resuming stored STANDARD executions after a restart.
//!
//! - [`run`]: the interpreter (states, transitions, Retry / Catch, Parallel, Map);
//! - [`task`]: Task states (integrations through the `TaskRunner`, activities, task
//!   tokens, timeouts and heartbeats);
//! - [`lang`]: the data languages (JSONPath through `paths`, JSONata);
//! - [`execution`]: one execution's record, history and end.

pub mod distributed_map;
pub mod execution;
pub mod lifecycle;
pub mod logging;
pub mod map_run;
pub mod lang;
pub mod paths;
pub mod result_writer;
pub mod run;
pub mod task;
pub mod xray;

use crate::definition::Definition;
use crate::store::Store;
use crate::tasks::{ExecutionWatcher, Finished, TaskRunner};
use execution::Running;
use nimbus_core::internal::ServiceCaller;
use nimbus_core::service::BoxFuture;
use nimbus_core::Clock;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

/// How many ended EXPRESS executions the engine remembers for `.sync` watchers.
pub const RECENT_EXPRESS: usize = 1024;

/// A state machine, or one of its published versions (`version: Some(n)`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub definition: String,
    pub role_arn: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub revision_id: String,
    #[serde(default)]
    pub logging: Option<Value>,
    #[serde(default)]
    pub tracing: Option<Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// A version: its number and the machine it belongs to.
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub machine_arn: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The machine: the number its next published version gets.
    #[serde(default)]
    pub next_version: u64,
}

impl Machine {
    pub fn express(&self) -> bool {
        self.kind == "EXPRESS"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub arn: String,
    pub name: String,
    pub machine_arn: String,
    pub description: Option<String>,
    /// `(version ARN, weight)`.
    pub routing: Vec<(String, u64)>,
    pub created_ms: u64,
    pub updated_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Activity {
    pub arn: String,
    pub name: String,
    pub created_ms: u64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// One activity task waiting for a worker.
#[derive(Debug, Clone)]
pub struct ActivityTask {
    pub token: String,
    pub input: String,
}

#[derive(Default)]
pub struct ActivityQueue {
    pub tasks: Mutex<VecDeque<ActivityTask>>,
    pub ready: tokio::sync::Notify,
}

#[derive(Default)]
pub struct Registry {
    pub machines: HashMap<String, Machine>,
    pub aliases: HashMap<String, Alias>,
    pub activities: HashMap<String, Activity>,
    /// Parsed definitions by machine / version ARN.
    pub parsed: HashMap<String, Arc<Definition>>,
}

pub struct Engine {
    pub clock: Clock,
    pub store: Store,
    pub registry: RwLock<Registry>,
    pub runner: RwLock<Option<Arc<dyn TaskRunner>>>,
    pub caller: OnceLock<Arc<dyn ServiceCaller>>,
    /// Executions in progress (STANDARD and EXPRESS) by ARN.
    pub running: Mutex<HashMap<String, Arc<Running>>>,
    /// Open task tokens (`.waitForTaskToken` and activities).
    pub tokens: Mutex<HashMap<String, Arc<task::TokenSlot>>>,
    pub activity_queues: Mutex<HashMap<String, Arc<ActivityQueue>>>,
    /// Rung whenever an execution ends (watchers re-check).
    pub ended: tokio::sync::Notify,
    /// How recent EXPRESS executions ended (they are not stored): `.sync` integrations
    /// that look after the end still get it. Bounded: the newest `RECENT_EXPRESS`.
    pub recent_express: Mutex<(HashMap<String, Finished>, VecDeque<String>)>,
    /// CloudWatch Logs, for machines whose `loggingConfiguration` asks for it.
    pub log_sink: RwLock<Option<Arc<dyn nimbus_core::internal::LogSink>>>,
    /// Distributed Map runs in progress by Map Run ARN (see `map_run`).
    pub map_runs: Mutex<HashMap<String, Arc<map_run::LiveMapRun>>>,
    /// Handle to self for the tasks executions spawn.
    pub me: OnceLock<std::sync::Weak<Engine>>,
}

impl Engine {
    /// A listed execution as it is now: a running one's record from memory (its status
    /// moves there first), else the stored document (without its checkpoint).
    pub fn current_record(&self, row: crate::store::ExecutionRow) -> Option<execution::ExecutionRecord> {
        match self.running.lock().get(&row.arn) {
            Some(r) => Some(r.record.lock().clone()),
            None => serde_json::from_value(row.doc).ok(),
        }
    }

    pub fn new(store: Store, clock: Clock) -> Arc<Engine> {
        let mut reg = Registry::default();
        for (arn, kind, doc) in store.take_resources() {
            match kind.as_str() {
                "machine" | "version" => {
                    if let Ok(m) = serde_json::from_value::<Machine>(doc) {
                        if let Ok((def, _)) = crate::definition::parse(&m.definition) {
                            reg.parsed.insert(arn.clone(), def);
                        }
                        reg.machines.insert(arn, m);
                    }
                }
                "alias" => {
                    if let Ok(a) = serde_json::from_value::<Alias>(doc) {
                        reg.aliases.insert(arn, a);
                    }
                }
                "activity" => {
                    if let Ok(a) = serde_json::from_value::<Activity>(doc) {
                        reg.activities.insert(arn, a);
                    }
                }
                _ => {}
            }
        }
        let engine = Arc::new(Engine {
            clock,
            store,
            registry: RwLock::new(reg),
            runner: RwLock::new(None),
            caller: OnceLock::new(),
            running: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            activity_queues: Mutex::new(HashMap::new()),
            ended: tokio::sync::Notify::new(),
            log_sink: RwLock::new(None),
            recent_express: Mutex::new((HashMap::new(), VecDeque::new())),
            map_runs: Mutex::new(HashMap::new()),
            me: OnceLock::new(),
        });
        let _ = engine.me.set(Arc::downgrade(&engine));
        engine
    }

    pub fn arc(&self) -> Arc<Engine> {
        self.me.get().and_then(std::sync::Weak::upgrade).expect("the engine is alive")
    }

    pub fn activity_queue(&self, arn: &str) -> Arc<ActivityQueue> {
        self.activity_queues.lock().entry(arn.to_string()).or_default().clone()
    }

    /// Remembers how an EXPRESS execution ended (the newest `RECENT_EXPRESS`).
    pub fn remember_express(&self, arn: &str, finished: Finished) {
        let mut recent = self.recent_express.lock();
        if recent.0.insert(arn.to_string(), finished).is_none() {
            recent.1.push_back(arn.to_string());
        }
        while recent.1.len() > RECENT_EXPRESS {
            if let Some(old) = recent.1.pop_front() {
                recent.0.remove(&old);
            }
        }
    }

    /// How an execution ended, from memory (running, or a recent EXPRESS one) or the
    /// store; `None`: no such execution, `Some(None)`: still running.
    pub fn outcome(&self, arn: &str) -> Option<Option<Finished>> {
        if let Some(r) = self.running.lock().get(arn) {
            return Some(r.finished());
        }
        if let Some(f) = self.recent_express.lock().0.get(arn) {
            return Some(Some(f.clone()));
        }
        let row = self.store.execution(arn).ok()??;
        let rec: execution::ExecutionRecord = serde_json::from_value(row.doc).ok()?;
        Some(rec.finished())
    }
}

/// `.sync` integrations wait on the engine through this (see `tasks::ExecutionWatcher`).
pub struct Watcher(pub Arc<Engine>);

impl ExecutionWatcher for Watcher {
    fn finished<'a>(&'a self, execution_arn: &'a str) -> BoxFuture<'a, Option<Finished>> {
        Box::pin(async move {
            loop {
                // Registered before looking, so an end in between is not missed.
                let ended = self.0.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                let running = self.0.running.lock().get(execution_arn).cloned();
                if let Some(r) = running {
                    let mut rx = r.done.subscribe();
                    loop {
                        if let Some(f) = rx.borrow().clone() {
                            return Some(f);
                        }
                        if rx.changed().await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                match self.0.outcome(execution_arn) {
                    None => return None,
                    Some(Some(f)) => return Some(f),
                    Some(None) => ended.await,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn watchers_learn_how_an_ended_express_execution_ended() {
        let engine = Engine::new(Store::open(None, nimbus_core::storage::Durability::Process).expect("store"), Clock::new());
        let end = Finished { status: "SUCCEEDED".into(), output: Some(serde_json::json!(1)), error: None, cause: None };
        engine.remember_express("arn:aws:states:us-east-1:0:express:m:e:1", end.clone());
        let watcher = Watcher(engine.clone());
        assert_eq!(watcher.finished("arn:aws:states:us-east-1:0:express:m:e:1").await, Some(end));
        assert_eq!(watcher.finished("arn:aws:states:us-east-1:0:execution:m:nope").await, None);
        for i in 0..RECENT_EXPRESS + 1 {
            engine.remember_express(&format!("arn:{i}"), Finished { status: "FAILED".into(), output: None, error: None, cause: None });
        }
        assert_eq!(engine.recent_express.lock().0.len(), RECENT_EXPRESS, "bounded");
    }
}
