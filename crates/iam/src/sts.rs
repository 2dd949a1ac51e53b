//! AWS STS: temporary credentials (AssumeRole, AssumeRoleWithWebIdentity,
//! GetSessionToken, GetFederationToken) stored in the directory and expiring on nimbus's
//! clock, and the identity calls (GetCallerIdentity, GetAccessKeyInfo,
//! DecodeAuthorizationMessage). STS lives beside IAM because every answer depends on
//! IAM's roles, users and identity providers.

use crate::directory::{key, session_key, Changes};
use crate::entities::{Session, Tag};
use crate::errors::{IamError, IamResult};
use crate::input::Input;
use crate::Iam;
use base64::Engine;
use nimbus_core::time::iso8601;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

use crate::service_roles::parse_role_arn;

fn check_session_name(member: &str, name: &str, max: usize) -> IamResult<()> {
    if name.len() < 2 {
        return Err(IamError::constraint(member, name, "Member must have length greater than or equal to 2"));
    }
    if name.len() > max {
        return Err(IamError::constraint(member, name, &format!("Member must have length less than or equal to {max}")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(IamError::constraint(member, name, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
    }
    Ok(())
}

fn duration(inp: &Input, min: i64, max: i64, default: i64) -> IamResult<i64> {
    match inp.int("DurationSeconds") {
        None => Ok(default),
        Some(d) if d < min => Err(IamError::constraint("DurationSeconds", &d.to_string(), &format!("Member must have value greater than or equal to {min}"))),
        Some(d) if d > max => Err(IamError::constraint("DurationSeconds", &d.to_string(), &format!("Member must have value less than or equal to {max}"))),
        Some(d) => Ok(d),
    }
}

/// Session policies (`Policy`, `PolicyArns`) and session tags, checked as STS checks
/// them; returns the packed size percentage when any was given.
struct SessionInputs {
    policies: Vec<String>,
    policy_arns: Vec<String>,
    tags: Vec<Tag>,
    packed: Option<u32>,
}

impl SessionInputs {
    fn apply(&self, session: &mut Session) {
        session.session_policies = self.policies.clone();
        session.session_policy_arns = self.policy_arns.clone();
        session.tags = self.tags.clone();
    }
}

fn session_inputs(inp: &Input) -> IamResult<SessionInputs> {
    let mut policies = Vec::new();
    if let Some(p) = inp.opt("Policy") {
        if p.len() > 2048 {
            return Err(IamError::constraint("Policy", p, "Member must have length less than or equal to 2048"));
        }
        crate::documents::check(p, crate::documents::DocKind::Managed, "session")?;
        policies.push(p.to_string());
    }
    let policy_arns: Vec<String> = inp
        .0
        .get("PolicyArns")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.get("arn").or_else(|| v.get("Arn")).and_then(Value::as_str).map(String::from)).collect())
        .unwrap_or_default();
    if policy_arns.len() > 10 {
        return Err(IamError::constraint("PolicyArns", "…", "Member must have length less than or equal to 10"));
    }
    let tags = inp.tags("Tags")?;
    let packed_bytes: usize = policies.iter().map(|p| p.chars().filter(|c| !c.is_whitespace()).count()).sum::<usize>()
        + policy_arns.iter().map(String::len).sum::<usize>()
        + tags.iter().map(|t| t.key.len() + t.value.len()).sum::<usize>();
    // AWS packs session policies and tags into a binary form with its own limit; nimbus
    // approximates the packed size by the characters given.
    let percent = (packed_bytes * 100 / 2048) as u32;
    if percent > 100 {
        return Err(IamError::PackedPolicyTooLarge(format!("Packed policy consumes {percent}% of allotted space, please use smaller policy.")));
    }
    let given = !policies.is_empty() || !policy_arns.is_empty() || !tags.is_empty();
    Ok(SessionInputs { policies, policy_arns, tags, packed: given.then_some(percent.max(1)) })
}

fn credentials_json(s: &Session) -> Value {
    json!({"AccessKeyId": s.access_key_id, "SecretAccessKey": s.secret, "SessionToken": s.token, "Expiration": iso8601(s.expires_ms)})
}

/// Stores a new session in `account` (pruning expired ones) and indexes its key.
pub(crate) async fn issue(iam: &Iam, account: &str, session: Session, role_touch: Option<(String, String)>) -> IamResult<()> {
    iam.dir
        .write(account, |a, ch: &mut Changes| {
            iam.dir.prune_sessions(a, ch);
            if let Some((role_name, region)) = role_touch {
                if let Some(r) = a.roles.get_mut(&key(&role_name)) {
                    r.last_used_ms = Some(iam.dir.clock.now_ms());
                    r.last_used_region = Some(region);
                    ch.put_role(r);
                }
            }
            ch.put("session", &session.access_key_id, &session);
            ch.index_key(&session.access_key_id, Some(session_key(&session)));
            a.sessions.insert(session.access_key_id.clone(), session);
            Ok(())
        })
        .await
}

fn caller_arn(ctx: &RequestContext) -> String {
    ctx.principal_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account_id))
}

fn is_session_caller(ctx: &RequestContext) -> bool {
    ctx.principal_arn.as_deref().is_some_and(|a| a.starts_with("arn:aws:sts::"))
}

pub async fn assume_role(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let role_arn = inp.req("RoleArn")?.to_string();
    if role_arn.len() < 20 {
        return Err(IamError::constraint("RoleArn", &role_arn, "Member must have length greater than or equal to 20"));
    }
    let session_name = inp.req("RoleSessionName")?.to_string();
    check_session_name("RoleSessionName", &session_name, 64)?;
    if let Some(ext) = inp.opt("ExternalId") {
        check_session_name_like_external(ext)?;
    }
    let extras = session_inputs(&inp)?;
    let requested = duration(&inp, 900, 43_200, 3600)?;
    let Some((account, role_name)) = parse_role_arn(&role_arn) else {
        return Err(IamError::Validation(format!("{role_arn} is invalid")));
    };
    let role = iam.dir.read(account, |a| Ok(a.roles.get(&key(role_name)).cloned()))?;
    let (role_id, role_name) = match &role {
        Some(r) => {
            if inp.has("DurationSeconds") && requested > i64::from(r.max_session_duration) {
                return Err(IamError::Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into()));
            }
            if iam.enforcing() {
                iam.check_trust(r, ctx, "sts:AssumeRole", &inp.0)?;
                // Session tags and a source identity need their own allow in the trust
                // policy (IAM User Guide, "Pass session tags in AWS STS", "Monitor and
                // control actions taken with assumed roles").
                if inp.has("Tags") || inp.has("TransitiveTagKeys") {
                    iam.check_trust(r, ctx, "sts:TagSession", &inp.0)?;
                }
                if inp.has("SourceIdentity") {
                    iam.check_trust(r, ctx, "sts:SetSourceIdentity", &inp.0)?;
                }
            }
            (r.id.clone(), r.name.clone())
        }
        None if iam.enforcing() => {
            return Err(IamError::AccessDenied(format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", caller_arn(ctx))));
        }
        None => {
            tracing::warn!(role = %role_arn, "sts: AssumeRole of a role that does not exist (accepted: authentication is open)");
            (stable_role_id(&role_arn), role_name.to_string())
        }
    };
    let now = iam.dir.clock.now_ms();
    let mut session = Session::new(account, format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"), format!("{role_id}:{session_name}"), now + requested as u64 * 1000);
    session.role_arn = Some(role.as_ref().map(|r| r.arn.clone()).unwrap_or(role_arn.clone()));
    session.source_identity = inp.opt("SourceIdentity").map(String::from);
    extras.apply(&mut session);
    let mut out = json!({
        "Credentials": credentials_json(&session),
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.principal_arn},
    });
    if let Some(p) = extras.packed {
        out["PackedPolicySize"] = json!(p);
    }
    if let Some(s) = &session.source_identity {
        out["SourceIdentity"] = json!(s);
    }
    issue(iam, account, session, role.map(|r| (r.name, ctx.region.clone()))).await?;
    Ok(out)
}

fn check_session_name_like_external(ext: &str) -> IamResult<()> {
    if ext.len() < 2 || ext.len() > 1224 {
        return Err(IamError::constraint("ExternalId", ext, "Member must have length greater than or equal to 2"));
    }
    Ok(())
}

/// A role id for a role nimbus does not know (open mode), stable per ARN.
fn stable_role_id(arn: &str) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut id = String::from("AROA");
    for i in 0..17u64 {
        for b in arn.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3).rotate_left(5) ^ i;
        }
        id.push(BASE32[(h % 32) as usize] as char);
    }
    id
}

/// The claims of a JWT (no signature check here; see `assume_role_with_web_identity`).
fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks the token's issuer against the OIDC providers registered in the role's account,
/// its signature against the issuer's JWKS (oidc.rs), its audience against the provider's
/// client ids, and its expiry on nimbus's clock.
pub async fn assume_role_with_web_identity(iam: &Iam, _ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let role_arn = inp.req("RoleArn")?.to_string();
    let session_name = inp.req("RoleSessionName")?.to_string();
    check_session_name("RoleSessionName", &session_name, 64)?;
    let token = inp.req("WebIdentityToken")?.to_string();
    if token.len() < 4 {
        return Err(IamError::constraint("WebIdentityToken", "***", "Member must have length greater than or equal to 4"));
    }
    let extras = session_inputs(&inp)?;
    let requested = duration(&inp, 900, 43_200, 3600)?;
    let Some((account, role_name)) = parse_role_arn(&role_arn) else {
        return Err(IamError::Validation(format!("{role_arn} is invalid")));
    };
    let claims = jwt_claims(&token).ok_or_else(|| IamError::InvalidIdentityToken(crate::oidc::NO_KEY.into()))?;
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("").to_string();
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    };
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("").to_string();
    let now = iam.dir.clock.now_ms();
    if let Some(exp) = claims.get("exp").and_then(Value::as_u64) {
        if exp * 1000 <= now {
            return Err(IamError::ExpiredToken("Token expired".into()));
        }
    }
    let (provider, role) = iam.dir.read(account, |a| Ok((crate::ops_account::oidc_for_issuer(a, &issuer), a.roles.get(&key(role_name)).cloned())))?;
    let Some(provider) = provider else {
        return Err(IamError::InvalidIdentityToken("No OpenIDConnect provider found in your account for ".to_string() + &issuer));
    };
    iam.jwks.verify(&token, &provider.url, &provider.thumbprints, now).await?;
    if !provider.client_ids.is_empty() && !audiences.iter().any(|a| provider.client_ids.contains(a)) {
        return Err(IamError::InvalidIdentityToken("Incorrect token audience".into()));
    }
    let Some(role) = role else {
        return Err(IamError::AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity".into()));
    };
    if inp.has("DurationSeconds") && requested > i64::from(role.max_session_duration) {
        return Err(IamError::Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into()));
    }
    if iam.enforcing() {
        iam.check_web_identity_trust(&role, &provider, &claims)?;
    }
    let mut session = Session::new(account, format!("arn:aws:sts::{account}:assumed-role/{}/{session_name}", role.name), format!("{}:{session_name}", role.id), now + requested as u64 * 1000);
    session.role_arn = Some(role.arn.clone());
    extras.apply(&mut session);
    let audience = audiences.first().cloned().unwrap_or_default();
    let mut out = json!({
        "Credentials": credentials_json(&session),
        "SubjectFromWebIdentityToken": subject,
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.principal_arn},
        "Provider": provider.arn,
        "Audience": audience,
    });
    if let Some(p) = extras.packed {
        out["PackedPolicySize"] = json!(p);
    }
    issue(iam, account, session, Some((role.name.clone(), "us-east-1".into()))).await?;
    Ok(out)
}

pub async fn get_session_token(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    if is_session_caller(ctx) {
        return Err(IamError::AccessDenied("Cannot call GetSessionToken with session credentials".into()));
    }
    let root = ctx.principal_arn.as_deref().is_none_or(|a| a.ends_with(":root"));
    let requested = duration(&inp, 900, 129_600, 43_200)?;
    let requested = if root { requested.min(3600) } else { requested };
    if inp.has("SerialNumber") || inp.has("TokenCode") {
        return Err(IamError::NotSupported("MFA (SerialNumber / TokenCode)".into()));
    }
    let now = iam.dir.clock.now_ms();
    let mut session = Session::new(&ctx.account_id, caller_arn(ctx), ctx.user_id.clone().unwrap_or_else(|| ctx.account_id.clone()), now + requested as u64 * 1000);
    session.parent_arn = ctx.principal_arn.clone();
    let out = json!({"Credentials": credentials_json(&session)});
    issue(iam, &ctx.account_id, session, None).await?;
    Ok(out)
}

pub async fn get_federation_token(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    if is_session_caller(ctx) {
        return Err(IamError::AccessDenied("Cannot call GetFederationToken with session credentials".into()));
    }
    let name = inp.req("Name")?.to_string();
    check_session_name("Name", &name, 32)?;
    let extras = session_inputs(&inp)?;
    let requested = duration(&inp, 900, 129_600, 43_200)?;
    let now = iam.dir.clock.now_ms();
    let account = ctx.account_id.clone();
    let mut session = Session::new(&account, format!("arn:aws:sts::{account}:federated-user/{name}"), format!("{account}:{name}"), now + requested as u64 * 1000);
    session.parent_arn = ctx.principal_arn.clone();
    extras.apply(&mut session);
    let mut out = json!({
        "Credentials": credentials_json(&session),
        "FederatedUser": {"FederatedUserId": session.user_id, "Arn": session.principal_arn},
    });
    if let Some(p) = extras.packed {
        out["PackedPolicySize"] = json!(p);
    }
    issue(iam, &account, session, None).await?;
    Ok(out)
}

pub async fn get_caller_identity(_iam: &Iam, ctx: &RequestContext, _inp: Input) -> IamResult<Value> {
    Ok(json!({
        "UserId": ctx.user_id.clone().unwrap_or_else(|| ctx.account_id.clone()),
        "Account": ctx.account_id,
        "Arn": caller_arn(ctx),
    }))
}

pub async fn get_access_key_info(iam: &Iam, _ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    use nimbus_core::internal::CredentialResolver;
    let id = inp.req("AccessKeyId")?;
    if id.len() < 16 || id.len() > 128 {
        return Err(IamError::constraint("AccessKeyId", id, "Member must have length greater than or equal to 16"));
    }
    let account = iam.dir.resolve(id).map(|k| k.account_id).unwrap_or_else(|| nimbus_core::auth::account_for_access_key(id));
    Ok(json!({"Account": account}))
}

/// nimbus writes no encoded authorization messages (only EC2 and a few others do on
/// AWS); a message that is base64 of JSON decodes to that JSON.
pub async fn decode_authorization_message(_iam: &Iam, _ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let encoded = inp.req("EncodedMessage")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| serde_json::from_str::<Value>(s).is_ok())
        .ok_or_else(|| IamError::InvalidAuthorizationMessage("The encoded message is invalid.".into()))?;
    Ok(json!({"DecodedMessage": decoded}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_arns() {
        assert_eq!(super::stable_role_id("arn:aws:iam::123456789012:role/x").len(), 21);
    }
}
