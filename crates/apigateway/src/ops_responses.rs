//! WebSocket APIs' route responses and integration responses: create, get, list, update,
//! delete ("Set up route responses for WebSocket APIs in API Gateway",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html,
//! and "Set up a WebSocket API integration response in API Gateway"). Each lives inside its
//! API's document under its route or integration. A route with a route response is
//! two-way: the data plane sends the integration's answer back to the client
//! (`ws/session.rs`). Integration responses are stored only: they transform non-proxy
//! integrations' answers, and nimbus runs proxy integrations only.

use crate::errors::{ApiGwError, ApiGwResult};
use crate::ops_apis::{copy, page};
use crate::registry::{new_id, ApiDoc, Attrs};
use crate::service::{required, Call};
use serde_json::{json, Map, Value};

const ROUTE_RESPONSE_SETTABLE: &[&str] = &["ModelSelectionExpression", "ResponseModels", "ResponseParameters", "RouteResponseKey"];
const INTEGRATION_RESPONSE_SETTABLE: &[&str] = &["ContentHandlingStrategy", "IntegrationResponseKey", "ResponseParameters", "ResponseTemplates", "TemplateSelectionExpression"];

fn websocket_only(doc: &ApiDoc, what: &str) -> ApiGwResult<()> {
    if doc.api.get("ProtocolType").and_then(Value::as_str) != Some("WEBSOCKET") {
        return Err(ApiGwError::BadRequest(format!("{what} are supported only for WebSocket APIs")));
    }
    Ok(())
}

fn not_found(call: &Call, kind: &str, api: &str, id: &str) -> ApiGwError {
    ApiGwError::NotFound(format!("Invalid {kind} identifier specified {}:{api}:{id}", call.scope.0))
}

/// "You can only define the $default route response for WebSocket APIs."
fn check_route_response_key(key: &str) -> ApiGwResult<()> {
    if key != "$default" {
        return Err(ApiGwError::BadRequest(format!("Invalid RouteResponseKey {key}: only $default is supported for WebSocket APIs")));
    }
    Ok(())
}

/// An integration response key is `$default` or a `/regex/` on the integration's status.
fn check_integration_response_key(key: &str) -> ApiGwResult<()> {
    if key == "$default" || (key.len() > 2 && key.starts_with('/') && key.ends_with('/')) {
        return Ok(());
    }
    Err(ApiGwError::BadRequest(format!("Invalid IntegrationResponseKey {key}: use $default or a /regular expression/")))
}

fn listed(map: Option<&std::collections::BTreeMap<String, Attrs>>) -> Vec<(String, Value)> {
    map.into_iter().flatten().map(|(k, v)| (k.clone(), Value::Object(v.clone()))).collect()
}

pub async fn route_responses(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    let route = required(&input, "RouteId")?;
    let route_missing = || not_found(call, "Route", &api, &route);
    match op {
        "CreateRouteResponse" => {
            let key = required(&input, "RouteResponseKey")?;
            let r = call.registry.update(&call.scope, &api, |doc| {
                websocket_only(doc, "Route responses")?;
                if !doc.routes.contains_key(&route) {
                    return Err(route_missing());
                }
                check_route_response_key(&key)?;
                let existing = doc.route_responses.entry(route.clone()).or_default();
                if existing.values().any(|r| r.get("RouteResponseKey").and_then(Value::as_str) == Some(key.as_str())) {
                    return Err(ApiGwError::Conflict(format!("RouteResponse with key {key} already exists for route {route}")));
                }
                let id = new_id(6);
                let mut r = Map::new();
                r.insert("RouteResponseId".into(), json!(id));
                copy(&input, &mut r, ROUTE_RESPONSE_SETTABLE);
                existing.insert(id, r.clone());
                Ok(r)
            });
            Ok(Value::Object(r.await?))
        }
        "GetRouteResponses" => {
            let doc = call.registry.get(&call.scope, &api)?;
            if !doc.routes.contains_key(&route) {
                return Err(route_missing());
            }
            page(listed(doc.route_responses.get(&route)), &input)
        }
        "GetRouteResponse" => {
            let id = required(&input, "RouteResponseId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            let found = doc.route_responses.get(&route).and_then(|m| m.get(&id)).cloned();
            found.map(Value::Object).ok_or_else(|| not_found(call, "RouteResponse", &api, &id))
        }
        "UpdateRouteResponse" => {
            let id = required(&input, "RouteResponseId")?;
            let r = call.registry.update(&call.scope, &api, |doc| {
                let r = doc.route_responses.get_mut(&route).and_then(|m| m.get_mut(&id)).ok_or_else(|| not_found(call, "RouteResponse", &api, &id))?;
                let mut copy_of = r.clone();
                copy(&input, &mut copy_of, ROUTE_RESPONSE_SETTABLE);
                check_route_response_key(copy_of.get("RouteResponseKey").and_then(Value::as_str).unwrap_or_default())?;
                *r = copy_of.clone();
                Ok(copy_of)
            });
            Ok(Value::Object(r.await?))
        }
        _ => {
            let id = required(&input, "RouteResponseId")?;
            call.registry
                .update(&call.scope, &api, |doc| {
                    let responses = doc.route_responses.get_mut(&route).ok_or_else(|| not_found(call, "RouteResponse", &api, &id))?;
                    responses.remove(&id).ok_or_else(|| not_found(call, "RouteResponse", &api, &id))?;
                    if responses.is_empty() {
                        doc.route_responses.remove(&route);
                    }
                    Ok(())
                })
                .await?;
            Ok(json!({}))
        }
    }
}

pub async fn integration_responses(call: &Call<'_>, op: &str, input: Value) -> ApiGwResult<Value> {
    let api = required(&input, "ApiId")?;
    let integration = required(&input, "IntegrationId")?;
    let integration_missing = || not_found(call, "Integration", &api, &integration);
    match op {
        "CreateIntegrationResponse" => {
            let key = required(&input, "IntegrationResponseKey")?;
            check_integration_response_key(&key)?;
            let r = call.registry.update(&call.scope, &api, |doc| {
                websocket_only(doc, "Integration responses")?;
                if !doc.integrations.contains_key(&integration) {
                    return Err(integration_missing());
                }
                let existing = doc.integration_responses.entry(integration.clone()).or_default();
                if existing.values().any(|r| r.get("IntegrationResponseKey").and_then(Value::as_str) == Some(key.as_str())) {
                    return Err(ApiGwError::Conflict(format!("IntegrationResponse with key {key} already exists for integration {integration}")));
                }
                let id = new_id(6);
                let mut r = Map::new();
                r.insert("IntegrationResponseId".into(), json!(id));
                copy(&input, &mut r, INTEGRATION_RESPONSE_SETTABLE);
                existing.insert(id, r.clone());
                Ok(r)
            });
            Ok(Value::Object(r.await?))
        }
        "GetIntegrationResponses" => {
            let doc = call.registry.get(&call.scope, &api)?;
            if !doc.integrations.contains_key(&integration) {
                return Err(integration_missing());
            }
            page(listed(doc.integration_responses.get(&integration)), &input)
        }
        "GetIntegrationResponse" => {
            let id = required(&input, "IntegrationResponseId")?;
            let doc = call.registry.get(&call.scope, &api)?;
            let found = doc.integration_responses.get(&integration).and_then(|m| m.get(&id)).cloned();
            found.map(Value::Object).ok_or_else(|| not_found(call, "IntegrationResponse", &api, &id))
        }
        "UpdateIntegrationResponse" => {
            let id = required(&input, "IntegrationResponseId")?;
            let r = call.registry.update(&call.scope, &api, |doc| {
                let r = doc.integration_responses.get_mut(&integration).and_then(|m| m.get_mut(&id)).ok_or_else(|| not_found(call, "IntegrationResponse", &api, &id))?;
                let mut copy_of = r.clone();
                copy(&input, &mut copy_of, INTEGRATION_RESPONSE_SETTABLE);
                check_integration_response_key(copy_of.get("IntegrationResponseKey").and_then(Value::as_str).unwrap_or_default())?;
                *r = copy_of.clone();
                Ok(copy_of)
            });
            Ok(Value::Object(r.await?))
        }
        _ => {
            let id = required(&input, "IntegrationResponseId")?;
            call.registry
                .update(&call.scope, &api, |doc| {
                    let responses = doc.integration_responses.get_mut(&integration).ok_or_else(|| not_found(call, "IntegrationResponse", &api, &id))?;
                    responses.remove(&id).ok_or_else(|| not_found(call, "IntegrationResponse", &api, &id))?;
                    if responses.is_empty() {
                        doc.integration_responses.remove(&integration);
                    }
                    Ok(())
                })
                .await?;
            Ok(json!({}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_keys() {
        assert!(check_route_response_key("$default").is_ok());
        assert!(check_route_response_key("$connect").is_err());
        assert!(check_integration_response_key("$default").is_ok());
        assert!(check_integration_response_key("/2\\d\\d/").is_ok());
        assert!(check_integration_response_key("200").is_err());
        assert!(check_integration_response_key("//").is_err());
    }
}
