//! AddTagsToResource, RemoveTagsFromResource, ListTagsForResource for ResourceType
//! `Parameter` (the ResourceId is the parameter's name); SSM's other resource types answer
//! "not supported". <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html>

use crate::errors::{SsmError, SsmResult};
use crate::names;
use crate::ops_put::parse_tags;
use crate::service::{req, strings, SsmService};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const TYPES: [&str; 8] = ["Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline", "OpsItem", "OpsMetadata", "Automation"];
const MAX_TAGS: usize = 50;

/// The parameter a tagging call names.
fn parameter(ctx: &RequestContext, input: &Value) -> SsmResult<String> {
    let rtype = req(input, "ResourceType")?;
    if !TYPES.contains(&rtype) {
        return Err(SsmError::InvalidResourceType);
    }
    if rtype != "Parameter" {
        return Err(SsmError::NotSupported(format!("Tagging resources of type {rtype}")));
    }
    names::plain(&ctx.account_id, &ctx.region, req(input, "ResourceId")?).ok_or(SsmError::InvalidResourceId)
}

impl SsmService {
    pub(crate) async fn add_tags(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = parameter(ctx, input)?;
        let tags = parse_tags(input)?.ok_or_else(|| SsmError::missing("tags"))?;
        self.save_meta(ctx, &name, move |meta| {
            meta.tags.extend(tags);
            if meta.tags.len() > MAX_TAGS {
                return Err(SsmError::TooManyTags);
            }
            Ok(json!({}))
        })
        .await
        .map_err(|e| if matches!(e, SsmError::NotFound) { SsmError::InvalidResourceId } else { e })
    }

    pub(crate) async fn remove_tags(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = parameter(ctx, input)?;
        let keys = strings(input, "TagKeys");
        self.save_meta(ctx, &name, move |meta| {
            for k in &keys {
                meta.tags.remove(k);
            }
            Ok(json!({}))
        })
        .await
        .map_err(|e| if matches!(e, SsmError::NotFound) { SsmError::InvalidResourceId } else { e })
    }

    pub(crate) fn list_tags(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = parameter(ctx, input)?;
        let meta = self.meta(ctx, &name).map_err(|_| SsmError::InvalidResourceId)?;
        let list: Vec<Value> = meta.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        Ok(json!({"TagList": list}))
    }
}
