//! LabelParameterVersion and UnlabelParameterVersion: labels are per parameter (moving a
//! label to another version takes it off the old one), at most 10 per version, and labels
//! that break the naming rules are reported in InvalidLabels instead of failing the call.
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html>

use crate::errors::{SsmError, SsmResult};
use crate::names;
use crate::params::MAX_LABELS;
use crate::service::{req, strings, SsmService};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

fn labels_of(input: &Value) -> SsmResult<Vec<String>> {
    let labels = strings(input, "Labels");
    if labels.is_empty() || labels.len() > MAX_LABELS {
        return Err(SsmError::constraint(format!("{labels:?}"), "labels", "Member must have length between 1 and 10"));
    }
    Ok(labels)
}

impl SsmService {
    pub(crate) async fn label_parameter_version(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = names::plain(&ctx.account_id, &ctx.region, req(input, "Name")?).ok_or(SsmError::NotFound)?;
        let labels = labels_of(input)?;
        let asked = input.get("ParameterVersion").and_then(Value::as_i64);
        let target_name = name.clone();
        self.save_meta(ctx, &name, move |meta| {
            let version = asked.unwrap_or(meta.version);
            if !meta.labels.contains_key(&version) {
                return Err(SsmError::VersionNotFound { name: target_name, version: version.to_string() });
            }
            let (valid, invalid): (Vec<String>, Vec<String>) = labels.into_iter().partition(|l| names::valid_label(l));
            for label in &valid {
                for (v, ls) in meta.labels.iter_mut() {
                    if *v != version {
                        ls.retain(|l| l != label);
                    }
                }
                let on = meta.labels.entry(version).or_default();
                if !on.contains(label) {
                    on.push(label.clone());
                }
            }
            if meta.labels.get(&version).is_some_and(|ls| ls.len() > MAX_LABELS) {
                return Err(SsmError::LabelLimit);
            }
            Ok(json!({"InvalidLabels": invalid, "ParameterVersion": version}))
        })
        .await
    }

    pub(crate) async fn unlabel_parameter_version(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = names::plain(&ctx.account_id, &ctx.region, req(input, "Name")?).ok_or(SsmError::NotFound)?;
        let labels = labels_of(input)?;
        let version = input.get("ParameterVersion").and_then(Value::as_i64).ok_or_else(|| SsmError::missing("parameterVersion"))?;
        let target_name = name.clone();
        self.save_meta(ctx, &name, move |meta| {
            let on = meta.labels.get_mut(&version).ok_or(SsmError::VersionNotFound { name: target_name, version: version.to_string() })?;
            let (removed, invalid): (Vec<String>, Vec<String>) = labels.into_iter().partition(|l| on.contains(l));
            on.retain(|l| !removed.contains(l));
            Ok(json!({"RemovedLabels": removed, "InvalidLabels": invalid}))
        })
        .await
    }
}
