//! GetObjectAttributes: the attributes asked for in `x-amz-object-attributes` — ETag
//! (unquoted, as AWS writes it here), Checksum, ObjectParts (a multipart object's parts,
//! paged by `x-amz-max-parts` / `x-amz-part-number-marker`), StorageClass, ObjectSize.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html>

use crate::checksums::Algorithm;
use crate::errors::{S3Error, S3Result};
use crate::input::{opt_str, req_str};
use crate::ops_objects::{secs, shown_version};
use crate::service::S3Service;
use nimbus_core::service::Streamed;
use serde_json::{json, Map, Value};

const ATTRIBUTES: [&str; 5] = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];

impl S3Service {
    pub(crate) async fn get_object_attributes(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let asked: Vec<String> = match input.get("ObjectAttributes") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
            _ => Vec::new(),
        };
        if asked.is_empty() || asked.iter().any(|a| !ATTRIBUTES.contains(&a.as_str())) {
            return Err(S3Error::with("InvalidArgument", 400, "Invalid attribute name specified.", &[("ArgumentName", "x-amz-object-attributes".into())]));
        }
        let v = self.readable_version(&bucket, key, opt_str(input, "VersionId"), "GET")?;
        let mut out = Map::new();
        out.insert("LastModified".into(), secs(v.last_modified_ms));
        if let Some(id) = shown_version(&bucket, &v) {
            out.insert("VersionId".into(), json!(id));
        }
        let wants = |a: &str| asked.iter().any(|x| x == a);
        if wants("ETag") {
            out.insert("ETag".into(), json!(v.etag));
        }
        if wants("StorageClass") {
            out.insert("StorageClass".into(), json!(v.storage_class));
        }
        if wants("ObjectSize") {
            out.insert("ObjectSize".into(), json!(v.size));
        }
        if wants("Checksum") && !v.meta.checksums.is_empty() {
            let mut c = Map::new();
            crate::ops_objects::put_checksums(&mut c, &v.meta);
            out.insert("Checksum".into(), Value::Object(c));
        }
        if wants("ObjectParts") && !v.meta.parts.is_empty() {
            let max = input.get("MaxParts").and_then(Value::as_i64).unwrap_or(1000).clamp(0, 1000) as usize;
            let marker = input.get("PartNumberMarker").and_then(Value::as_i64).unwrap_or(0);
            let after: Vec<_> = v.meta.parts.iter().filter(|p| i64::from(p.number) > marker).collect();
            let page: Vec<Value> = after
                .iter()
                .take(max)
                .map(|p| {
                    let mut part = json!({"PartNumber": p.number, "Size": p.size});
                    for (name, value) in &p.checksums {
                        if let Some(a) = Algorithm::parse(name) {
                            part[a.member()] = json!(value);
                        }
                    }
                    part
                })
                .collect();
            let truncated = after.len() > max;
            let mut parts = json!({"TotalPartsCount": v.meta.parts.len(), "PartNumberMarker": marker, "MaxParts": max, "IsTruncated": truncated, "Parts": page});
            if let Some(last) = after[..after.len().min(max)].last() {
                parts["NextPartNumberMarker"] = json!(last.number);
            }
            out.insert("ObjectParts".into(), parts);
        }
        Ok(Streamed::value(Value::Object(out)))
    }
}
