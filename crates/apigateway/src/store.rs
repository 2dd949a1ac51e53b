//! Durable API Gateway state: one JSON document per API (the API with its routes,
//! integrations, stages and deployments), keyed by (account, region, api id), in core's
//! document table (`doc_store.rs`), read back whole at start.

use nimbus_core::doc_store::DocTable;

/// `apigateway.db`'s table.
pub const TABLE: DocTable = DocTable { name: "apigw_apis", keys: ["account", "region", "api_id"] };
