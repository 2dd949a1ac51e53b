//! Every account's topics and subscriptions in memory, each one document written through
//! to the store (`store.rs`) before the call that changed it answers. Subscriptions keep
//! their compiled filter policy beside them (`filter.rs`).

use crate::errors::{SnsError, SnsResult};
use crate::filter::Filter;
use crate::store;
use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_core::storage::Pending;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub fifo: bool,
    /// The settable attributes as given (DisplayName, Policy, DeliveryPolicy, …).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// FIFO topics: the last sequence number handed out.
    #[serde(default)]
    pub sequence: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    /// The subscriber's account.
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    /// The confirmation token of a pending subscription.
    pub token: Option<String>,
    /// RawMessageDelivery, FilterPolicy, FilterPolicyScope, RedrivePolicy, DeliveryPolicy.
    pub attributes: BTreeMap<String, String>,
}

impl Subscription {
    pub fn raw(&self) -> bool {
        self.attributes.get("RawMessageDelivery").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
    /// The dead-letter queue's ARN from RedrivePolicy.
    pub fn dead_letter_arn(&self) -> Option<String> {
        let policy: serde_json::Value = serde_json::from_str(self.attributes.get("RedrivePolicy")?).ok()?;
        policy.get("deadLetterTargetArn")?.as_str().map(str::to_string)
    }
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, Topic>,
    subs: BTreeMap<String, Subscription>,
    filters: HashMap<String, Arc<Filter>>,
}

pub struct Registry {
    state: RwLock<State>,
    store: Arc<dyn DocStore>,
}

pub(crate) async fn commit(p: Pending) -> SnsResult<()> {
    p.wait().await.map_err(|e| SnsError::Internal(format!("storage failure: {e}")))
}

fn row<T: Serialize>(kind: &str, account: &str, id: &str, value: &T) -> Doc {
    Doc { keys: [kind.to_string(), account.to_string(), id.to_string()], doc: serde_json::to_string(value).unwrap_or_default() }
}

impl Registry {
    /// Reads topics and subscriptions back; returns the stored documents of other kinds
    /// (pending deliveries) for their owner.
    pub fn open(store: Arc<dyn DocStore>) -> Result<(Registry, Vec<Doc>), String> {
        let mut state = State::default();
        let mut rest = Vec::new();
        for d in store.load().map_err(|e| e.to_string())? {
            match d.keys[0].as_str() {
                store::TOPIC => {
                    let t: Topic = serde_json::from_str(&d.doc).map_err(|e| format!("stored topic {}: {e}", d.keys[2]))?;
                    state.topics.insert(t.arn.clone(), t);
                }
                store::SUBSCRIPTION => {
                    let s: Subscription = serde_json::from_str(&d.doc).map_err(|e| format!("stored subscription {}: {e}", d.keys[2]))?;
                    if let Some(f) = Filter::of(&s.attributes).ok().flatten() {
                        state.filters.insert(s.arn.clone(), Arc::new(f));
                    }
                    state.subs.insert(s.arn.clone(), s);
                }
                _ => rest.push(d),
            }
        }
        Ok((Registry { state: RwLock::new(state), store }, rest))
    }

    pub fn store(&self) -> &Arc<dyn DocStore> {
        &self.store
    }

    pub fn topic(&self, arn: &str) -> SnsResult<Topic> {
        self.state.read().topics.get(arn).cloned().ok_or_else(SnsError::topic_not_found)
    }

    pub fn topics(&self, account: &str, region: &str) -> Vec<String> {
        self.state.read().topics.values().filter(|t| t.account == account && t.region == region).map(|t| t.arn.clone()).collect()
    }

    /// Inserts a new topic, or returns the existing one of that ARN (CreateTopic is idempotent).
    pub async fn create_topic(&self, topic: Topic) -> SnsResult<Result<Topic, Topic>> {
        let pending = {
            let mut s = self.state.write();
            if let Some(existing) = s.topics.get(&topic.arn) {
                return Ok(Err(existing.clone()));
            }
            let p = self.store.put(row(store::TOPIC, &topic.account, &topic.arn, &topic));
            s.topics.insert(topic.arn.clone(), topic.clone());
            p
        };
        commit(pending).await?;
        Ok(Ok(topic))
    }

    /// Changes one topic under the lock, then waits for the store.
    pub async fn update_topic<R>(&self, arn: &str, f: impl FnOnce(&mut Topic) -> SnsResult<R>) -> SnsResult<R> {
        let (out, pending) = {
            let mut s = self.state.write();
            let t = s.topics.get_mut(arn).ok_or_else(SnsError::topic_not_found)?;
            let mut copy = t.clone();
            let out = f(&mut copy)?;
            *t = copy;
            (out, self.store.put(row(store::TOPIC, &t.account, arn, t)))
        };
        commit(pending).await?;
        Ok(out)
    }

    /// Deletes a topic and its subscriptions. Deleting a missing topic succeeds (AWS).
    pub async fn delete_topic(&self, arn: &str) -> SnsResult<()> {
        let pendings = {
            let mut s = self.state.write();
            let Some(t) = s.topics.remove(arn) else { return Ok(()) };
            let mut p = vec![self.store.delete([store::TOPIC.to_string(), t.account.clone(), arn.to_string()])];
            let gone: Vec<Subscription> = s.subs.values().filter(|x| x.topic_arn == arn).cloned().collect();
            for sub in gone {
                s.subs.remove(&sub.arn);
                s.filters.remove(&sub.arn);
                p.push(self.store.delete([store::SUBSCRIPTION.to_string(), sub.owner.clone(), sub.arn.clone()]));
            }
            p
        };
        for p in pendings {
            commit(p).await?;
        }
        Ok(())
    }

    pub fn subscription(&self, arn: &str) -> SnsResult<Subscription> {
        self.state.read().subs.get(arn).cloned().ok_or_else(SnsError::subscription_not_found)
    }

    /// Whether the subscription still exists (a pending delivery to a gone one is dropped).
    pub fn has_subscription(&self, arn: &str) -> bool {
        self.state.read().subs.contains_key(arn)
    }

    /// A topic's subscriptions (confirmed or not), with their filters. A subscription's ARN
    /// is `<topic ARN>:<id>`, so a topic's are one range of the ARN-ordered map.
    pub fn subscribers(&self, topic_arn: &str) -> Vec<(Subscription, Option<Arc<Filter>>)> {
        let s = self.state.read();
        let prefix = format!("{topic_arn}:");
        s.subs
            .range(prefix.clone()..)
            .take_while(|(arn, _)| arn.starts_with(&prefix))
            .filter(|(_, x)| x.topic_arn == topic_arn)
            .map(|(_, x)| (x.clone(), s.filters.get(&x.arn).cloned()))
            .collect()
    }

    /// Every subscription the filter `keep` selects, in ARN order.
    pub fn subscriptions(&self, keep: impl Fn(&Subscription) -> bool) -> Vec<Subscription> {
        self.state.read().subs.values().filter(|x| keep(x)).cloned().collect()
    }

    /// Writes a subscription (new or changed) with its compiled filter.
    pub async fn put_subscription(&self, sub: Subscription, filter: Option<Filter>) -> SnsResult<()> {
        let pending = {
            let mut s = self.state.write();
            if !s.topics.contains_key(&sub.topic_arn) {
                return Err(SnsError::topic_not_found());
            }
            let p = self.store.put(row(store::SUBSCRIPTION, &sub.owner, &sub.arn, &sub));
            match filter {
                Some(f) => s.filters.insert(sub.arn.clone(), Arc::new(f)),
                None => s.filters.remove(&sub.arn),
            };
            s.subs.insert(sub.arn.clone(), sub);
            p
        };
        commit(pending).await
    }

    pub async fn delete_subscription(&self, arn: &str) -> SnsResult<()> {
        let pending = {
            let mut s = self.state.write();
            let sub = s.subs.remove(arn).ok_or_else(SnsError::subscription_not_found)?;
            s.filters.remove(arn);
            self.store.delete([store::SUBSCRIPTION.to_string(), sub.owner, arn.to_string()])
        };
        commit(pending).await
    }
}
