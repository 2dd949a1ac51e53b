//! An API's authorizers — CreateAuthorizer, GetAuthorizer, GetAuthorizers,
//! UpdateAuthorizer, DeleteAuthorizer — kept in the API's document, and the checks a
//! route's `AuthorizationType` / `AuthorizerId` / `AuthorizationScopes` must pass.
//!
//! AWS: API Gateway v2 API reference, "Authorizers" and "Route"; developer guide,
//! "Controlling and managing access to an HTTP API in API Gateway" (JWT authorizers, AWS
//! Lambda authorizers for HTTP APIs, IAM authorization) and, for WebSocket APIs, "Control
//! access to WebSocket APIs" (REQUEST authorizers and IAM on `$connect` only).

use crate::errors::{ApiGwError, ApiGwResult};
use crate::ops_apis::{copy, page};
use crate::registry::{new_id, ApiDoc, Attrs};
use crate::service::{required, Call};
use serde_json::{json, Map, Value};

const SETTABLE: &[&str] = &[
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
];

/// The most an authorizer's result may be cached (API reference: 0 to 3600 seconds).
pub const MAX_TTL_SECONDS: u64 = 3600;

fn not_found(call: &Call, api: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid Authorizer identifier specified {}:{api}:{id}", call.scope.0))
}

fn bad(m: impl Into<String>) -> ApiGwError {
    ApiGwError::BadRequest(m.into())
}

fn is_http(doc: &ApiDoc) -> bool {
    doc.api.get("ProtocolType").and_then(Value::as_str) == Some("HTTP")
}

fn str_of<'a>(a: &'a Attrs, name: &str) -> Option<&'a str> {
    a.get(name).and_then(Value::as_str)
}

/// The identity sources of an authorizer as strings.
pub fn identity_sources(a: &Attrs) -> Vec<String> {
    a.get("IdentitySource").and_then(Value::as_array).map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// An identity source an HTTP API's authorizer may name: `$request.header.<name>`,
/// `$request.querystring.<name>`, `$context.<variable>`, `$stageVariables.<name>`; a
/// WebSocket API's: `route.request.header.<name>`, `route.request.querystring.<name>`,
/// `context.<variable>`, `stageVariables.<name>`.
fn valid_identity_source(http: bool, s: &str) -> bool {
    let prefixes: &[&str] = if http {
        &["$request.header.", "$request.querystring.", "$context.", "$stageVariables."]
    } else {
        &["route.request.header.", "route.request.querystring.", "context.", "stageVariables."]
    };
    prefixes.iter().any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// Checks an authorizer's settings (after create's input or update's changes).
fn check(http: bool, a: &Attrs) -> ApiGwResult<()> {
    let kind = str_of(a, "AuthorizerType").unwrap_or_default();
    let sources = identity_sources(a);
    if let Some(bad_source) = sources.iter().find(|s| !valid_identity_source(http, s)) {
        return Err(bad(format!("Invalid identity source specified: {bad_source}")));
    }
    if let Some(ttl) = a.get("AuthorizerResultTtlInSeconds") {
        if ttl.as_u64().is_none_or(|t| t > MAX_TTL_SECONDS) {
            return Err(bad(format!("AuthorizerResultTtlInSeconds must be between 0 and {MAX_TTL_SECONDS}")));
        }
    }
    match kind {
        "JWT" => {
            if !http {
                return Err(bad("JWT authorizers are supported only for HTTP APIs"));
            }
            let issuer = a.get("JwtConfiguration").and_then(|c| c.get("Issuer")).and_then(Value::as_str);
            if issuer.is_none_or(|i| !(i.starts_with("https://") || i.starts_with("http://"))) {
                return Err(bad("JwtConfiguration.Issuer is required for JWT authorizers and must be an http(s) URL"));
            }
            if sources.len() != 1 {
                return Err(bad("JWT authorizers take exactly one identity source"));
            }
            if a.contains_key("AuthorizerUri") {
                return Err(bad("AuthorizerUri is supported only for REQUEST authorizers"));
            }
            if a.get("AuthorizerResultTtlInSeconds").and_then(Value::as_u64).is_some_and(|t| t > 0) {
                return Err(bad("AuthorizerResultTtlInSeconds is supported only for REQUEST authorizers"));
            }
            Ok(())
        }
        "REQUEST" => {
            if str_of(a, "AuthorizerUri").is_none() {
                return Err(bad("AuthorizerUri is required for REQUEST authorizers"));
            }
            if a.contains_key("JwtConfiguration") {
                return Err(bad("JwtConfiguration is supported only for JWT authorizers"));
            }
            let version = str_of(a, "AuthorizerPayloadFormatVersion");
            if http {
                match version {
                    None => return Err(bad("AuthorizerPayloadFormatVersion is required for REQUEST authorizers of HTTP APIs")),
                    Some("1.0" | "2.0") => {}
                    Some(v) => return Err(bad(format!("Invalid authorizer payload format version: {v}"))),
                }
            }
            if a.get("EnableSimpleResponses").and_then(Value::as_bool) == Some(true) && version != Some("2.0") {
                return Err(bad("EnableSimpleResponses is supported only for authorizer payload format version 2.0"));
            }
            if a.get("AuthorizerResultTtlInSeconds").and_then(Value::as_u64).is_some_and(|t| t > 0) && sources.is_empty() {
                return Err(bad("IdentitySource is required when authorizer caching is enabled (AuthorizerResultTtlInSeconds > 0)"));
            }
            Ok(())
        }
        other => Err(bad(format!("Invalid authorizer type: {other}"))),
    }
}

/// A new authorizer from CreateAuthorizer's input, with AWS's defaults.
fn new_authorizer(http: bool, input: &Value) -> ApiGwResult<Attrs> {
    required(input, "Name")?;
    required(input, "AuthorizerType")?;
    if input.get("IdentitySource").is_none() {
        return Err(bad("IdentitySource is required"));
    }
    let mut a = Map::new();
    copy(input, &mut a, SETTABLE);
    if str_of(&a, "AuthorizerType") == Some("REQUEST") && http {
        a.entry("AuthorizerResultTtlInSeconds").or_insert(json!(0));
        a.entry("EnableSimpleResponses").or_insert(json!(false));
    }
    check(http, &a)?;
    Ok(a)
}

pub async fn authorizers(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    match op {
        "CreateAuthorizer" => {
            let a = call.registry.update(&call.scope, &api, |doc| {
                let mut a = new_authorizer(is_http(doc), &input)?;
                let id = new_id(7);
                a.insert("AuthorizerId".into(), json!(id));
                doc.authorizers.insert(id, a.clone());
                Ok(a)
            });
            Ok(Value::Object(a.await?))
        }
        "GetAuthorizers" => {
            let doc = call.registry.get(&call.scope, &api)?;
            page(doc.authorizers.iter().map(|(k, v)| (k.clone(), Value::Object(v.clone()))).collect(), &input)
        }
        "GetAuthorizer" => {
            let id = required(&input, "AuthorizerId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            doc.authorizers.get(&id).cloned().map(Value::Object).ok_or_else(|| not_found(call, &api, &id))
        }
        "UpdateAuthorizer" => {
            let id = required(&input, "AuthorizerId")?;
            let a = call.registry.update(&call.scope, &api, |doc| {
                let mut a = doc.authorizers.get(&id).cloned().ok_or_else(|| not_found(call, &api, &id))?;
                let old_type = str_of(&a, "AuthorizerType").map(str::to_string);
                copy(&input, &mut a, SETTABLE);
                check(is_http(doc), &a)?;
                // A type change must keep every route that uses the authorizer consistent.
                if str_of(&a, "AuthorizerType") != old_type.as_deref() && used_by(doc, &id).is_some() {
                    return Err(ApiGwError::Conflict(format!("Cannot change the type of authorizer {id} while routes use it")));
                }
                doc.authorizers.insert(id.clone(), a.clone());
                Ok(a)
            });
            Ok(Value::Object(a.await?))
        }
        _ => {
            let id = required(&input, "AuthorizerId")?;
            call.registry
                .update(&call.scope, &api, |doc| {
                    if !doc.authorizers.contains_key(&id) {
                        return Err(not_found(call, &api, &id));
                    }
                    if let Some(route) = used_by(doc, &id) {
                        return Err(ApiGwError::Conflict(format!("Cannot delete authorizer {id}: it is used by route {route}; remove it from the route first")));
                    }
                    doc.authorizers.remove(&id);
                    Ok(())
                })
                .await?;
            Ok(json!({}))
        }
    }
}

/// The key of a route using authorizer `id`, if one does.
fn used_by(doc: &ApiDoc, id: &str) -> Option<String> {
    doc.routes.values().find(|r| str_of(r, "AuthorizerId") == Some(id)).map(|r| str_of(r, "RouteKey").unwrap_or_default().to_string())
}

/// A route's authorization settings against the API's authorizers: `NONE` and `AWS_IAM`
/// take no authorizer (an `AuthorizerId` or scopes left from before are dropped), `JWT` needs a JWT
/// authorizer and `CUSTOM` a REQUEST one of this API; `AuthorizationScopes` are for JWT
/// routes only. WebSocket APIs authorize their `$connect` route only, with `AWS_IAM` or
/// `CUSTOM`.
pub fn check_route(doc: &ApiDoc, r: &mut Attrs) -> ApiGwResult<()> {
    let kind = str_of(r, "AuthorizationType").unwrap_or("NONE").to_string();
    let http = is_http(doc);
    let scopes = r.get("AuthorizationScopes").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
    match kind.as_str() {
        "NONE" | "AWS_IAM" => {
            r.remove("AuthorizerId");
            r.remove("AuthorizationScopes");
        }
        "JWT" | "CUSTOM" => {
            let wanted = if kind == "JWT" { "JWT" } else { "REQUEST" };
            let Some(id) = str_of(r, "AuthorizerId") else {
                return Err(bad(format!("AuthorizerId is required for authorization type {kind}")));
            };
            let Some(a) = doc.authorizers.get(id) else {
                return Err(bad(format!("Invalid authorizer id specified: {id}")));
            };
            if str_of(a, "AuthorizerType") != Some(wanted) {
                return Err(bad(format!("Authorization type {kind} requires an authorizer of type {wanted}; authorizer {id} is {}", str_of(a, "AuthorizerType").unwrap_or_default())));
            }
            if scopes && kind != "JWT" {
                return Err(bad("AuthorizationScopes are supported only for JWT authorizers"));
            }
        }
        other => return Err(bad(format!("Invalid authorization type: {other}"))),
    }
    if !http && kind != "NONE" {
        if kind == "JWT" {
            return Err(bad("JWT authorization is supported only for HTTP APIs"));
        }
        if str_of(r, "RouteKey") != Some("$connect") {
            return Err(bad("Authorization is supported only on the $connect route of WebSocket APIs"));
        }
    }
    Ok(())
}
