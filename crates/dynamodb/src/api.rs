//! Typed requests, as the JSON codec hands them over. Attribute values stay
//! `serde_json::Value` here and become `AttributeValue`s (with AWS's validation) in the
//! operations; legacy parameters are captured as JSON and rewritten into expressions by
//! `legacy`.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: Option<String>,
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Throughput {
    pub read_capacity_units: Option<i64>,
    pub write_capacity_units: Option<i64>,
}

/// WarmThroughput: the read and write units per second a table or index is ready for.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct WarmThroughput {
    pub read_units_per_second: Option<i64>,
    pub write_units_per_second: Option<i64>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct IndexInput {
    pub index_name: String,
    #[serde(default)]
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Option<Projection>,
    pub provisioned_throughput: Option<Throughput>,
    pub warm_throughput: Option<WarmThroughput>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    #[serde(default)]
    pub stream_enabled: bool,
    pub stream_view_type: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub attribute_definitions: Vec<AttributeDefinition>,
    #[serde(default)]
    pub key_schema: Vec<KeySchemaElement>,
    pub local_secondary_indexes: Option<Vec<IndexInput>>,
    pub global_secondary_indexes: Option<Vec<IndexInput>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<Throughput>,
    pub stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<Value>,
    pub tags: Option<Vec<Tag>>,
    pub table_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    pub warm_throughput: Option<WarmThroughput>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameInput {
    #[serde(default)]
    pub table_name: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesInput {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GsiUpdate {
    pub create: Option<IndexInput>,
    pub delete: Option<IndexNameOnly>,
    pub update: Option<IndexInput>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct IndexNameOnly {
    pub index_name: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTableInput {
    #[serde(default)]
    pub table_name: String,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<Throughput>,
    pub global_secondary_index_updates: Option<Vec<GsiUpdate>>,
    pub stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<Value>,
    pub table_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    pub replica_updates: Option<Value>,
    pub warm_throughput: Option<WarmThroughput>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTtlInput {
    #[serde(default)]
    pub table_name: String,
    pub time_to_live_specification: TtlSpec,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TtlSpec {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub attribute_name: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    #[serde(default)]
    pub resource_arn: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    #[serde(default)]
    pub resource_arn: String,
    #[serde(default)]
    pub tag_keys: Vec<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    #[serde(default)]
    pub resource_arn: String,
    pub next_token: Option<String>,
}

/// The expression parts every item operation may carry.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Expressions {
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<HashMap<String, Value>>,
}

/// The legacy (pre-expression) parameters; `legacy` turns them into expressions.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Legacy {
    pub attributes_to_get: Option<Value>,
    pub key_conditions: Option<Value>,
    pub query_filter: Option<Value>,
    pub scan_filter: Option<Value>,
    pub expected: Option<Value>,
    pub attribute_updates: Option<Value>,
    pub conditional_operator: Option<Value>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct PutItemInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub item: Value,
    pub condition_expression: Option<String>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteItemInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub key: Value,
    pub condition_expression: Option<String>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateItemInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub key: Value,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub key: Value,
    pub projection_expression: Option<String>,
    pub consistent_read: Option<bool>,
    pub return_consumed_capacity: Option<String>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    #[serde(default)]
    pub table_name: String,
    pub index_name: Option<String>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub select: Option<String>,
    pub scan_index_forward: Option<bool>,
    pub limit: Option<i64>,
    pub exclusive_start_key: Option<Value>,
    pub consistent_read: Option<bool>,
    pub return_consumed_capacity: Option<String>,
    pub segment: Option<i64>,
    pub total_segments: Option<i64>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributes {
    #[serde(default)]
    pub keys: Vec<Value>,
    pub projection_expression: Option<String>,
    pub consistent_read: Option<bool>,
    #[serde(flatten)]
    pub exprs: Expressions,
    #[serde(flatten)]
    pub legacy: Legacy,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemInput {
    #[serde(default)]
    pub request_items: indexmap_like::OrderedMap<KeysAndAttributes>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct WriteRequest {
    pub put_request: Option<PutRequest>,
    pub delete_request: Option<DeleteRequest>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct PutRequest {
    #[serde(default)]
    pub item: Value,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    #[serde(default)]
    pub key: Value,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemInput {
    #[serde(default)]
    pub request_items: indexmap_like::OrderedMap<Vec<WriteRequest>>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    pub condition_check: Option<UpdateItemInput>,
    pub put: Option<PutItemInput>,
    pub delete: Option<DeleteItemInput>,
    pub update: Option<UpdateItemInput>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItemsInput {
    #[serde(default)]
    pub transact_items: Vec<TransactWriteItem>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItem {
    pub get: Option<GetItemInput>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItemsInput {
    #[serde(default)]
    pub transact_items: Vec<TransactGetItem>,
    pub return_consumed_capacity: Option<String>,
}

// ---- DynamoDB Streams ----

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsInput {
    pub table_name: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_stream_arn: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamInput {
    #[serde(default)]
    pub stream_arn: String,
    pub limit: Option<i64>,
    pub exclusive_start_shard_id: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorInput {
    #[serde(default)]
    pub stream_arn: String,
    #[serde(default)]
    pub shard_id: String,
    #[serde(default)]
    pub shard_iterator_type: String,
    pub sequence_number: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsInput {
    #[serde(default)]
    pub shard_iterator: String,
    pub limit: Option<i64>,
}

/// A JSON object kept in request order (serde_json is built with `preserve_order`).
pub mod indexmap_like {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer};

    #[derive(Debug)]
    pub struct OrderedMap<T>(pub Vec<(String, T)>);

    impl<T> Default for OrderedMap<T> {
        fn default() -> Self {
            OrderedMap(Vec::new())
        }
    }

    impl<'de, T: DeserializeOwned> Deserialize<'de> for OrderedMap<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                out.push((k, serde_json::from_value(v).map_err(serde::de::Error::custom)?));
            }
            Ok(OrderedMap(out))
        }
    }
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBackupInput {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub backup_name: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct BackupArnInput {
    #[serde(default)]
    pub backup_arn: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ListBackupsInput {
    pub table_name: Option<String>,
    pub limit: Option<i64>,
    pub time_range_lower_bound: Option<f64>,
    pub time_range_upper_bound: Option<f64>,
    pub exclusive_start_backup_arn: Option<String>,
    pub backup_type: Option<String>,
}

/// What both restores may override in the restored table.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreOverrides {
    pub billing_mode_override: Option<String>,
    pub provisioned_throughput_override: Option<Throughput>,
    pub global_secondary_index_override: Option<Value>,
    pub local_secondary_index_override: Option<Value>,
    #[serde(rename = "SSESpecificationOverride")]
    pub sse_specification_override: Option<Value>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreTableFromBackupInput {
    #[serde(default)]
    pub target_table_name: String,
    #[serde(default)]
    pub backup_arn: String,
    #[serde(flatten)]
    pub overrides: RestoreOverrides,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct PitrSpecification {
    pub point_in_time_recovery_enabled: Option<bool>,
    pub recovery_period_in_days: Option<i64>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateContinuousBackupsInput {
    #[serde(default)]
    pub table_name: String,
    pub point_in_time_recovery_specification: Option<PitrSpecification>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreTableToPointInTimeInput {
    pub source_table_arn: Option<String>,
    pub source_table_name: Option<String>,
    #[serde(default)]
    pub target_table_name: String,
    pub use_latest_restorable_time: Option<bool>,
    pub restore_date_time: Option<f64>,
    #[serde(flatten)]
    pub overrides: RestoreOverrides,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ContributorInsightsInput {
    #[serde(default)]
    pub table_name: String,
    pub index_name: Option<String>,
    pub contributor_insights_action: Option<String>,
    pub contributor_insights_mode: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ListContributorInsightsInput {
    pub table_name: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}
