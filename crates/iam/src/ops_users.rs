//! Users, groups and group membership, and access keys (a real secret, shown once by
//! CreateAccessKey; the key authenticates requests as its user from then on).

use crate::directory::{key, user_key, Account, Changes};
use crate::entities::*;
use crate::errors::{IamError, IamResult};
use crate::input::*;
use crate::ops_roles::check_boundary;
use crate::{ids, Iam};
use nimbus_core::time::iso8601;
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

pub async fn create_user(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?.to_string();
    check_name("UserName", &name, 64)?;
    let path = inp.opt("Path").unwrap_or("/").to_string();
    check_path("Path", &path)?;
    let tags = inp.tags("Tags")?;
    let boundary = inp.opt("PermissionsBoundary").map(String::from);
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            if a.users.contains_key(&key(&name)) {
                return Err(IamError::EntityAlreadyExists(format!("User with name {name} already exists.")));
            }
            if let Some(b) = &boundary {
                check_boundary(a, b)?;
            }
            let u = User {
                arn: format!("arn:aws:iam::{account}:user{path}{name}"),
                id: ids::unique_id("AIDA"),
                name: name.clone(),
                path,
                created_ms: now,
                permissions_boundary: boundary,
                tags,
                policies: Policies::default(),
                groups: Vec::new(),
            };
            ch.put_user(&u);
            let out = json!({"User": u.to_json(true)});
            a.users.insert(key(&name), u);
            Ok(out)
        })
        .await
}

/// GetUser without a name describes the caller (root when signed with root credentials).
pub async fn get_user(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    match inp.opt("UserName") {
        Some(name) => iam.dir.read(&ctx.account_id, |a| Ok(json!({"User": a.user(name)?.to_json(true)}))),
        None => {
            let caller = ctx.principal_arn.as_deref().unwrap_or("");
            if let Some(name) = caller.rsplit_once(":user/").map(|(_, p)| p.rsplit('/').next().unwrap_or(p)) {
                return iam.dir.read(&ctx.account_id, |a| Ok(json!({"User": a.user(name)?.to_json(true)})));
            }
            if caller.contains(":assumed-role/") || caller.contains(":federated-user/") {
                return Err(IamError::Validation("Must specify userName when calling with non-User credentials".into()));
            }
            // The root user has no name or path (GetUser's example for root credentials).
            Ok(json!({"User": {"UserId": ctx.account_id, "Arn": format!("arn:aws:iam::{}:root", ctx.account_id), "CreateDate": iso8601(0)}}))
        }
    }
}

pub async fn list_users(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        Ok(a.users.iter().filter(|(_, u)| u.path.starts_with(&prefix)).map(|(k, u)| (k.clone(), u.to_json(false))).collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Users".into(), Value::Array(page));
    Ok(with_page(out, next))
}

/// Renames a user (and its ARN) and/or moves it to a new path, keeping keys, groups and policies.
pub async fn update_user(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?.to_string();
    let new_name = inp.opt("NewUserName").map(String::from);
    if let Some(n) = &new_name {
        check_name("NewUserName", n, 64)?;
    }
    let new_path = inp.opt("NewPath").map(String::from);
    if let Some(p) = &new_path {
        check_path("NewPath", p)?;
    }
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let old = a.user(&name)?.clone();
            let target = new_name.clone().unwrap_or_else(|| old.name.clone());
            if key(&target) != key(&old.name) && a.users.contains_key(&key(&target)) {
                return Err(IamError::EntityAlreadyExists(format!("User with name {target} already exists.")));
            }
            let mut u = old.clone();
            u.name = target.clone();
            u.path = new_path.clone().unwrap_or(old.path.clone());
            u.arn = format!("arn:aws:iam::{account}:user{}{}", u.path, u.name);
            a.users.remove(&key(&old.name));
            ch.delete("user", &key(&old.name));
            for k in a.access_keys.values_mut().filter(|k| key(&k.user_name) == key(&old.name)) {
                k.user_name = u.name.clone();
                ch.put("key", &k.id, k);
                ch.index_key(&k.id, Some(user_key(k, &u, &account)));
            }
            ch.put_user(&u);
            a.users.insert(key(&u.name), u);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_user(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let u = a.user(&name)?;
            if a.access_keys.values().any(|k| key(&k.user_name) == key(&name)) {
                return Err(IamError::DeleteConflict("Cannot delete entity, must delete access keys first.".into()));
            }
            if !u.groups.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must remove users from group first.".into()));
            }
            if !u.policies.attached.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
            }
            if !u.policies.inline.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
            }
            a.users.remove(&key(&name));
            ch.delete("user", &key(&name));
            Ok(json!({}))
        })
        .await
}

pub async fn put_user_permissions_boundary(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?.to_string();
    let arn = inp.req("PermissionsBoundary")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            check_boundary(a, &arn)?;
            let u = a.user_mut(&name)?;
            u.permissions_boundary = Some(arn);
            ch.put_user(u);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_user_permissions_boundary(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let u = a.user_mut(&name)?;
            u.permissions_boundary = None;
            ch.put_user(u);
            Ok(json!({}))
        })
        .await
}

// ---- groups ----

pub async fn create_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("GroupName")?.to_string();
    check_name("GroupName", &name, 128)?;
    let path = inp.opt("Path").unwrap_or("/").to_string();
    check_path("Path", &path)?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            if a.groups.contains_key(&key(&name)) {
                return Err(IamError::EntityAlreadyExists(format!("Group with name {name} already exists.")));
            }
            let g = Group {
                arn: format!("arn:aws:iam::{account}:group{path}{name}"),
                id: ids::unique_id("AGPA"),
                name: name.clone(),
                path,
                created_ms: now,
                policies: Policies::default(),
            };
            ch.put_group(&g);
            let out = json!({"Group": g.to_json()});
            a.groups.insert(key(&name), g);
            Ok(out)
        })
        .await
}

fn members(a: &Account, group: &str) -> Vec<Value> {
    a.users.values().filter(|u| u.groups.iter().any(|g| key(g) == key(group))).map(|u| u.to_json(false)).collect()
}

pub async fn get_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("GroupName")?;
    let (marker, max) = inp.page()?;
    iam.dir.read(&ctx.account_id, |a| {
        let g = a.group(name)?;
        let items: Vec<(String, Value)> = members(a, name).into_iter().map(|u| (key(u["UserName"].as_str().unwrap_or("")), u)).collect();
        let (page, next) = paginate(items, marker.as_deref(), max);
        let mut out = Map::new();
        out.insert("Group".into(), g.to_json());
        out.insert("Users".into(), Value::Array(page));
        Ok(with_page(out, next))
    })
}

pub async fn list_groups(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| Ok(a.groups.iter().filter(|(_, g)| g.path.starts_with(&prefix)).map(|(k, g)| (k.clone(), g.to_json())).collect::<Vec<_>>()))?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Groups".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn list_groups_for_user(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("UserName")?;
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        let u = a.user(name)?;
        Ok(u.groups.iter().filter_map(|g| a.groups.get(&key(g))).map(|g| (key(&g.name), g.to_json())).collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Groups".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn update_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("GroupName")?.to_string();
    let new_name = inp.opt("NewGroupName").map(String::from);
    if let Some(n) = &new_name {
        check_name("NewGroupName", n, 128)?;
    }
    let new_path = inp.opt("NewPath").map(String::from);
    if let Some(p) = &new_path {
        check_path("NewPath", p)?;
    }
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let old = a.group(&name)?.clone();
            let target = new_name.clone().unwrap_or_else(|| old.name.clone());
            if key(&target) != key(&old.name) && a.groups.contains_key(&key(&target)) {
                return Err(IamError::EntityAlreadyExists(format!("Group with name {target} already exists.")));
            }
            let mut g = old.clone();
            g.name = target;
            g.path = new_path.clone().unwrap_or(old.path.clone());
            g.arn = format!("arn:aws:iam::{account}:group{}{}", g.path, g.name);
            for u in a.users.values_mut() {
                let mut changed = false;
                for member in u.groups.iter_mut().filter(|m| key(m) == key(&old.name)) {
                    *member = g.name.clone();
                    changed = true;
                }
                if changed {
                    ch.put_user(u);
                }
            }
            a.groups.remove(&key(&old.name));
            ch.delete("group", &key(&old.name));
            ch.put_group(&g);
            a.groups.insert(key(&g.name), g);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("GroupName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let g = a.group(&name)?;
            if !members(a, &name).is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must remove users from group first.".into()));
            }
            if !g.policies.attached.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
            }
            if !g.policies.inline.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
            }
            a.groups.remove(&key(&name));
            ch.delete("group", &key(&name));
            Ok(json!({}))
        })
        .await
}

fn membership(a: &mut Account, ch: &mut Changes, group: &str, user: &str, add: bool) -> IamResult<Value> {
    let group_name = a.group(group)?.name.clone();
    let u = a.user_mut(user)?;
    let present = u.groups.iter().any(|g| key(g) == key(&group_name));
    if add && !present {
        if u.groups.len() >= 10 {
            return Err(IamError::LimitExceeded("Cannot exceed quota for GroupsPerUser: 10".into()));
        }
        u.groups.push(group_name);
    } else if !add {
        if !present {
            return Err(IamError::NoSuchEntity(format!("The user with name {user} cannot be found.")));
        }
        u.groups.retain(|g| key(g) != key(&group_name));
    }
    ch.put_user(u);
    Ok(json!({}))
}

pub async fn add_user_to_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let group = inp.req("GroupName")?.to_string();
    let user = inp.req("UserName")?.to_string();
    iam.dir.write(&ctx.account_id, |a, ch| membership(a, ch, &group, &user, true)).await
}

pub async fn remove_user_from_group(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let group = inp.req("GroupName")?.to_string();
    let user = inp.req("UserName")?.to_string();
    iam.dir.write(&ctx.account_id, |a, ch| membership(a, ch, &group, &user, false)).await
}

// ---- access keys ----

/// The user an access-key call is about: `UserName`, else the calling user.
fn key_user(ctx: &RequestContext, inp: &Input) -> IamResult<String> {
    if let Some(n) = inp.opt("UserName") {
        return Ok(n.to_string());
    }
    match ctx.principal_arn.as_deref().and_then(|arn| arn.rsplit_once(":user/")) {
        Some((_, path_name)) => Ok(path_name.rsplit('/').next().unwrap_or(path_name).to_string()),
        None => Err(IamError::NotSupported("Access keys of the root user (call with UserName)".into())),
    }
}

pub async fn create_access_key(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let user = key_user(ctx, &inp)?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let u = a.user(&user)?.clone();
            if a.access_keys.values().filter(|k| key(&k.user_name) == key(&u.name)).count() >= 2 {
                return Err(IamError::LimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2".into()));
            }
            let k = AccessKey {
                id: ids::access_key_id("AKIA"),
                secret: ids::secret_access_key(),
                user_name: u.name.clone(),
                active: true,
                created_ms: now,
                last_used_ms: None,
                last_used_service: None,
                last_used_region: None,
            };
            ch.put("key", &k.id, &k);
            ch.index_key(&k.id, Some(user_key(&k, &u, &account)));
            let out = json!({"AccessKey": {"UserName": k.user_name, "AccessKeyId": k.id, "Status": k.status(), "SecretAccessKey": k.secret, "CreateDate": iso8601(k.created_ms)}});
            a.access_keys.insert(k.id.clone(), k);
            Ok(out)
        })
        .await
}

pub async fn list_access_keys(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let user = key_user(ctx, &inp)?;
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        a.user(&user)?;
        Ok(a.access_keys
            .values()
            .filter(|k| key(&k.user_name) == key(&user))
            .map(|k| (k.id.clone(), json!({"UserName": k.user_name, "AccessKeyId": k.id, "Status": k.status(), "CreateDate": iso8601(k.created_ms)})))
            .collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("AccessKeyMetadata".into(), Value::Array(page));
    Ok(with_page(out, next))
}

fn owned_key<'a>(a: &'a mut Account, user: &str, id: &str) -> IamResult<&'a mut AccessKey> {
    a.user(user)?;
    match a.access_keys.get_mut(id) {
        Some(k) if key(&k.user_name) == key(user) => Ok(k),
        _ => Err(IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))),
    }
}

pub async fn update_access_key(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let user = key_user(ctx, &inp)?;
    let id = inp.req("AccessKeyId")?.to_string();
    let status = inp.req("Status")?.to_string();
    let active = match status.as_str() {
        "Active" => true,
        "Inactive" => false,
        other => return Err(IamError::constraint("Status", other, "Member must satisfy enum value set: [Active, Inactive, Expired]")),
    };
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            let u = a.user(&user)?.clone();
            let k = owned_key(a, &user, &id)?;
            k.active = active;
            ch.put("key", &k.id, k);
            ch.index_key(&k.id, Some(user_key(k, &u, &account)));
            Ok(json!({}))
        })
        .await
}

pub async fn delete_access_key(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let user = key_user(ctx, &inp)?;
    let id = inp.req("AccessKeyId")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            owned_key(a, &user, &id)?;
            a.access_keys.remove(&id);
            ch.delete("key", &id);
            ch.index_key(&id, None);
            Ok(json!({}))
        })
        .await
}

pub async fn get_access_key_last_used(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let id = inp.req("AccessKeyId")?;
    iam.dir.read(&ctx.account_id, |a| {
        let k = a.access_keys.get(id).ok_or_else(|| IamError::AccessDenied(format!("The Access Key with id {id} cannot be found.")))?;
        let mut used = Map::new();
        let seen = iam.dir.last_used(id).or_else(|| k.last_used_ms.map(|ms| (ms, k.last_used_service.clone().unwrap_or_default(), k.last_used_region.clone().unwrap_or_default())));
        match seen {
            Some((ms, service, region)) => {
                used.insert("LastUsedDate".into(), json!(iso8601(ms)));
                used.insert("ServiceName".into(), json!(service));
                used.insert("Region".into(), json!(region));
            }
            None => {
                used.insert("ServiceName".into(), json!("N/A"));
                used.insert("Region".into(), json!("N/A"));
            }
        }
        Ok(json!({"UserName": k.user_name, "AccessKeyLastUsed": Value::Object(used)}))
    })
}
