//! Managed policies (customer managed, with up to five versions; AWS managed from the
//! catalogue), their attachment to users, groups and roles, and inline policies — one
//! implementation for the three kinds of entity, as IAM's operations mirror each other.

use crate::directory::{key, Account, Changes};
use crate::documents::{check, DocKind};
use crate::entities::*;
use crate::errors::{IamError, IamResult};
use crate::input::*;
use crate::managed::{self, is_aws_managed};
use crate::{ids, Iam};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

/// The three kinds of entity policies attach to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    /// The request member naming the entity (`UserName`, `GroupName`, `RoleName`).
    pub fn member(self) -> &'static str {
        match self {
            Holder::User => "UserName",
            Holder::Group => "GroupName",
            Holder::Role => "RoleName",
        }
    }

    fn policies<'a>(self, a: &'a Account, name: &str) -> IamResult<&'a Policies> {
        Ok(match self {
            Holder::User => &a.user(name)?.policies,
            Holder::Group => &a.group(name)?.policies,
            Holder::Role => &a.role(name)?.policies,
        })
    }

    /// Changes an entity's policies and records the entity's new document.
    fn edit<T>(self, a: &mut Account, ch: &mut Changes, name: &str, f: impl FnOnce(&mut Policies, &str) -> IamResult<T>) -> IamResult<T> {
        match self {
            Holder::User => {
                let u = a.user_mut(name)?;
                let out = f(&mut u.policies, &u.name)?;
                ch.put_user(u);
                Ok(out)
            }
            Holder::Group => {
                let g = a.group_mut(name)?;
                let out = f(&mut g.policies, &g.name)?;
                ch.put_group(g);
                Ok(out)
            }
            Holder::Role => {
                let r = a.role_mut(name)?;
                let out = f(&mut r.policies, &r.name)?;
                ch.put_role(r);
                Ok(out)
            }
        }
    }

    fn inline_kind(self) -> DocKind {
        match self {
            Holder::User => DocKind::InlineUser,
            Holder::Group => DocKind::InlineGroup,
            Holder::Role => DocKind::InlineRole,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Holder::User => "User",
            Holder::Group => "Group",
            Holder::Role => "Role",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Holder::User => "user",
            Holder::Group => "group",
            Holder::Role => "role",
        }
    }
}

/// A managed policy by ARN: the catalogue's or the account's own.
pub fn lookup<'a>(a: &'a Account, arn: &str) -> Option<&'a ManagedPolicy> {
    if is_aws_managed(arn) {
        managed::find(arn)
    } else {
        a.policies.get(arn)
    }
}

fn policy_json(a: &Account, p: &ManagedPolicy, full: bool) -> Value {
    let (attached, boundary) = a.usage(&p.arn);
    p.to_json(attached, boundary, full)
}

// ---- managed policies ----

pub async fn create_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let name = inp.req("PolicyName")?.to_string();
    check_name("PolicyName", &name, 128)?;
    let path = inp.opt("Path").unwrap_or("/").to_string();
    check_path("Path", &path)?;
    let doc = inp.req("PolicyDocument")?.to_string();
    check(&doc, DocKind::Managed, &name)?;
    let description = inp.opt("Description").map(String::from);
    if let Some(d) = &description {
        check_description("Description", d, 1000)?;
    }
    let tags = inp.tags("Tags")?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    iam.dir
        .write(&account, |a, ch| {
            if a.policies.values().any(|p| key(&p.name) == key(&name)) {
                return Err(IamError::EntityAlreadyExists(format!("A policy called {name} already exists. Duplicate names are not allowed.")));
            }
            let p = ManagedPolicy {
                arn: format!("arn:aws:iam::{account}:policy{path}{name}"),
                id: ids::unique_id("ANPA"),
                name,
                path,
                description,
                created_ms: now,
                updated_ms: now,
                default_version: "v1".into(),
                versions: vec![PolicyVersion { id: "v1".into(), document: doc, created_ms: now }],
                next_version: 2,
                tags,
            };
            ch.put_policy(&p);
            let mut out = p.to_json(0, 0, false);
            if !p.tags.is_empty() {
                out["Tags"] = tags_json(&p.tags);
            }
            a.policies.insert(p.arn.clone(), p);
            Ok(json!({"Policy": out}))
        })
        .await
}

pub async fn get_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?;
    iam.dir.read(&ctx.account_id, |a| {
        let p = lookup(a, arn).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        Ok(json!({"Policy": policy_json(a, p, true)}))
    })
}

pub async fn list_policies(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let scope = inp.opt("Scope").unwrap_or("All").to_string();
    if !matches!(scope.as_str(), "All" | "AWS" | "Local") {
        return Err(IamError::constraint("Scope", &scope, "Member must satisfy enum value set: [All, AWS, Local]"));
    }
    let only_attached = inp.bool("OnlyAttached").unwrap_or(false);
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let usage = inp.opt("PolicyUsageFilter").map(String::from);
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        let aws = managed::catalogue().iter().filter(|_| scope != "Local");
        let local = a.policies.values().filter(|_| scope != "AWS");
        let mut items: Vec<(String, Value)> = aws
            .chain(local)
            .filter(|p| p.path.starts_with(&prefix))
            .filter_map(|p| {
                let (attached, boundary) = a.usage(&p.arn);
                if only_attached && attached + boundary == 0 {
                    return None;
                }
                match usage.as_deref() {
                    Some("PermissionsPolicy") if attached == 0 && only_attached => return None,
                    Some("PermissionsBoundary") if boundary == 0 && only_attached => return None,
                    _ => {}
                }
                Some((format!("{}\u{0}{}", key(&p.name), p.arn), p.to_json(attached, boundary, false)))
            })
            .collect();
        items.sort_by(|x, y| x.0.cmp(&y.0));
        Ok(items)
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Policies".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub(crate) fn customer_only(arn: &str) -> IamResult<()> {
    if is_aws_managed(arn) {
        return Err(IamError::AccessDenied(format!("Policy {arn} is an AWS managed policy and cannot be changed.")));
    }
    Ok(())
}

pub async fn delete_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?.to_string();
    customer_only(&arn)?;
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = a.customer_policy(&arn)?;
            let (attached, boundary) = a.usage(&arn);
            if attached + boundary > 0 {
                return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
            }
            if p.versions.len() > 1 {
                return Err(IamError::DeleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
                ));
            }
            a.policies.remove(&arn);
            ch.delete("policy", &arn);
            Ok(json!({}))
        })
        .await
}

pub async fn create_policy_version(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?.to_string();
    customer_only(&arn)?;
    let doc = inp.req("PolicyDocument")?.to_string();
    check(&doc, DocKind::Managed, &arn)?;
    let set_default = inp.bool("SetAsDefault").unwrap_or(false);
    let now = iam.dir.clock.now_ms();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = a.customer_policy_mut(&arn)?;
            if p.versions.len() >= 5 {
                return Err(IamError::LimitExceeded(
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".into(),
                ));
            }
            let v = PolicyVersion { id: format!("v{}", p.next_version), document: doc, created_ms: now };
            p.next_version += 1;
            if set_default {
                p.default_version = v.id.clone();
            }
            p.updated_ms = now;
            let out = version_json(&v, &p.default_version, false);
            p.versions.push(v);
            ch.put_policy(p);
            Ok(json!({"PolicyVersion": out}))
        })
        .await
}

pub async fn get_policy_version(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?;
    let version = inp.req("VersionId")?;
    iam.dir.read(&ctx.account_id, |a| {
        let p = lookup(a, arn).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        let v = p
            .versions
            .iter()
            .find(|v| v.id == version)
            .ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} version {version} does not exist or is not attachable.")))?;
        Ok(json!({"PolicyVersion": version_json(v, &p.default_version, true)}))
    })
}

pub async fn list_policy_versions(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?;
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        let p = lookup(a, arn).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        // Newest first, as IAM lists them.
        Ok(p.versions.iter().rev().enumerate().map(|(i, v)| (format!("{i:03}"), version_json(v, &p.default_version, false))).collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("Versions".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn set_default_policy_version(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?.to_string();
    customer_only(&arn)?;
    let version = inp.req("VersionId")?.to_string();
    let now = iam.dir.clock.now_ms();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = a.customer_policy_mut(&arn)?;
            if !p.versions.iter().any(|v| v.id == version) {
                return Err(IamError::NoSuchEntity(format!("Policy {arn} version {version} does not exist or is not attachable.")));
            }
            p.default_version = version;
            p.updated_ms = now;
            ch.put_policy(p);
            Ok(json!({}))
        })
        .await
}

pub async fn delete_policy_version(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?.to_string();
    customer_only(&arn)?;
    let version = inp.req("VersionId")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            let p = a.customer_policy_mut(&arn)?;
            if p.default_version == version {
                return Err(IamError::DeleteConflict("Cannot delete the default version of a policy.".into()));
            }
            let before = p.versions.len();
            p.versions.retain(|v| v.id != version);
            if p.versions.len() == before {
                return Err(IamError::NoSuchEntity(format!("Policy {arn} version {version} does not exist or is not attachable.")));
            }
            ch.put_policy(p);
            Ok(json!({}))
        })
        .await
}

// ---- attachments ----

pub async fn attach(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?.to_string();
    let arn = inp.req("PolicyArn")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            if lookup(a, &arn).is_none() {
                return Err(IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable.")));
            }
            holder.edit(a, ch, &name, |p, _| {
                if !p.attached.contains(&arn) {
                    if p.attached.len() >= 10 {
                        return Err(IamError::LimitExceeded(format!("Cannot exceed quota for PoliciesPer{}: 10", holder.title())));
                    }
                    p.attached.push(arn.clone());
                }
                Ok(json!({}))
            })
        })
        .await
}

pub async fn detach(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?.to_string();
    let arn = inp.req("PolicyArn")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            holder.edit(a, ch, &name, |p, _| {
                let before = p.attached.len();
                p.attached.retain(|x| x != &arn);
                if p.attached.len() == before {
                    return Err(IamError::NoSuchEntity(format!("Policy {arn} was not found.")));
                }
                Ok(json!({}))
            })
        })
        .await
}

pub async fn list_attached(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?;
    let prefix = inp.opt("PathPrefix").unwrap_or("/").to_string();
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| {
        let p = holder.policies(a, name)?;
        Ok(p.attached
            .iter()
            .filter_map(|arn| lookup(a, arn))
            .filter(|m| m.path.starts_with(&prefix))
            .enumerate()
            .map(|(i, m)| (format!("{i:04}"), json!({"PolicyName": m.name, "PolicyArn": m.arn})))
            .collect::<Vec<_>>())
    })?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("AttachedPolicies".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn list_entities_for_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let arn = inp.req("PolicyArn")?.to_string();
    let filter = inp.opt("EntityFilter").map(String::from);
    // EntityFilter User / Group / Role narrows the answer; the policy-type filters do not apply to one policy.
    let want = |kind: &str| filter.as_deref().is_none_or(|f| f == kind || !matches!(f, "User" | "Group" | "Role"));
    iam.dir.read(&ctx.account_id, |a| {
        if lookup(a, &arn).is_none() {
            return Err(IamError::NoSuchEntity(format!("Policy {arn} was not found.")));
        }
        let has = |p: &Policies| p.attached.iter().any(|x| x == &arn);
        let users: Vec<Value> = if want("User") { a.users.values().filter(|u| has(&u.policies)).map(|u| json!({"UserName": u.name, "UserId": u.id})).collect() } else { vec![] };
        let groups: Vec<Value> = if want("Group") { a.groups.values().filter(|g| has(&g.policies)).map(|g| json!({"GroupName": g.name, "GroupId": g.id})).collect() } else { vec![] };
        let roles: Vec<Value> = if want("Role") { a.roles.values().filter(|r| has(&r.policies)).map(|r| json!({"RoleName": r.name, "RoleId": r.id})).collect() } else { vec![] };
        Ok(json!({"PolicyGroups": groups, "PolicyUsers": users, "PolicyRoles": roles, "IsTruncated": false}))
    })
}

// ---- inline policies ----

pub async fn put_inline(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?.to_string();
    let policy = inp.req("PolicyName")?.to_string();
    check_name("PolicyName", &policy, 128)?;
    let doc = inp.req("PolicyDocument")?.to_string();
    check(&doc, holder.inline_kind(), &name)?;
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            holder.edit(a, ch, &name, |p, _| {
                p.inline.insert(policy, doc);
                Ok(json!({}))
            })
        })
        .await
}

pub async fn get_inline(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?;
    let policy = inp.req("PolicyName")?;
    iam.dir.read(&ctx.account_id, |a| {
        let p = holder.policies(a, name)?;
        let doc = p.inline.get(policy).ok_or_else(|| IamError::NoSuchEntity(format!("The {} policy with name {policy} cannot be found.", holder.noun())))?;
        let entity = match holder {
            Holder::User => a.user(name)?.name.clone(),
            Holder::Group => a.group(name)?.name.clone(),
            Holder::Role => a.role(name)?.name.clone(),
        };
        let mut out = Map::new();
        out.insert(holder.member().into(), json!(entity));
        out.insert("PolicyName".into(), json!(policy));
        out.insert("PolicyDocument".into(), json!(ids::encode_document(doc)));
        Ok(Value::Object(out))
    })
}

pub async fn list_inline(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?;
    let (marker, max) = inp.page()?;
    let items = iam.dir.read(&ctx.account_id, |a| Ok(holder.policies(a, name)?.inline.keys().map(|k| (k.clone(), json!(k))).collect::<Vec<_>>()))?;
    let (page, next) = paginate(items, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("PolicyNames".into(), Value::Array(page));
    Ok(with_page(out, next))
}

pub async fn delete_inline(iam: &Iam, ctx: &RequestContext, inp: Input, holder: Holder) -> IamResult<Value> {
    let name = inp.req(holder.member())?.to_string();
    let policy = inp.req("PolicyName")?.to_string();
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            holder.edit(a, ch, &name, |p, _| {
                p.inline
                    .remove(&policy)
                    .map(|_| json!({}))
                    .ok_or_else(|| IamError::NoSuchEntity(format!("The {} policy with name {policy} cannot be found.", holder.noun())))
            })
        })
        .await
}
