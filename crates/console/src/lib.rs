//! nimbus's web console, served at `/_nimbus/console` as a data plane of the router
//! (`DataPlane`, like API Gateway's execute-api endpoint).
//!
//! What it owns: the embedded page (`assets.rs`: one HTML, one JS, one CSS file, no build
//! step), the read-only JSON endpoint the page's script calls (`api.rs`: an AWS operation
//! of a registered service run in-process for the account root of 000000000000), and the
//! trace view (`trace_view.rs` over the pure `waterfall.rs`), which the `nimbus trace`
//! command reads too. The console holds no state of its own: every page is a set of
//! ordinary List/Describe/Get calls, so it shows what the APIs show.
//!
//! It is unauthenticated, like everything under `/_nimbus/`: it answers under every
//! `--auth` mode, and only operations that read (`api::is_read_only`) go through it.

pub mod api;
mod assets;
pub mod trace_view;
pub mod waterfall;

use bytes::Bytes;
use nimbus_core::data_plane::{DataPlane, DataRequest, DataResponse};
use nimbus_core::service::BoxFuture;
use nimbus_core::AwsService;
use std::sync::Arc;

/// Where the console lives on the router.
pub const PREFIX: &str = "/_nimbus/console";

/// The console: the services it reads, by console name (`api::Services`).
pub struct Console {
    services: api::Services,
}

impl Console {
    /// A console over `services` (every service registered on the router: give it the
    /// list once all are registered).
    pub fn new(services: Vec<Arc<dyn AwsService>>) -> Console {
        Console { services: api::Services::new(services) }
    }
}

/// A JSON answer.
pub(crate) fn json(status: u16, body: String) -> DataResponse {
    DataResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into()), ("cache-control".into(), "no-store".into())],
        body: Bytes::from(body),
    }
}

/// `{"__type": code, "message": …}`, the JSON protocols' error shape.
pub(crate) fn error(status: u16, code: &str, message: &str) -> DataResponse {
    json(status, serde_json::json!({ "__type": code, "message": message }).to_string())
}

/// The `region` query parameter (default `us-east-1`).
fn region_of(query: &str) -> String {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "region")
        .map(|(_, v)| v.into_owned())
        .filter(|r| !r.is_empty() && r.len() <= 32 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| "us-east-1".to_string())
}

impl DataPlane for Console {
    fn handle<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, DataResponse> {
        Box::pin(async move {
            let path = req.path.clone();
            let region = region_of(&req.query);
            match (req.method.as_str(), path.as_str()) {
                ("GET" | "HEAD", "" | "/" | "/index.html") => assets::page("index.html"),
                ("GET" | "HEAD", "/app.js") => assets::page("app.js"),
                ("GET" | "HEAD", "/style.css") => assets::page("style.css"),
                ("POST", p) if p.starts_with("/api/") => {
                    let rest = &p["/api/".len()..];
                    let Some((service, operation)) = rest.split_once('/') else {
                        return error(404, "NotFound", "expected /api/<service>/<Operation>");
                    };
                    self.services.answer(&req, &region, service, operation).await
                }
                ("GET", p) if p.starts_with("/trace/") => {
                    let id = percent_encoding::percent_decode_str(&p["/trace/".len()..]).decode_utf8_lossy().into_owned();
                    match trace_view::build(&self.services, &req.host, &region, &id).await {
                        Ok(view) => json(200, view.to_string()),
                        Err(e) => error(e.status, &e.code, &e.message),
                    }
                }
                ("GET" | "POST", _) => error(404, "NotFound", &format!("no console resource {path}")),
                _ => error(405, "MethodNotAllowed", "the console answers GET and POST"),
            }
        })
    }
}
