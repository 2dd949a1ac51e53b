//! Roles (create, read, list, update, delete, tags, permissions boundaries, service-linked
//! roles) and instance profiles, as the IAM API reference describes each operation.

use crate::directory::{key, Account};
use crate::documents::{check, DocKind};
use crate::entities::*;
use crate::errors::{IamError, IamResult};
use crate::input::*;
use crate::{ids, Iam};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

fn max_session(inp: &Input) -> IamResult<u32> {
    match inp.int("MaxSessionDuration") {
        None => Ok(3600),
        Some(n) if n < 3600 => Err(IamError::constraint("MaxSessionDuration", &n.to_string(), "Member must have value greater than or equal to 3600")),
        Some(n) if n > 43_200 => Err(IamError::constraint("MaxSessionDuration", &n.to_string(), "Member must have value less than or equal to 43200")),
        Some(n) => Ok(n as u32),
    }
}

/// A permissions boundary must be an existing managed policy.
pub(crate) fn check_boundary(acct: &Account, arn: &str) -> IamResult<()> {
    if crate::managed::find(arn).is_some() || acct.policies.contains_key(arn) {
        return Ok(());
    }
    Err(IamError::NoSuchEntity(format!("Scope ARN: {arn} does not exist or is not attachable.")))
}

pub async fn create_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    check_name("RoleName", &name, 64)?;
    let path = inp.opt("Path").unwrap_or("/").to_string();
    check_path("Path", &path)?;
    let trust = inp.req("AssumeRolePolicyDocument")?.to_string();
    check(&trust, DocKind::Trust, &name)?;
    let description = inp.opt("Description").map(String::from);
    if let Some(d) = &description {
        check_description("Description", d, 1000)?;
    }
    let max = max_session(&inp)?;
    let tags = inp.tags("Tags")?;
    let boundary = inp.opt("PermissionsBoundary").map(String::from);
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |acct, ch| {
            if acct.roles.contains_key(&key(&name)) {
                return Err(IamError::EntityAlreadyExists(format!("Role with name {name} already exists.")));
            }
            if let Some(b) = &boundary {
                check_boundary(acct, b)?;
            }
            let role = Role {
                arn: role_arn(&account, &path, &name),
                id: ids::unique_id("AROA"),
                name: name.clone(),
                path,
                created_ms: now,
                assume_role_policy: trust,
                description,
                max_session_duration: max,
                permissions_boundary: boundary,
                tags,
                policies: Policies::default(),
                last_used_ms: None,
                last_used_region: None,
            };
            ch.put_role(&role);
            let out = json!({"Role": role.to_json(false)});
            let mut out = out;
            if !role.tags.is_empty() {
                out["Role"]["Tags"] = tags_json(&role.tags);
            }
            acct.roles.insert(key(&name), role);
            Ok(out)
        })
        .await
}

pub async fn get_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?;
    iam.dir.read(&ctx.account_id, |a| Ok(json!({"Role": a.role(name)?.to_json(true)})))
}

pub async fn list_roles(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        Ok(a.roles.iter().filter(|(_, r)| r.path.starts_with(&prefix)).map(|(k, r)| (k.clone(), r.to_json(false))).collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Roles".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn update_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    let description = inp.opt("Description").map(String::from);
    if let Some(d) = &description {
        check_description("Description", d, 1000)?;
    }
    let max = if inp.has("MaxSessionDuration") { Some(max_session(&inp)?) } else { None };
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role_mut(&name)?;
            if let Some(d) = description {
                role.description = Some(d);
            }
            if let Some(m) = max {
                role.max_session_duration = m;
            }
            ch.put_role(role);
            Ok(json!({}))
        })
        .await
}

pub async fn update_role_description(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    let description = inp.req("Description")?.to_string();
    check_description("Description", &description, 1000)?;
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role_mut(&name)?;
            role.description = Some(description);
            ch.put_role(role);
            Ok(json!({"Role": role.to_json(true)}))
        })
        .await
}

pub async fn update_assume_role_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    let doc = inp.req("PolicyDocument")?.to_string();
    check(&doc, DocKind::Trust, &name)?;
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role_mut(&name)?;
            role.assume_role_policy = doc;
            ch.put_role(role);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role(&name)?;
            if role.path.starts_with("/aws-service-role/") {
                return Err(IamError::Unmodifiable(format!("Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS", role.name)));
            }
            if !role.policies.attached.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
            }
            if !role.policies.inline.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
            }
            if a.instance_profiles.values().any(|p| p.roles.iter().any(|r| key(r) == key(&name))) {
                return Err(IamError::DeleteConflict("Cannot delete entity, must remove roles from instance profile first.".into()));
            }
            a.roles.remove(&key(&name));
            ch.delete("role", &key(&name));
            Ok(json!({}))
        })
        .await
}

pub async fn put_role_permissions_boundary(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    let arn = inp.req("PermissionsBoundary")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            check_boundary(a, &arn)?;
            let role = a.role_mut(&name)?;
            role.permissions_boundary = Some(arn);
            ch.put_role(role);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_role_permissions_boundary(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role_mut(&name)?;
            role.permissions_boundary = None;
            ch.put_role(role);
            Ok(json!({}))
        })
        .await
}

/// `elasticbeanstalk.amazonaws.com` → `ElasticBeanstalk`-like: each label capitalised.
fn service_role_suffix(service: &str) -> String {
    let base = service.trim_end_matches(".amazonaws.com");
    base.split(['.', '-'])
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

pub async fn create_service_linked_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let service = inp.req("AWSServiceName")?.to_string();
    if !service.ends_with(".amazonaws.com") {
        return Err(IamError::InvalidInput(format!("Invalid service principal: {service}")));
    }
    let suffix = inp.opt("CustomSuffix").map(|s| format!("_{s}")).unwrap_or_default();
    let name = format!("AWSServiceRoleFor{}{suffix}", service_role_suffix(&service));
    let path = format!("/aws-service-role/{service}/");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}]}).to_string();
    let description = inp.opt("Description").map(String::from);
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            if a.roles.contains_key(&key(&name)) {
                return Err(IamError::InvalidInput(format!("Service role name {name} has been taken in this account, please try a different suffix.")));
            }
            let role = Role {
                arn: role_arn(&account, &path, &name),
                id: ids::unique_id("AROA"),
                name: name.clone(),
                path,
                created_ms: now,
                assume_role_policy: trust,
                description,
                max_session_duration: 3600,
                permissions_boundary: None,
                tags: Vec::new(),
                policies: Policies::default(),
                last_used_ms: None,
                last_used_region: None,
            };
            ch.put_role(&role);
            let out = json!({"Role": role.to_json(false)});
            a.roles.insert(key(&name), role);
            Ok(out)
        })
        .await
}

pub async fn delete_service_linked_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("RoleName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role = a.role(&name)?;
            if !role.path.starts_with("/aws-service-role/") {
                return Err(IamError::InvalidInput(format!("Role {name} is not a service-linked role.")));
            }
            let service = role.path.trim_start_matches("/aws-service-role/").trim_end_matches('/').to_string();
            let task = format!("task/aws-service-role/{service}/{}/{}", role.name, nimbus_core::ids::uuid());
            a.roles.remove(&key(&name));
            ch.delete("role", &key(&name));
            Ok(json!({"DeletionTaskId": task}))
        })
        .await
}

pub async fn get_service_linked_role_deletion_status(_iam: &Iam, _ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let task = inp.req("DeletionTaskId")?;
    if !task.starts_with("task/aws-service-role/") {
        return Err(IamError::InvalidInput(format!("Invalid deletion task id: {task}")));
    }
    // Deletion is immediate in nimbus.
    Ok(json!({"Status": "SUCCEEDED"}))
}

// ---- instance profiles ----

fn profile_json(a: &Account, p: &InstanceProfile, with_tags: bool) -> Value {
    let roles: Vec<Value> = p.roles.iter().filter_map(|r| a.roles.get(&key(r))).map(|r| r.to_json(false)).collect();
    let mut m = Map::new();
    m.insert("Path".into(), json!(p.path));
    m.insert("InstanceProfileName".into(), json!(p.name));
    m.insert("InstanceProfileId".into(), json!(p.id));
    m.insert("Arn".into(), json!(p.arn));
    m.insert("CreateDate".into(), json!(nimbus_core::time::iso8601(p.created_ms)));
    m.insert("Roles".into(), Value::Array(roles));
    if with_tags && !p.tags.is_empty() {
        m.insert("Tags".into(), tags_json(&p.tags));
    }
    Value::Object(m)
}

pub async fn create_instance_profile(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("InstanceProfileName")?.to_string();
    check_name("InstanceProfileName", &name, 128)?;
    let path = inp.opt("Path").unwrap_or("/").to_string();
    check_path("Path", &path)?;
    let tags = inp.tags("Tags")?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            if a.instance_profiles.contains_key(&key(&name)) {
                return Err(IamError::EntityAlreadyExists(format!("Instance Profile {name} already exists.")));
            }
            let p = InstanceProfile {
                arn: format!("arn:aws:iam::{account}:instance-profile{path}{name}"),
                id: ids::unique_id("AIPA"),
                name: name.clone(),
                path,
                created_ms: now,
                roles: Vec::new(),
                tags,
            };
            ch.put_profile(&p);
            let out = json!({"InstanceProfile": profile_json(a, &p, true)});
            a.instance_profiles.insert(key(&name), p);
            Ok(out)
        })
        .await
}

pub async fn get_instance_profile(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("InstanceProfileName")?;
    iam.dir.read(&ctx.account_id, |a| Ok(json!({"InstanceProfile": profile_json(a, a.profile(name)?, true)})))
}

pub async fn list_instance_profiles(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        Ok(a.instance_profiles.iter().filter(|(_, p)| p.path.starts_with(&prefix)).map(|(k, p)| (k.clone(), profile_json(a, p, false))).collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("InstanceProfiles".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn list_instance_profiles_for_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let role = inp.req("RoleName")?.to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        a.role(&role)?;
        Ok(a.instance_profiles
            .iter()
            .filter(|(_, p)| p.roles.iter().any(|r| key(r) == key(&role)))
            .map(|(k, p)| (k.clone(), profile_json(a, p, false)))
            .collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("InstanceProfiles".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn add_role_to_instance_profile(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("InstanceProfileName")?.to_string();
    let role = inp.req("RoleName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let role_name = a.role(&role)?.name.clone();
            let p = a.profile_mut(&name)?;
            if !p.roles.is_empty() {
                return Err(IamError::LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".into()));
            }
            p.roles.push(role_name);
            ch.put_profile(p);
            Ok(json!({}))
        })
        .await
}

pub async fn remove_role_from_instance_profile(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("InstanceProfileName")?.to_string();
    let role = inp.req("RoleName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            a.role(&role)?;
            let p = a.profile_mut(&name)?;
            let before = p.roles.len();
            p.roles.retain(|r| key(r) != key(&role));
            if p.roles.len() == before {
                return Err(IamError::NoSuchEntity(format!("The role with name {role} cannot be found.")));
            }
            ch.put_profile(p);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_instance_profile(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("InstanceProfileName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            if !a.profile(&name)?.roles.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must remove roles from instance profile first.".into()));
            }
            a.instance_profiles.remove(&key(&name));
            ch.delete("profile", &key(&name));
            Ok(json!({}))
        })
        .await
}

