//! The IAM JSON policy language for nimbus, with no I/O: [`Policy::parse`] validates a
//! document as IAM does and compiles it once; [`evaluate`] / [`explain`] decide a
//! [`Request`] against a [`PolicySet`] with AWS's policy evaluation logic. The IAM / STS
//! service (CreateRole, PutRolePolicy, SimulatePrincipalPolicy, AssumeRole's trust check)
//! and the `--auth iam` enforcement call it.
//!
//! - [`policy`]: grammar and validation, [`PolicyKind`] (identity / resource / trust);
//! - [`principal`](crate::principal) (private): Principal / NotPrincipal;
//! - [`condition`](crate::condition) (private): condition operators;
//! - [`vars`](crate::vars) (private): policy variables; `glob`: wildcards; `date`: dates;
//! - [`eval`]: the evaluation logic and [`Explain`];
//! - [`request`]: [`Request`], [`Principal`], [`ContextKeys`].
//!
//! # MalformedPolicyDocument messages
//!
//! Confirmed against errors AWS returned (quoted in public issue threads):
//! - "Syntax errors in policy." — an identity policy that is not JSON, or whose Condition
//!   block is malformed (boto/boto3#180, aws-cloudformation/cfn-lint#3751);
//! - "This policy contains invalid Json" — a trust policy (CreateRole) that is not JSON
//!   (AWSCookbook/Security#2, Graylog2/graylog-plugin-aws#22);
//! - "The policy failed legacy parsing" — `"Effect": "allow"` (hashicorp/terraform#10057);
//! - "Policy document should not specify a principal." — Principal in an identity policy
//!   (hashicorp/terraform#13449);
//! - "Has prohibited field Resource" — Resource in a trust policy (external-dns#3085);
//! - "Missing required field Principal" — resource policy without Principal;
//! - "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The
//!   passed in policy has a statement with no principals!" — trust policy without one
//!   (terraform-aws-modules/terraform-aws-iam#47);
//! - `Invalid principal in policy: "AWS":"<value>"` (opstrace/opstrace#88);
//! - "Policy statement must contain resources." (terraform-aws-iam#364);
//! - `Resource <r> must be in ARN format or "*".` (trussworks/terraform-aws-s3-anti-virus#21);
//! - "Actions/Condition can contain only one colon." (garnaat/kappa#111);
//! - "Policy document must be version 2012-10-17 or greater." (console, managed policy
//!   without Version; see [`Policy::require_version_2012`]).
//!
//! Not confirmed (wording from memory or by analogy; nimbus uses it until a real error
//! shows otherwise):
//! - "Missing required field Effect", "Missing required field Statement";
//! - "Policy statement must contain actions.";
//! - "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
//! - "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards";
//! - "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the
//!   regular expression [0-9A-Za-z]*", "Statement IDs (SID) in a single policy must be
//!   unique.";
//! - "The policy failed legacy parsing" for a Version other than the two known ones;
//! - "Syntax errors in policy." for unknown top-level or statement fields, both Action
//!   and NotAction (or Resource / NotResource, Principal / NotPrincipal) in a statement,
//!   a wrong JSON type, an empty Statement list and an unknown condition operator.
//! - "Has prohibited field NotResource" (by analogy with Resource).
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
mod vars;

pub use error::PolicyError;
pub use eval::{evaluate, explain, Decision, Explain, PolicySet, PolicyType, StatementRef};
pub use policy::{Effect, Policy, PolicyKind, PolicyVersion};
pub use request::{ContextKeys, Principal, PrincipalKind, Request};
