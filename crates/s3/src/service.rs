//! The S3 service as the router sees it (REST-XML, signing name `s3`): the vendored model
//! and the dispatch of each operation. Every operation arrives through
//! `AwsService::call_streaming`: the router has decoded the URI labels (`Bucket`, `Key`),
//! query members, headers (`Metadata` from `x-amz-meta-*`) and XML payloads into `input`;
//! PutObject's and UploadPart's body comes unread as a stream. Operations of the model
//! nimbus does not implement answer `NotImplemented` ("… is not supported by nimbus").

use crate::blobs::Blobs;
use crate::buckets::Buckets;
use crate::errors::{S3Error, S3Result};
use crate::notify::Notifier;
use crate::store::Store;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::{BodyStream, BoxFuture, Streamed};
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/s3-2006-03-01.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored S3 model parses"))
}

pub struct S3Service {
    /// Object events to the buckets' notification configurations.
    pub(crate) notifier: Arc<Notifier>,
    /// The lifecycle timer (its wake-up on a configuration change), once `start_events`
    /// has started it.
    pub(crate) lifecycle_timer: std::sync::OnceLock<crate::lifecycle_timer::LifecycleTimer>,
    /// Buckets and object versions.
    pub store: Arc<Store>,
    /// Object bytes.
    pub blobs: Arc<Blobs>,
    /// Every bucket with its configuration, in memory, written through to `store`.
    pub buckets: Arc<Buckets>,
    pub(crate) clock: Clock,
    /// Whether a bucket's other rows (multipart uploads, …) are gone, checked in
    /// DeleteBucket's transaction.
    pub bucket_extra_empty: fn(&rusqlite::Connection, &str) -> rusqlite::Result<bool>,
}

impl S3Service {
    /// Opens S3 over its metadata `store` and the blob directory `blob_dir`
    /// (`<data-dir>/s3`, or a temp dir for `--in-memory`), sweeping blob files no
    /// version references. `fsync`: blob files are fsynced before they are renamed into
    /// place (`--fsync`).
    pub fn open(store: Store, blob_dir: &Path, fsync: bool, clock: Clock) -> Result<S3Service, String> {
        let blobs = Blobs::open(blob_dir, fsync).map_err(|e| format!("s3 blob directory {}: {e}", blob_dir.display()))?;
        store.add_schema(crate::multipart_store::SCHEMA).map_err(|e| e.to_string())?;
        let mut referenced = store.referenced_files().map_err(|e| e.to_string())?;
        // Multipart uploads' part files are kept too.
        referenced.extend(store.query(crate::multipart_store::all_part_files).map_err(|e| e.to_string())?);
        let swept = blobs.sweep(&referenced).map_err(|e| format!("s3 blob sweep: {e}"))?;
        if swept > 0 {
            tracing::info!(files = swept, "s3: removed blob files no object references");
        }
        let buckets = Buckets::load(store.buckets().map_err(|e| e.to_string())?);
        Ok(S3Service {
            notifier: Arc::new(Notifier::default()),
            lifecycle_timer: Default::default(),
            store: Arc::new(store),
            blobs: Arc::new(blobs),
            buckets: Arc::new(buckets),
            clock,
            bucket_extra_empty: crate::multipart_store::drop_bucket_uploads,
        })
    }

    /// Where object events go: starts the notification worker (the binary calls it once
    /// SQS, Lambda, SNS and EventBridge exist).
    pub fn set_destinations(&self, destinations: crate::notify::Destinations) {
        self.notifier.start(destinations);
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value, body: Option<BodyStream>) -> S3Result<Streamed> {
        self.check_expected_owner(&input)?;
        if let Some(out) = self.bucket_events(ctx, op, &input).await {
            return out.map(Streamed::value);
        }
        match op {
            "CreateBucket" => self.create_bucket(ctx, &input).await,
            "HeadBucket" => self.head_bucket(&input).await,
            "DeleteBucket" => self.delete_bucket(&input).await.inspect(|_| self.forget_bucket_events(&input)),
            "ListBuckets" => self.list_buckets(ctx, &input).await,
            "GetBucketLocation" => self.get_bucket_location(&input).await,
            "PutObject" => self.put_object(ctx, &input, body).await.map(|out| self.with_expiration(op, &input, out)),
            "GetObject" => self.get_object(&input, false).await.map(|out| self.with_expiration(op, &input, out)),
            "HeadObject" => self.get_object(&input, true).await.map(|out| self.with_expiration(op, &input, out)),
            "DeleteObject" => self.delete_object(ctx, &input).await,
            "ListObjects" => self.list_objects(&input).await,
            "ListObjectsV2" => self.list_objects_v2(&input).await,
            "DeleteObjects" => self.delete_objects(ctx, &input).await,
            "CopyObject" => self.copy_object(ctx, &input).await.map(|out| self.with_expiration(op, &input, out)),
            "PutBucketVersioning" => self.put_bucket_versioning(&input).await,
            "GetBucketVersioning" => self.get_bucket_versioning(&input).await,
            "ListObjectVersions" => self.list_object_versions(&input).await,
            "PutObjectTagging" => self.put_object_tagging(ctx, &input).await,
            "GetObjectTagging" => self.get_object_tagging(&input).await,
            "DeleteObjectTagging" => self.delete_object_tagging(ctx, &input).await,
            "PutBucketTagging" => self.put_bucket_tagging(&input).await,
            "GetBucketTagging" => self.get_bucket_tagging(&input).await,
            "DeleteBucketTagging" => self.delete_bucket_tagging(&input).await,
            "PutBucketCors" => self.put_bucket_cors(&input).await,
            "GetBucketCors" => self.get_bucket_cors(&input).await,
            "DeleteBucketCors" => self.delete_bucket_cors(&input).await,
            "PutBucketPolicy" => self.put_bucket_policy(&input).await,
            "GetBucketPolicy" => self.get_bucket_policy(&input).await,
            "DeleteBucketPolicy" => self.delete_bucket_policy(&input).await,
            "GetBucketPolicyStatus" => self.get_bucket_policy_status(&input).await,
            "PutBucketOwnershipControls" => self.put_bucket_ownership_controls(&input).await,
            "GetBucketOwnershipControls" => self.get_bucket_ownership_controls(&input).await,
            "DeleteBucketOwnershipControls" => self.delete_bucket_ownership_controls(&input).await,
            "PutPublicAccessBlock" => self.put_public_access_block(&input).await,
            "GetPublicAccessBlock" => self.get_public_access_block(&input).await,
            "DeletePublicAccessBlock" => self.delete_public_access_block(&input).await,
            "PutBucketEncryption" => self.put_bucket_encryption(&input).await,
            "GetBucketEncryption" => self.get_bucket_encryption(&input).await,
            "DeleteBucketEncryption" => self.delete_bucket_encryption(&input).await,
            "GetBucketAcl" => self.get_bucket_acl(&input).await,
            "GetObjectAcl" => self.get_object_acl(&input).await,
            "PutBucketAcl" => self.put_acl(&input, false).await,
            "PutObjectAcl" => self.put_acl(&input, true).await,
            "GetObjectAttributes" => self.get_object_attributes(&input).await,
            "CreateMultipartUpload" => self.create_multipart_upload(ctx, &input).await.map(|out| self.with_abort_date(&input, out)),
            "UploadPart" => self.upload_part(&input, body).await,
            "UploadPartCopy" => self.upload_part_copy(&input).await,
            "CompleteMultipartUpload" => self.complete_multipart_upload(ctx, &input).await.map(|out| self.with_expiration(op, &input, out)),
            "AbortMultipartUpload" => self.abort_multipart_upload(&input).await,
            "ListParts" => self.list_parts(&input).await.map(|out| self.with_abort_date(&input, out)),
            "ListMultipartUploads" => self.list_multipart_uploads(&input).await,
            _ => {
                drop(body);
                Err(S3Error::NotImplemented { operation: op.to_string() })
            }
        }
    }
}


impl S3Service {
    /// `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` of a copy):
    /// a bucket of another account answers 403 `AccessDenied`.
    fn check_expected_owner(&self, input: &Value) -> S3Result<()> {
        let denied = || S3Error::with("AccessDenied", 403, "Access Denied", &[]);
        if let (Some(owner), Some(bucket)) = (input.get("ExpectedBucketOwner").and_then(Value::as_str), input.get("Bucket").and_then(Value::as_str)) {
            if self.buckets.get(bucket).is_some_and(|b| b.account != owner) {
                return Err(denied());
            }
        }
        if let (Some(owner), Some(source)) = (input.get("ExpectedSourceBucketOwner").and_then(Value::as_str), input.get("CopySource").and_then(Value::as_str)) {
            let bucket = crate::ops_copy::parse_copy_source(source).map(|(b, _, _)| b).unwrap_or_default();
            if self.buckets.get(&bucket).is_some_and(|b| b.account != owner) {
                return Err(denied());
            }
        }
        Ok(())
    }
}

impl AwsService for S3Service {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input, None).await.map(|s| s.output).map_err(AwsError::from) })
    }

    fn cors(&self, _ctx: &RequestContext, path: &str, origin: &str, method: &str, request_headers: &[String]) -> Option<Result<Vec<(String, String)>, AwsError>> {
        self.cors_for(path, origin, method, request_headers)
    }

    fn call_streaming<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value, body: Option<BodyStream>) -> BoxFuture<'a, Result<Streamed, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input, body).await.map_err(AwsError::from) })
    }
}
