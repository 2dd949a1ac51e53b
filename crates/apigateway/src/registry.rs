//! Every account's and region's HTTP APIs in memory. An API is one document — its
//! attributes and its routes, integrations, stages, deployments and authorizers (and a
//! WebSocket API's route and integration responses), each kept as the
//! output shape's members — written through to the store before a call answers.

use crate::errors::{ApiGwError, ApiGwResult};
use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_core::storage::Pending;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub type Attrs = Map<String, Value>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiDoc {
    pub api: Attrs,
    pub routes: BTreeMap<String, Attrs>,
    pub integrations: BTreeMap<String, Attrs>,
    pub stages: BTreeMap<String, Attrs>,
    pub deployments: BTreeMap<String, Attrs>,
    /// Absent in documents stored before authorizers existed.
    #[serde(default)]
    pub authorizers: BTreeMap<String, Attrs>,
    /// WebSocket APIs' route responses: route id → route response id → attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_responses: BTreeMap<String, BTreeMap<String, Attrs>>,
    /// WebSocket APIs' integration responses: integration id → response id → attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, BTreeMap<String, Attrs>>,
}

/// (account, region)
pub type Scope = (String, String);

pub struct Registry {
    apis: RwLock<HashMap<Scope, BTreeMap<String, ApiDoc>>>,
    store: Arc<dyn DocStore>,
}

fn not_found(account: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid API identifier specified {account}:{id}"))
}

async fn commit(p: Pending) -> ApiGwResult<()> {
    p.wait().await.map_err(|e| ApiGwError::Storage(format!("storage failure: {e}")))
}

impl Registry {
    pub fn open(store: Arc<dyn DocStore>) -> Result<Registry, String> {
        let mut apis: HashMap<Scope, BTreeMap<String, ApiDoc>> = HashMap::new();
        for row in store.load().map_err(|e| e.to_string())? {
            let [account, region, api_id] = row.keys;
            let doc: ApiDoc = serde_json::from_str(&row.doc).map_err(|e| format!("stored API {api_id}: {e}"))?;
            apis.entry((account, region)).or_default().insert(api_id, doc);
        }
        Ok(Registry { apis: RwLock::new(apis), store })
    }

    fn row(scope: &Scope, id: &str, doc: &ApiDoc) -> Doc {
        Doc { keys: [scope.0.clone(), scope.1.clone(), id.to_string()], doc: serde_json::to_string(doc).unwrap_or_default() }
    }

    pub async fn insert(&self, scope: &Scope, id: &str, doc: ApiDoc) -> ApiGwResult<()> {
        let pending = {
            let mut all = self.apis.write();
            let p = self.store.put(Self::row(scope, id, &doc));
            all.entry(scope.clone()).or_default().insert(id.to_string(), doc);
            p
        };
        commit(pending).await
    }

    pub fn get(&self, scope: &Scope, id: &str) -> ApiGwResult<ApiDoc> {
        self.apis.read().get(scope).and_then(|m| m.get(id)).cloned().ok_or_else(|| not_found(&scope.0, id))
    }

    pub fn exists(&self, scope: &Scope, id: &str) -> bool {
        self.apis.read().get(scope).is_some_and(|m| m.contains_key(id))
    }

    /// Every API of a scope, by id.
    pub fn list(&self, scope: &Scope) -> Vec<(String, ApiDoc)> {
        self.apis.read().get(scope).map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }

    /// Changes one API under the lock, then waits for the store.
    pub async fn update<R>(&self, scope: &Scope, id: &str, f: impl FnOnce(&mut ApiDoc) -> ApiGwResult<R>) -> ApiGwResult<R> {
        let (out, pending) = {
            let mut all = self.apis.write();
            let doc = all.get_mut(scope).and_then(|m| m.get_mut(id)).ok_or_else(|| not_found(&scope.0, id))?;
            let mut copy = doc.clone();
            let out = f(&mut copy)?;
            *doc = copy;
            (out, self.store.put(Self::row(scope, id, doc)))
        };
        commit(pending).await?;
        Ok(out)
    }

    pub async fn delete(&self, scope: &Scope, id: &str) -> ApiGwResult<()> {
        let pending = {
            let mut all = self.apis.write();
            all.get_mut(scope).and_then(|m| m.remove(id)).ok_or_else(|| not_found(&scope.0, id))?;
            self.store.delete([scope.0.clone(), scope.1.clone(), id.to_string()])
        };
        commit(pending).await
    }

    /// An API by id in any account and region (the execute-api endpoint names only the id).
    pub fn find(&self, id: &str) -> Option<(Scope, ApiDoc)> {
        self.apis.read().iter().find_map(|(scope, m)| m.get(id).map(|d| (scope.clone(), d.clone())))
    }
}

/// A random lowercase alphanumeric id of `len` characters (API ids are 10, the others 7).
pub fn new_id(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| CHARS[rand::random::<usize>() % CHARS.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_stored_before_authorizers_still_load() {
        let old = r#"{"api":{"ApiId":"a"},"routes":{},"integrations":{},"stages":{},"deployments":{}}"#;
        let doc: ApiDoc = serde_json::from_str(old).expect("an old document loads");
        assert!(doc.authorizers.is_empty());
    }
}
