//! AWS service models (botocore's `service-2.json`) as the codecs read them.
//!
//! Only what the wire needs is kept: operations with their input/output shapes and query
//! result wrappers, and shapes with their types, members and XML naming traits.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
    RestJson,
    /// REST-XML (S3): routed like REST-JSON, bodies are XML documents.
    RestXml,
    /// Smithy RPC v2 CBOR (CloudWatch): `POST /service/<targetPrefix>/operation/<Op>`.
    RpcV2Cbor,
}

/// Where a REST protocol carries a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Uri,
    Querystring,
    Header,
    /// A map of headers sharing a prefix (`X-Amz-Meta-`).
    Headers,
    StatusCode,
}

#[derive(Debug)]
pub struct ServiceModel {
    /// `sqs`, `sts`: the SigV4 signing name.
    pub signing_name: String,
    pub target_prefix: Option<String>,
    pub json_version: String,
    pub xml_namespace: Option<String>,
    pub api_version: String,
    /// Query-compatible JSON services (SQS) send `x-amzn-query-error`.
    pub query_compatible: bool,
    pub protocols: Vec<Protocol>,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub result_wrapper: Option<String>,
    /// REST protocols: HTTP method, URI template (`/2015-03-31/functions/{FunctionName}`)
    /// and the status of a success.
    pub http_method: String,
    pub request_uri: String,
    pub response_code: u16,
    /// Superseded by another operation on the same route (S3's `PutBucketLifecycle`).
    pub deprecated: bool,
}

#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub shape: String,
    pub location_name: Option<String>,
    pub flattened: bool,
    pub location: Location,
    /// REST-XML: the member is an XML attribute of its structure's element, not a child.
    pub xml_attribute: bool,
    /// A payload blob sent and received as a stream (S3 object bodies).
    pub streaming: bool,
    /// An idempotency token the SDKs fill with a fresh UUID when the caller leaves it out
    /// (Secrets Manager's `ClientRequestToken`).
    pub idempotency_token: bool,
}

#[derive(Debug)]
pub enum ShapeKind {
    /// `payload`: the member that is the whole HTTP body (REST protocols).
    Structure { members: Vec<Member>, required: Vec<String>, payload: Option<String> },
    List { member: Member },
    Map { key: Member, value: Member },
    String,
    Integer,
    Long,
    Float,
    Boolean,
    Blob,
    Timestamp,
}

#[derive(Debug)]
pub struct Shape {
    pub kind: ShapeKind,
    /// A blob sent as a stream wherever it is a payload.
    pub streaming: bool,
    pub flattened: bool,
    pub location_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("service model is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("service model field missing: {0}")]
    Missing(&'static str),
}

fn member_from(name: &str, v: &Value) -> Result<Member, ModelError> {
    Ok(Member {
        name: name.to_string(),
        shape: v.get("shape").and_then(Value::as_str).ok_or(ModelError::Missing("member shape"))?.to_string(),
        location_name: v.get("locationName").and_then(Value::as_str).map(str::to_string),
        flattened: v.get("flattened").and_then(Value::as_bool).unwrap_or(false),
        location: match v.get("location").and_then(Value::as_str) {
            Some("uri") => Location::Uri,
            Some("querystring") => Location::Querystring,
            Some("header") => Location::Header,
            Some("headers") => Location::Headers,
            Some("statusCode") => Location::StatusCode,
            _ => Location::Body,
        },
        xml_attribute: v.get("xmlAttribute").and_then(Value::as_bool).unwrap_or(false),
        streaming: v.get("streaming").and_then(Value::as_bool).unwrap_or(false),
        idempotency_token: v.get("idempotencyToken").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn shape_from(v: &Value) -> Result<Shape, ModelError> {
    let ty = v.get("type").and_then(Value::as_str).ok_or(ModelError::Missing("shape type"))?;
    let kind = match ty {
        "structure" => {
            let mut members = Vec::new();
            if let Some(ms) = v.get("members").and_then(Value::as_object) {
                for (n, m) in ms {
                    members.push(member_from(n, m)?);
                }
            }
            let required = v
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let payload = v.get("payload").and_then(Value::as_str).map(str::to_string);
            ShapeKind::Structure { members, required, payload }
        }
        "list" => ShapeKind::List { member: member_from("member", v.get("member").ok_or(ModelError::Missing("list member"))?)? },
        "map" => ShapeKind::Map {
            key: member_from("key", v.get("key").ok_or(ModelError::Missing("map key"))?)?,
            value: member_from("value", v.get("value").ok_or(ModelError::Missing("map value"))?)?,
        },
        "integer" => ShapeKind::Integer,
        "long" => ShapeKind::Long,
        "float" | "double" => ShapeKind::Float,
        "boolean" => ShapeKind::Boolean,
        "blob" => ShapeKind::Blob,
        "timestamp" => ShapeKind::Timestamp,
        _ => ShapeKind::String,
    };
    Ok(Shape {
        kind,
        streaming: v.get("streaming").and_then(Value::as_bool).unwrap_or(false),
        flattened: v.get("flattened").and_then(Value::as_bool).unwrap_or(false),
        location_name: v.get("locationName").and_then(Value::as_str).map(str::to_string),
    })
}

impl ServiceModel {
    pub fn parse(text: &str) -> Result<ServiceModel, ModelError> {
        let doc: Value = serde_json::from_str(text)?;
        let meta = doc.get("metadata").ok_or(ModelError::Missing("metadata"))?;
        let s = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_string);
        let mut protocols = Vec::new();
        let protocol_names: Vec<String> = match meta.get("protocols").and_then(Value::as_array) {
            Some(a) => a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect(),
            None => s("protocol").into_iter().collect(),
        };
        for p in &protocol_names {
            match p.as_str() {
                "json" => protocols.push(Protocol::Json),
                "query" => protocols.push(Protocol::Query),
                "rest-json" => protocols.push(Protocol::RestJson),
                "rest-xml" => protocols.push(Protocol::RestXml),
                "smithy-rpc-v2-cbor" => protocols.push(Protocol::RpcV2Cbor),
                _ => {}
            }
        }
        let query_compatible = meta.get("awsQueryCompatible").is_some();
        if query_compatible && !protocols.contains(&Protocol::Query) {
            protocols.push(Protocol::Query);
        }
        let mut operations = HashMap::new();
        for (name, op) in doc.get("operations").and_then(Value::as_object).ok_or(ModelError::Missing("operations"))? {
            let shape_of = |k: &str| op.get(k).and_then(|i| i.get("shape")).and_then(Value::as_str).map(str::to_string);
            let http = op.get("http");
            let http_str = |k: &str| http.and_then(|h| h.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
            operations.insert(
                name.clone(),
                Operation {
                    name: name.clone(),
                    input: shape_of("input"),
                    output: shape_of("output"),
                    result_wrapper: op.get("output").and_then(|o| o.get("resultWrapper")).and_then(Value::as_str).map(str::to_string),
                    http_method: http_str("method"),
                    request_uri: http_str("requestUri"),
                    response_code: http.and_then(|h| h.get("responseCode")).and_then(Value::as_u64).unwrap_or(200) as u16,
                    deprecated: op.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
                },
            );
        }
        let mut shapes = HashMap::new();
        for (name, sh) in doc.get("shapes").and_then(Value::as_object).ok_or(ModelError::Missing("shapes"))? {
            shapes.insert(name.clone(), shape_from(sh)?);
        }
        Ok(ServiceModel {
            signing_name: s("signingName").or_else(|| s("endpointPrefix")).ok_or(ModelError::Missing("endpointPrefix"))?,
            target_prefix: s("targetPrefix"),
            json_version: s("jsonVersion").unwrap_or_else(|| "1.0".into()),
            xml_namespace: s("xmlNamespace").or_else(|| meta.get("xmlNamespace").and_then(|x| x.get("uri")).and_then(Value::as_str).map(str::to_string)),
            api_version: s("apiVersion").unwrap_or_default(),
            query_compatible,
            protocols,
            operations,
            shapes,
        })
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }
}
