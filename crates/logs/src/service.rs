//! The CloudWatch Logs service as the router sees it: model, dispatch, and the
//! request-scoped helpers every operation uses (naming a group in the caller's account
//! and region, awaiting a commit).

use crate::engine::{Engine, GroupKey};
use crate::errors::{logs_names, LogsError, LogsResult};
use crate::store::LogsStore;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{typed, BoxFuture};
use nimbus_core::storage::Pending;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use nimbus_core::internal::{EventInvoker, MetricSink, NoFunctions, NoMetrics, OpenGrants, ServiceGrants};
use parking_lot::RwLock;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/logs-2014-03-28.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored CloudWatch Logs model parses"))
}

pub struct LogsService {
    pub engine: Arc<Engine>,
    /// Where metric filters put their data (`set_metric_sink`; drops them until wired).
    pub(crate) metrics: RwLock<Arc<dyn MetricSink>>,
    /// How subscription filters reach Lambda functions (`set_event_invoker`).
    pub(crate) functions: RwLock<Arc<dyn EventInvoker>>,
    /// Decides whether a function's policy lets CloudWatch Logs invoke it (`--auth iam`).
    pub(crate) grants: RwLock<Arc<dyn ServiceGrants>>,
    /// Logs Insights queries and their results (`ops_insights.rs`).
    pub(crate) queries: Arc<crate::ops_insights::Queries>,
    /// How subscription filters reach Kinesis data streams (`set_record_sink`).
    pub(crate) records: std::sync::OnceLock<Arc<dyn nimbus_core::internal::RecordSink>>,
}

impl LogsService {
    /// Loads the store and starts the retention sweeper (when a Tokio runtime runs).
    pub fn new(clock: Clock, store: Arc<dyn LogsStore>) -> Result<LogsService, nimbus_core::storage::StorageError> {
        let engine = Arc::new(Engine::new(clock, store)?);
        crate::engine::spawn_sweeper(&engine);
        let queries: Arc<crate::ops_insights::Queries> = Arc::default();
        queries.restore(engine.take_restored_queries());
        Ok(LogsService { engine, metrics: RwLock::new(Arc::new(NoMetrics)), functions: RwLock::new(Arc::new(NoFunctions)), grants: RwLock::new(Arc::new(OpenGrants)), queries, records: std::sync::OnceLock::new() })
    }

    /// Wires the CloudWatch metrics service that metric filters put data into.
    pub fn set_metric_sink(&self, sink: Arc<dyn MetricSink>) {
        *self.metrics.write() = sink;
    }

    /// Wires IAM's decision on service principals: under `--auth iam` a subscription
    /// filter's function must allow `logs.amazonaws.com` to invoke it.
    pub fn set_grants(&self, grants: Arc<dyn ServiceGrants>) {
        *self.grants.write() = grants;
    }

    /// Wires Kinesis, which subscription filters with a data stream destination put to.
    pub fn set_record_sink(&self, sink: Arc<dyn nimbus_core::internal::RecordSink>) {
        let _ = self.records.set(sink);
    }

    /// Wires Lambda's asynchronous invoke, which subscription filters deliver through.
    pub fn set_event_invoker(&self, functions: Arc<dyn EventInvoker>) {
        *self.functions.write() = functions;
    }

    /// The key of a group named in the caller's account and region.
    pub fn key(ctx: &RequestContext, name: String) -> GroupKey {
        GroupKey { account: ctx.account_id.clone(), region: ctx.region.clone(), name }
    }

    /// Waits for a change to be durable.
    pub async fn committed(pending: Pending) -> LogsResult<()> {
        pending.wait().await.map_err(LogsError::Internal)
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, AwsError> {
        let out = match op {
            "CreateLogGroup" => self.create_log_group(ctx, typed(input)?).await,
            "DeleteLogGroup" => self.delete_log_group(ctx, typed(input)?).await,
            "DescribeLogGroups" => self.describe_log_groups(ctx, typed(input)?).await,
            "PutRetentionPolicy" => self.put_retention_policy(ctx, typed(input)?).await,
            "DeleteRetentionPolicy" => self.delete_retention_policy(ctx, typed(input)?).await,
            "CreateLogStream" => self.create_log_stream(ctx, typed(input)?).await,
            "DeleteLogStream" => self.delete_log_stream(ctx, typed(input)?).await,
            "DescribeLogStreams" => self.describe_log_streams(ctx, typed(input)?).await,
            "PutLogEvents" => self.put_log_events(ctx, typed(input)?).await,
            "GetLogEvents" => self.get_log_events(ctx, typed(input)?).await,
            "FilterLogEvents" => self.filter_log_events(ctx, typed(input)?).await,
            "TagResource" => self.tag_resource(ctx, typed(input)?).await,
            "UntagResource" => self.untag_resource(ctx, typed(input)?).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, typed(input)?),
            "TagLogGroup" => self.tag_log_group(ctx, typed(input)?).await,
            "UntagLogGroup" => self.untag_log_group(ctx, typed(input)?).await,
            "ListTagsLogGroup" => self.list_tags_log_group(ctx, typed(input)?),
            "PutMetricFilter" => self.put_metric_filter(ctx, typed(input)?).await,
            "DescribeMetricFilters" => self.describe_metric_filters(ctx, typed(input)?),
            "DeleteMetricFilter" => self.delete_metric_filter(ctx, typed(input)?).await,
            "TestMetricFilter" => self.test_metric_filter(typed(input)?),
            "PutSubscriptionFilter" => self.put_subscription_filter(ctx, typed(input)?).await,
            "DescribeSubscriptionFilters" => self.describe_subscription_filters(ctx, typed(input)?),
            "DeleteSubscriptionFilter" => self.delete_subscription_filter(ctx, typed(input)?).await,
            "PutResourcePolicy" => self.put_resource_policy(ctx, typed(input)?).await,
            "DescribeResourcePolicies" => self.describe_resource_policies(ctx, typed(input)?),
            "DeleteResourcePolicy" => self.delete_resource_policy(ctx, typed(input)?).await,
            "PutDestination" => self.put_destination(ctx, typed(input)?).await,
            "PutDestinationPolicy" => self.put_destination_policy(ctx, typed(input)?).await,
            "DescribeDestinations" => self.describe_destinations(ctx, typed(input)?),
            "DeleteDestination" => self.delete_destination(ctx, typed(input)?).await,
            "StartQuery" => self.start_query(ctx, typed(input)?).await,
            "GetQueryResults" => self.get_query_results(ctx, typed(input)?).await,
            "StopQuery" => self.stop_query(ctx, typed(input)?),
            "DescribeQueries" => self.describe_queries(ctx, typed(input)?),
            other => Err(LogsError::NotSupported(format!("The operation {other}"))),
        };
        out.map_err(AwsError::from)
    }
}

impl AwsService for LogsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(logs_names) })
    }
}
