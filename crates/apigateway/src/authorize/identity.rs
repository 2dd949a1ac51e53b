//! Identity sources: the request values an authorizer reads (`$request.header.<name>`,
//! `$request.querystring.<name>`, `$context.<variable>`, `$stageVariables.<name>`; a
//! WebSocket API's `route.request.header.<name>` … forms too). A missing or empty value is
//! `None`: the request is refused with 401 before any authorizer runs.

use super::AuthInput;
use crate::event::form_pairs;
use serde_json::Value;

/// The value of one identity source for a request.
pub fn value(source: &str, input: &AuthInput<'_>) -> Option<String> {
    let source = source.strip_prefix("route.").map(|s| format!("${s}")).unwrap_or_else(|| source.to_string());
    let source = if source.starts_with('$') { source } else { format!("${source}") };
    let v = if let Some(name) = source.strip_prefix("$request.header.") {
        let values: Vec<String> = input.req.headers.get_all(name.to_ascii_lowercase().as_str()).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        (!values.is_empty()).then(|| values.join(","))
    } else if let Some(name) = source.strip_prefix("$request.querystring.") {
        let values: Vec<String> = form_pairs(&input.req.query).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect();
        (!values.is_empty()).then(|| values.join(","))
    } else if let Some(name) = source.strip_prefix("$stageVariables.") {
        input.stage_variables.get(name).and_then(Value::as_str).map(str::to_string)
    } else if let Some(name) = source.strip_prefix("$context.") {
        context(name, input)
    } else {
        None
    };
    v.filter(|s| !s.is_empty())
}

/// The `$context` variables nimbus knows.
fn context(name: &str, input: &AuthInput<'_>) -> Option<String> {
    Some(match name {
        "requestId" | "extendedRequestId" => input.request_id.to_string(),
        "apiId" => input.api_id.to_string(),
        "accountId" => input.account.to_string(),
        "stage" => input.stage.to_string(),
        "routeKey" => input.route_key.to_string(),
        "httpMethod" => input.req.method.clone(),
        "path" => input.raw_path.to_string(),
        "domainName" => input.req.host.clone(),
        "identity.sourceIp" => input.req.source_ip.to_string(),
        "identity.userAgent" => input.req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok())?.to_string(),
        _ => return None,
    })
}

/// The values of all of an authorizer's identity sources, or `None` when one is missing.
pub fn values(sources: &[String], input: &AuthInput<'_>) -> Option<Vec<String>> {
    sources.iter().map(|s| value(s, input)).collect()
}
