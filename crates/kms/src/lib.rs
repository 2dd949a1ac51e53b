//! AWS KMS (JSON 1.1, target prefix `TrentService`): keys and aliases durable in core's
//! document table with their key material sealed under a per-data-dir master key
//! (`master.rs`), real cryptography on vetted libraries — AES-256-GCM blobs that name
//! their key and material version (`blob.rs`), RSA / ECDSA / HMAC (`asym.rs`) — key
//! deletion and rotation on nimbus's clock (`keys.rs`), and the `KeyService` Secrets
//! Manager and SSM encrypt through. See `docs/kms.md`.

pub mod errors;
pub mod service;
pub mod store;

mod asym;
mod blob;
mod keys;
mod master;
mod ops_aliases;
mod ops_asym;
mod ops_crypto;
mod ops_grants;
mod ops_import;
mod ops_keys;
mod ops_rotation;
mod policies;
mod spec;

pub use service::KmsService;
