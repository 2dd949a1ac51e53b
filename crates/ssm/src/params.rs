//! What Parameter Store keeps per parameter and per version, without values: a version's
//! settings (`VersionMeta`, stored beside its value) and a parameter's bounded index entry
//! (`Meta`: the latest version's settings, which versions exist with their labels, tags).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many versions are kept; the oldest goes when a new one is made.
pub const MAX_VERSIONS: usize = 100;
/// Labels on one version.
pub const MAX_LABELS: usize = 10;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionMeta {
    #[serde(rename = "type")]
    pub ptype: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    /// The Policies document as given (a JSON array), stored; see `policies.rs`.
    pub policies: Option<String>,
    pub data_type: String,
    pub modified_ms: u64,
    pub user: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The latest version's number and settings.
    pub version: i64,
    pub current: VersionMeta,
    /// Every version still kept, with its labels (a label is on at most one version).
    pub labels: BTreeMap<i64, Vec<String>>,
    pub tags: BTreeMap<String, String>,
}

impl Meta {
    /// The version a label is on.
    pub fn label_version(&self, label: &str) -> Option<i64> {
        self.labels.iter().find(|(_, ls)| ls.iter().any(|l| l == label)).map(|(v, _)| *v)
    }

    pub fn all_labels(&self) -> impl Iterator<Item = &String> {
        self.labels.values().flatten()
    }
}
