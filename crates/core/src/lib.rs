//! nimbus-core: what every nimbus service shares.
//!
//! Services (SQS, STS, …) are separate crates that implement [`service::AwsService`]: they
//! receive a decoded, protocol-neutral request (a JSON value shaped by the AWS service
//! model) and return one. Everything about the wire — HTTP, routing by `X-Amz-Target` /
//! query `Action` / credential scope, the JSON and query/XML codecs, AWS error shapes and
//! request ids — lives here, so service code never sees a protocol.

pub mod auth;
pub mod authn;
pub mod clock;
pub mod compression;
pub mod data_plane;
pub mod context;
pub mod doc_store;
pub mod error;
pub mod hex;
pub mod ids;
pub mod in_process;
pub mod internal;
pub mod metrics;
pub mod model;
pub mod outbound_tls;
pub mod protocol;
pub mod schedule;
pub mod server;
mod server_event_stream;
mod server_rest_xml;
pub mod service;
pub mod sigv4;
pub mod sigv4_chunk;
pub mod storage;
pub mod time;
pub mod trace;
mod trace_segments;
pub mod xml;
pub mod xml_read;

pub use clock::Clock;
pub use context::RequestContext;
pub use error::{AwsError, Fault};
pub use service::AwsService;
