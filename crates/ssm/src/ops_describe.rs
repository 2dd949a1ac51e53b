//! DescribeParameters: metadata of the latest versions from the in-memory index (no
//! values, so no store reads), with ParameterFilters and pagination.
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html>

use crate::errors::{SsmError, SsmResult};
use crate::filters::{self, For};
use crate::names;
use crate::params::Meta;
use crate::service::{flag, int_in, s, secs, token, untoken, SsmService};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

fn metadata(ctx: &RequestContext, name: &str, meta: &Meta) -> Value {
    let c = &meta.current;
    let mut m = json!({
        "Name": name,
        "ARN": names::arn(&ctx.account_id, &ctx.region, name),
        "Type": c.ptype,
        "LastModifiedDate": secs(c.modified_ms),
        "LastModifiedUser": c.user,
        "Version": meta.version,
        "Tier": c.tier,
        "Policies": crate::policies::render(c.policies.as_deref()),
        "DataType": c.data_type,
    });
    if let Some(k) = &c.key_id {
        m["KeyId"] = json!(k);
    }
    if let Some(d) = &c.description {
        m["Description"] = json!(d);
    }
    if let Some(p) = &c.allowed_pattern {
        m["AllowedPattern"] = json!(p);
    }
    m
}

impl SsmService {
    pub(crate) fn describe_parameters(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        if input.get("Filters").and_then(Value::as_array).is_some_and(|f| !f.is_empty()) {
            return Err(SsmError::NotSupported("DescribeParameters' legacy Filters member (use ParameterFilters)".into()));
        }
        if flag(input, "Shared") {
            return Err(SsmError::NotSupported("DescribeParameters with Shared (parameters shared through AWS RAM)".into()));
        }
        let filters = filters::parse(input, For::Describe)?;
        let max = int_in(input, "MaxResults", 1, 50)?.unwrap_or(50) as usize;
        let start = s(input, "NextToken").map(untoken).transpose()?.unwrap_or_default();
        let all = self.params.lock();
        let mut list = Vec::new();
        let mut next = None;
        if let Some(scope) = all.get(&Self::scope(ctx)) {
            for (name, meta) in scope.range(start..) {
                if !filters::matches(&filters, name, meta) {
                    continue;
                }
                if list.len() == max {
                    next = Some(token(name));
                    break;
                }
                list.push(metadata(ctx, name, meta));
            }
        }
        let mut out = json!({"Parameters": list});
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }
}
