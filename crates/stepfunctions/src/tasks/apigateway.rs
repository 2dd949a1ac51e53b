//! API Gateway from a Task state: `arn:aws:states:::apigateway:invoke` (also
//! `.waitForTaskToken`) calls an HTTP API's route through nimbus's execute-api endpoint, in
//! process. Parameters: `ApiEndpoint` (`<api-id>.execute-api.<region>.amazonaws.com`),
//! `Method`, `Stage`, `Path`, `QueryParameters` and `Headers` (lists of values),
//! `RequestBody` (sent as JSON). The result is `{Headers, ResponseBody, StatusCode,
//! StatusText}` with the body parsed when it is JSON; an answer that is not 2xx fails the
//! task with `ApiGateway.<StatusCode>` and the body as the cause.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-api-gateway.html>

use super::errors;
use super::runner::Integrations;
use super::{TaskRequest, TaskResult};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use nimbus_core::data_plane::DataRequest;
use serde_json::{Map, Value};

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Headers a task may not set (AWS refuses them).
fn forbidden_header(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "authorization", "connection", "content-md5", "expect", "host", "max-forwards", "proxy-authenticate", "server", "te", "transfer-encoding",
        "trailer", "upgrade", "via", "www-authenticate",
    ];
    let lower = name.to_ascii_lowercase();
    NAMES.contains(&lower.as_str()) || ["x-forwarded", "x-amz", "x-amzn"].iter().any(|p| lower.starts_with(p))
}

/// `value` with everything but RFC 3986's unreserved characters percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `{name: [values]}` parameter as pairs (a single value may be given bare).
fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = v else { return Vec::new() };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    map.iter()
        .flat_map(|(k, v)| match v {
            Value::Array(items) => items.iter().map(|i| (k.clone(), text(i))).collect::<Vec<_>>(),
            Value::Null => Vec::new(),
            other => vec![(k.clone(), text(other))],
        })
        .collect()
}

/// The execute-api request the parameters describe.
fn request_of(args: &Value) -> Result<DataRequest, String> {
    let endpoint = args.get("ApiEndpoint").and_then(Value::as_str).ok_or("The field 'ApiEndpoint' is required")?;
    let api_id = endpoint.trim_start_matches("https://").split('.').next().unwrap_or_default();
    if api_id.is_empty() || !api_id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!("The value of the field 'ApiEndpoint' is not a valid API Gateway endpoint: {endpoint}"));
    }
    let method = args.get("Method").and_then(Value::as_str).ok_or("The field 'Method' is required")?;
    if !METHODS.contains(&method) {
        return Err(format!("The value of the field 'Method' must be one of {METHODS:?}"));
    }
    let mut path = api_id.to_string();
    if let Some(stage) = args.get("Stage").and_then(Value::as_str).filter(|s| !s.is_empty() && *s != "$default") {
        path.push('/');
        path.push_str(stage);
    }
    if let Some(p) = args.get("Path").and_then(Value::as_str) {
        path.push('/');
        path.push_str(p.trim_start_matches('/'));
    }
    let query = pairs(args.get("QueryParameters")).iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
    let mut headers = HeaderMap::new();
    for (name, value) in pairs(args.get("Headers")) {
        if forbidden_header(&name) {
            return Err(format!("The 'Headers' field contains unsupported values: {name}"));
        }
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("The header name '{name}' is not valid"))?;
        let value = HeaderValue::from_str(&value).map_err(|_| format!("The value of the header '{name}' is not valid"))?;
        headers.append(name, value);
    }
    headers.insert(http::header::ACCEPT, HeaderValue::from_static("application/json"));
    let body = match args.get("RequestBody") {
        None | Some(Value::Null) => Bytes::new(),
        Some(_) if !matches!(method, "POST" | "PUT" | "PATCH") => return Err(format!("A RequestBody is not supported with the method {method}")),
        Some(body) => {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Bytes::from(match body {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }
    };
    Ok(DataRequest {
        method: method.to_string(),
        path,
        query,
        headers,
        body,
        host: format!("{api_id}.execute-api.localhost"),
        source_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        request_id: nimbus_core::ids::request_id(),
    })
}

pub async fn invoke(runner: &Integrations, req: &TaskRequest) -> TaskResult {
    let Some(plane) = runner.execute_api() else {
        return errors::task_failed("API Gateway's execute-api endpoint is not available in this nimbus");
    };
    let request = match request_of(&req.arguments) {
        Ok(r) => r,
        Err(why) => return errors::task_failed(why),
    };
    let answer = plane.handle(request).await;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    if !(200..300).contains(&answer.status) {
        return TaskResult::Failed { error: format!("ApiGateway.{}", answer.status), cause: text };
    }
    let mut headers = Map::new();
    for (name, value) in answer.headers {
        if let Value::Array(values) = headers.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
            values.push(Value::String(value));
        }
    }
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let status_text = http::StatusCode::from_u16(answer.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("").to_string();
    let mut out = Map::new();
    out.insert("Headers".into(), Value::Object(headers));
    out.insert("ResponseBody".into(), body);
    out.insert("StatusCode".into(), Value::from(answer.status));
    out.insert("StatusText".into(), Value::String(status_text));
    TaskResult::Output(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_make_the_execute_api_request() {
        let args = json!({
            "ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com", "Method": "POST", "Stage": "prod", "Path": "/trips/7",
            "QueryParameters": { "q": ["a b", "c"] }, "Headers": { "X-Trip": ["t-1"] }, "RequestBody": { "car": "compact" }
        });
        let r = request_of(&args).unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_str()), ("POST", "abc123/prod/trips/7", "q=a%20b&q=c"));
        assert_eq!(r.host, "abc123.execute-api.localhost");
        assert_eq!(r.headers["x-trip"], "t-1");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(&r.body[..], br#"{"car":"compact"}"#);
        let r = request_of(&json!({ "ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com", "Method": "GET", "Stage": "$default", "Path": "x" })).unwrap();
        assert_eq!(r.path, "abc123/x");
    }

    #[test]
    fn bad_parameters_are_refused() {
        let base = |extra: Value| {
            let mut v = json!({ "ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com", "Method": "GET" });
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            request_of(&v)
        };
        assert!(base(json!({ "Method": "FETCH" })).is_err());
        assert!(matches!(base(json!({ "Headers": { "Authorization": ["x"] } })), Err(why) if why.contains("unsupported values: Authorization")));
        assert!(base(json!({ "Headers": { "X-Amz-Date": ["x"] } })).is_err());
        assert!(base(json!({ "RequestBody": {} })).is_err(), "no body with GET");
        assert!(request_of(&json!({ "Method": "GET" })).is_err());
    }
}
