//! Tagging (objects and buckets) and the bucket configurations nimbus stores and returns:
//! CORS (also what `AwsService::cors` answers browsers from), bucket policy (JSON
//! checked, not enforced), ownership controls, public-access-block, default encryption
//! (SSE-S3 unless set), and ACLs (the owner's FULL_CONTROL; Put*Acl accepts the private
//! ACL and refuses others as a bucket with ACLs disabled does).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>

use crate::buckets::kind;
use crate::errors::{S3Error, S3Result};
use crate::input::{opt_str, req_str};
use crate::ops_buckets::owner;
use crate::ops_objects::{check_version_id, shown_version, STATUS};
use crate::service::S3Service;
use crate::tags::{from_document, to_document, BUCKET_TAG_LIMIT, OBJECT_TAG_LIMIT};
use nimbus_core::service::Streamed;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const CORS_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

fn no_content() -> Streamed {
    let mut out = serde_json::Map::new();
    out.insert(STATUS.into(), json!(204));
    Streamed::value(Value::Object(out))
}

/// The default encryption of every bucket (SSE-S3), as AWS applies since 2023.
fn default_encryption() -> Value {
    json!({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": false}]})
}

/// The owner's grant, the only one nimbus models.
fn acl(account: &str) -> Value {
    let o = owner(account);
    json!({"Owner": o, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": o["ID"], "DisplayName": o["DisplayName"]}, "Permission": "FULL_CONTROL"}]})
}

/// Whether a bucket has ACLs disabled (`BucketOwnerEnforced`, the default of new buckets).
pub fn acls_disabled(bucket: &crate::buckets::Bucket) -> bool {
    bucket.configs.get(kind::OWNERSHIP).and_then(|o| o.pointer("/Rules/0/ObjectOwnership")).and_then(Value::as_str).is_none_or(|o| o == "BucketOwnerEnforced")
}

/// An object write's `x-amz-acl` / `x-amz-grant-*`: with ACLs disabled only the private
/// ACL (and `bucket-owner-full-control`) is accepted. ACLs are not stored either way.
pub fn check_write_acl(bucket: &crate::buckets::Bucket, input: &Value) -> S3Result<()> {
    let canned_ok = opt_str(input, "ACL").is_none_or(|a| a == "private" || a == "bucket-owner-full-control");
    let grants = ["GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP"].iter().any(|h| input.get(*h).is_some());
    if acls_disabled(bucket) && (!canned_ok || grants) {
        return Err(S3Error::with("AccessControlListNotSupported", 400, "The bucket does not allow ACLs", &[]));
    }
    Ok(())
}

impl S3Service {
    // ---- object tagging

    pub(crate) async fn put_object_tagging(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let tags = from_document(input.get("Tagging"), OBJECT_TAG_LIMIT)?;
        self.change_tags(ctx, &bucket, key, opt_str(input, "VersionId"), tags, "ObjectTagging:Put").await
    }

    pub(crate) async fn delete_object_tagging(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let mut out = self.change_tags(ctx, &bucket, key, opt_str(input, "VersionId"), Vec::new(), "ObjectTagging:Delete").await?;
        out.output[STATUS] = json!(204);
        Ok(out)
    }

    async fn change_tags(&self, ctx: &RequestContext, bucket: &crate::buckets::Bucket, key: &str, version_id: Option<&str>, tags: Vec<(String, String)>, event: &'static str) -> S3Result<Streamed> {
        // The version must be readable (S3's answers for missing keys and delete markers).
        let current = self.readable_version(bucket, key, version_id, "PUT")?;
        let Some(v) = self.store.set_tags(&bucket.name, key, Some(&current.version_id), tags).await? else {
            return Err(S3Error::NoSuchKey { key: key.to_string() });
        };
        self.notify(ctx, event, &v);
        let mut out = json!({});
        if let Some(id) = shown_version(bucket, &v) {
            out["VersionId"] = json!(id);
        }
        Ok(Streamed::value(out))
    }

    pub(crate) async fn get_object_tagging(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let v = self.readable_version(&bucket, key, opt_str(input, "VersionId"), "GET")?;
        let mut out = json!({"TagSet": to_document(&v.tags)});
        if let Some(id) = shown_version(&bucket, &v) {
            out["VersionId"] = json!(id);
        }
        Ok(Streamed::value(out))
    }

    // ---- bucket tagging

    pub(crate) async fn put_bucket_tagging(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let tags = from_document(input.get("Tagging"), BUCKET_TAG_LIMIT)?;
        self.buckets.set_config(&self.store, &bucket.name, kind::TAGGING, Some(to_document(&tags))).await?;
        Ok(no_content())
    }

    pub(crate) async fn get_bucket_tagging(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        match bucket.configs.get(kind::TAGGING) {
            Some(set) => Ok(Streamed::value(json!({"TagSet": set}))),
            None => Err(S3Error::with("NoSuchTagSet", 404, "The TagSet does not exist", &[("BucketName", bucket.name.clone())])),
        }
    }

    // ---- simple documents: stored as sent, returned, deleted

    async fn delete_config(&self, input: &Value, kind: &str) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        self.buckets.set_config(&self.store, &bucket.name, kind, None).await?;
        Ok(no_content())
    }

    pub(crate) async fn delete_bucket_tagging(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::TAGGING).await
    }

    // ---- CORS

    pub(crate) async fn put_bucket_cors(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let rules = input.pointer("/CORSConfiguration/CORSRules").and_then(Value::as_array).cloned().unwrap_or_default();
        if rules.is_empty() || rules.len() > 100 {
            return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
        }
        for r in &rules {
            let methods = r.get("AllowedMethods").and_then(Value::as_array).cloned().unwrap_or_default();
            let origins = r.get("AllowedOrigins").and_then(Value::as_array).cloned().unwrap_or_default();
            if methods.is_empty() || origins.is_empty() {
                return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
            }
            if let Some(m) = methods.iter().filter_map(Value::as_str).find(|m| !CORS_METHODS.contains(m)) {
                return Err(S3Error::with("InvalidRequest", 400, format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"), &[]));
            }
            for o in origins.iter().filter_map(Value::as_str) {
                if o.matches('*').count() > 1 {
                    return Err(S3Error::with("InvalidRequest", 400, format!("AllowedOrigin \"{o}\" can not have more than one wildcard."), &[]));
                }
            }
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::CORS, Some(json!({"CORSRules": rules}))).await?;
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn get_bucket_cors(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        match bucket.configs.get(kind::CORS) {
            Some(c) => Ok(Streamed::value(c.clone())),
            None => Err(S3Error::with("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist", &[("BucketName", bucket.name.clone())])),
        }
    }

    pub(crate) async fn delete_bucket_cors(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::CORS).await
    }

    /// The CORS decision for a browser's request to `path` (`/bucket[/key]`).
    pub(crate) fn cors_for(&self, path: &str, origin: &str, method: &str, asked: &[String]) -> Option<Result<Vec<(String, String)>, nimbus_core::AwsError>> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        if trimmed.is_empty() {
            return None;
        }
        let (bucket, key) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let bucket = percent_encoding::percent_decode_str(bucket).decode_utf8_lossy();
        let resource = if key.is_empty() { "BUCKET" } else { "OBJECT" };
        let config = self.buckets.config(&bucket, kind::CORS);
        Some(match config {
            Some(c) => crate::cors::evaluate(&c, origin, method, asked, resource),
            None => Err(crate::cors::not_enabled(method, resource)),
        })
    }

    // ---- policy

    pub(crate) async fn put_bucket_policy(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let text = opt_str(input, "Policy").unwrap_or("");
        let malformed = |m: &str| S3Error::with("MalformedPolicy", 400, m, &[]);
        if !text.trim_start().starts_with('{') {
            return Err(malformed("Policies must be valid JSON and the first byte must be '{'"));
        }
        let doc: Value = serde_json::from_str(text).map_err(|_| malformed("This policy contains invalid Json"))?;
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(o @ Value::Object(_)) => vec![o.clone()],
            _ => return Err(malformed("Missing required field Statement")),
        };
        for s in &statements {
            match s.get("Effect").and_then(Value::as_str) {
                Some("Allow" | "Deny") => {}
                Some(_) => return Err(malformed("Invalid effect")),
                None => return Err(malformed("Missing required field Effect")),
            }
            if s.get("Principal").is_none() && s.get("NotPrincipal").is_none() {
                return Err(malformed("Missing required field Principal"));
            }
            if s.get("Action").is_none() && s.get("NotAction").is_none() {
                return Err(malformed("Missing required field Action"));
            }
            if s.get("Resource").is_none() && s.get("NotResource").is_none() {
                return Err(malformed("Missing required field Resource"));
            }
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::POLICY, Some(Value::String(text.to_string()))).await?;
        Ok(no_content())
    }

    pub(crate) async fn get_bucket_policy(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        match bucket.configs.get(kind::POLICY) {
            Some(p) => Ok(Streamed::value(json!({"Policy": p}))),
            None => Err(S3Error::with("NoSuchBucketPolicy", 404, "The bucket policy does not exist", &[("BucketName", bucket.name.clone())])),
        }
    }

    pub(crate) async fn delete_bucket_policy(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::POLICY).await
    }

    // ---- ownership controls

    pub(crate) async fn put_bucket_ownership_controls(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let rules = input.pointer("/OwnershipControls/Rules").and_then(Value::as_array).cloned().unwrap_or_default();
        let valid = rules.len() == 1 && rules[0].get("ObjectOwnership").and_then(Value::as_str).is_some_and(|o| ["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"].contains(&o));
        if !valid {
            return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::OWNERSHIP, Some(json!({"Rules": rules}))).await?;
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn get_bucket_ownership_controls(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        match bucket.configs.get(kind::OWNERSHIP) {
            Some(c) => Ok(Streamed::value(json!({"OwnershipControls": c}))),
            None => Err(S3Error::with("OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found", &[("BucketName", bucket.name.clone())])),
        }
    }

    pub(crate) async fn delete_bucket_ownership_controls(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::OWNERSHIP).await
    }

    // ---- public access block

    pub(crate) async fn put_public_access_block(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let Some(c) = input.get("PublicAccessBlockConfiguration").filter(|c| c.as_object().is_some_and(|o| !o.is_empty())) else {
            return Err(S3Error::with("InvalidRequest", 400, "Must specify at least one configuration.", &[]));
        };
        let mut stored = json!({});
        for k in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] {
            stored[k] = json!(c.get(k).and_then(Value::as_bool).unwrap_or(false));
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::PUBLIC_ACCESS_BLOCK, Some(stored)).await?;
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn get_public_access_block(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        match bucket.configs.get(kind::PUBLIC_ACCESS_BLOCK) {
            Some(c) => Ok(Streamed::value(json!({"PublicAccessBlockConfiguration": c}))),
            None => Err(S3Error::with("NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found", &[("BucketName", bucket.name.clone())])),
        }
    }

    pub(crate) async fn delete_public_access_block(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::PUBLIC_ACCESS_BLOCK).await
    }

    // ---- encryption

    pub(crate) async fn put_bucket_encryption(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let rules = input.pointer("/ServerSideEncryptionConfiguration/Rules").and_then(Value::as_array).cloned().unwrap_or_default();
        for r in &rules {
            match r.pointer("/ApplyServerSideEncryptionByDefault/SSEAlgorithm").and_then(Value::as_str) {
                Some("AES256" | "aws:kms" | "aws:kms:dsse") => {}
                _ => return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[])),
            }
        }
        if rules.is_empty() {
            return Err(S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]));
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::ENCRYPTION, Some(json!({"Rules": rules}))).await?;
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn get_bucket_encryption(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let c = bucket.configs.get(kind::ENCRYPTION).cloned().unwrap_or_else(default_encryption);
        Ok(Streamed::value(json!({"ServerSideEncryptionConfiguration": c})))
    }

    pub(crate) async fn delete_bucket_encryption(&self, input: &Value) -> S3Result<Streamed> {
        self.delete_config(input, kind::ENCRYPTION).await
    }

    // ---- ACLs

    pub(crate) async fn get_bucket_acl(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        Ok(Streamed::value(acl(&bucket.account)))
    }

    pub(crate) async fn get_object_acl(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let v = self.readable_version(&bucket, key, opt_str(input, "VersionId"), "GET")?;
        let mut out = acl(&bucket.account);
        if let Some(id) = shown_version(&bucket, &v) {
            out["VersionId"] = json!(id);
        }
        Ok(Streamed::value(out))
    }

    /// Put*Acl: the private ACL (or a policy granting only the owner) is what every
    /// bucket has; other grants are refused as a bucket with ACLs disabled refuses them.
    pub(crate) async fn put_acl(&self, input: &Value, object: bool) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        if object {
            if let Some(id) = opt_str(input, "VersionId") {
                check_version_id(id)?;
            }
            self.readable_version(&bucket, req_str(input, "Key")?, opt_str(input, "VersionId"), "PUT")?;
        }
        let canned_private = opt_str(input, "ACL").is_none_or(|a| a == "private" || a == "bucket-owner-full-control");
        let grants_only_owner = input
            .pointer("/AccessControlPolicy/Grants")
            .and_then(Value::as_array)
            .is_none_or(|g| g.iter().all(|g| g.get("Permission").and_then(Value::as_str) == Some("FULL_CONTROL") && g.pointer("/Grantee/ID") == owner(&bucket.account).get("ID")));
        let grant_headers = ["GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP"].iter().any(|h| input.get(*h).is_some());
        if !canned_private || !grants_only_owner || grant_headers {
            return Err(S3Error::with("AccessControlListNotSupported", 400, "The bucket does not allow ACLs", &[]));
        }
        Ok(Streamed::value(json!({})))
    }
}
