//! Durable SNS state in core's document table (`doc_store.rs`): topics and
//! subscriptions (configuration), the pending deliveries of accepted publishes and the
//! FIFO deduplication ids within their window, one JSON document each under (kind,
//! account, id), all read back at start.

use nimbus_core::doc_store::DocTable;

/// `sns.db`'s table.
pub const TABLE: DocTable = DocTable { name: "sns_docs", keys: ["kind", "account", "id"] };

pub const TOPIC: &str = "topic";
pub const SUBSCRIPTION: &str = "subscription";
pub const DELIVERY: &str = "delivery";
/// A FIFO topic's deduplication id within its window (`dedup.rs`).
pub const DEDUP: &str = "dedup";
