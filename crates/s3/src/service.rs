//! The S3 service as the router sees it (REST-XML, signing name `s3`): the vendored model
//! and the dispatch of each operation. Every operation arrives through
//! `AwsService::call_streaming`: the router has decoded the URI labels (`Bucket`, `Key`),
//! query members, headers (`Metadata` from `x-amz-meta-*`) and XML payloads into `input`;
//! PutObject's and UploadPart's body comes unread as a stream. Operations of the model
//! nimbus does not implement answer `NotImplemented` ("… is not supported by nimbus").

use crate::errors::{S3Error, S3Result};
use crate::notify::Notifier;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{BodyStream, BoxFuture, Streamed};
use nimbus_core::{AwsError, AwsService, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/s3-2006-03-01.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored S3 model parses"))
}

pub struct S3Service {
    /// Object events to the buckets' notification configurations.
    pub(crate) notifier: Arc<Notifier>,
    /// Events and lifecycle: the buckets' stored settings, and the lifecycle timer's
    /// wake-up (set once the bucket store exists).
    pub(crate) events: crate::service_events::EventsWiring,
}

impl S3Service {
    pub fn new() -> S3Service {
        S3Service { notifier: Arc::new(Notifier::default()), events: Default::default() }
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value, body: Option<BodyStream>) -> S3Result<Streamed> {
        if let Some(out) = self.bucket_events(ctx, op, &input).await {
            return out.map(Streamed::value);
        }
        drop(body);
        Err(S3Error::NotImplemented { operation: op.to_string() })
    }
}

impl S3Service {
    /// Where object events go: starts the notification worker (the binary calls it once
    /// SQS, Lambda, SNS and EventBridge exist).
    pub fn set_destinations(&self, destinations: crate::notify::Destinations) {
        self.notifier.start(destinations);
    }
}

/// Lambda's `Code.S3Bucket` / `S3Key` packages. (Until the object store exists every
/// bucket is missing.)
impl nimbus_core::internal::ObjectReader for S3Service {
    fn read_object<'a>(&'a self, _account: &'a str, _region: &'a str, bucket: &'a str, _key: &'a str, _version_id: Option<&'a str>, _max_bytes: u64) -> BoxFuture<'a, Result<bytes::Bytes, AwsError>> {
        Box::pin(async move { Err(AwsError::from(S3Error::NoSuchBucket { bucket: bucket.to_string() })) })
    }
}

impl Default for S3Service {
    fn default() -> Self {
        S3Service::new()
    }
}

impl AwsService for S3Service {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input, None).await.map(|s| s.output).map_err(AwsError::from) })
    }

    fn call_streaming<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value, body: Option<BodyStream>) -> BoxFuture<'a, Result<Streamed, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input, body).await.map_err(AwsError::from) })
    }
}
