//! Tags on roles, users, instance profiles and customer managed policies: Tag…, Untag…
//! and List…Tags, one implementation for the four (keys compared ignoring case, at most
//! 50 per entity, as IAM's tagging rules say).

use crate::directory::{Account, Changes};
use crate::entities::Tag;
use crate::errors::{IamError, IamResult};
use crate::input::{paginate, with_page, Input};
use crate::Iam;
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy)]
pub enum Tagged {
    Role,
    User,
    InstanceProfile,
    Policy,
}

impl Tagged {
    /// The request member that names the entity.
    fn member(self) -> &'static str {
        match self {
            Tagged::Role => "RoleName",
            Tagged::User => "UserName",
            Tagged::InstanceProfile => "InstanceProfileName",
            Tagged::Policy => "PolicyArn",
        }
    }

    fn read(self, a: &Account, name: &str) -> IamResult<Vec<Tag>> {
        Ok(match self {
            Tagged::Role => a.role(name)?.tags.clone(),
            Tagged::User => a.user(name)?.tags.clone(),
            Tagged::InstanceProfile => a.profile(name)?.tags.clone(),
            Tagged::Policy => crate::ops_policies::lookup(a, name).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {name} was not found.")))?.tags.clone(),
        })
    }

    /// Changes the entity's tags and records its new document.
    fn edit(self, a: &mut Account, ch: &mut Changes, name: &str, f: impl FnOnce(&mut Vec<Tag>) -> IamResult<()>) -> IamResult<()> {
        match self {
            Tagged::Role => {
                let r = a.role_mut(name)?;
                f(&mut r.tags)?;
                ch.put_role(r);
            }
            Tagged::User => {
                let u = a.user_mut(name)?;
                f(&mut u.tags)?;
                ch.put_user(u);
            }
            Tagged::InstanceProfile => {
                let p = a.profile_mut(name)?;
                f(&mut p.tags)?;
                ch.put_profile(p);
            }
            Tagged::Policy => {
                crate::ops_policies::customer_only(name)?;
                let p = a.customer_policy_mut(name)?;
                f(&mut p.tags)?;
                ch.put_policy(p);
            }
        }
        Ok(())
    }
}

/// Adds or overwrites tags (keys compared ignoring case); at most 50 in all.
pub fn merge_tags(existing: &mut Vec<Tag>, new: Vec<Tag>) -> IamResult<()> {
    let mut out = existing.clone();
    for t in new {
        match out.iter_mut().find(|o| o.key.eq_ignore_ascii_case(&t.key)) {
            Some(o) => *o = t,
            None => out.push(t),
        }
    }
    if out.len() > 50 {
        return Err(IamError::LimitExceeded("The number of tags has reached the maximum limit.".into()));
    }
    *existing = out;
    Ok(())
}

pub fn remove_tags(existing: &mut Vec<Tag>, keys: &[String]) {
    existing.retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
}

pub fn tag_page(tags: &[Tag], marker: Option<&str>, max: usize) -> Value {
    let items: Vec<(String, Value)> = tags.iter().enumerate().map(|(i, t)| (format!("{i:06}"), json!({"Key": t.key, "Value": t.value}))).collect();
    let (page, next) = paginate(items, marker, max);
    let mut out = Map::new();
    out.insert("Tags".into(), Value::Array(page));
    with_page(out, next)
}

pub async fn tag(iam: &Iam, ctx: &RequestContext, inp: Input, what: Tagged) -> IamResult<Value> {
    let name = inp.req(what.member())?.to_string();
    let tags = inp.tags("Tags")?;
    iam.dir.write(&ctx.account_id, |a, ch| what.edit(a, ch, &name, |t| merge_tags(t, tags))).await?;
    Ok(json!({}))
}

pub async fn untag(iam: &Iam, ctx: &RequestContext, inp: Input, what: Tagged) -> IamResult<Value> {
    let name = inp.req(what.member())?.to_string();
    let keys = inp.strings("TagKeys");
    iam.dir
        .write(&ctx.account_id, |a, ch| {
            what.edit(a, ch, &name, |t| {
                remove_tags(t, &keys);
                Ok(())
            })
        })
        .await?;
    Ok(json!({}))
}

pub async fn list(iam: &Iam, ctx: &RequestContext, inp: Input, what: Tagged) -> IamResult<Value> {
    let name = inp.req(what.member())?;
    let (marker, max) = inp.page()?;
    let tags = iam.dir.read(&ctx.account_id, |a| what.read(a, name))?;
    Ok(tag_page(&tags, marker.as_deref(), max))
}
