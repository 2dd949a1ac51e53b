//! Identity providers (OpenID Connect, SAML), account aliases, and the account-wide
//! reports (GetAccountSummary, GetAccountAuthorizationDetails).

use crate::directory::Account;
use crate::entities::*;
use crate::errors::{IamError, IamResult};
use crate::input::*;
use crate::ops_policies::lookup;
use crate::ops_tags::{merge_tags, remove_tags, tag_page};
use crate::Iam;
use nimbus_core::time::iso8601;
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

// ---- OpenID Connect providers ----

pub async fn create_oidc_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let url = inp.req("Url")?.to_string();
    let Some(host_path) = url.strip_prefix("https://") else {
        return Err(IamError::Validation("Invalid Open ID Connect Provider URL".into()));
    };
    if host_path.is_empty() || url.len() > 255 {
        return Err(IamError::Validation("Invalid Open ID Connect Provider URL".into()));
    }
    let host_path = host_path.trim_end_matches('/').to_string();
    let client_ids = inp.strings("ClientIDList");
    if client_ids.len() > 100 {
        return Err(IamError::LimitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100".into()));
    }
    let thumbprints = inp.strings("ThumbprintList");
    if thumbprints.len() > 5 {
        return Err(IamError::LimitExceeded("Thumbprint list must contain fewer than 5 entries.".into()));
    }
    if let Some(bad) = thumbprints.iter().find(|t| t.len() != 40) {
        return Err(IamError::constraint("thumbprintList.member", bad, "Member must have length greater than or equal to 40"));
    }
    let tags = inp.tags("Tags")?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let arn = format!("arn:aws:iam::{account}:oidc-provider/{host_path}");
            if a.oidc.contains_key(&arn) {
                return Err(IamError::EntityAlreadyExists(format!("Provider with url {url} already exists.")));
            }
            let p = OidcProvider { url: host_path.clone(), arn: arn.clone(), client_ids, thumbprints, created_ms: now, tags };
            ch.put("oidc", &arn, &p);
            let mut out = json!({"OpenIDConnectProviderArn": arn});
            if !p.tags.is_empty() {
                out["Tags"] = tags_json(&p.tags);
            }
            a.oidc.insert(arn, p);
            Ok(out)
        })
        .await
}

fn oidc<'a>(a: &'a Account, arn: &str) -> IamResult<&'a OidcProvider> {
    a.oidc.get(arn).ok_or_else(|| IamError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}")))
}

fn oidc_mut<'a>(a: &'a mut Account, arn: &str) -> IamResult<&'a mut OidcProvider> {
    a.oidc.get_mut(arn).ok_or_else(|| IamError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}")))
}

pub async fn get_oidc_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("OpenIDConnectProviderArn")?;
    iam.dir.read(&ctx.account_id, |a| {
        let p = oidc(a, arn)?;
        let mut out = json!({"Url": p.url, "ClientIDList": p.client_ids, "ThumbprintList": p.thumbprints, "CreateDate": iso8601(p.created_ms)});
        if !p.tags.is_empty() {
            out["Tags"] = tags_json(&p.tags);
        }
        Ok(out)
    })
}

pub async fn list_oidc_providers(iam: &Iam, ctx: &RequestContext, _inp: Input) -> IamResult<Value> {
    iam.dir.read(&ctx.account_id, |a| Ok(json!({"OpenIDConnectProviderList": a.oidc.keys().map(|arn| json!({"Arn": arn})).collect::<Vec<_>>()})))
}

pub async fn delete_oidc_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("OpenIDConnectProviderArn")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            // Deleting a provider that does not exist succeeds (the API reference: "does not fail").
            if a.oidc.remove(&arn).is_some() {
                ch.delete("oidc", &arn);
            }
            Ok(json!({}))
        })
        .await
}

/// Add/remove client ids, replace thumbprints, tag/untag: one edit of a provider.
pub async fn edit_oidc_provider(iam: &Iam, ctx: &RequestContext, inp: Input, op: &str) -> IamResult<Value> {
    let arn = inp.req("OpenIDConnectProviderArn")?.to_string();
    let tags = if op == "TagOpenIDConnectProvider" { inp.tags("Tags")? } else { Vec::new() };
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = oidc_mut(a, &arn)?;
            match op {
                "AddClientIDToOpenIDConnectProvider" => {
                    let id = inp.req("ClientID")?.to_string();
                    if !p.client_ids.contains(&id) {
                        p.client_ids.push(id);
                    }
                }
                "RemoveClientIDFromOpenIDConnectProvider" => {
                    let id = inp.req("ClientID")?;
                    p.client_ids.retain(|c| c != id);
                }
                "UpdateOpenIDConnectProviderThumbprint" => p.thumbprints = inp.strings("ThumbprintList"),
                "TagOpenIDConnectProvider" => merge_tags(&mut p.tags, tags)?,
                _ => remove_tags(&mut p.tags, &inp.strings("TagKeys")),
            }
            ch.put("oidc", &arn, p);
            Ok(json!({}))
        })
        .await
}

pub async fn list_oidc_provider_tags(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("OpenIDConnectProviderArn")?;
    let (marker, max) = inp.page()?;
    let tags = iam.dir.read(&ctx.account_id, |a| Ok(oidc(a, arn)?.tags.clone()))?;
    Ok(tag_page(&tags, marker.as_deref(), max))
}

/// The provider that issues tokens for `issuer` (STS AssumeRoleWithWebIdentity).
pub fn oidc_for_issuer(a: &Account, issuer: &str) -> Option<OidcProvider> {
    let host_path = issuer.trim_start_matches("https://").trim_end_matches('/');
    a.oidc.values().find(|p| p.url == host_path).cloned()
}

// ---- SAML providers ----

pub async fn create_saml_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("Name")?.to_string();
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(IamError::constraint("Name", &name, "Member must satisfy regular expression pattern: [\\w._-]+"));
    }
    let metadata = inp.req("SAMLMetadataDocument")?.to_string();
    if metadata.len() < 1000 {
        return Err(IamError::constraint("SAMLMetadataDocument", "***", "Member must have length greater than or equal to 1000"));
    }
    let tags = inp.tags("Tags")?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let arn = format!("arn:aws:iam::{account}:saml-provider/{name}");
            if a.saml.contains_key(&arn) {
                return Err(IamError::EntityAlreadyExists(format!("SAMLProvider {name} already exists")));
            }
            let p = SamlProvider { name, arn: arn.clone(), metadata, created_ms: now, valid_until_ms: now + 100 * 365 * 86_400_000, tags };
            ch.put("saml", &arn, &p);
            let mut out = json!({"SAMLProviderArn": arn});
            if !p.tags.is_empty() {
                out["Tags"] = tags_json(&p.tags);
            }
            a.saml.insert(arn, p);
            Ok(out)
        })
        .await
}

fn saml<'a>(a: &'a Account, arn: &str) -> IamResult<&'a SamlProvider> {
    a.saml.get(arn).ok_or_else(|| IamError::NoSuchEntity(format!("Manifest not found for arn {arn}")))
}

pub async fn get_saml_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("SAMLProviderArn")?;
    iam.dir.read(&ctx.account_id, |a| {
        let p = saml(a, arn)?;
        let mut out = json!({"SAMLMetadataDocument": p.metadata, "CreateDate": iso8601(p.created_ms), "ValidUntil": iso8601(p.valid_until_ms)});
        if !p.tags.is_empty() {
            out["Tags"] = tags_json(&p.tags);
        }
        Ok(out)
    })
}

pub async fn list_saml_providers(iam: &Iam, ctx: &RequestContext, _inp: Input) -> IamResult<Value> {
    iam.dir.read(&ctx.account_id, |a| {
        Ok(json!({"SAMLProviderList": a.saml.values().map(|p| json!({"Arn": p.arn, "ValidUntil": iso8601(p.valid_until_ms), "CreateDate": iso8601(p.created_ms)})).collect::<Vec<_>>()}))
    })
}

pub async fn update_saml_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("SAMLProviderArn")?.to_string();
    let metadata = inp.opt("SAMLMetadataDocument").map(String::from);
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = a.saml.get_mut(&arn).ok_or_else(|| IamError::NoSuchEntity(format!("Manifest not found for arn {arn}")))?;
            if let Some(m) = metadata {
                p.metadata = m;
            }
            ch.put("saml", &arn, p);
            Ok(json!({"SAMLProviderArn": arn}))
        })
        .await
}

pub async fn delete_saml_provider(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("SAMLProviderArn")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            saml(a, &arn)?;
            a.saml.remove(&arn);
            ch.delete("saml", &arn);
            Ok(json!({}))
        })
        .await
}

// ---- account aliases ----

pub async fn create_account_alias(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let alias = inp.req("AccountAlias")?.to_string();
    let ok = (3..=63).contains(&alias.len())
        && alias.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !alias.starts_with('-')
        && !alias.ends_with('-')
        && !alias.contains("--");
    if !ok {
        return Err(IamError::constraint("AccountAlias", &alias, "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"));
    }
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            if a.aliases.contains(&alias) {
                return Err(IamError::EntityAlreadyExists(format!("The account alias {alias} already exists.")));
            }
            // An account has at most one alias: a new one replaces the old.
            for old in std::mem::take(&mut a.aliases) {
                ch.delete("alias", &old);
            }
            ch.put("alias", &alias, &alias);
            a.aliases.push(alias);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_account_alias(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let alias = inp.req("AccountAlias")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            if !a.aliases.contains(&alias) {
                return Err(IamError::NoSuchEntity(format!("The account alias {alias} cannot be found.")));
            }
            a.aliases.retain(|x| x != &alias);
            ch.delete("alias", &alias);
            Ok(json!({}))
        })
        .await
}

pub async fn list_account_aliases(iam: &Iam, ctx: &RequestContext, _inp: Input) -> IamResult<Value> {
    iam.dir.read(&ctx.account_id, |a| Ok(json!({"AccountAliases": a.aliases, "IsTruncated": false})))
}

// ---- reports ----

pub async fn get_account_summary(iam: &Iam, ctx: &RequestContext, _inp: Input) -> IamResult<Value> {
    iam.dir.read(&ctx.account_id, |a| {
        let attached = a.policies.keys().filter(|arn| a.usage(arn).0 > 0).count();
        let versions: usize = a.policies.values().map(|p| p.versions.len()).sum();
        let mut m = Map::new();
        for (k, v) in [
            ("Users", a.users.len()),
            ("UsersQuota", 5000),
            ("Groups", a.groups.len()),
            ("GroupsQuota", 300),
            ("Roles", a.roles.len()),
            ("RolesQuota", 1000),
            ("Policies", a.policies.len()),
            ("PoliciesQuota", 1500),
            ("PolicyVersionsInUse", versions),
            ("PolicyVersionsInUseQuota", 10000),
            ("AttachedPoliciesPerUserQuota", 10),
            ("AttachedPoliciesPerGroupQuota", 10),
            ("AttachedPoliciesPerRoleQuota", 10),
            ("GroupsPerUserQuota", 10),
            ("AccessKeysPerUserQuota", 2),
            ("InstanceProfiles", a.instance_profiles.len()),
            ("InstanceProfilesQuota", 1000),
            ("Providers", a.oidc.len() + a.saml.len()),
            ("ServerCertificates", 0),
            ("ServerCertificatesQuota", 20),
            ("MFADevices", 0),
            ("MFADevicesInUse", 0),
            ("AccountMFAEnabled", 0),
            ("AccountAccessKeysPresent", 0),
            ("AccountSigningCertificatesPresent", 0),
            ("UserPolicySizeQuota", 2048),
            ("GroupPolicySizeQuota", 5120),
            ("PolicySizeQuota", 6144),
            ("VersionsPerPolicyQuota", 5),
            ("AssumeRolePolicySizeQuota", 2048),
            ("SigningCertificatesPerUserQuota", 2),
            ("GlobalEndpointTokenVersion", 1),
        ] {
            m.insert(k.to_string(), json!(v));
        }
        m.insert("AttachedPoliciesCount".into(), json!(attached));
        Ok(json!({"SummaryMap": m}))
    })
}

fn inline_list(p: &Policies) -> Vec<Value> {
    p.inline.iter().map(|(n, d)| json!({"PolicyName": n, "PolicyDocument": crate::ids::encode_document(d)})).collect()
}

fn attached_list(a: &Account, p: &Policies) -> Vec<Value> {
    p.attached.iter().filter_map(|arn| lookup(a, arn)).map(|m| json!({"PolicyName": m.name, "PolicyArn": m.arn})).collect()
}

pub async fn get_account_authorization_details(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let filter = inp.strings("Filter");
    let want = |k: &str| filter.is_empty() || filter.iter().any(|f| f == k);
    iam.dir.read(&ctx.account_id, |a| {
        let mut out = Map::new();
        if want("User") {
            let users: Vec<Value> = a
                .users
                .values()
                .map(|u| {
                    let mut v = u.to_json(true);
                    v["UserPolicyList"] = json!(inline_list(&u.policies));
                    v["GroupList"] = json!(u.groups);
                    v["AttachedManagedPolicies"] = json!(attached_list(a, &u.policies));
                    v
                })
                .collect();
            out.insert("UserDetailList".into(), json!(users));
        }
        if want("Group") {
            let groups: Vec<Value> = a
                .groups
                .values()
                .map(|g| {
                    let mut v = g.to_json();
                    v["GroupPolicyList"] = json!(inline_list(&g.policies));
                    v["AttachedManagedPolicies"] = json!(attached_list(a, &g.policies));
                    v
                })
                .collect();
            out.insert("GroupDetailList".into(), json!(groups));
        }
        if want("Role") {
            let roles: Vec<Value> = a
                .roles
                .values()
                .map(|r| {
                    let mut v = r.to_json(true);
                    v["RolePolicyList"] = json!(inline_list(&r.policies));
                    v["AttachedManagedPolicies"] = json!(attached_list(a, &r.policies));
                    let profiles: Vec<Value> = a
                        .instance_profiles
                        .values()
                        .filter(|p| p.roles.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
                        .map(|p| json!({"Path": p.path, "InstanceProfileName": p.name, "InstanceProfileId": p.id, "Arn": p.arn, "CreateDate": iso8601(p.created_ms), "Roles": [r.to_json(false)]}))
                        .collect();
                    v["InstanceProfileList"] = json!(profiles);
                    v
                })
                .collect();
            out.insert("RoleDetailList".into(), json!(roles));
        }
        let local = want("LocalManagedPolicy");
        let aws = want("AWSManagedPolicy");
        let policies: Vec<Value> = crate::managed::catalogue()
            .iter()
            .filter(|p| aws && a.usage(&p.arn).0 + a.usage(&p.arn).1 > 0)
            .chain(a.policies.values().filter(|_| local))
            .map(|p| {
                let (attached, boundary) = a.usage(&p.arn);
                let mut v = p.to_json(attached, boundary, true);
                v["PolicyVersionList"] = json!(p.versions.iter().map(|ver| version_json(ver, &p.default_version, true)).collect::<Vec<_>>());
                v
            })
            .collect();
        out.insert("Policies".into(), json!(policies));
        out.insert("IsTruncated".into(), json!(false));
        Ok(Value::Object(out))
    })
}
