//! The REST-XML codec (core's `protocol/rest_xml.rs`) against S3's real model: routing by
//! method, path, query and headers; keys as sent; XML payloads in, documents out.

use crate::service::model;
use http::{HeaderMap, HeaderValue};
use nimbus_core::protocol::rest_xml::{decode, encode_error, encode_ok, streams_input, Routes};
use serde_json::json;

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn find(method: &str, path: &str, query: &[(&str, &str)], headers: &[(&'static str, &str)]) -> Option<(String, Vec<(String, String)>)> {
    let routes = Routes::new(model());
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, HeaderValue::from_str(v).expect("header"));
    }
    routes.find(method, path, &q(query), &h).map(|(op, labels)| (op.to_string(), labels))
}

fn op(method: &str, path: &str, query: &[(&str, &str)], headers: &[(&'static str, &str)]) -> String {
    find(method, path, query, headers).map(|(o, _)| o).unwrap_or_default()
}

#[test]
fn operations_are_found_by_method_path_query_and_headers() {
    assert_eq!(op("GET", "/", &[], &[]), "ListBuckets");
    assert_eq!(op("PUT", "/b", &[], &[]), "CreateBucket");
    assert_eq!(op("PUT", "/b/", &[], &[]), "CreateBucket");
    assert_eq!(op("GET", "/b", &[], &[]), "ListObjects");
    assert_eq!(op("GET", "/b", &[("list-type", "2")], &[]), "ListObjectsV2");
    assert_eq!(op("GET", "/b", &[("versioning", "")], &[]), "GetBucketVersioning");
    assert_eq!(op("GET", "/b", &[("versions", "")], &[]), "ListObjectVersions");
    assert_eq!(op("GET", "/b", &[("uploads", "")], &[]), "ListMultipartUploads");
    assert_eq!(op("POST", "/b", &[("delete", "")], &[]), "DeleteObjects");
    assert_eq!(op("PUT", "/b/k", &[], &[]), "PutObject");
    assert_eq!(op("PUT", "/b/k", &[], &[("x-amz-copy-source", "a/b")]), "CopyObject");
    assert_eq!(op("PUT", "/b/k", &[("partNumber", "1"), ("uploadId", "u")], &[]), "UploadPart");
    assert_eq!(op("PUT", "/b/k", &[("partNumber", "1"), ("uploadId", "u")], &[("x-amz-copy-source", "a/b")]), "UploadPartCopy");
    assert_eq!(op("POST", "/b/k", &[("uploads", "")], &[]), "CreateMultipartUpload");
    assert_eq!(op("POST", "/b/k", &[("uploadId", "u")], &[]), "CompleteMultipartUpload");
    assert_eq!(op("GET", "/b/k", &[("uploadId", "u")], &[]), "ListParts");
    assert_eq!(op("GET", "/b/k", &[("tagging", "")], &[]), "GetObjectTagging");
    assert_eq!(op("GET", "/b/k", &[("partNumber", "2")], &[]), "GetObject");
    assert_eq!(op("HEAD", "/b", &[], &[]), "HeadBucket");
    assert_eq!(op("HEAD", "/b/k", &[], &[]), "HeadObject");
    assert_eq!(op("DELETE", "/b/k", &[("uploadId", "u")], &[]), "AbortMultipartUpload");
    assert_eq!(op("DELETE", "/b", &[], &[]), "DeleteBucket");
}

#[test]
fn keys_keep_slashes_empty_segments_and_encoding() {
    let (o, labels) = find("GET", "/b/a//b/c%20d/%E2%82%AC/", &[], &[]).expect("route");
    assert_eq!(o, "GetObject");
    assert_eq!(labels, vec![("Bucket".to_string(), "b".to_string()), ("Key".to_string(), "a//b/c d/€/".to_string())]);
}

#[test]
fn put_object_streams_and_list_does_not() {
    assert!(streams_input(model(), "PutObject"));
    assert!(streams_input(model(), "UploadPart"));
    assert!(!streams_input(model(), "DeleteObjects"));
    assert!(!streams_input(model(), "PutBucketPolicy"));
}

#[test]
fn headers_query_metadata_and_xml_payloads_are_decoded() {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    h.insert("x-amz-meta-color", HeaderValue::from_static("blue"));
    h.insert("x-amz-meta-size", HeaderValue::from_static("L"));
    h.insert("if-none-match", HeaderValue::from_static("*"));
    let labels = vec![("Bucket".to_string(), "b".to_string()), ("Key".to_string(), "k/1".to_string())];
    let v = decode(model(), "PutObject", &labels, &[], &h, b"").expect("decode");
    assert_eq!(v["Bucket"], "b");
    assert_eq!(v["Key"], "k/1");
    assert_eq!(v["ContentType"], "text/plain");
    assert_eq!(v["IfNoneMatch"], "*");
    assert_eq!(v["Metadata"], json!({"color": "blue", "size": "L"}));

    let list = decode(model(), "ListObjectsV2", &labels[..1].to_vec(), &q(&[("list-type", "2"), ("max-keys", "7"), ("fetch-owner", "true")]), &HeaderMap::new(), b"").expect("decode");
    assert_eq!(list["MaxKeys"], 7);
    assert_eq!(list["FetchOwner"], true);
    let bad = decode(model(), "ListObjectsV2", &labels[..1].to_vec(), &q(&[("max-keys", "x")]), &HeaderMap::new(), b"").expect_err("not a number");
    assert_eq!(bad.code, "InvalidArgument");

    let body = br#"<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>"#;
    let d = decode(model(), "DeleteObjects", &labels[..1].to_vec(), &q(&[("delete", "")]), &HeaderMap::new(), body).expect("decode");
    assert_eq!(d["Delete"], json!({"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v1"}], "Quiet": true}));
    let bad = decode(model(), "DeleteObjects", &labels[..1].to_vec(), &[], &HeaderMap::new(), b"<Delete><Object>").expect_err("malformed");
    assert_eq!(bad.code, "MalformedXML");

    let body = br#"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"e2"</ETag></Part></CompleteMultipartUpload>"#;
    let c = decode(model(), "CompleteMultipartUpload", &labels, &q(&[("uploadId", "u")]), &HeaderMap::new(), body).expect("decode");
    assert_eq!(c["MultipartUpload"]["Parts"], json!([{"PartNumber": 1, "ETag": "\"e1\""}, {"PartNumber": 2, "ETag": "\"e2\""}]));
    assert_eq!(c["UploadId"], "u");

    let tagging = br#"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"#;
    let t = decode(model(), "PutBucketTagging", &labels[..1].to_vec(), &q(&[("tagging", "")]), &HeaderMap::new(), tagging).expect("decode");
    assert_eq!(t["Tagging"], json!({"TagSet": [{"Key": "k", "Value": "v"}]}));
    let p = decode(model(), "PutBucketPolicy", &labels[..1].to_vec(), &q(&[("policy", "")]), &HeaderMap::new(), b"{\"Version\":\"2012-10-17\"}").expect("decode");
    assert_eq!(p["Policy"], "{\"Version\":\"2012-10-17\"}");
}

fn body_text(w: &nimbus_core::protocol::WireResponse) -> String {
    String::from_utf8(w.body.to_vec()).expect("utf8")
}

#[test]
fn outputs_are_documents_named_as_aws_names_them() {
    let out = json!({
        "Name": "b", "Prefix": "", "KeyCount": 1, "MaxKeys": 1000, "IsTruncated": false,
        "Contents": [{"Key": "a&b", "LastModified": 1255369800.5, "ETag": "\"x\"", "Size": 5, "StorageClass": "STANDARD"}],
        "CommonPrefixes": [{"Prefix": "d/"}]
    });
    let w = encode_ok(model(), "ListObjectsV2", &out);
    let text = body_text(&w);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"), "{text}");
    assert!(text.contains("<Contents><Key>a&amp;b</Key><LastModified>2009-10-12T17:50:00.500Z</LastModified><ETag>&quot;x&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>"), "{text}");
    assert!(text.contains("<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"), "{text}");
    assert!(text.contains("<IsTruncated>false</IsTruncated>"), "{text}");

    let w = encode_ok(model(), "ListBuckets", &json!({"Buckets": [{"Name": "b", "CreationDate": 0}], "Owner": {"ID": "o", "DisplayName": "d"}}));
    let text = body_text(&w);
    assert!(text.contains("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Buckets><Bucket><Name>b</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>"), "{text}");

    let w = encode_ok(model(), "CopyObject", &json!({"CopyObjectResult": {"ETag": "\"e\"", "LastModified": 0}, "VersionId": "v"}));
    assert!(body_text(&w).contains("<CopyObjectResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ETag>&quot;e&quot;</ETag><LastModified>1970-01-01T00:00:00.000Z</LastModified></CopyObjectResult>"));
    assert!(w.headers.contains(&("x-amz-version-id".to_string(), "v".to_string())));

    let w = encode_ok(model(), "HeadObject", &json!({"ContentLength": 5, "ETag": "\"e\"", "LastModified": 1255369800, "Metadata": {"color": "blue"}}));
    assert!(w.body.is_empty());
    assert!(w.headers.contains(&("Last-Modified".to_string(), "Mon, 12 Oct 2009 17:50:00 GMT".to_string())), "{:?}", w.headers);
    assert!(w.headers.contains(&("x-amz-meta-color".to_string(), "blue".to_string())));
    assert!(w.headers.contains(&("Content-Length".to_string(), "5".to_string())));

    let w = encode_ok(model(), "DeleteObject", &json!({"DeleteMarker": true}));
    assert_eq!(w.status, 204);
    let w = encode_ok(model(), "GetBucketVersioning", &json!({}));
    assert!(body_text(&w).ends_with("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></VersioningConfiguration>"));
    let w = encode_ok(model(), "GetBucketPolicy", &json!({"Policy": "{}"}));
    assert_eq!(body_text(&w), "{}");
}

#[test]
fn errors_are_s3_error_documents() {
    let e: nimbus_core::AwsError = crate::errors::S3Error::NoSuchKey { key: "k".into() }.into();
    let w = encode_error(&e, "RID", "HID");
    assert_eq!(w.status, 404);
    assert_eq!(body_text(&w), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>k</Key><RequestId>RID</RequestId><HostId>HID</HostId></Error>");
}
