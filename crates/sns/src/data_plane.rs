//! `/_aws/sns/…`: what nimbus shows of SNS outside the API — the messages recorded for
//! email and HTTP/S subscribers (`GET /_aws/sns/messages[?endpoint=…]`, a JSON list with
//! their SubscriptionConfirmation tokens), and `SimpleNotificationService.pem`, the
//! certificate notifications are signed for (`signing.rs`).

use crate::service::Sns;
use bytes::Bytes;
use nimbus_core::data_plane::{DataPlane, DataRequest, DataResponse};
use nimbus_core::service::BoxFuture;
use std::sync::Arc;

pub const PREFIX: &str = "/_aws/sns/";

pub struct SnsPlane(pub Arc<Sns>);

fn answer(status: u16, body: String) -> DataResponse {
    DataResponse { status, headers: vec![("content-type".into(), "application/json".into())], body: Bytes::from(body) }
}

impl DataPlane for SnsPlane {
    fn handle<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, DataResponse> {
        Box::pin(async move {
            match (req.method.as_str(), req.path.trim_start_matches('/')) {
                ("GET", "messages") => {
                    let endpoint = form_value(&req.query, "endpoint");
                    answer(200, serde_json::Value::from(self.0.recorded(endpoint.as_deref())).to_string())
                }
                ("GET", "SimpleNotificationService.pem") => match self.0.signing.certificate() {
                    Some(pem) => DataResponse { status: 200, headers: vec![("content-type".into(), "application/x-pem-file".into())], body: Bytes::from(pem) },
                    None => answer(503, r#"{"message":"no signing certificate"}"#.into()),
                },
                _ => answer(404, r#"{"message":"not found"}"#.into()),
            }
        })
    }
}

/// One query-string parameter, percent-decoded.
fn form_value(query: &str, name: &str) -> Option<String> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| decode(v))
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
