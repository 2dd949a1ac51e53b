//! SNS as the router sees it: the model, the dispatch of operations, and `Sns` — the
//! registry, the delivery worker's queue, the FIFO deduplication window (`dedup.rs`) and the messages
//! recorded for email and HTTP/S subscribers. The SMS and mobile-push operations answer
//! "… is not supported by nimbus yet".

use crate::dedup::Dedup;
use crate::delivery::{self, Deliveries, Delivery};
use crate::delivery_policy::RetryPolicy;
use crate::errors::{SnsError, SnsResult};
use crate::ops_publish::Entry;
use crate::registry::{Registry, Subscription};
use crate::signing::Signing;
use crate::{ops_publish, ops_subscriptions, ops_topics};
use nimbus_core::doc_store::DocStore;
use nimbus_core::internal::{EventInvoker, QueueSender};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/sns-2010-03-31.json");
/// Recorded email/HTTP messages kept for inspection (the oldest are dropped).
const MAX_RECORDED: usize = 10_000;

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored SNS model parses"))
}

pub struct Sns {
    pub registry: Arc<Registry>,
    pub clock: Clock,
    /// `http://host:port` of this nimbus (SigningCertURL, UnsubscribeURL, SubscribeURL).
    pub endpoint: String,
    pub deliveries: Arc<Deliveries>,
    pub signing: Signing,
    /// The FIFO deduplication window (durable).
    pub dedup: Dedup,
    recorded: Mutex<std::collections::VecDeque<Value>>,
}

impl Sns {
    /// Records a message for an email or HTTP/S subscriber (`GET /_aws/sns/messages`).
    pub fn record(&self, sub: &Subscription, kind: &str, message: Value) {
        let mut r = self.recorded.lock();
        if r.len() >= MAX_RECORDED {
            r.pop_front();
        }
        r.push_back(json!({
            "Type": kind, "SubscriptionArn": sub.arn, "TopicArn": sub.topic_arn, "Protocol": sub.protocol,
            "Endpoint": sub.endpoint, "Message": message, "Timestamp": crate::envelope::timestamp(self.clock.now_ms()),
        }));
    }

    /// The SubscriptionConfirmation a pending subscription's endpoint gets (signed).
    pub async fn confirmation(&self, sub: &Subscription) -> Value {
        let token = sub.token.clone().unwrap_or_default();
        let url = format!("{}/?Action=ConfirmSubscription&TopicArn={}&Token={token}", self.endpoint, sub.topic_arn);
        let id = nimbus_core::ids::uuid();
        let text = format!("You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.", sub.topic_arn);
        let timestamp = crate::envelope::timestamp(self.clock.now_ms());
        let version = self.registry.topic(&sub.topic_arn).ok().and_then(|t| t.attributes.get("SignatureVersion").cloned()).unwrap_or_else(|| "1".into());
        let fields = [("Message", text.as_str()), ("MessageId", &id), ("SubscribeURL", &url), ("Timestamp", &timestamp), ("Token", &token), ("TopicArn", &sub.topic_arn), ("Type", "SubscriptionConfirmation")];
        let owned = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let signature = self.signing.sign_off_thread(version.clone(), owned).await;
        json!({
            "Type": "SubscriptionConfirmation", "MessageId": id, "Token": token, "TopicArn": sub.topic_arn,
            "Message": text, "SubscribeURL": url, "Timestamp": timestamp, "SignatureVersion": version,
            "Signature": signature, "SigningCertURL": crate::envelope::signing_cert_url(&self.endpoint),
        })
    }

    /// Sends a pending subscription its SubscriptionConfirmation: recorded, and POSTed to
    /// an `http://` or `https://` endpoint (durably, with the subscription's retries).
    pub async fn send_confirmation(&self, sub: &Subscription) -> SnsResult<()> {
        let doc = self.confirmation(sub).await;
        self.record(sub, "SubscriptionConfirmation", doc.clone());
        if matches!(sub.protocol.as_str(), "http" | "https") {
            let id = doc["MessageId"].as_str().unwrap_or("").to_string();
            let d = self.http_delivery(sub, "SubscriptionConfirmation", &id, doc.to_string(), false);
            self.deliveries.accept(&self.registry, vec![d]).await?;
        }
        Ok(())
    }

    /// An HTTP delivery: SNS's headers, the payload, the retry policy of the moment.
    pub fn http_delivery(&self, sub: &Subscription, kind: &str, message_id: &str, payload: String, raw: bool) -> Delivery {
        let topic_policy = self.registry.topic(&sub.topic_arn).ok().and_then(|t| t.attributes.get("DeliveryPolicy").cloned());
        let policy = RetryPolicy::of(topic_policy.as_deref(), sub.attributes.get("DeliveryPolicy").map(String::as_str));
        let mut headers = vec![
            ("x-amz-sns-message-type".to_string(), kind.to_string()),
            ("x-amz-sns-message-id".to_string(), message_id.to_string()),
            ("x-amz-sns-topic-arn".to_string(), sub.topic_arn.clone()),
            ("content-type".to_string(), policy.content_type.clone()),
            ("user-agent".to_string(), "Amazon Simple Notification Service Agent".to_string()),
        ];
        if kind == "Notification" {
            headers.push(("x-amz-sns-subscription-arn".to_string(), sub.arn.clone()));
        }
        if raw {
            headers.push(("x-amz-sns-rawdelivery".to_string(), "true".to_string()));
        }
        let account = sub.topic_arn.split(':').nth(4).unwrap_or("").to_string();
        Delivery {
            id: nimbus_core::ids::uuid(),
            seq: self.deliveries.next_seq(),
            account,
            subscription_arn: sub.arn.clone(),
            protocol: "http".to_string(),
            endpoint: sub.endpoint.clone(),
            body: json!({ "headers": headers, "payload": payload }),
            policy: Some(policy),
            attempts: 0,
            next_ms: self.clock.now_ms(),
            group: None,
            trace: None,
        }
    }

    /// Recorded messages, optionally only those of one endpoint.
    pub fn recorded(&self, endpoint: Option<&str>) -> Vec<Value> {
        self.recorded.lock().iter().filter(|m| endpoint.is_none_or(|e| m["Endpoint"] == e)).cloned().collect()
    }
}

pub struct SnsService {
    pub sns: Arc<Sns>,
}

/// What an operation sees: the caller's account and region, and the service state.
pub struct Call<'a> {
    pub account: String,
    pub region: String,
    pub sns: &'a Sns,
    /// The trace header the request hands downstream (its SNS segment as the parent):
    /// what Publish's deliveries carry.
    pub trace: Option<String>,
}

/// A required string member.
pub fn required(input: &Value, name: &str) -> SnsResult<String> {
    match input.get(name).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(SnsError::invalid(format!("{name} Reason: no value for required parameter"))),
    }
}

/// A string-to-string map member (`Attributes`).
pub fn string_map(input: &Value, name: &str) -> BTreeMap<String, String> {
    input.get(name).and_then(Value::as_object).map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect()).unwrap_or_default()
}

/// One page of `items` after `token` (the page's first item, as the previous page's
/// NextToken named it), and the next token.
pub fn page(items: Vec<String>, token: Option<&str>, size: usize) -> SnsResult<(Vec<String>, Option<String>)> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => items.iter().position(|a| a.as_str() == t).ok_or_else(|| SnsError::invalid("NextToken"))?,
    };
    let rest = &items[start..];
    let next = rest.get(size).cloned();
    Ok((rest.iter().take(size).cloned().collect(), next))
}

impl SnsService {
    /// Opens SNS over its document store; starts the delivery worker with the deliveries
    /// a previous run left.
    /// `key_dir` keeps the signing key (`None`: a key for this process only).
    pub fn open(
        store: Arc<dyn DocStore>,
        clock: Clock,
        endpoint: String,
        key_dir: Option<std::path::PathBuf>,
        queues: Arc<dyn QueueSender>,
        functions: Arc<dyn EventInvoker>,
    ) -> Result<SnsService, String> {
        let (registry, stored) = Registry::open(store.clone())?;
        let registry = Arc::new(registry);
        let (dedup_docs, stored): (Vec<_>, Vec<_>) = stored.into_iter().partition(|d| d.keys[0] == crate::store::DEDUP);
        let dedup = Dedup::open(store, dedup_docs, clock.now_ms());
        let deliveries = Arc::new(Deliveries::new(queues, functions));
        delivery::start(Arc::new(delivery::Worker { registry: registry.clone(), clock: clock.clone(), deliveries: deliveries.clone() }), stored);
        let signing = Signing::new(key_dir);
        let sns = Arc::new(Sns { registry, clock, endpoint, deliveries, signing, dedup, recorded: Mutex::default() });
        Ok(SnsService { sns })
    }

    /// Where the standard `AWS/SNS` metrics go (core's aggregator, `metrics.rs`).
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        self.sns.deliveries.metrics.attach(hub);
    }

    /// Wires the subscribers' resource-policy checks (IAM's, under `--auth iam`).
    pub fn set_grants(&self, grants: Arc<dyn nimbus_core::internal::ServiceGrants>) {
        self.sns.deliveries.set_grants(grants);
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> SnsResult<Value> {
        let call = Call { account: ctx.account_id.clone(), region: ctx.region.clone(), sns: &self.sns, trace: ctx.downstream_trace().map(|t| t.render()) };
        match op {
            "CreateTopic" => ops_topics::create_topic(&call, input).await,
            "DeleteTopic" => ops_topics::delete_topic(&call, input).await,
            "GetTopicAttributes" => ops_topics::get_topic_attributes(&call, input),
            "SetTopicAttributes" => ops_topics::set_topic_attributes(&call, input).await,
            "ListTopics" => ops_topics::list_topics(&call, input),
            "TagResource" => ops_topics::tag_resource(&call, input).await,
            "UntagResource" => ops_topics::untag_resource(&call, input).await,
            "ListTagsForResource" => ops_topics::list_tags(&call, input),
            "AddPermission" => ops_topics::add_permission(&call, input).await,
            "RemovePermission" => ops_topics::remove_permission(&call, input).await,
            "Subscribe" => ops_subscriptions::subscribe(&call, input).await,
            "ConfirmSubscription" => ops_subscriptions::confirm_subscription(&call, input).await,
            "Unsubscribe" => ops_subscriptions::unsubscribe(&call, input).await,
            "GetSubscriptionAttributes" => ops_subscriptions::get_subscription_attributes(&call, input),
            "SetSubscriptionAttributes" => ops_subscriptions::set_subscription_attributes(&call, input).await,
            "ListSubscriptions" => ops_subscriptions::list_subscriptions(&call, input),
            "ListSubscriptionsByTopic" => ops_subscriptions::list_subscriptions_by_topic(&call, input),
            "Publish" => ops_publish::publish(&call, input).await,
            "PublishBatch" => ops_publish::publish_batch(&call, input).await,
            other => Err(SnsError::NotSupported(other.to_string())),
        }
    }
}

impl AwsService for SnsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from) })
    }
}

/// Lambda's asynchronous-invocation destinations on SNS topics; S3's event notifications
/// (with their Subject).
impl nimbus_core::internal::TopicPublisher for SnsService {
    fn publish<'a>(&'a self, topic_arn: &'a str, message: String) -> BoxFuture<'a, Result<String, String>> {
        self.publish_entry(topic_arn, None, message, None)
    }

    fn publish_traced<'a>(&'a self, topic_arn: &'a str, message: String, trace: Option<String>) -> BoxFuture<'a, Result<String, String>> {
        self.publish_entry(topic_arn, None, message, trace)
    }

    fn publish_with_subject<'a>(&'a self, topic_arn: &'a str, subject: String, message: String) -> BoxFuture<'a, Result<String, String>> {
        self.publish_entry(topic_arn, Some(subject), message, None)
    }

    fn publish_with_subject_traced<'a>(&'a self, topic_arn: &'a str, subject: String, message: String, trace: Option<String>) -> BoxFuture<'a, Result<String, String>> {
        self.publish_entry(topic_arn, Some(subject), message, trace)
    }

    fn topic_exists(&self, topic_arn: &str) -> bool {
        self.sns.registry.topic(topic_arn).is_ok()
    }
}

impl SnsService {
    fn publish_entry<'a>(&'a self, topic_arn: &'a str, subject: Option<String>, message: String, trace: Option<String>) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let topic = self.sns.registry.topic(topic_arn).map_err(|e| format!("{:?}", e))?;
            let entry = Entry { message, subject, structure: None, attributes: Default::default(), group_id: None, dedup_id: None, trace };
            ops_publish::publish_to(&self.sns, &topic, entry).await.map(|p| p.message_id).map_err(|e| format!("{e:?}"))
        })
    }
}
