//! The console's page, embedded in the binary: one HTML document, one script, one style
//! sheet (`assets/`), written by hand — no build step, no bundler, nothing fetched from
//! another host. Served with a content security policy that keeps it that way.

use bytes::Bytes;
use nimbus_core::data_plane::DataResponse;

const INDEX: &str = include_str!("../assets/index.html");
const APP: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// Scripts and styles from the console itself only; data only from the console's endpoint.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// One of the embedded files, by name.
pub(crate) fn page(name: &str) -> DataResponse {
    let (body, kind) = match name {
        "app.js" => (APP, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => (INDEX, "text/html; charset=utf-8"),
    };
    DataResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), kind.into()),
            ("cache-control".into(), "no-cache".into()),
            ("content-security-policy".into(), CSP.into()),
            ("x-content-type-options".into(), "nosniff".into()),
        ],
        body: Bytes::from_static(body.as_bytes()),
    }
}
