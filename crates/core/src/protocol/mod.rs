//! The wire protocols. Each one turns an HTTP request into `(operation, input value)` and a
//! result or [`crate::AwsError`] back into an HTTP response. Input and output values are
//! JSON values shaped like the service model's shapes (member names as keys), whatever
//! the wire, so services see one representation.

pub mod json;
pub mod json_types;
pub mod json_value;
pub mod query;
pub mod rest_json;
pub mod aws_chunked;
pub mod cbor;
pub mod rpc_v2_cbor;
pub mod rest_xml;
pub mod event_stream;
pub mod json_cbor;

use bytes::Bytes;

/// A response ready for the HTTP layer.
pub struct WireResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}
