//! The SQS service as the router sees it: model, dispatch, and the request-scoped helpers
//! every operation uses (resolving a queue URL to a queue).

use crate::arn::{parse_queue_url, QueueKey};
use crate::engine::{Engine, Queue};
use crate::errors::{sqs_names, SqsError, SqsResult};
use crate::move_tasks::MoveTasks;
use crate::store::SqsStore;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{typed, BoxFuture};
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/sqs-2012-11-05.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored SQS model parses"))
}

pub struct SqsService {
    pub engine: Arc<Engine>,
    pub tasks: MoveTasks,
}

impl SqsService {
    pub fn new(clock: Clock, store: Arc<dyn SqsStore>) -> Result<SqsService, nimbus_core::storage::StorageError> {
        let engine = Arc::new(Engine::new(clock, store)?);
        Ok(SqsService { tasks: MoveTasks::new(engine.clone()), engine })
    }

    /// Where the standard `AWS/SQS` metrics go (core's aggregator), and the start of the
    /// per-minute sampling of queue depths.
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        if !self.engine.metrics.enabled() {
            self.engine.metrics.attach(hub);
            crate::metrics::start_sampler(&self.engine);
        }
    }

    /// The queue a request's QueueUrl names: in the URL's region (the caller's when the
    /// URL has none) and account (the caller's for a bare queue name).
    pub fn queue(&self, ctx: &RequestContext, url: Option<&str>) -> SqsResult<Arc<Queue>> {
        let url = url.filter(|u| !u.is_empty()).ok_or_else(|| SqsError::MissingParameter("QueueUrl".into()))?;
        let r = parse_queue_url(url).ok_or(SqsError::QueueDoesNotExist)?;
        let key = QueueKey {
            account: r.account.unwrap_or_else(|| ctx.account_id.clone()),
            region: r.region.unwrap_or_else(|| ctx.region.clone()),
            name: r.name,
        };
        self.engine.get(&key).ok_or(SqsError::QueueDoesNotExist)
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value, AwsError> {
        let out = match op {
            "CreateQueue" => self.create_queue(ctx, typed(input)?).await,
            "DeleteQueue" => self.delete_queue(ctx, typed(input)?).await,
            "GetQueueUrl" => self.get_queue_url(ctx, typed(input)?),
            "ListQueues" => self.list_queues(ctx, typed(input)?),
            "GetQueueAttributes" => self.get_queue_attributes(ctx, typed(input)?),
            "SetQueueAttributes" => self.set_queue_attributes(ctx, typed(input)?).await,
            "TagQueue" => self.tag_queue(ctx, typed(input)?).await,
            "UntagQueue" => self.untag_queue(ctx, typed(input)?).await,
            "ListQueueTags" => self.list_queue_tags(ctx, typed(input)?),
            "AddPermission" => self.add_permission(ctx, typed(input)?).await,
            "RemovePermission" => self.remove_permission(ctx, typed(input)?).await,
            "PurgeQueue" => self.purge_queue(ctx, typed(input)?).await,
            "ListDeadLetterSourceQueues" => self.list_dead_letter_source_queues(ctx, typed(input)?),
            "SendMessage" => self.send_message(ctx, typed(input)?).await,
            "SendMessageBatch" => self.send_message_batch(ctx, typed(input)?).await,
            "ReceiveMessage" => self.receive_message(ctx, typed(input)?).await,
            "DeleteMessage" => self.delete_message(ctx, typed(input)?).await,
            "DeleteMessageBatch" => self.delete_message_batch(ctx, typed(input)?).await,
            "ChangeMessageVisibility" => self.change_message_visibility(ctx, typed(input)?).await,
            "ChangeMessageVisibilityBatch" => self.change_message_visibility_batch(ctx, typed(input)?).await,
            "StartMessageMoveTask" => self.tasks.start(ctx, typed(input)?),
            "CancelMessageMoveTask" => self.tasks.cancel(typed(input)?),
            "ListMessageMoveTasks" => self.tasks.list(typed(input)?),
            other => return Err(nimbus_core::AwsService::unknown_action(self, other)),
        };
        out.map_err(AwsError::from)
    }
}

impl nimbus_core::internal::MessageBus for SqsService {
    fn send_to_queue<'a>(&'a self, queue_arn: &'a str, body: String, attributes: Vec<(String, String)>) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { self.send_internal(queue_arn, body, attributes, None).await.map_err(|e| AwsError::from(e).to_string()) })
    }

    fn send_to_queue_traced<'a>(&'a self, queue_arn: &'a str, body: String, attributes: Vec<(String, String)>, trace: Option<String>) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { self.send_internal(queue_arn, body, attributes, trace.as_deref()).await.map_err(|e| AwsError::from(e).to_string()) })
    }
}

/// API Gateway's SQS-* integrations: the actions' JSON input on a queue by ARN.
impl nimbus_core::internal::QueueSender for SqsService {
    fn send_message<'a>(&'a self, queue_arn: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let queue = self.engine.get_by_arn(queue_arn).ok_or(SqsError::QueueDoesNotExist).map_err(AwsError::from)?;
            let input = typed(input)?;
            let account = queue.key.account.clone();
            self.send_to(&account, None, &queue, input).await.map_err(AwsError::from).map_err(sqs_names)
        })
    }

    fn receive_message<'a>(&'a self, queue_arn: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let queue = self.engine.get_by_arn(queue_arn).ok_or(SqsError::QueueDoesNotExist).map_err(AwsError::from)?;
            let input = typed(input)?;
            self.receive_from(&queue, input).await.map_err(AwsError::from).map_err(sqs_names)
        })
    }

    fn delete_message<'a>(&'a self, queue_arn: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let queue = self.engine.get_by_arn(queue_arn).ok_or(SqsError::QueueDoesNotExist).map_err(AwsError::from)?;
            let handle = input.get("ReceiptHandle").and_then(Value::as_str);
            self.delete_one(&queue, handle).await.map(|()| serde_json::json!({})).map_err(AwsError::from).map_err(sqs_names)
        })
    }

    fn purge_queue<'a>(&'a self, queue_arn: &'a str) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let queue = self.engine.get_by_arn(queue_arn).ok_or(SqsError::QueueDoesNotExist).map_err(AwsError::from)?;
            self.purge(&queue).await.map_err(AwsError::from).map_err(sqs_names)
        })
    }

    fn queue_exists(&self, queue_arn: &str) -> bool {
        self.engine.get_by_arn(queue_arn).is_some()
    }
}

impl AwsService for SqsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            self.dispatch(ctx, operation, input).await.map_err(sqs_names).map_err(|mut e| {
                // The query protocol words this one differently.
                if ctx.protocol == nimbus_core::model::Protocol::Query && e.code == "QueueDoesNotExist" {
                    e.message = "The specified queue does not exist for this wsdl version.".into();
                }
                e
            })
        })
    }

    /// SQS's words for an action it does not have (query protocol, POST or GET).
    fn unknown_action(&self, action: &str) -> AwsError {
        let mut err = AwsError::invalid_action(action);
        err.message = format!("The action {action} is not valid for this endpoint.");
        err
    }

    /// Query-protocol requests may name the queue by the URL path instead of QueueUrl.
    fn adapt_query_input(&self, ctx: &RequestContext, _operation: &str, input: &mut Value) {
        if let Value::Object(map) = input {
            if !map.contains_key("QueueUrl") && ctx.path.len() > 1 && parse_queue_url(&ctx.path).is_some() {
                map.insert("QueueUrl".into(), Value::String(format!("http://{}{}", ctx.host, ctx.path)));
            }
        }
    }
}
