//! An API's routes, integrations, stages and deployments: create, get, list, update,
//! delete. Each lives inside its API's document (`registry.rs`).

use crate::access_log;
use crate::mapping::{self, Side};
use crate::service_integration::SUBTYPES;
use crate::errors::{ApiGwError, ApiGwResult};
use crate::ops_apis::{copy, page};
use crate::registry::{new_id, ApiDoc, Attrs};
use crate::routes;
use crate::service::{required, text, Call};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const ROUTE_SETTABLE: &[&str] = &["ApiKeyRequired", "AuthorizationScopes", "AuthorizationType", "AuthorizerId", "ModelSelectionExpression", "OperationName", "RequestModels", "RequestParameters", "RouteKey", "RouteResponseSelectionExpression", "Target"];
const INTEGRATION_SETTABLE: &[&str] = &["ConnectionId", "ConnectionType", "CredentialsArn", "Description", "IntegrationMethod", "IntegrationSubtype", "IntegrationType", "IntegrationUri", "PayloadFormatVersion", "RequestParameters", "ResponseParameters", "TimeoutInMillis"];
const STAGE_SETTABLE: &[&str] = &["AccessLogSettings", "AutoDeploy", "DeploymentId", "Description", "StageVariables", "DefaultRouteSettings", "RouteSettings", "ClientCertificateId"];

fn route_not_found(call: &Call, api: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid Route identifier specified {}:{api}:{id}", call.scope.0))
}
fn integration_not_found(call: &Call, api: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid Integration identifier specified {}:{api}:{id}", call.scope.0))
}
fn stage_not_found() -> ApiGwError {
    ApiGwError::NotFound("Invalid stage identifier specified".into())
}
fn deployment_not_found(call: &Call, api: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid Deployment identifier specified {}:{api}:{id}", call.scope.0))
}

fn is_http(doc: &ApiDoc) -> bool {
    doc.api.get("ProtocolType").and_then(Value::as_str) == Some("HTTP")
}

/// Checks a route's key (HTTP APIs: `$default` or `METHOD /path`) and that no other route
/// of the API has it.
fn check_route_key(doc: &ApiDoc, key: &str, except: Option<&str>) -> ApiGwResult<()> {
    if is_http(doc) {
        routes::parse(key).map_err(ApiGwError::BadRequest)?;
    }
    let taken = doc.routes.iter().any(|(id, r)| Some(id.as_str()) != except && r.get("RouteKey").and_then(Value::as_str) == Some(key));
    if taken {
        return Err(ApiGwError::Conflict(format!("Route with key {key} already exists for this API")));
    }
    Ok(())
}

/// A route's `Target` names one of the API's integrations: `integrations/<id>`.
fn check_target(doc: &ApiDoc, attrs: &Attrs) -> ApiGwResult<()> {
    let Some(target) = attrs.get("Target").and_then(Value::as_str) else { return Ok(()) };
    let ok = target.strip_prefix("integrations/").is_some_and(|id| doc.integrations.contains_key(id));
    if !ok {
        return Err(ApiGwError::BadRequest(format!("Invalid integration target specified: {target}")));
    }
    Ok(())
}

/// A new route of `doc` from CreateRoute's input (not yet inserted).
pub fn new_route(doc: &ApiDoc, input: &Value) -> ApiGwResult<Attrs> {
    let key = required(input, "RouteKey")?;
    check_route_key(doc, &key, None)?;
    let mut r = Map::new();
    r.insert("RouteId".into(), json!(new_id(7)));
    r.insert("ApiKeyRequired".into(), json!(false));
    r.insert("AuthorizationType".into(), json!("NONE"));
    copy(input, &mut r, ROUTE_SETTABLE);
    crate::ops_authorizers::check_route(doc, &mut r)?;
    check_target(doc, &r)?;
    Ok(r)
}

/// Checks an integration's settings for an HTTP API (or not) and fills AWS's defaults.
pub fn new_integration(http: bool, input: &Value) -> ApiGwResult<Attrs> {
    let kind = required(input, "IntegrationType")?;
    if !["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"].contains(&kind.as_str()) {
        return Err(ApiGwError::BadRequest(format!("Invalid integration type: {kind}")));
    }
    if http && !["AWS_PROXY", "HTTP_PROXY"].contains(&kind.as_str()) {
        // Wording as AWS answers it (aws/aws-cli#6363).
        return Err(ApiGwError::BadRequest("Currently, an API with a protocol type of HTTP may only be associated with proxy integrations (AWS_PROXY, HTTP_PROXY)".into()));
    }
    let mut i = Map::new();
    i.insert("ConnectionType".into(), json!("INTERNET"));
    i.insert("TimeoutInMillis".into(), json!(if http { 30000 } else { 29000 }));
    copy(input, &mut i, INTEGRATION_SETTABLE);
    if kind == "AWS_PROXY" && !i.contains_key("IntegrationMethod") {
        i.insert("IntegrationMethod".into(), json!("POST"));
    }
    check_integration(http, &i)?;
    Ok(i)
}

/// PayloadFormatVersion is required for HTTP APIs' Lambda proxy integrations (1.0 or
/// 2.0), 1.0 for every other integration (API reference, Integration.PayloadFormatVersion).
fn check_integration(http: bool, i: &Attrs) -> ApiGwResult<()> {
    let kind = i.get("IntegrationType").and_then(Value::as_str).unwrap_or_default();
    let version = i.get("PayloadFormatVersion").and_then(Value::as_str);
    if http {
        check_mappings(i)?;
    }
    if let Some(subtype) = i.get("IntegrationSubtype").and_then(Value::as_str) {
        return check_subtype(http, kind, subtype, version, i);
    }
    if http {
        if let Some(params) = i.get("RequestParameters").and_then(Value::as_object) {
            mapping::check_request_parameters(params).map_err(ApiGwError::BadRequest)?;
        }
    }
    if kind == "AWS_PROXY" && i.get("IntegrationUri").and_then(Value::as_str).is_none() {
        return Err(ApiGwError::BadRequest("IntegrationUri is required for AWS_PROXY integrations".into()));
    }
    if kind == "HTTP_PROXY" && http && i.get("ConnectionType").and_then(Value::as_str) != Some("VPC_LINK") {
        let uri = i.get("IntegrationUri").and_then(Value::as_str).unwrap_or_default();
        let host = uri.strip_prefix("http://").or_else(|| uri.strip_prefix("https://")).map(|r| r.split(['/', '?', ':']).next().unwrap_or_default());
        if host.is_none_or(str::is_empty) {
            return Err(ApiGwError::BadRequest("Invalid HTTP endpoint specified for URI".into()));
        }
    }
    match (http, kind, version) {
        (true, "AWS_PROXY", None) => Err(ApiGwError::BadRequest("PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs".into())),
        (true, "AWS_PROXY", Some("1.0" | "2.0")) | (_, _, None | Some("1.0")) => Ok(()),
        (_, _, Some(v)) => Err(ApiGwError::BadRequest(format!("Invalid payload format version: {v}"))),
    }
}

/// An HTTP API integration's `TimeoutInMillis` (50 to 30,000) and `ResponseParameters`
/// ("Transform API requests and responses for HTTP APIs").
fn check_mappings(i: &Attrs) -> ApiGwResult<()> {
    if let Some(t) = i.get("TimeoutInMillis") {
        if !t.as_i64().is_some_and(|t| (50..=30_000).contains(&t)) {
            return Err(ApiGwError::BadRequest("Timeout should be between 50 ms and 30000 ms".into()));
        }
    }
    if let Some(params) = i.get("ResponseParameters").and_then(Value::as_object) {
        mapping::check_response_parameters(params).map_err(ApiGwError::BadRequest)?;
    }
    Ok(())
}

/// UpdateIntegration: the settable members, with `RequestParameters` / `ResponseParameters`
/// merged into the stored maps (an empty value removes its key).
fn update_integration(input: &Value, i: &mut Attrs) {
    let mut plain = input.clone();
    for name in ["RequestParameters", "ResponseParameters"] {
        let Some(update) = plain.as_object_mut().and_then(|m| m.remove(name)) else { continue };
        let Some(update) = update.as_object() else { continue };
        let mut stored = i.get(name).and_then(Value::as_object).cloned().unwrap_or_default();
        mapping::merge(&mut stored, update);
        if stored.is_empty() {
            i.remove(name);
        } else {
            i.insert(name.to_string(), Value::Object(stored));
        }
    }
    copy(&plain, i, INTEGRATION_SETTABLE);
}

/// An AWS service integration ("Integration subtype reference"): HTTP APIs' `AWS_PROXY`,
/// a known subtype, payload format 1.0, and the subtype's required `RequestParameters`.
fn check_subtype(http: bool, kind: &str, subtype: &str, version: Option<&str>, i: &Attrs) -> ApiGwResult<()> {
    let Some((_, required)) = SUBTYPES.iter().find(|(s, _)| *s == subtype) else {
        return Err(ApiGwError::BadRequest(format!("Invalid integration subtype: {subtype}")));
    };
    if !http || kind != "AWS_PROXY" {
        return Err(ApiGwError::BadRequest("IntegrationSubtype is supported only for AWS_PROXY integrations of HTTP APIs".into()));
    }
    if version != Some("1.0") {
        return Err(ApiGwError::BadRequest("PayloadFormatVersion must be 1.0 for AWS service integrations".into()));
    }
    let params = i.get("RequestParameters").and_then(Value::as_object);
    if let Some(missing) = required.iter().find(|p| params.is_none_or(|m| !m.contains_key(**p))) {
        return Err(ApiGwError::BadRequest(format!("Request parameter {missing} is required for integration subtype {subtype}")));
    }
    for value in params.into_iter().flat_map(|m| m.values()) {
        let value = value.as_str().ok_or_else(|| ApiGwError::BadRequest(format!("Invalid mapping expression specified: {value}")))?;
        mapping::check_value(value, Side::Request).map_err(ApiGwError::BadRequest)?;
    }
    Ok(())
}

/// A stage's `AccessLogSettings` ("Configure logging for HTTP APIs").
fn check_stage(input: &Value) -> ApiGwResult<()> {
    match input.get("AccessLogSettings") {
        Some(settings) => access_log::check(settings).map_err(ApiGwError::BadRequest),
        None => Ok(()),
    }
}

/// A new stage from CreateStage's input.
pub fn new_stage(call: &Call, input: &Value) -> Attrs {
    let mut s = Map::new();
    s.insert("StageName".into(), input.get("StageName").cloned().unwrap_or(Value::Null));
    s.insert("CreatedDate".into(), json!(call.now));
    s.insert("LastUpdatedDate".into(), json!(call.now));
    s.insert("AutoDeploy".into(), json!(false));
    s.insert("DefaultRouteSettings".into(), json!({ "DetailedMetricsEnabled": false }));
    s.insert("RouteSettings".into(), json!({}));
    s.insert("StageVariables".into(), json!({}));
    s.insert("Tags".into(), input.get("Tags").cloned().unwrap_or_else(|| json!({})));
    copy(input, &mut s, STAGE_SETTABLE);
    s
}

fn listed(map: &BTreeMap<String, Attrs>) -> Vec<(String, Value)> {
    map.iter().map(|(k, v)| (k.clone(), Value::Object(v.clone()))).collect()
}

pub async fn routes(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    match op {
        "CreateRoute" => {
            let r = call.registry.update(&call.scope, &api, |doc| {
                let r = new_route(doc, &input)?;
                doc.routes.insert(r["RouteId"].as_str().unwrap_or_default().to_string(), r.clone());
                Ok(r)
            });
            Ok(Value::Object(r.await?))
        }
        "GetRoutes" => page(listed(&call.registry.get(&call.scope, &api)?.routes), &input),
        "GetRoute" => {
            let id = required(&input, "RouteId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            doc.routes.get(&id).cloned().map(Value::Object).ok_or_else(|| route_not_found(call, &api, &id))
        }
        "UpdateRoute" => {
            let id = required(&input, "RouteId")?;
            let r = call.registry.update(&call.scope, &api, |doc| {
                if let Some(key) = text(&input, "RouteKey") {
                    check_route_key(doc, &key, Some(&id))?;
                }
                let mut r = doc.routes.get(&id).cloned().ok_or_else(|| route_not_found(call, &api, &id))?;
                copy(&input, &mut r, ROUTE_SETTABLE);
                crate::ops_authorizers::check_route(doc, &mut r)?;
                check_target(doc, &r)?;
                doc.routes.insert(id.clone(), r.clone());
                Ok(r)
            });
            Ok(Value::Object(r.await?))
        }
        _ => {
            let id = required(&input, "RouteId")?;
            call.registry
                .update(&call.scope, &api, |doc| {
                    doc.route_responses.remove(&id);
                    doc.routes.remove(&id).map(|_| ()).ok_or_else(|| route_not_found(call, &api, &id))
                })
                .await?;
            Ok(json!({}))
        }
    }
}

pub async fn integrations(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    match op {
        "CreateIntegration" => {
            let i = call.registry.update(&call.scope, &api, |doc| {
                let mut i = new_integration(is_http(doc), &input)?;
                let id = new_id(7);
                i.insert("IntegrationId".into(), json!(id));
                doc.integrations.insert(id, i.clone());
                Ok(i)
            });
            Ok(Value::Object(i.await?))
        }
        "GetIntegrations" => page(listed(&call.registry.get(&call.scope, &api)?.integrations), &input),
        "GetIntegration" => {
            let id = required(&input, "IntegrationId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            doc.integrations.get(&id).cloned().map(Value::Object).ok_or_else(|| integration_not_found(call, &api, &id))
        }
        "UpdateIntegration" => {
            let id = required(&input, "IntegrationId")?;
            let i = call.registry.update(&call.scope, &api, |doc| {
                let mut i = doc.integrations.get(&id).cloned().ok_or_else(|| integration_not_found(call, &api, &id))?;
                update_integration(&input, &mut i);
                check_integration(is_http(doc), &i)?;
                doc.integrations.insert(id.clone(), i.clone());
                Ok(i)
            });
            Ok(Value::Object(i.await?))
        }
        _ => {
            let id = required(&input, "IntegrationId")?;
            call.registry
                .update(&call.scope, &api, |doc| {
                    if !doc.integrations.contains_key(&id) {
                        return Err(integration_not_found(call, &api, &id));
                    }
                    let target = format!("integrations/{id}");
                    if doc.routes.values().any(|r| r.get("Target").and_then(Value::as_str) == Some(target.as_str())) {
                        return Err(ApiGwError::Conflict(format!("Integration {id} is used by one or more routes; remove them first")));
                    }
                    doc.integrations.remove(&id);
                    doc.integration_responses.remove(&id);
                    Ok(())
                })
                .await?;
            Ok(json!({}))
        }
    }
}

pub async fn stages(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    match op {
        "CreateStage" => {
            let name = required(&input, "StageName")?;
            let s = call.registry.update(&call.scope, &api, |doc| {
                if doc.stages.contains_key(&name) {
                    return Err(ApiGwError::Conflict(format!("Stage {name} already exists")));
                }
                if let Some(d) = text(&input, "DeploymentId").filter(|d| !doc.deployments.contains_key(d)) {
                    return Err(deployment_not_found(call, &api, &d));
                }
                check_stage(&input)?;
                let s = new_stage(call, &input);
                doc.stages.insert(name.clone(), s.clone());
                Ok(s)
            });
            Ok(Value::Object(s.await?))
        }
        "GetStages" => page(listed(&call.registry.get(&call.scope, &api)?.stages), &input),
        "GetStage" => {
            let name = required(&input, "StageName")?;
            let doc = call.registry.get(&call.scope, &api)?;
            doc.stages.get(&name).cloned().map(Value::Object).ok_or_else(stage_not_found)
        }
        "UpdateStage" => {
            let name = required(&input, "StageName")?;
            let s = call.registry.update(&call.scope, &api, |doc| {
                let mut s = doc.stages.get(&name).cloned().ok_or_else(stage_not_found)?;
                if let Some(d) = text(&input, "DeploymentId").filter(|d| !doc.deployments.contains_key(d)) {
                    return Err(deployment_not_found(call, &api, &d));
                }
                check_stage(&input)?;
                copy(&input, &mut s, STAGE_SETTABLE);
                s.insert("LastUpdatedDate".into(), json!(call.now));
                doc.stages.insert(name.clone(), s.clone());
                Ok(s)
            });
            Ok(Value::Object(s.await?))
        }
        _ => {
            let name = required(&input, "StageName")?;
            call.registry.update(&call.scope, &api, |doc| doc.stages.remove(&name).map(|_| ()).ok_or_else(stage_not_found)).await?;
            Ok(json!({}))
        }
    }
}

pub async fn deployments(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    match op {
        "CreateDeployment" => {
            let d = call.registry.update(&call.scope, &api, |doc| {
                let stage = text(&input, "StageName");
                if let Some(s) = &stage {
                    if !doc.stages.contains_key(s) {
                        return Err(stage_not_found());
                    }
                }
                let id = new_id(7);
                let mut d = Map::new();
                d.insert("DeploymentId".into(), json!(id));
                d.insert("DeploymentStatus".into(), json!("DEPLOYED"));
                d.insert("AutoDeployed".into(), json!(false));
                d.insert("CreatedDate".into(), json!(call.now));
                copy(&input, &mut d, &["Description"]);
                doc.deployments.insert(id.clone(), d.clone());
                if let Some(s) = stage.and_then(|s| doc.stages.get_mut(&s)) {
                    s.insert("DeploymentId".into(), json!(id));
                    s.insert("LastUpdatedDate".into(), json!(call.now));
                }
                Ok(d)
            });
            Ok(Value::Object(d.await?))
        }
        "GetDeployments" => page(listed(&call.registry.get(&call.scope, &api)?.deployments), &input),
        "GetDeployment" => {
            let id = required(&input, "DeploymentId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            doc.deployments.get(&id).cloned().map(Value::Object).ok_or_else(|| deployment_not_found(call, &api, &id))
        }
        _ => {
            let id = required(&input, "DeploymentId")?;
            call.registry
                .update(&call.scope, &api, |doc| doc.deployments.remove(&id).map(|_| ()).ok_or_else(|| deployment_not_found(call, &api, &id)))
                .await?;
            Ok(json!({}))
        }
    }
}
