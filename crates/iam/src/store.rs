//! Durable IAM state: one JSON document per entity, keyed by (account, kind, key), in
//! core's document table (`doc_store.rs`). IAM's entities are configuration — a few
//! thousand at most per account — so they are all read back at start; temporary
//! credentials are stored too (a restart does not log out a running function) and
//! removed when they expire.

use nimbus_core::doc_store::DocTable;

/// `iam.db`'s table.
pub const TABLE: DocTable = DocTable { name: "iam_entities", keys: ["account", "kind", "key"] };
