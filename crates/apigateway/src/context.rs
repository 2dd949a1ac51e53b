//! A data-plane request's `$context` variables: what parameter mappings (`$context.x`) and
//! access logs read. Filled as the request goes (route, integration answer, status) and
//! looked up by name as AWS names them in "Customizing HTTP API access logs"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
//! A variable nimbus does not know, or one with no value for this request, is `None`.

use crate::event::clf_time;

/// The facts of one request.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub request_id: String,
    pub account_id: String,
    pub api_id: String,
    pub stage: String,
    pub route_key: Option<String>,
    pub http_method: String,
    /// The request path as the client sent it (with the stage for a named stage).
    pub path: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub domain_name: String,
    pub request_time_ms: u64,
    pub status: Option<u16>,
    pub response_length: Option<usize>,
    /// What the integration's service answered (Lambda: its Invoke status, 200).
    pub integration_status: Option<u16>,
    /// The status of the integration's answer (Lambda: the function's `statusCode`).
    pub integration_answer_status: Option<u16>,
    pub integration_error: Option<String>,
    pub integration_latency_ms: Option<u64>,
    pub response_latency_ms: Option<u64>,
    /// The gateway's own error message (`Not Found`, `Internal Server Error`, …).
    pub error_message: Option<String>,
}

impl Facts {
    /// The value of `$context.<name>`.
    pub fn get(&self, name: &str) -> Option<String> {
        let some = |s: &str| Some(s.to_string());
        match name {
            "requestId" | "extendedRequestId" => some(&self.request_id),
            "accountId" => some(&self.account_id),
            "apiId" => some(&self.api_id),
            "stage" => some(&self.stage),
            "routeKey" => self.route_key.clone(),
            "httpMethod" => some(&self.http_method),
            "path" => some(&self.path),
            "protocol" => some("HTTP/1.1"),
            "identity.sourceIp" => some(&self.source_ip),
            "identity.userAgent" => self.user_agent.clone(),
            "domainName" => some(&self.domain_name),
            "domainPrefix" => some(self.domain_name.split('.').next().unwrap_or(&self.domain_name)),
            "requestTime" => Some(clf_time(self.request_time_ms)),
            "requestTimeEpoch" => Some(self.request_time_ms.to_string()),
            "status" => self.status.map(|s| s.to_string()),
            "responseLength" => self.response_length.map(|l| l.to_string()),
            "dataProcessed" => self.response_length.map(|l| l.to_string()),
            "integrationStatus" | "integration.integrationStatus" => self.integration_status.map(|s| s.to_string()),
            "integration.status" => self.integration_answer_status.or(self.integration_status).map(|s| s.to_string()),
            "integrationErrorMessage" | "integration.error" => self.integration_error.clone(),
            "integrationLatency" | "integration.latency" => self.integration_latency_ms.map(|l| l.to_string()),
            "responseLatency" => self.response_latency_ms.map(|l| l.to_string()),
            "error.message" => self.error_message.clone(),
            "error.messageString" => self.error_message.as_ref().map(|m| format!("\"{m}\"")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Facts;

    #[test]
    fn names_as_aws_has_them() {
        let f = Facts { request_id: "r=".into(), domain_name: "abc.execute-api.localhost:4566".into(), request_time_ms: 1_583_348_638_390, status: Some(404), ..Facts::default() };
        assert_eq!(f.get("requestId").as_deref(), Some("r="));
        assert_eq!(f.get("domainPrefix").as_deref(), Some("abc"));
        assert_eq!(f.get("requestTime").as_deref(), Some("04/Mar/2020:19:03:58 +0000"));
        assert_eq!(f.get("requestTimeEpoch").as_deref(), Some("1583348638390"));
        assert_eq!(f.get("status").as_deref(), Some("404"));
        assert_eq!(f.get("integrationLatency"), None);
        assert_eq!(f.get("nonsense"), None);
    }
}
