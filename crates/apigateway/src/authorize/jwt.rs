//! JWT authorizers (developer guide, "Control access to HTTP APIs with JWT authorizers in
//! API Gateway"): the token from the identity source (alone or after `Bearer `), its RSA
//! signature checked with the issuer's keys (`<Issuer>/.well-known/openid-configuration` →
//! `jwks_uri`, over https or http, cached on nimbus's clock), then `iss` = the configured
//! issuer, `aud` (or `client_id` when there is no `aud`) one of the audiences, `exp` after
//! now, `nbf` and `iat` before now, and — when the route has `AuthorizationScopes` — one of
//! them in the token's `scope` / `scp`.
//!
//! Refusals as AWS answers them ("Troubleshooting issues with HTTP API JWT authorizers"):
//! no token is 401 `{"message":"Unauthorized"}`; an invalid token is 401 with
//! `www-authenticate: Bearer scope="" error="invalid_token" error_description="…"`; a
//! token without the route's scopes is 403 `{"message":"Forbidden"}` with
//! `error="insufficient_scope"`.

use super::{identity, AuthInput, Granted, Refusal};
use crate::ops_authorizers::identity_sources;
use crate::registry::Attrs;
use nimbus_jwt::{JwksCache, VerifyError};
use serde_json::{Map, Value};

/// How long an issuer's keys are used before they are fetched again (AWS caches them for
/// up to two hours; nimbus refetches sooner, and at once for an unknown `kid`).
const KEYS_MAX_AGE_MS: u64 = 5 * 60 * 1000;

fn invalid(description: &str) -> Refusal {
    Refusal::unauthorized().with_header("www-authenticate", format!("Bearer scope=\"\" error=\"invalid_token\" error_description=\"{description}\""))
}

/// A claim's value as the integration sees it: AWS passes every claim as a string
/// (numbers and booleans as their text, lists as `[a b]`).
fn as_claim(v: &Value) -> Value {
    Value::String(match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string())).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    })
}

/// The token's scopes: `scope` (space-separated) or `scp` (a list or a string).
fn token_scopes(claims: &Value) -> Vec<String> {
    let split = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => split(s),
        (_, Some(Value::Array(l))) => l.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
        (_, Some(Value::String(s))) => split(s),
        _ => Vec::new(),
    }
}

/// Checks the claims after the signature: issuer, audience, times. The error is the
/// `error_description`.
fn check_claims(claims: &Value, issuer: &str, audiences: &[String], now_s: u64) -> Result<(), &'static str> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("the token does not have a valid issuer");
    }
    let aud: Vec<&str> = match (claims.get("aud"), claims.get("client_id")) {
        (Some(Value::String(a)), _) => vec![a.as_str()],
        (Some(Value::Array(l)), _) => l.iter().filter_map(Value::as_str).collect(),
        (None, Some(Value::String(c))) => vec![c.as_str()],
        _ => Vec::new(),
    };
    if !audiences.is_empty() && !aud.iter().any(|a| audiences.iter().any(|x| x == a)) {
        return Err("the token does not have a valid audience");
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    if time("exp").is_some_and(|exp| exp <= now_s as f64) {
        return Err("the token has expired");
    }
    if time("nbf").is_some_and(|nbf| nbf > now_s as f64) {
        return Err("the token is not valid yet");
    }
    if time("iat").is_some_and(|iat| iat > now_s as f64) {
        return Err("the token was issued in the future");
    }
    Ok(())
}

pub async fn authorize(jwks: &JwksCache, authorizer: &Attrs, route_scopes: &[String], input: &AuthInput<'_>, now_ms: u64) -> Result<Granted, Refusal> {
    let source = identity_sources(authorizer).into_iter().next().unwrap_or_default();
    let Some(raw) = identity::value(&source, input) else { return Err(Refusal::unauthorized()) };
    let token = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).unwrap_or(&raw).trim();
    let config = authorizer.get("JwtConfiguration").cloned().unwrap_or(Value::Null);
    let issuer = config.get("Issuer").and_then(Value::as_str).unwrap_or_default();
    let audiences: Vec<String> = config.get("Audience").and_then(Value::as_array).map(|l| l.iter().filter_map(|a| a.as_str().map(str::to_string)).collect()).unwrap_or_default();
    // Only RSA-based algorithms are supported (the developer guide's workflow, step 3).
    let rsa = nimbus_jwt::Jwt::parse(token).is_some_and(|j| j.alg().starts_with("RS") || j.alg().starts_with("PS"));
    if !rsa {
        return Err(invalid(if nimbus_jwt::Jwt::parse(token).is_some() { "the token's signing algorithm is not supported" } else { "the token is malformed" }));
    }
    // The token must name its key (the workflow's `kid` check).
    if nimbus_jwt::Jwt::parse(token).is_some_and(|j| j.kid().is_none()) {
        return Err(invalid("the token does not name its signing key (kid)"));
    }
    let tls = nimbus_jwt::fetch::web_roots_config();
    let jwt = match jwks.verify(token, issuer, issuer, &tls, now_ms, KEYS_MAX_AGE_MS).await {
        Ok(jwt) => jwt,
        Err(VerifyError::Malformed) => return Err(invalid("the token is malformed")),
        Err(VerifyError::UnknownKey) => return Err(invalid("the token's key id is not one of the issuer's keys")),
        Err(VerifyError::Signature(_)) => return Err(invalid("the token's signature is invalid")),
        Err(VerifyError::Fetch(e)) => {
            tracing::debug!(issuer, error = ?e, "JWT authorizer: issuer keys unavailable");
            return Err(invalid("unable to retrieve the issuer's signing keys"));
        }
    };
    check_claims(&jwt.claims, issuer, &audiences, now_ms / 1000).map_err(invalid)?;
    let scopes = token_scopes(&jwt.claims);
    if !route_scopes.is_empty() && !route_scopes.iter().any(|s| scopes.contains(s)) {
        let wanted = route_scopes.join(" ");
        return Err(Refusal::forbidden().with_header("www-authenticate", format!("Bearer scope=\"{wanted}\" error=\"insufficient_scope\" error_description=\"expected scopes: [{wanted}]\"")));
    }
    let claims: Map<String, Value> = jwt.claims.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), as_claim(v))).collect()).unwrap_or_default();
    Ok(Granted::Jwt { claims, scopes: (!scopes.is_empty()).then_some(scopes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_checks() {
        let aud = vec!["app".to_string()];
        let ok = json!({"iss": "https://i", "aud": "app", "exp": 200, "nbf": 50, "iat": 50});
        assert_eq!(check_claims(&ok, "https://i", &aud, 100), Ok(()));
        assert_eq!(check_claims(&ok, "https://j", &aud, 100), Err("the token does not have a valid issuer"));
        assert_eq!(check_claims(&ok, "https://i", &aud, 200), Err("the token has expired"));
        assert_eq!(check_claims(&ok, "https://i", &aud, 10), Err("the token is not valid yet"));
        assert_eq!(check_claims(&ok, "https://i", &["other".to_string()], 100), Err("the token does not have a valid audience"));
        // client_id counts only without aud.
        let cid = json!({"iss": "https://i", "client_id": "app"});
        assert_eq!(check_claims(&cid, "https://i", &aud, 100), Ok(()));
        let both = json!({"iss": "https://i", "aud": "x", "client_id": "app"});
        assert!(check_claims(&both, "https://i", &aud, 100).is_err());
    }

    #[test]
    fn scopes_and_claim_strings() {
        assert_eq!(token_scopes(&json!({"scope": "a b"})), vec!["a", "b"]);
        assert_eq!(token_scopes(&json!({"scp": ["c"]})), vec!["c"]);
        assert!(token_scopes(&json!({})).is_empty());
        assert_eq!(as_claim(&json!(5)), json!("5"));
        assert_eq!(as_claim(&json!(["x", "y"])), json!("[x y]"));
        assert_eq!(as_claim(&json!(true)), json!("true"));
    }
}
