//! The authorization step of the execute-api data plane: after the route is picked and
//! before its integration runs, the route's `AuthorizationType` decides —
//!
//! - `NONE`: nothing to check;
//! - `JWT` (`jwt.rs`): the token of the authorizer's identity source, verified with its
//!   issuer's keys (`nimbus-jwt`), its claims and the route's scopes;
//! - `CUSTOM` (`lambda.rs`): the authorizer's Lambda function (through `FunctionInvoker`)
//!   with AWS's REQUEST event, its simple or IAM-policy answer, cached by identity-source
//!   values for `AuthorizerResultTtlInSeconds` on nimbus's clock;
//! - `AWS_IAM` (`iam.rs`): a valid SigV4 signature for `execute-api` and, under
//!   `--auth iam`, `execute-api:Invoke` on the route's ARN through core's `Authorizer`.
//!
//! [`Authorizers::authorize`] is the whole step: what the integration's event gets on
//! success (`Granted`), or the answer to send instead (`Refusal`). WebSocket `$connect`
//! can call the same function with the upgrade request.
//!
//! AWS: developer guide, "Controlling and managing access to an HTTP API in API Gateway".

pub mod identity;
pub mod iam;
pub mod jwt;
pub mod lambda;

use crate::registry::{ApiDoc, Attrs};
use bytes::Bytes;
use nimbus_core::authn::Authenticator;
use nimbus_core::internal::{Authorizer, FunctionInvoker};
use nimbus_core::server::{DataRequest, DataResponse};
use nimbus_core::Clock;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What the authorization step knows of a request.
pub struct AuthInput<'a> {
    pub req: &'a DataRequest,
    pub api_id: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub stage: &'a str,
    pub route_key: &'a str,
    /// The path after the stage (`/pets/dog`), as the route matched it.
    pub path: &'a str,
    /// The path as the client sent it, stage included for a named stage (the event's `rawPath`).
    pub raw_path: &'a str,
    /// The path the client signed (what reached nimbus, prefix and all).
    pub signed_path: &'a str,
    pub path_parameters: &'a HashMap<String, String>,
    pub stage_variables: &'a Map<String, Value>,
    pub request_id: &'a str,
}

impl AuthInput<'_> {
    /// `arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>` — the
    /// Lambda authorizer's `routeArn` / `methodArn` and `execute-api:Invoke`'s resource; a
    /// WebSocket API's `$connect` is `…/<stage>/$connect`.
    pub fn route_arn(&self) -> String {
        let tail = if self.route_key == "$connect" { "$connect".to_string() } else { format!("{}{}", self.req.method, self.path) };
        format!("arn:aws:execute-api:{}:{}:{}/{}/{tail}", self.region, self.account, self.api_id, self.stage)
    }
}

/// What an authorized request carries to its integration's event.
#[derive(Debug, Clone, PartialEq)]
pub enum Granted {
    /// The route has no authorization.
    Open,
    /// JWT: the token's claims (as strings, like AWS) and scopes.
    Jwt { claims: Map<String, Value>, scopes: Option<Vec<String>> },
    /// A Lambda authorizer's `context` (and `principalId` from an IAM-policy answer).
    Lambda { context: Map<String, Value>, principal_id: Option<String> },
    /// AWS_IAM: the verified signer.
    Iam(iam::Signer),
}

impl Granted {
    /// Sets `requestContext.authorizer` (and, for IAM in 1.0, `requestContext.identity`'s
    /// caller members) of an integration event of payload format 2.0 (`v2`) or 1.0.
    pub fn decorate(&self, event: &mut Value, v2: bool) {
        let authorizer = match (self, v2) {
            (Granted::Open, _) => return,
            (Granted::Jwt { claims, scopes }, true) => json!({ "jwt": { "claims": claims, "scopes": scopes } }),
            (Granted::Jwt { claims, scopes }, false) => json!({ "claims": claims, "scopes": scopes }),
            (Granted::Lambda { context, .. }, true) => json!({ "lambda": context }),
            (Granted::Lambda { context, principal_id }, false) => {
                let mut m = context.clone();
                if let Some(p) = principal_id {
                    m.insert("principalId".into(), json!(p));
                }
                Value::Object(m)
            }
            (Granted::Iam(signer), true) => json!({ "iam": signer.as_event() }),
            (Granted::Iam(signer), false) => {
                if let Some(identity) = event.pointer_mut("/requestContext/identity").and_then(Value::as_object_mut) {
                    signer.fill_identity_v1(identity);
                }
                return;
            }
        };
        if let Some(rc) = event.get_mut("requestContext").and_then(Value::as_object_mut) {
            rc.insert("authorizer".into(), authorizer);
        }
    }
}

/// The answer a refused request gets instead of its integration's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
    pub headers: Vec<(String, String)>,
}

impl Refusal {
    pub fn new(status: u16, message: &str) -> Refusal {
        Refusal { status, message: message.to_string(), headers: Vec::new() }
    }
    pub fn unauthorized() -> Refusal {
        Refusal::new(401, "Unauthorized")
    }
    pub fn forbidden() -> Refusal {
        Refusal::new(403, "Forbidden")
    }
    pub fn internal() -> Refusal {
        Refusal::new(500, "Internal Server Error")
    }
    pub fn with_header(mut self, name: &str, value: String) -> Refusal {
        self.headers.push((name.to_string(), value));
        self
    }

    /// As the data plane answers it: `{"message": …}` with `apigw-requestid`.
    pub fn response(self, request_id: &str) -> DataResponse {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string()), ("apigw-requestid".to_string(), request_id.to_string())];
        headers.extend(self.headers);
        DataResponse { status: self.status, headers, body: Bytes::from(json!({ "message": self.message }).to_string()) }
    }
}

/// Everything the authorization step needs across requests: the JWKS cache, the Lambda
/// authorizers' result cache, the function invoker, the SigV4 verifier and (under
/// `--auth iam`) the IAM authorizer.
pub struct Authorizers {
    clock: Clock,
    invoker: Arc<dyn FunctionInvoker>,
    jwks: nimbus_jwt::JwksCache,
    results: lambda::ResultCache,
    /// Set once at start (`set_iam`), before any request.
    signatures: std::sync::OnceLock<Arc<Authenticator>>,
    policies: std::sync::OnceLock<Arc<dyn Authorizer>>,
}

impl Authorizers {
    pub fn new(clock: Clock, invoker: Arc<dyn FunctionInvoker>) -> Authorizers {
        Authorizers { clock, invoker, jwks: Default::default(), results: Default::default(), signatures: Default::default(), policies: Default::default() }
    }

    /// The SigV4 verifier for `AWS_IAM` routes (its credential resolver knows the keys), and
    /// the policy check for `execute-api:Invoke` (`--auth iam`; `None` allows every signer).
    pub fn set_iam(&self, signatures: Arc<Authenticator>, policies: Option<Arc<dyn Authorizer>>) {
        let _ = self.signatures.set(signatures);
        if let Some(p) = policies {
            let _ = self.policies.set(p);
        }
    }

    /// The route's authorization for a request: `Granted` for the integration's event, or
    /// the refusal to answer.
    pub async fn authorize(&self, doc: &ApiDoc, route: &Attrs, input: &AuthInput<'_>) -> Result<Granted, Refusal> {
        let kind = route.get("AuthorizationType").and_then(Value::as_str).unwrap_or("NONE");
        let authorizer = || route.get("AuthorizerId").and_then(Value::as_str).and_then(|id| doc.authorizers.get(id).map(|a| (id, a)));
        match kind {
            "NONE" => Ok(Granted::Open),
            "JWT" => {
                let (_, a) = authorizer().ok_or_else(Refusal::internal)?;
                let scopes: Vec<String> = route.get("AuthorizationScopes").and_then(Value::as_array).map(|l| l.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default();
                jwt::authorize(&self.jwks, a, &scopes, input, self.clock.now_ms()).await
            }
            "CUSTOM" => {
                let (id, a) = authorizer().ok_or_else(Refusal::internal)?;
                lambda::authorize(self.invoker.as_ref(), &self.results, id, a, input, self.clock.now_ms()).await
            }
            "AWS_IAM" => iam::authorize(self.signatures.get().map(|a| a.as_ref()), self.policies.get().map(|a| a.as_ref()), input, self.clock.now_ms()),
            _ => Err(Refusal::internal()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str) -> DataRequest {
        DataRequest {
            method: method.into(),
            path: "abc/prod/pets/1".into(),
            query: String::new(),
            headers: Default::default(),
            body: Bytes::new(),
            host: "localhost".into(),
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            request_id: "r".into(),
        }
    }

    #[test]
    fn route_arns() {
        let (req, params, vars) = (request("GET"), HashMap::new(), Map::new());
        let mut input = AuthInput { req: &req, api_id: "abc", account: "111", region: "eu-west-1", stage: "prod", route_key: "GET /pets/{id}", path: "/pets/1", raw_path: "/prod/pets/1", signed_path: "/", path_parameters: &params, stage_variables: &vars, request_id: "r" };
        assert_eq!(input.route_arn(), "arn:aws:execute-api:eu-west-1:111:abc/prod/GET/pets/1");
        input.route_key = "$connect";
        assert_eq!(input.route_arn(), "arn:aws:execute-api:eu-west-1:111:abc/prod/$connect");
    }

    #[test]
    fn granted_context_in_each_payload_format() {
        let mut e2 = json!({"requestContext": {}});
        let lambda = Granted::Lambda { context: json!({"k": "v"}).as_object().cloned().unwrap_or_default(), principal_id: Some("p".into()) };
        lambda.decorate(&mut e2, true);
        assert_eq!(e2["requestContext"]["authorizer"], json!({"lambda": {"k": "v"}}));
        let mut e1 = json!({"requestContext": {}});
        lambda.decorate(&mut e1, false);
        assert_eq!(e1["requestContext"]["authorizer"], json!({"k": "v", "principalId": "p"}));
        let mut open = json!({"requestContext": {}});
        Granted::Open.decorate(&mut open, true);
        assert_eq!(open, json!({"requestContext": {}}));
    }
}
