//! `PolicyError`: why IAM refuses a policy document, carrying the message IAM puts in
//! its `MalformedPolicyDocument` error. Which messages are confirmed against AWS and
//! which are not is listed at the top of the crate (`lib.rs`).

use std::fmt;

/// A policy document IAM would refuse; `message` is AWS's MalformedPolicyDocument text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> PolicyError {
        PolicyError { message: message.into() }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

pub(crate) const SYNTAX: &str = "Syntax errors in policy.";
pub(crate) const INVALID_JSON: &str = "This policy contains invalid Json";
pub(crate) const LEGACY: &str = "The policy failed legacy parsing";
pub(crate) const VERSION_2012: &str = "Policy document must be version 2012-10-17 or greater.";
pub(crate) const MISSING_PRINCIPAL: &str = "Missing required field Principal";
pub(crate) const TRUST_NO_PRINCIPAL: &str =
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!";
pub(crate) const NO_PRINCIPAL_ALLOWED: &str = "Policy document should not specify a principal.";
pub(crate) const NO_ACTIONS: &str = "Policy statement must contain actions.";
pub(crate) const NO_RESOURCES: &str = "Policy statement must contain resources.";
pub(crate) const VENDOR_PREFIX: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
pub(crate) const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
pub(crate) const VENDOR_WILDCARD: &str = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards";
pub(crate) const SID_ALNUM: &str =
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
pub(crate) const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";

pub(crate) fn prohibited(field: &str) -> PolicyError {
    PolicyError::new(format!("Has prohibited field {field}"))
}

pub(crate) fn resource_format(resource: &str) -> PolicyError {
    PolicyError::new(format!("Resource {resource} must be in ARN format or \"*\"."))
}

pub(crate) fn invalid_principal(kind: &str, value: &str) -> PolicyError {
    PolicyError::new(format!("Invalid principal in policy: \"{kind}\":\"{value}\""))
}
