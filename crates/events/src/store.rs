//! Durable EventBridge configuration: one JSON document per event bus and per rule (the
//! rule with its targets), per delivery in flight, per archive, archived event and
//! replay, keyed by (account, region, `bus/<name>` | `rule/<bus>/<name>` | `delivery/<id>`
//! | `archive/<name>` | `archived/<archive>/<event id>` | `replay/<name>`), in core's
//! document table (`doc_store.rs`), read back whole at start.

use nimbus_core::doc_store::DocTable;

/// `events.db`'s table.
pub const TABLE: DocTable = DocTable { name: "events_config", keys: ["account", "region", "item"] };
