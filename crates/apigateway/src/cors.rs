//! An HTTP API's `CorsConfiguration` applied on the data plane, as AWS's "Configure CORS
//! for HTTP APIs in API Gateway" describes it: a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered by the gateway, 204, without running any
//! integration; other responses to an allowed `Origin` get `Access-Control-Allow-Origin`
//! (and `-Expose-Headers`, `-Allow-Credentials`), and the integration's own CORS headers
//! are dropped.

use http::HeaderMap;
use serde_json::Value;

/// The API's CORS configuration, read from its `CorsConfiguration` member.
pub struct Cors<'a> {
    config: &'a serde_json::Map<String, Value>,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl<'a> Cors<'a> {
    /// `None` when the API has no CORS configuration.
    pub fn of(api: &'a serde_json::Map<String, Value>) -> Option<Cors<'a>> {
        api.get("CorsConfiguration").and_then(Value::as_object).map(|config| Cors { config })
    }

    fn list(&self, name: &str) -> Vec<&'a str> {
        self.config.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    fn joined(&self, name: &str) -> Option<String> {
        let l = self.list(name);
        (!l.is_empty()).then(|| l.join(","))
    }

    fn credentials(&self) -> bool {
        self.config.get("AllowCredentials").and_then(Value::as_bool).unwrap_or(false)
    }

    /// The `Access-Control-Allow-Origin` value for `origin`: `*` when every origin is
    /// allowed (and credentials are not), else the origin itself when listed.
    fn allow_origin(&self, origin: &str) -> Option<String> {
        let origins = self.list("AllowOrigins");
        if origins.contains(&"*") && !self.credentials() {
            return Some("*".into());
        }
        origins.iter().any(|o| *o == "*" || o.eq_ignore_ascii_case(origin)).then(|| origin.to_string())
    }

    fn method_allowed(&self, method: &str) -> bool {
        self.list("AllowMethods").iter().any(|m| *m == "*" || m.eq_ignore_ascii_case(method))
    }

    /// A browser's preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    pub fn is_preflight(method: &str, headers: &HeaderMap) -> bool {
        method == "OPTIONS" && headers.contains_key(http::header::ORIGIN) && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The preflight's headers: none when the origin or the method is not allowed.
    pub fn preflight(&self, headers: &HeaderMap) -> Vec<(String, String)> {
        let (Some(origin), Some(method)) = (header(headers, "origin"), header(headers, "access-control-request-method")) else { return Vec::new() };
        let Some(allow) = self.allow_origin(origin).filter(|_| self.method_allowed(method)) else { return Vec::new() };
        let mut out = vec![("access-control-allow-origin".to_string(), allow)];
        if let Some(m) = self.joined("AllowMethods") {
            out.push(("access-control-allow-methods".into(), m));
        }
        if let Some(h) = self.joined("AllowHeaders") {
            out.push(("access-control-allow-headers".into(), h));
        }
        if let Some(age) = self.config.get("MaxAge").and_then(Value::as_i64) {
            out.push(("access-control-max-age".into(), age.to_string()));
        }
        if self.credentials() {
            out.push(("access-control-allow-credentials".into(), "true".into()));
        }
        out
    }

    /// Drops the integration's CORS headers and adds the configured ones for an allowed
    /// `Origin`.
    pub fn decorate(&self, request: &HeaderMap, response: &mut Vec<(String, String)>) {
        response.retain(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-"));
        let Some(allow) = header(request, "origin").and_then(|o| self.allow_origin(o)) else { return };
        response.push(("access-control-allow-origin".into(), allow));
        if let Some(e) = self.joined("ExposeHeaders") {
            response.push(("access-control-expose-headers".into(), e));
        }
        if self.credentials() {
            response.push(("access-control-allow-credentials".into(), "true".into()));
        }
    }
}
