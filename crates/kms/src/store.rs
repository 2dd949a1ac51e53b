//! Durable KMS state: one JSON document per key (`key/<id>`: metadata, policy, tags,
//! rotation settings and its sealed key material versions) and per alias
//! (`alias/<name>`), keyed by (account, region, item) in core's document table
//! (`doc_store.rs`), read back whole at start. Key material is sealed under the master
//! key (`master.rs`) before it reaches the table: `kms.db` never holds it in plaintext.

use nimbus_core::doc_store::DocTable;

/// `kms.db`'s table.
pub const TABLE: DocTable = DocTable { name: "kms_config", keys: ["account", "region", "item"] };
