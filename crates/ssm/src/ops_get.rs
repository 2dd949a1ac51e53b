//! GetParameter, GetParameters, GetParametersByPath and GetParameterHistory: resolving a
//! name with its `:version` / `:label` selector against the in-memory index, reading the
//! value from the store, decrypting SecureString values when asked.
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html>
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html>
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html>

use crate::errors::{SsmError, SsmResult};
use crate::filters::{self, For};
use crate::names::{self, Selector};
use crate::params::Meta;
use crate::service::{flag, int_in, req, s, secs, strings, token, untoken, SsmService};
use crate::store::StoredVersion;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

/// A reference resolved to one kept version.
struct Resolved {
    name: String,
    version: i64,
    selector: Option<String>,
}

fn resolve(meta: &Meta, name: String, selector: Selector, text: Option<String>) -> SsmResult<Resolved> {
    let version = match &selector {
        Selector::Latest => meta.version,
        Selector::Version(v) if meta.labels.contains_key(v) => *v,
        Selector::Version(v) => return Err(SsmError::VersionNotFound { name, version: v.to_string() }),
        Selector::Label(l) => meta.label_version(l).ok_or(SsmError::NotFound)?,
    };
    Ok(Resolved { name, version, selector: text })
}

impl SsmService {
    fn resolve_ref(&self, ctx: &RequestContext, reference: &str) -> SsmResult<Resolved> {
        let (name, selector, text) = names::parse_ref(&ctx.account_id, &ctx.region, reference);
        let meta = self.meta(ctx, &name)?;
        resolve(&meta, name, selector, text)
    }

    /// Reads a resolved version (after a barrier).
    fn read(&self, ctx: &RequestContext, r: &Resolved) -> SsmResult<StoredVersion> {
        // Deleted between the index lookup and the read: as if it never was.
        self.store.version(&ctx.account_id, &ctx.region, &r.name, r.version)?.ok_or(SsmError::NotFound)
    }

    /// The value as returned: SecureString decrypted only when asked.
    async fn value(&self, ctx: &RequestContext, name: &str, v: &StoredVersion, decrypt: bool) -> SsmResult<String> {
        if decrypt && v.meta.ptype == "SecureString" {
            self.decrypt(ctx, name, &v.value).await
        } else {
            Ok(v.value.clone())
        }
    }

    /// A `Parameter` shape.
    async fn parameter(&self, ctx: &RequestContext, r: &Resolved, v: &StoredVersion, decrypt: bool) -> SsmResult<Value> {
        let mut p = json!({
            "Name": r.name,
            "Type": v.meta.ptype,
            "Value": self.value(ctx, &r.name, v, decrypt).await?,
            "Version": v.version,
            "LastModifiedDate": secs(v.meta.modified_ms),
            "ARN": names::arn(&ctx.account_id, &ctx.region, &r.name),
            "DataType": v.meta.data_type,
        });
        if let Some(sel) = &r.selector {
            p["Selector"] = json!(sel);
        }
        Ok(p)
    }

    pub(crate) async fn get_parameter(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let r = self.resolve_ref(ctx, req(input, "Name")?)?;
        self.store.barrier().await?;
        let v = self.read(ctx, &r)?;
        Ok(json!({"Parameter": self.parameter(ctx, &r, &v, flag(input, "WithDecryption")).await?}))
    }

    pub(crate) async fn get_parameters(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let list = strings(input, "Names");
        if list.is_empty() || list.len() > 10 {
            return Err(SsmError::constraint(format!("{list:?}"), "names", "Member must have length between 1 and 10"));
        }
        let decrypt = flag(input, "WithDecryption");
        let mut found = Vec::new();
        let mut invalid = Vec::new();
        for reference in list {
            match self.resolve_ref(ctx, &reference) {
                Ok(r) => found.push(r),
                Err(SsmError::NotFound | SsmError::VersionNotFound { .. }) => invalid.push(reference),
                Err(e) => return Err(e),
            }
        }
        self.store.barrier().await?;
        let mut params = Vec::new();
        for r in &found {
            let v = self.read(ctx, r)?;
            params.push(self.parameter(ctx, r, &v, decrypt).await?);
        }
        Ok(json!({"Parameters": params, "InvalidParameters": invalid}))
    }

    pub(crate) async fn get_parameters_by_path(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let path = req(input, "Path")?;
        names::check_path(path)?;
        let recursive = flag(input, "Recursive");
        let decrypt = flag(input, "WithDecryption");
        let filters = filters::parse(input, For::ByPath)?;
        let max = int_in(input, "MaxResults", 1, 10)?.unwrap_or(10) as usize;
        let start = s(input, "NextToken").map(untoken).transpose()?;
        let (page, next) = {
            let all = self.params.lock();
            let mut page = Vec::new();
            let mut next = None;
            if let Some(scope) = all.get(&Self::scope(ctx)) {
                let from = start.clone().unwrap_or_default();
                for (name, meta) in scope.range(from..) {
                    if !names::under(path, name, recursive) || !filters::matches(&filters, name, meta) {
                        continue;
                    }
                    if page.len() == max {
                        next = Some(token(name));
                        break;
                    }
                    let version = filters::label_version(&filters, meta).unwrap_or(meta.version);
                    page.push(Resolved { name: name.clone(), version, selector: None });
                }
            }
            (page, next)
        };
        self.store.barrier().await?;
        let mut params = Vec::new();
        for r in &page {
            match self.read(ctx, r) {
                Ok(v) => params.push(self.parameter(ctx, r, &v, decrypt).await?),
                Err(SsmError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let mut out = json!({"Parameters": params});
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    pub(crate) async fn get_parameter_history(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = names::plain(&ctx.account_id, &ctx.region, req(input, "Name")?).ok_or(SsmError::NotFound)?;
        let decrypt = flag(input, "WithDecryption");
        let max = int_in(input, "MaxResults", 1, 50)?.unwrap_or(50) as usize;
        let from = match s(input, "NextToken") {
            Some(t) => untoken(t)?.parse::<i64>().map_err(|_| SsmError::InvalidNextToken)?,
            None => 0,
        };
        let meta = self.meta(ctx, &name)?;
        self.store.barrier().await?;
        let mut versions = self.store.history(&ctx.account_id, &ctx.region, &name, from, max + 1)?;
        let next = if versions.len() > max { versions.pop().map(|v| token(&v.version.to_string())) } else { None };
        let mut out_list = Vec::new();
        for v in &versions {
            let mut h = json!({
                "Name": name,
                "Type": v.meta.ptype,
                "LastModifiedDate": secs(v.meta.modified_ms),
                "LastModifiedUser": v.meta.user,
                "Value": self.value(ctx, &name, v, decrypt).await?,
                "Version": v.version,
                "Labels": meta.labels.get(&v.version).cloned().unwrap_or_default(),
                "Tier": v.meta.tier,
                "Policies": crate::policies::render(v.meta.policies.as_deref()),
                "DataType": v.meta.data_type,
            });
            if let Some(k) = &v.meta.key_id {
                h["KeyId"] = json!(k);
            }
            if let Some(d) = &v.meta.description {
                h["Description"] = json!(d);
            }
            if let Some(p) = &v.meta.allowed_pattern {
                h["AllowedPattern"] = json!(p);
            }
            out_list.push(h);
        }
        let mut out = json!({"Parameters": out_list});
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }
}
