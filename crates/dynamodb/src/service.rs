//! The two services as the router sees them: DynamoDB (`DynamoDB_20120810.*`) and
//! DynamoDB Streams (`DynamoDBStreams_20120810.*`), sharing one engine; models,
//! dispatch, and resolving a request's table.

use crate::engine::{Engine, Table};
use crate::errors::{ddb_names, DdbError, DdbResult};
use crate::store::DdbStore;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{typed, BoxFuture};
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/dynamodb-2012-08-10.json");
const STREAMS_MODEL_JSON: &str = include_str!("../model/dynamodbstreams-2012-08-10.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored DynamoDB model parses"))
}

pub fn streams_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(STREAMS_MODEL_JSON).expect("vendored DynamoDB Streams model parses"))
}

pub struct DynamoDbService {
    pub engine: Arc<Engine>,
}

/// DynamoDB Streams: reads the streams the DynamoDB service's engine writes.
pub struct StreamsService {
    pub engine: Arc<Engine>,
}

impl DynamoDbService {
    /// Loads the store and starts the TTL sweeper (needs a Tokio runtime).
    pub fn new(clock: Clock, store: Arc<dyn DdbStore>) -> Result<DynamoDbService, nimbus_core::storage::StorageError> {
        let engine = Arc::new(Engine::new(clock, store)?);
        crate::ttl::spawn_sweeper(&engine);
        Ok(DynamoDbService { engine })
    }

    /// Where the standard `AWS/DynamoDB` metrics go (core's aggregator, `metrics.rs`).
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        self.engine.metrics.attach(hub);
    }

    /// The Streams service over the same engine.
    pub fn streams(&self) -> StreamsService {
        StreamsService { engine: self.engine.clone() }
    }

    /// The table a request names (a name or a table ARN), in the caller's account and region.
    pub fn table(&self, ctx: &RequestContext, name: &str) -> DdbResult<Arc<Table>> {
        let name = table_name_of(name)?;
        self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(DdbError::table_not_found)
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, AwsError> {
        let out = match op {
            "CreateTable" => self.create_table(ctx, typed(input)?).await,
            "DescribeTable" => self.describe_table(ctx, typed(input)?),
            "ListTables" => self.list_tables(ctx, typed(input)?),
            "UpdateTable" => self.update_table(ctx, typed(input)?).await,
            "DeleteTable" => self.delete_table(ctx, typed(input)?).await,
            "UpdateTimeToLive" => self.update_ttl(ctx, typed(input)?).await,
            "DescribeTimeToLive" => self.describe_ttl(ctx, typed(input)?),
            "TagResource" => self.tag_resource(ctx, typed(input)?).await,
            "UntagResource" => self.untag_resource(ctx, typed(input)?).await,
            "ListTagsOfResource" => self.list_tags(ctx, typed(input)?),
            "DescribeLimits" => Ok(crate::ops_tables::describe_limits()),
            "DescribeEndpoints" => Ok(crate::ops_tables::describe_endpoints(ctx)),
            "DescribeContinuousBackups" => self.describe_continuous_backups(ctx, typed(input)?),
            "CreateBackup" => self.create_backup(ctx, typed(input)?).await,
            "DescribeBackup" => self.describe_backup(ctx, typed(input)?),
            "ListBackups" => self.list_backups(ctx, typed(input)?),
            "DeleteBackup" => self.delete_backup(ctx, typed(input)?).await,
            "RestoreTableFromBackup" => self.restore_table_from_backup(ctx, typed(input)?).await,
            "UpdateContinuousBackups" => self.update_continuous_backups(ctx, typed(input)?).await,
            "UpdateContributorInsights" => self.update_contributor_insights(ctx, typed(input)?).await,
            "DescribeContributorInsights" => self.describe_contributor_insights(ctx, typed(input)?),
            "ListContributorInsights" => self.list_contributor_insights(ctx, typed(input)?),
            "RestoreTableToPointInTime" => self.restore_table_to_point_in_time(ctx, typed(input)?).await,
            "EnableKinesisStreamingDestination" => self.enable_kinesis_destination(ctx, typed(input)?).await,
            "DisableKinesisStreamingDestination" => self.disable_kinesis_destination(ctx, typed(input)?).await,
            "UpdateKinesisStreamingDestination" => self.update_kinesis_destination(ctx, typed(input)?).await,
            "DescribeKinesisStreamingDestination" => self.describe_kinesis_destination(ctx, typed(input)?),
            "PutItem" => self.put_item(ctx, typed(input)?).await,
            "GetItem" => self.get_item(ctx, typed(input)?),
            "UpdateItem" => self.update_item(ctx, typed(input)?).await,
            "DeleteItem" => self.delete_item(ctx, typed(input)?).await,
            "Query" => self.query(ctx, typed(input)?),
            "Scan" => self.scan(ctx, typed(input)?),
            "BatchGetItem" => self.batch_get_item(ctx, typed(input)?),
            "BatchWriteItem" => self.batch_write_item(ctx, typed(input)?).await,
            "TransactWriteItems" => {
                let fingerprint = canonical(input.get("TransactItems").unwrap_or(&Value::Null));
                self.transact_write_items(ctx, typed(input)?, fingerprint).await
            }
            "ExecuteStatement" => self.execute_statement(ctx, typed(input)?).await,
            "BatchExecuteStatement" => self.batch_execute_statement(ctx, typed(input)?).await,
            "ExecuteTransaction" => {
                let fingerprint = canonical(input.get("TransactStatements").unwrap_or(&Value::Null));
                self.execute_transaction(ctx, typed(input)?, fingerprint).await
            }
            "TransactGetItems" => self.transact_get_items(ctx, typed(input)?),
            other => return Err(AwsError::from(DdbError::unsupported(other))),
        };
        out.map_err(AwsError::from)
    }
}

/// JSON text with object keys sorted at every level: two encodings of one request
/// (maps are unordered on the wire) give the same text.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// A TableName parameter may be a name or a table ARN.
pub fn table_name_of(name: &str) -> DdbResult<&str> {
    if name.is_empty() {
        return Err(DdbError::validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"));
    }
    if let Some(rest) = name.strip_prefix("arn:") {
        return rest.split_once(":table/").map(|(_, n)| n.split('/').next().unwrap_or(n)).ok_or_else(|| DdbError::validation(format!("Invalid TableArn: {name}")));
    }
    Ok(name)
}

impl AwsService for DynamoDbService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            if !self.engine.metrics.enabled() {
                return self.dispatch(ctx, operation, input).await.map_err(ddb_names);
            }
            let mut input = input;
            let plan = crate::metrics::prepare(operation, &mut input);
            let out = self.dispatch(ctx, operation, input).await.map_err(ddb_names);
            crate::metrics::finish(&self.engine.metrics, ctx, operation, plan, out)
        })
    }

    fn checksums_responses(&self) -> bool {
        true
    }

    /// DynamoDB gzips (or deflates) responses of 4 KB and more when asked.
    fn compresses_responses(&self) -> bool {
        true
    }

    /// `GET /` on a DynamoDB endpoint answers 200 with this line.
    fn root_health_line(&self, region: &str) -> Option<String> {
        Some(format!("healthy: dynamodb.{region}.amazonaws.com "))
    }
}

impl StreamsService {
    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, AwsError> {
        let out = match op {
            "ListStreams" => self.list_streams(ctx, typed(input)?),
            "DescribeStream" => self.describe_stream(ctx, typed(input)?),
            "GetShardIterator" => self.get_shard_iterator(ctx, typed(input)?),
            "GetRecords" => self.get_records(ctx, typed(input)?),
            other => return Err(AwsError::from(DdbError::unsupported(other))),
        };
        out.map_err(AwsError::from)
    }
}

impl AwsService for StreamsService {
    fn model(&self) -> &ServiceModel {
        streams_model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(ddb_names) })
    }

    fn checksums_responses(&self) -> bool {
        true
    }

    fn compresses_responses(&self) -> bool {
        true
    }
}
