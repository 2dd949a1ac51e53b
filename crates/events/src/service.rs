//! The EventBridge service as the router sees it: model, dispatch, and what every
//! operation shares (the registry, the target seams, the clock, the scheduler).

use crate::errors::{events_names, EventsError, EventsResult};
use crate::registry::Registry;
use crate::timer::Scheduler;
use nimbus_core::doc_store::DocStore;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

pub use crate::deliver::Targets;

const MODEL_JSON: &str = include_str!("../model/events-2015-10-07.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored EventBridge model parses"))
}

pub struct EventsService {
    pub(crate) reg: Arc<Registry>,
    pub(crate) targets: Targets,
    pub(crate) clock: Clock,
    pub(crate) scheduler: Arc<Scheduler>,
}

impl EventsService {
    /// Where targets that are Kinesis data streams put their records (`RecordSink`).
    pub fn set_record_sink(&self, sink: Arc<dyn nimbus_core::internal::RecordSink>) {
        let _ = self.reg.streams.set(sink);
    }

    /// Where the standard `AWS/Events` metrics go (core's aggregator, `metrics.rs`).
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        self.reg.metrics.attach(hub);
    }

    /// Loads the configuration and starts the scheduler (when a Tokio runtime runs).
    pub fn new(clock: Clock, docs: Arc<dyn DocStore>, targets: Targets) -> Result<EventsService, String> {
        let reg = Arc::new(Registry::open(docs)?);
        let scheduler = Scheduler::start(reg.clone(), targets.clone(), clock.clone());
        if tokio::runtime::Handle::try_current().is_ok() {
            let unfinished = std::mem::take(&mut *reg.unfinished.lock());
            crate::deliver::resume(&reg, &targets, &clock, unfinished);
            crate::replays::resume(&reg, &targets, &clock);
        }
        Ok(EventsService { reg, targets, clock, scheduler })
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> EventsResult<Value> {
        match op {
            "CreateEventBus" => self.create_event_bus(ctx, &input).await,
            "DescribeEventBus" => self.describe_event_bus(ctx, &input),
            "ListEventBuses" => self.list_event_buses(ctx, &input),
            "DeleteEventBus" => self.delete_event_bus(ctx, &input).await,
            "PutRule" => self.put_rule(ctx, &input).await,
            "DescribeRule" => self.describe_rule(ctx, &input),
            "ListRules" => self.list_rules(ctx, &input),
            "EnableRule" => self.set_rule_state(ctx, &input, "ENABLED").await,
            "DisableRule" => self.set_rule_state(ctx, &input, "DISABLED").await,
            "DeleteRule" => self.delete_rule(ctx, &input).await,
            "PutTargets" => self.put_targets(ctx, &input).await,
            "RemoveTargets" => self.remove_targets(ctx, &input).await,
            "ListTargetsByRule" => self.list_targets_by_rule(ctx, &input),
            "PutEvents" => self.put_events(ctx, &input).await,
            "TestEventPattern" => crate::ops_events::test_event_pattern(&input),
            "TagResource" => self.tag_resource(ctx, &input).await,
            "UntagResource" => self.untag_resource(ctx, &input).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, &input),
            "CreateArchive" => self.create_archive(ctx, &input).await,
            "DescribeArchive" => self.describe_archive(ctx, &input),
            "ListArchives" => self.list_archives(ctx, &input),
            "UpdateArchive" => self.update_archive(ctx, &input).await,
            "DeleteArchive" => self.delete_archive(ctx, &input).await,
            "StartReplay" => self.start_replay(ctx, &input).await,
            "DescribeReplay" => self.describe_replay(ctx, &input),
            "ListReplays" => self.list_replays(ctx, &input),
            "CancelReplay" => self.cancel_replay(ctx, &input).await,
            other => Err(EventsError::NotSupported(format!("The operation {other}"))),
        }
    }
}

impl AwsService for EventsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from).map_err(events_names) })
    }
}

/// A string member of the input.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}
