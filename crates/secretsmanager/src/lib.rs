//! AWS Secrets Manager (JSON 1.1, target prefix `secretsmanager`): secrets with their
//! versions and staging labels (`registry.rs`, the metadata index in memory), secret
//! values encrypted through core's `KeyService` (nimbus's KMS) and kept only in the store
//! (`store.rs`, `secretsmanager.db`), rotation through a Lambda function reached by core's
//! `FunctionInvoker` (`rotation.rs`), scheduled deletions and rotations on nimbus's clock
//! (`timer.rs`). See `docs/secretsmanager.md`.

pub mod errors;
pub mod service;
pub mod store;

mod filters;
mod ops_policy;
mod ops_secrets;
mod ops_values;
mod password;
mod policies;
mod registry;
mod rotation;
mod schedule;
mod timer;
mod values;

pub use service::SecretsManagerService;
