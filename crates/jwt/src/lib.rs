//! nimbus-jwt: JSON Web Tokens as nimbus's services check them, with no service logic.
//!
//! `token.rs` splits a compact JWS, decodes its header and claims, and verifies its
//! signature with a JWK (RS/PS/ES algorithms through ring; `none` and HMAC refused).
//! `fetch.rs` gets an issuer's keys as OpenID Connect publishes them
//! (`<issuer>/.well-known/openid-configuration` → `jwks_uri` → JWKS) over `https://` — with
//! a rustls configuration the caller chooses (the public web roots by default; IAM adds its
//! thumbprint trust) — or plain `http://` (a local issuer rarely has a certificate); every
//! exchange is time- and size-bounded. `cache.rs` keeps each issuer's keys for a while on
//! nimbus's clock and refetches once when a token names a key it does not know.
//!
//! Users: IAM/STS (`AssumeRoleWithWebIdentity`) and API Gateway (JWT authorizers). Claims
//! (`exp`, `iss`, `aud` …) are checked by the caller: their rules differ per service.

pub mod cache;
pub mod fetch;
pub mod token;

pub use cache::{JwksCache, VerifyError};
pub use fetch::FetchError;
pub use token::Jwt;
