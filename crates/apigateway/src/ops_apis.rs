//! CreateApi (with quick create), GetApi(s), UpdateApi, DeleteApi, and the API's tags
//! (TagResource, UntagResource, GetTags).

use crate::errors::{ApiGwError, ApiGwResult};
use crate::ops_children::{new_integration, new_route, new_stage};
use crate::registry::{new_id, ApiDoc, Attrs};
use crate::service::{required, text, Call};
use serde_json::{json, Map, Value};

/// Members CreateApi / UpdateApi store as given.
const SETTABLE: &[&str] = &["ApiKeySelectionExpression", "CorsConfiguration", "Description", "DisableExecuteApiEndpoint", "DisableSchemaValidation", "Name", "RouteSelectionExpression", "Version", "IpAddressType"];

pub fn copy(input: &Value, attrs: &mut Attrs, names: &[&str]) {
    for n in names {
        if let Some(v) = input.get(*n).filter(|v| !v.is_null()) {
            attrs.insert(n.to_string(), v.clone());
        }
    }
}

/// `http://<api-id>.execute-api.localhost:<port>` (`ws://` for a WebSocket API, as AWS
/// answers `wss://`), the port from the request's Host.
fn endpoint(host: &str, id: &str, scheme: &str) -> String {
    let port = host.rsplit_once(':').map(|(_, p)| p).filter(|p| p.bytes().all(|b| b.is_ascii_digit())).unwrap_or("80");
    format!("{scheme}://{id}.execute-api.localhost:{port}")
}

/// The API as its output shapes show it.
pub fn shown(call: &Call, doc: &ApiDoc) -> Value {
    let mut a = doc.api.clone();
    if let Some(id) = a.get("ApiId").and_then(Value::as_str).map(str::to_string) {
        let scheme = if a.get("ProtocolType").and_then(Value::as_str) == Some("WEBSOCKET") { "ws" } else { "http" };
        a.insert("ApiEndpoint".into(), Value::String(endpoint(call.host, &id, scheme)));
    }
    Value::Object(a)
}

pub async fn create_api(call: &Call<'_>, input: Value) -> ApiGwResult<Value> {
    let name = required(&input, "Name")?;
    let protocol = required(&input, "ProtocolType")?;
    let http = match protocol.as_str() {
        "HTTP" => true,
        "WEBSOCKET" => false,
        other => return Err(ApiGwError::BadRequest(format!("Invalid protocol type: {other}"))),
    };
    if !http && text(&input, "RouteSelectionExpression").is_none() {
        return Err(ApiGwError::BadRequest("RouteSelectionExpression is required for WEBSOCKET APIs".into()));
    }
    if !http && (input.get("Target").is_some() || input.get("RouteKey").is_some()) {
        return Err(ApiGwError::BadRequest("Quick create is supported only for HTTP APIs".into()));
    }
    if input.get("Body").is_some() || input.get("BasePath").is_some() {
        return Err(ApiGwError::NotSupported("Importing an OpenAPI definition".into()));
    }
    let mut id = new_id(10);
    while call.registry.exists(&call.scope, &id) {
        id = new_id(10);
    }
    let mut api = Map::new();
    api.insert("ApiId".into(), json!(id));
    api.insert("Name".into(), json!(name));
    api.insert("ProtocolType".into(), json!(protocol));
    api.insert("CreatedDate".into(), json!(call.now));
    api.insert("ApiKeySelectionExpression".into(), json!("$request.header.x-api-key"));
    api.insert("DisableExecuteApiEndpoint".into(), json!(false));
    api.insert("IpAddressType".into(), json!("ipv4"));
    if http {
        api.insert("RouteSelectionExpression".into(), json!("$request.method $request.path"));
    }
    copy(&input, &mut api, SETTABLE);
    api.insert("Tags".into(), input.get("Tags").cloned().unwrap_or_else(|| json!({})));
    let mut doc = ApiDoc { api, ..Default::default() };
    if let Some(target) = text(&input, "Target") {
        quick_create(call, &mut doc, &input, &target)?;
    } else if input.get("RouteKey").is_some() || input.get("CredentialsArn").is_some() {
        return Err(ApiGwError::BadRequest("RouteKey and CredentialsArn are allowed only with Target (quick create)".into()));
    }
    call.registry.insert(&call.scope, &id, doc.clone()).await?;
    Ok(shown(call, &doc))
}

/// Quick create: an integration with `Target`, a route (`$default` unless `RouteKey`) to
/// it, and an auto-deployed `$default` stage — all marked `ApiGatewayManaged`.
fn quick_create(call: &Call, doc: &mut ApiDoc, input: &Value, target: &str) -> ApiGwResult<()> {
    let (kind, version) = if target.starts_with("arn:") { ("AWS_PROXY", "2.0") } else { ("HTTP_PROXY", "1.0") };
    let mut spec = json!({ "IntegrationType": kind, "IntegrationUri": target, "PayloadFormatVersion": version });
    if kind == "HTTP_PROXY" {
        spec["IntegrationMethod"] = json!("ANY");
    }
    if let Some(c) = input.get("CredentialsArn") {
        spec["CredentialsArn"] = c.clone();
    }
    let mut integration = new_integration(true, &spec)?;
    integration.insert("ApiGatewayManaged".into(), json!(true));
    let integration_id = new_id(7);
    integration.insert("IntegrationId".into(), json!(integration_id));
    doc.integrations.insert(integration_id.clone(), integration);
    let key = text(input, "RouteKey").unwrap_or_else(|| "$default".into());
    let mut route = new_route(doc, &json!({ "RouteKey": key, "Target": format!("integrations/{integration_id}") }))?;
    route.insert("ApiGatewayManaged".into(), json!(true));
    let route_id = route["RouteId"].as_str().unwrap_or_default().to_string();
    doc.routes.insert(route_id, route);
    let mut stage = new_stage(call, &json!({ "StageName": "$default", "AutoDeploy": true }));
    stage.insert("ApiGatewayManaged".into(), json!(true));
    doc.stages.insert("$default".into(), stage);
    Ok(())
}

fn api_id(input: &Value) -> ApiGwResult<String> {
    required(input, "ApiId")
}

pub fn get_api(call: &Call, input: Value) -> ApiGwResult<Value> {
    let doc = call.registry.get(&call.scope, &api_id(&input)?)?;
    Ok(shown(call, &doc))
}

/// Pages of `MaxResults` (a string on this wire) after `NextToken`, which is the next
/// item's id.
pub fn page(items: Vec<(String, Value)>, input: &Value) -> ApiGwResult<Value> {
    let max = match text(input, "MaxResults") {
        Some(m) => m.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| ApiGwError::BadRequest(format!("Invalid MaxResults: {m}")))?,
        None => usize::MAX,
    };
    let start = match text(input, "NextToken") {
        Some(t) => items.iter().position(|(k, _)| *k >= t).unwrap_or(items.len()),
        None => 0,
    };
    let rest = &items[start..];
    let mut out = json!({ "Items": rest.iter().take(max).map(|(_, v)| v.clone()).collect::<Vec<_>>() });
    if let Some((next, _)) = rest.get(max) {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

pub fn get_apis(call: &Call, input: Value) -> ApiGwResult<Value> {
    let items = call.registry.list(&call.scope).into_iter().map(|(id, d)| (id, shown(call, &d))).collect();
    page(items, &input)
}

pub async fn update_api(call: &Call<'_>, input: Value) -> ApiGwResult<Value> {
    let id = api_id(&input)?;
    if input.get("Target").is_some() || input.get("RouteKey").is_some() {
        return Err(ApiGwError::NotSupported("UpdateApi's quick-create members (Target, RouteKey)".into()));
    }
    let doc = call
        .registry
        .update(&call.scope, &id, |doc| {
            copy(&input, &mut doc.api, SETTABLE);
            Ok(doc.clone())
        })
        .await?;
    Ok(shown(call, &doc))
}

pub async fn delete_api(call: &Call<'_>, input: Value) -> ApiGwResult<Value> {
    call.registry.delete(&call.scope, &api_id(&input)?).await?;
    Ok(json!({}))
}

/// The API id of a resource ARN `arn:aws:apigateway:<region>::/apis/<id>`.
fn arn_api(call: &Call, arn: &str) -> ApiGwResult<String> {
    let id = arn.rsplit_once("::/apis/").map(|(_, id)| id).filter(|id| !id.contains('/'));
    id.map(str::to_string).ok_or_else(|| ApiGwError::NotFound(format!("Invalid resource identifier specified {}:{arn}", call.scope.0)))
}

pub async fn tag_resource(call: &Call<'_>, input: Value) -> ApiGwResult<Value> {
    let id = arn_api(call, &required(&input, "ResourceArn")?)?;
    let tags = input.get("Tags").and_then(Value::as_object).cloned().unwrap_or_default();
    call.registry
        .update(&call.scope, &id, |doc| {
            let entry = doc.api.entry("Tags").or_insert_with(|| json!({}));
            if let Value::Object(existing) = entry {
                existing.extend(tags);
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn untag_resource(call: &Call<'_>, input: Value) -> ApiGwResult<Value> {
    let id = arn_api(call, &required(&input, "ResourceArn")?)?;
    let keys: Vec<String> = input.get("TagKeys").and_then(Value::as_array).map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect()).unwrap_or_default();
    call.registry
        .update(&call.scope, &id, |doc| {
            if let Some(Value::Object(existing)) = doc.api.get_mut("Tags") {
                for k in &keys {
                    existing.remove(k);
                }
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub fn get_tags(call: &Call, input: Value) -> ApiGwResult<Value> {
    let id = arn_api(call, &required(&input, "ResourceArn")?)?;
    let doc = call.registry.get(&call.scope, &id)?;
    Ok(json!({ "Tags": doc.api.get("Tags").cloned().unwrap_or_else(|| json!({})) }))
}
