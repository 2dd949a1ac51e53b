//! AWS Systems Manager Parameter Store for nimbus (JSON 1.1, target prefix `AmazonSSM`).
//!
//! [`service`] (model, dispatch, the in-memory index of parameters without values) →
//! `ops_*` (one family of operations each: put/delete, get, describe, labels, tags) →
//! [`store`] (`ssm.db`: every kept version with its value, read when asked for). Beside
//! them: [`names`] (naming rules, ARNs, selectors, paths), [`filters`]
//! (ParameterFilters), [`policies`] (parameter policies, stored), [`secure`]
//! (SecureString through nimbus's KMS as `KeyService`), [`params`] (the index types).

pub mod errors;
pub mod filters;
pub mod names;
mod ops_describe;
mod ops_get;
mod ops_labels;
mod ops_put;
mod ops_tags;
pub mod params;
pub mod policies;
pub mod secure;
pub mod service;
pub mod store;

pub use service::SsmService;
