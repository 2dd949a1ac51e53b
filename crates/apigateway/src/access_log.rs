//! Stage access logs ("Configure logging for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html and
//! "Customizing HTTP API access logs", .../http-api-logging-variables.html): the checks
//! Create/UpdateStage apply to `AccessLogSettings` (a CloudWatch Logs group ARN; a
//! single-line `Format` naming `$context.requestId` or `$context.extendedRequestId` and only
//! HTTP APIs' variables), and the one line written per request through `LogSink` with
//! `$context.x` / `${context.x}` substituted (`-` for a variable with no value).

use crate::context::Facts;
use nimbus_core::internal::{LogLine, LogSink};
use serde_json::Value;

/// The variables HTTP API access logs accept (the page's table); `authorizer.<key>` too.
const VARIABLES: &[&str] = &[
    "accountId", "apiId", "awsEndpointRequestId", "awsEndpointRequestId2", "customDomain.basePathMatched", "dataProcessed", "domainName", "domainPrefix",
    "error.message", "error.messageString", "error.responseType", "extendedRequestId", "httpMethod", "identity.accountId", "identity.caller",
    "identity.cognitoAuthenticationProvider", "identity.cognitoAuthenticationType", "identity.cognitoIdentityId", "identity.cognitoIdentityPoolId",
    "identity.principalOrgId", "identity.clientCert.clientCertPem", "identity.clientCert.subjectDN", "identity.clientCert.issuerDN",
    "identity.clientCert.serialNumber", "identity.clientCert.validity.notBefore", "identity.clientCert.validity.notAfter", "identity.sourceIp",
    "identity.user", "identity.userAgent", "identity.userArn", "integration.error", "integration.integrationStatus", "integration.latency",
    "integration.requestId", "integration.status", "integrationErrorMessage", "integrationLatency", "integrationStatus", "path", "protocol", "requestId",
    "requestTime", "requestTimeEpoch", "responseLatency", "responseLength", "routeKey", "stage", "status",
];

fn known(name: &str) -> bool {
    VARIABLES.contains(&name) || name.strip_prefix("authorizer.").is_some_and(|k| !k.is_empty())
}

/// Each `$context.<name>` / `${context.<name>}` of a format: its byte range and name.
fn variables(format: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = format[from..].find('$').map(|i| i + from) {
        let after = &format[at + 1..];
        if let Some(inner) = after.strip_prefix("{context.") {
            if let Some(close) = inner.find('}') {
                let end = at + 1 + "{context.".len() + close + 1;
                out.push((at, end, &inner[..close]));
                from = end;
                continue;
            }
        } else if let Some(rest) = after.strip_prefix("context.") {
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))).unwrap_or(rest.len());
            let name = rest[..len].trim_end_matches('.');
            if !name.is_empty() {
                let end = at + 1 + "context.".len() + name.len();
                out.push((at, end, name));
                from = end;
                continue;
            }
        }
        from = at + 1;
    }
    out
}

/// The log group an access log destination names: `arn:aws:logs:<region>:<account>:log-group:<name>[:*]`.
pub fn log_group(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, account, "log-group", name] if !name.is_empty() => {
            Some((region.to_string(), account.to_string(), name.strip_suffix(":*").unwrap_or(name).to_string()))
        }
        _ => None,
    }
}

/// CreateStage / UpdateStage's check of `AccessLogSettings`, with AWS's messages.
pub fn check(settings: &Value) -> Result<(), String> {
    let Some(settings) = settings.as_object() else { return Err("AccessLogSettings must be an object".into()) };
    if let Some(dest) = settings.get("DestinationArn").and_then(Value::as_str) {
        if !dest.starts_with("arn:") {
            return Err(format!("Invalid ARN specified in the request. ARNs must start with 'arn:': {dest}"));
        }
        if log_group(dest).is_none() {
            return Err(format!("Invalid destination ARN specified in the request: {dest}. Access logs for HTTP APIs are supported by nimbus for CloudWatch Logs log groups only"));
        }
    }
    let Some(format) = settings.get("Format").and_then(Value::as_str) else { return Ok(()) };
    let prefix = "The following errors are found in Access Log Format: ";
    if format.contains(['\n', '\r']) {
        return Err(format!("{prefix}Access Log format must be single line: '{format}'"));
    }
    let vars = variables(format);
    let unsupported: Vec<&str> = vars.iter().filter(|(_, _, n)| !known(n)).map(|(s, e, _)| &format[*s..*e]).collect();
    if !unsupported.is_empty() {
        return Err(format!("The following context variables are not supported: [{}]", unsupported.join(", ")));
    }
    if !vars.iter().any(|(_, _, n)| matches!(*n, "requestId" | "extendedRequestId")) {
        return Err(format!("{prefix}Access Log format must include either $context.requestId or $context.extendedRequestId : '{format}'"));
    }
    Ok(())
}

/// The format with each variable's value, `-` where there is none.
pub fn render(format: &str, facts: &Facts) -> String {
    let mut out = String::with_capacity(format.len() + 64);
    let mut from = 0;
    for (start, end, name) in variables(format) {
        out.push_str(&format[from..start]);
        match facts.get(name).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => out.push('-'),
        }
        from = end;
    }
    out.push_str(&format[from..]);
    out
}

/// The stream nimbus writes a stage's access logs to: `<api-id>_<stage>`.
pub fn stream_name(api_id: &str, stage: &str) -> String {
    format!("{api_id}_{stage}")
}

/// Writes the request's line when the stage has a destination and a format.
pub fn write(sink: &dyn LogSink, stage: &serde_json::Map<String, Value>, facts: &Facts, now_ms: u64) {
    let Some(settings) = stage.get("AccessLogSettings").and_then(Value::as_object) else { return };
    let (Some(dest), Some(format)) = (settings.get("DestinationArn").and_then(Value::as_str), settings.get("Format").and_then(Value::as_str)) else { return };
    let Some((region, account, group)) = log_group(dest) else { return };
    let line = LogLine { timestamp_ms: now_ms, message: render(format, facts) };
    sink.append(&account, &region, &group, &stream_name(&facts.api_id, &facts.stage), vec![line]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_formats_and_destinations() {
        let ok = |f: &str| check(&json!({ "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:g", "Format": f }));
        assert!(ok("$context.requestId $context.status").is_ok());
        assert!(ok(r#"{"id":"${context.extendedRequestId}"}"#).is_ok());
        assert!(ok("$context.status").unwrap_err().contains("must include either $context.requestId or $context.extendedRequestId"));
        assert!(ok("$context.requestId\n").unwrap_err().contains("single line"));
        assert_eq!(ok("$context.requestId $context.bogus").unwrap_err(), "The following context variables are not supported: [$context.bogus]");
        assert!(check(&json!({ "DestinationArn": "g", "Format": "$context.requestId" })).unwrap_err().contains("must start with 'arn:'"));
        assert_eq!(log_group("arn:aws:logs:eu-west-1:111122223333:log-group:/my/group:*"), Some(("eu-west-1".into(), "111122223333".into(), "/my/group".into())));
    }

    #[test]
    fn renders_values_and_dashes() {
        let f = Facts { request_id: "r1=".into(), http_method: "GET".into(), status: Some(200), ..Facts::default() };
        assert_eq!(render("$context.requestId ${context.httpMethod} $context.status $context.integrationLatency.", &f), "r1= GET 200 -.");
    }
}
