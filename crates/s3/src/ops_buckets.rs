//! Bucket operations: CreateBucket (LocationConstraint rules), HeadBucket, DeleteBucket,
//! ListBuckets, GetBucketLocation.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>

use crate::buckets::{validate_name, Bucket, REGIONS};
use crate::errors::{S3Error, S3Result};
use crate::input::{opt_str, req_str};
use crate::service::S3Service;
use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use nimbus_core::service::Streamed;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The owner every document names: a canonical user id derived from the account.
pub fn owner(account: &str) -> Value {
    use sha2::Digest;
    let id = crate::blobs::hex(&sha2::Sha256::digest(format!("nimbus-canonical-{account}").as_bytes()));
    json!({"ID": id, "DisplayName": "nimbus"})
}

fn ms_to_secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

impl S3Service {
    pub(crate) async fn create_bucket(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let name = req_str(input, "Bucket")?;
        validate_name(name)?;
        let constraint = input.pointer("/CreateBucketConfiguration/LocationConstraint").and_then(Value::as_str).filter(|s| !s.is_empty());
        let region = match constraint {
            None if ctx.region != "us-east-1" => {
                return Err(S3Error::with("IllegalLocationConstraintException", 400, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.", &[]));
            }
            None => "us-east-1".to_string(),
            Some(c) if !REGIONS.contains(&c) || c == "us-east-1" => {
                return Err(S3Error::with("InvalidLocationConstraint", 400, "The specified location-constraint is not valid", &[("LocationConstraint", c.to_string())]));
            }
            Some(c) => {
                let region = if c == "EU" { "eu-west-1" } else { c };
                if ctx.region != "us-east-1" && ctx.region != region {
                    return Err(S3Error::with("IllegalLocationConstraintException", 400, format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."), &[]));
                }
                region.to_string()
            }
        };
        // New buckets have ACLs disabled and public access blocked, as in AWS since 2023.
        let mut configs = BTreeMap::new();
        let ownership = opt_str(input, "ObjectOwnership").unwrap_or("BucketOwnerEnforced");
        if !["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"].contains(&ownership) {
            return Err(S3Error::with("InvalidArgument", 400, "Invalid x-amz-object-ownership header", &[("ArgumentName", "x-amz-object-ownership".into()), ("ArgumentValue", ownership.to_string())]));
        }
        configs.insert(crate::buckets::kind::OWNERSHIP.to_string(), json!({"Rules": [{"ObjectOwnership": ownership}]}));
        let acl_ok = opt_str(input, "ACL").is_none_or(|a| a == "private");
        let grants = ["GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP"].iter().any(|h| input.get(*h).is_some());
        if ownership == "BucketOwnerEnforced" && (!acl_ok || grants) {
            return Err(S3Error::with("InvalidBucketAclWithObjectOwnership", 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", &[]));
        }
        if input.get("ObjectLockEnabledForBucket").and_then(Value::as_bool) == Some(true) {
            return Err(S3Error::NotImplemented { operation: "Object Lock".into() });
        }
        configs.insert(crate::buckets::kind::PUBLIC_ACCESS_BLOCK.to_string(), json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}));
        let bucket = Bucket { name: name.to_string(), account: ctx.account_id.clone(), region: region.clone(), created_ms: self.clock.now_ms(), configs };
        if !self.buckets.create(&self.store, bucket).await? {
            let existing = self.buckets.require(name)?;
            if existing.account != ctx.account_id {
                return Err(S3Error::with(
                    "BucketAlreadyExists",
                    409,
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                    &[("BucketName", name.to_string())],
                ));
            }
            // Legacy compatibility: re-creating one's own bucket in us-east-1 succeeds.
            if !(existing.region == "us-east-1" && region == "us-east-1") {
                return Err(S3Error::with("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.", &[("BucketName", name.to_string())]));
            }
        }
        Ok(Streamed::value(json!({"Location": format!("/{name}"), "BucketArn": format!("arn:aws:s3:::{name}")})))
    }

    pub(crate) async fn head_bucket(&self, input: &Value) -> S3Result<Streamed> {
        let b = self.buckets.require(req_str(input, "Bucket")?)?;
        Ok(Streamed::value(json!({"BucketRegion": b.region, "BucketLocationType": null, "BucketArn": format!("arn:aws:s3:::{}", b.name), "AccessPointAlias": "false"})))
    }

    pub(crate) async fn delete_bucket(&self, input: &Value) -> S3Result<Streamed> {
        let name = req_str(input, "Bucket")?;
        // Incomplete multipart uploads go with the bucket; their part files after the commit.
        let part_files = self.store.query(|c| crate::multipart_store::part_files_of_bucket(c, name))?;
        self.buckets.delete(&self.store, name, self.bucket_extra_empty).await?;
        self.blobs.remove(&part_files);
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn list_buckets(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let max = input.get("MaxBuckets").and_then(Value::as_i64).unwrap_or(10_000);
        if !(1..=10_000).contains(&max) {
            return Err(S3Error::with("InvalidArgument", 400, "Argument max-buckets must be an integer between 1 and 10000.", &[("ArgumentName", "max-buckets".into()), ("ArgumentValue", max.to_string())]));
        }
        let prefix = opt_str(input, "Prefix").unwrap_or("");
        let region = opt_str(input, "BucketRegion");
        let after = match opt_str(input, "ContinuationToken") {
            Some(t) => Some(decode_token(t).ok_or_else(|| S3Error::with("InvalidArgument", 400, "The continuation token provided is incorrect", &[("ArgumentName", "continuation-token".into())]))?),
            None => None,
        };
        let mut buckets = Vec::new();
        let mut next = None;
        for b in self.buckets.all() {
            if b.account != ctx.account_id || !b.name.starts_with(prefix) || region.is_some_and(|r| r != b.region) || after.as_ref().is_some_and(|a| b.name.as_bytes() <= a.as_slice()) {
                continue;
            }
            if buckets.len() as i64 == max {
                next = buckets.last().and_then(|v: &Value| v["Name"].as_str()).map(|n| encode_token(n.as_bytes()));
                break;
            }
            buckets.push(json!({"Name": b.name, "CreationDate": ms_to_secs(b.created_ms), "BucketRegion": b.region, "BucketArn": format!("arn:aws:s3:::{}", b.name)}));
        }
        let mut out = json!({"Buckets": buckets, "Owner": owner(&ctx.account_id)});
        if let Some(t) = next {
            out["ContinuationToken"] = json!(t);
        }
        if input.get("Prefix").is_some() {
            out["Prefix"] = json!(prefix);
        }
        Ok(Streamed::value(out))
    }

    /// `<LocationConstraint>region</LocationConstraint>` (empty for us-east-1), written
    /// here: the document's root is the value itself.
    pub(crate) async fn get_bucket_location(&self, input: &Value) -> S3Result<Streamed> {
        let b = self.buckets.require(req_str(input, "Bucket")?)?;
        let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        if b.region != "us-east-1" {
            nimbus_core::xml::escape_into(&mut doc, &b.region);
        }
        doc.push_str("</LocationConstraint>");
        let body = http_body_util::Full::new(Bytes::from(doc)).map_err(|never| match never {}).boxed();
        Ok(Streamed { output: json!({}), body: Some(body) })
    }
}

/// An opaque continuation token for a position (a key or bucket name).
pub fn encode_token(position: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position)
}

pub fn decode_token(token: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()
}
