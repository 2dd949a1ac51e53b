//! The IAM JSON policy language for nimbus, with no I/O: [`Policy::parse`] validates a
//! document as IAM does and compiles it once; [`evaluate`] / [`explain`] decide a
//! [`Request`] against a [`PolicySet`] with AWS's policy evaluation logic. The IAM / STS
//! service (CreateRole, PutRolePolicy, SimulatePrincipalPolicy, AssumeRole's trust check)
//! and the `--auth iam` enforcement call it.
//!
//! - [`policy`]: grammar, compiling, [`PolicyKind`] (identity / resource / trust);
//!   `validate` (private): IAM's checks and messages, in IAM's order;
//! - `principal` (private): Principal / NotPrincipal; `condition` (private): condition
//!   operators; `vars` (private): policy variables; `glob`: wildcards; `date`: dates;
//! - [`eval`]: the evaluation logic and [`Explain`];
//! - [`request`]: [`Request`], [`Principal`], [`ContextKeys`].
//!
//! # MalformedPolicyDocument messages
//!
//! Which message a refused document gets, and in which order problems are reported
//! (`validate.rs`), follows errors AWS returned, quoted in public issue threads, and a
//! table of documents with IAM's answers kept in moto's test suite
//! (`tests/test_iam/test_iam_policies.py`):
//! - "Syntax errors in policy." — not JSON (identity policies), unknown or mistyped
//!   fields, a Version other than the two, no Statement, an Effect that is neither Allow
//!   nor Deny in any case, both X and NotX, a malformed Condition block or an unknown
//!   operator with keys (boto/boto3#180, aws-cloudformation/cfn-lint#3751, moto);
//! - "This policy contains invalid Json" — a trust policy (CreateRole) that is not JSON
//!   (AWSCookbook/Security#2, Graylog2/graylog-plugin-aws#22);
//! - "The policy failed legacy parsing" — `"Effect": "allow"` (hashicorp/terraform#10057),
//!   an ARN with four or five components or no service, an unreadable date (moto);
//! - "Policy document should not specify a principal." (hashicorp/terraform#13449);
//! - "Has prohibited field Resource" — Resource in a trust policy (external-dns#3085);
//! - "Missing required field Principal" — resource policy without Principal;
//! - "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The
//!   passed in policy has a statement with no principals!" — trust policy without one
//!   (terraform-aws-modules/terraform-aws-iam#47);
//! - `Invalid principal in policy: "AWS":"<value>"` (opstrace/opstrace#88);
//! - "Policy statement must contain actions." / "… resources." (terraform-aws-iam#364, moto);
//! - `Resource <r> must be in ARN format or "*".` (trussworks/terraform-aws-s3-anti-virus#21);
//! - `Partition "<p>" is not valid for resource "<arn>".`, "Resource vendor must be fully
//!   qualified and cannot contain regexes.", the IAM resource path and region messages,
//!   `Vendor <v> is not valid` (moto);
//! - "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
//!   "Actions/Condition can contain only one colon." (garnaat/kappa#111, moto);
//! - "Statement IDs (SID) in a single policy must be unique." (moto);
//! - "Policy document must be version 2012-10-17 or greater." (CreatePolicy without
//!   Version or with 2008-10-17, moto; see [`Policy::require_version_2012`]).
//!
//! Not confirmed (wording from memory or by analogy; nimbus uses it until a real error
//! shows otherwise):
//! - "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards" (quoted in a pull
//!   request description, boogy/iam-policy-validator#172);
//! - "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the
//!   regular expression [0-9A-Za-z]*" (IAM does refuse such Sids; the wording is from
//!   memory);
//! - "Has prohibited field NotResource" (by analogy with Resource);
//! - where a Principal / NotPrincipal problem ranks among the others.
//!
//! Size limits are the IAM service's, not this crate's.

mod condition;
mod date;
pub mod error;
pub mod eval;
mod glob;
pub mod policy;
mod principal;
pub mod request;
mod validate;
mod vars;

pub use error::PolicyError;
pub use eval::{evaluate, explain, Decision, Explain, PolicySet, PolicyType, StatementRef};
pub use policy::{Effect, Policy, PolicyKind, PolicyVersion};
pub use request::{ContextKeys, Principal, PrincipalKind, Request};
