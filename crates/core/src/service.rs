//! The boundary between the wire and a service: one decoded operation in, one value out.

use crate::context::RequestContext;
use crate::error::AwsError;
use crate::model::ServiceModel;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request or response body that is never held whole in memory (S3 objects): frames of
/// bytes as they arrive from, or go out to, the connection.
pub type BodyStream = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// What a streaming operation answers: the output value (headers, status and XML members,
/// encoded by the codec as usual) and, when the answer's payload is a stream (GetObject's
/// `Body`) or a document the service writes itself, the body to send as it is.
pub struct Streamed {
    pub output: Value,
    pub body: Option<BodyStream>,
}

impl Streamed {
    /// An answer the codec encodes entirely from `output`.
    pub fn value(output: Value) -> Streamed {
        Streamed { output, body: None }
    }
}

pub trait AwsService: Send + Sync + 'static {
    /// The service model that drives this service's codecs.
    fn model(&self) -> &ServiceModel;

    /// Runs one operation. `input` is shaped like the operation's input shape.
    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>>;

    /// Runs one operation of a REST-XML service (S3). The router calls this instead of
    /// [`AwsService::call`] for every operation of such a service: `body` is the request
    /// body, unread, when the operation's input payload is a streaming blob (PutObject,
    /// UploadPart); otherwise the body was decoded into `input` and `body` is `None`.
    fn call_streaming<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value, body: Option<BodyStream>) -> BoxFuture<'a, Result<Streamed, AwsError>> {
        drop(body);
        Box::pin(async move { self.call(ctx, operation, input).await.map(Streamed::value) })
    }

    /// Whether the JSON-protocol operation answers with an event stream (Kinesis
    /// SubscribeToShard): the router then calls [`AwsService::call_streaming`] and sends
    /// the returned body as `application/vnd.amazon.eventstream` (`server_event_stream.rs`).
    fn streams_output(&self, _operation: &str) -> bool {
        false
    }

    /// CORS for a browser's request to a REST-XML resource (S3 answers from the bucket's
    /// CORS rules): `origin`, the method asked for (a preflight's
    /// `Access-Control-Request-Method`, else the request's) and the headers asked for.
    /// `Some(Ok(headers))`: a rule allows it, these headers go on the answer;
    /// `Some(Err(e))`: refused (a preflight answers `e`); `None`: the router's generic CORS.
    fn cors(&self, _ctx: &RequestContext, _path: &str, _origin: &str, _method: &str, _request_headers: &[String]) -> Option<Result<Vec<(String, String)>, AwsError>> {
        None
    }

    /// Lets a service fill input the query protocol carries outside the parameters (SQS
    /// names the queue by the request path).
    fn adapt_query_input(&self, _ctx: &RequestContext, _operation: &str, _input: &mut Value) {}

    /// The error for a query-protocol action the service does not have (each service
    /// words it its own way).
    fn unknown_action(&self, action: &str) -> crate::AwsError {
        crate::AwsError::invalid_action(action)
    }

    /// DynamoDB's clients check a CRC32 of every response body (`x-amz-crc32`).
    fn checksums_responses(&self) -> bool {
        false
    }

    /// Whether responses are gzip/deflate-compressed for clients whose `Accept-Encoding`
    /// allows it (AWS decides this per service; DynamoDB does, at 4 KB and above).
    fn compresses_responses(&self) -> bool {
        false
    }

    /// The text line this service's endpoint answers `GET /` with, if it answers one
    /// (DynamoDB: `healthy: dynamodb.<region>.amazonaws.com `).
    fn root_health_line(&self, _region: &str) -> Option<String> {
        None
    }

    /// The state reported by the health endpoint.
    fn health(&self) -> &'static str {
        "running"
    }

    /// Whether `operation` starts a trace when the caller sent no `X-Amzn-Trace-Id`, as
    /// AWS does (Lambda's Invoke). The router then records the request's segment as the
    /// trace's root.
    fn starts_trace(&self, _operation: &str) -> bool {
        false
    }
}

/// Deserialises an operation's input into its typed request, mapping a type mismatch to
/// the error the service uses for it.
pub fn typed<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| AwsError::invalid_parameter_value(format!("Invalid request: {e}")))
}

/// Serialises a typed response back to a value for the codecs.
pub fn untyped<T: serde::Serialize>(output: &T) -> Result<Value, AwsError> {
    serde_json::to_value(output).map_err(|e| AwsError::internal(e.to_string()))
}
