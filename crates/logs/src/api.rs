//! Typed inputs of the CloudWatch Logs operations nimbus serves, as the codecs deliver
//! them (member names of AWS's model). Outputs are built as JSON values in `ops_*`.
//! Required members are `Option`s so that their absence gets AWS's validation message.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateLogGroup {
    pub log_group_name: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub log_group_class: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupOnly {
    pub log_group_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutRetentionPolicy {
    pub log_group_name: Option<String>,
    pub retention_in_days: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeLogGroups {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StreamRef {
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeLogStreams {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name_prefix: Option<String>,
    pub order_by: Option<String>,
    pub descending: Option<bool>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct InputLogEvent {
    pub timestamp: Option<i64>,
    pub message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutLogEvents {
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
    pub log_events: Option<Vec<InputLogEvent>>,
    pub sequence_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GetLogEvents {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub start_from_head: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FilterLogEvents {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefix: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub filter_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub interleaved: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TagResource {
    pub resource_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct UntagResource {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ListTagsForResource {
    pub resource_arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TagLogGroup {
    pub log_group_name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// UntagLogGroup's `tags` is the list of keys to remove.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct UntagLogGroup {
    pub log_group_name: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MetricTransformationIn {
    pub metric_name: Option<String>,
    pub metric_namespace: Option<String>,
    pub metric_value: Option<String>,
    pub default_value: Option<f64>,
    pub dimensions: Option<BTreeMap<String, String>>,
    pub unit: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutMetricFilter {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
    pub filter_pattern: Option<String>,
    pub metric_transformations: Option<Vec<MetricTransformationIn>>,
    pub apply_on_transformed_logs: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeMetricFilters {
    pub log_group_name: Option<String>,
    pub filter_name_prefix: Option<String>,
    pub metric_name: Option<String>,
    pub metric_namespace: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteFilter {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TestMetricFilter {
    pub filter_pattern: Option<String>,
    pub log_event_messages: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutSubscriptionFilter {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
    pub filter_pattern: Option<String>,
    pub destination_arn: Option<String>,
    pub role_arn: Option<String>,
    pub distribution: Option<String>,
    pub apply_on_transformed_logs: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeSubscriptionFilters {
    pub log_group_name: Option<String>,
    pub filter_name_prefix: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StartQuery {
    pub log_group_name: Option<String>,
    pub log_group_names: Option<Vec<String>>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub query_string: Option<String>,
    pub limit: Option<i64>,
    pub query_language: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryRef {
    pub query_id: Option<String>,
    pub max_items: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeQueries {
    pub log_group_name: Option<String>,
    pub status: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub query_language: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutResourcePolicy {
    pub policy_name: Option<String>,
    pub policy_document: Option<String>,
    pub resource_arn: Option<String>,
    pub expected_revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteResourcePolicy {
    pub policy_name: Option<String>,
    pub resource_arn: Option<String>,
    pub expected_revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeResourcePolicies {
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub resource_arn: Option<String>,
    pub policy_scope: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutDestination {
    pub destination_name: Option<String>,
    pub target_arn: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PutDestinationPolicy {
    pub destination_name: Option<String>,
    pub access_policy: Option<String>,
    pub force_update: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRef {
    pub destination_name: Option<String>,
}

/// DescribeDestinations' prefix member is capitalised in AWS's model.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DescribeDestinations {
    #[serde(rename = "DestinationNamePrefix")]
    pub destination_name_prefix: Option<String>,
    #[serde(rename = "nextToken")]
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}
