//! Each issuer's keys with the time (nimbus's clock) they were fetched; a token's
//! signature verified with the key of its `kid`, refetching once when a cached key set
//! does not have it (the issuer rotated its keys).

use crate::fetch::{fetch_keys, FetchError};
use crate::token::{find_key, Jwt, SignatureError};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a token was not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Not a compact JWS with JSON header and claims.
    Malformed,
    /// The issuer's keys could not be had.
    Fetch(FetchError),
    /// The issuer publishes no key of the token's `kid` (or the token names none and the
    /// issuer has several).
    UnknownKey,
    /// The algorithm is refused, the key does not fit it, or the signature does not match.
    Signature(SignatureError),
}

/// An issuer's JWKS `keys` and when (nimbus's clock, ms) they were fetched.
type Fetched = (u64, Arc<Vec<Value>>);

#[derive(Default)]
pub struct JwksCache {
    entries: Mutex<HashMap<String, Fetched>>,
}

impl JwksCache {
    /// Verifies `token`'s signature with `issuer`'s published key. `cache_key` tells cached
    /// key sets apart (the issuer, and whatever else decides whether a fetch succeeds);
    /// keys older than `max_age_ms` are fetched again. Returns the decoded token.
    pub async fn verify<'t>(&self, token: &'t str, issuer: &str, cache_key: &str, tls: &Arc<rustls::ClientConfig>, now_ms: u64, max_age_ms: u64) -> Result<Jwt<'t>, VerifyError> {
        let jwt = Jwt::parse(token).ok_or(VerifyError::Malformed)?;
        if crate::token::algorithm(jwt.alg()).is_none() {
            return Err(VerifyError::Signature(SignatureError::Algorithm));
        }
        let (mut keys, cached) = self.keys(issuer, cache_key, tls, now_ms, max_age_ms, false).await?;
        if find_key(&keys, jwt.kid()).is_none() && cached {
            keys = self.keys(issuer, cache_key, tls, now_ms, max_age_ms, true).await?.0;
        }
        let key = find_key(&keys, jwt.kid()).ok_or(VerifyError::UnknownKey)?;
        jwt.verify(key).map_err(VerifyError::Signature)?;
        Ok(jwt)
    }

    /// The issuer's keys, from the cache unless stale or `refresh`; says whether cached.
    async fn keys(&self, issuer: &str, cache_key: &str, tls: &Arc<rustls::ClientConfig>, now_ms: u64, max_age_ms: u64, refresh: bool) -> Result<(Arc<Vec<Value>>, bool), VerifyError> {
        if !refresh {
            if let Some((at, keys)) = self.entries.lock().get(cache_key) {
                if now_ms < at.saturating_add(max_age_ms) && now_ms >= *at {
                    return Ok((keys.clone(), true));
                }
            }
        }
        let keys = Arc::new(fetch_keys(issuer, tls).await.map_err(VerifyError::Fetch)?);
        let mut entries = self.entries.lock();
        if entries.len() > 1024 {
            entries.clear();
        }
        entries.insert(cache_key.to_string(), (now_ms, keys.clone()));
        Ok((keys, false))
    }
}
