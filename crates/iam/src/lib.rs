//! AWS IAM and STS for nimbus (two `AwsService`s over one identity directory).
//!
//! IAM is global: one directory per account, whatever region a request names. Entities
//! live in memory and are written through to the store (`store.rs`) before a call
//! answers; access keys and STS sessions are indexed for request authentication
//! (`directory.rs` implements `CredentialResolver`). Operations: `ops_roles.rs` (roles,
//! instance profiles), `ops_policies.rs` (managed and inline policies, attachments),
//! `ops_users.rs` (users, groups, access keys), `ops_account.rs` (identity providers,
//! aliases, account reports), `sts.rs` (temporary credentials and caller identity).
//! `actions.rs` maps every operation of nimbus's services to its IAM action(s) and
//! resource ARN(s) for `--auth iam`, from `data/actions.json`.

pub mod actions;
pub mod authorizer;
pub mod directory;
pub mod documents;
pub mod entities;
pub mod errors;
pub mod ids;
pub mod input;
pub mod managed;
pub mod oidc;
pub mod ops_account;
pub mod ops_policies;
pub mod ops_roles;
pub mod ops_simulate;
pub mod ops_tags;
pub mod ops_users;
pub mod service_roles;
pub mod store;
pub mod sts;

use directory::Directory;
use errors::{IamError, IamResult};
use input::Input;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use ops_policies::Holder;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

const IAM_MODEL: &str = include_str!("../model/iam-2010-05-08.json");
const STS_MODEL: &str = include_str!("../model/sts-2011-06-15.json");

fn iam_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(IAM_MODEL).expect("vendored IAM model parses"))
}

fn sts_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(STS_MODEL).expect("vendored STS model parses"))
}

/// What IAM and STS share: the directory and whether requests are authorized.
pub struct Iam {
    pub dir: Directory,
    enforce: AtomicBool,
    pub(crate) caches: authorizer::Caches,
    pub(crate) jwks: oidc::JwksCache,
}

impl Iam {
    pub fn open(clock: Clock, store: Arc<dyn nimbus_core::doc_store::DocStore>) -> IamResult<Arc<Iam>> {
        Ok(Arc::new(Iam { dir: Directory::open(clock, store)?, enforce: AtomicBool::new(false), caches: Default::default(), jwks: Default::default() }))
    }

    /// Turns on trust-policy checks (the `iam` authentication mode).
    pub fn set_enforcing(&self, on: bool) {
        self.enforce.store(on, Ordering::Relaxed);
    }

    pub fn enforcing(&self) -> bool {
        self.enforce.load(Ordering::Relaxed)
    }

    /// Whether the caller may assume `role` (its trust policy, and for a caller of the
    /// role's own account or another, the caller's identity policies, as AWS evaluates
    /// `sts:AssumeRole`).
    /// The trust policy sees the same keys as enforcement computes for the request
    /// (`sts:ExternalId`, `sts:RoleSessionName`, `sts:SourceIdentity`,
    /// `sts:TransitiveTagKeys`, `aws:RequestTag/*`, `aws:TagKeys`, the global keys).
    pub fn check_trust(&self, role: &entities::Role, ctx: &RequestContext, action: &str, input: &serde_json::Value) -> IamResult<()> {
        let checks = actions::checks("sts", "AssumeRole", &ctx.region, &ctx.account_id, input).unwrap_or_default();
        let keys = checks.into_iter().find(|c| c.action == action).map(|c| c.keys).unwrap_or_default();
        let mut context = self.request_context(ctx, input);
        for (k, v) in keys {
            context.set(&k, v);
        }
        self.decide_trust(role, ctx, action, context)
    }

    /// Whether a role's trust policy lets a web identity from `provider` assume it (the
    /// token's claims are the `<provider>:aud` / `:sub` / `:amr` condition keys).
    pub fn check_web_identity_trust(&self, role: &entities::Role, provider: &entities::OidcProvider, claims: &Value) -> IamResult<()> {
        let trust = nimbus_iam_policy::Policy::parse(&role.assume_role_policy, nimbus_iam_policy::PolicyKind::Trust).map_err(|e| IamError::MalformedPolicyDocument(e.message))?;
        let principal = nimbus_iam_policy::Principal::new(provider.arn.clone(), "", nimbus_iam_policy::PrincipalKind::FederatedUser);
        let mut context = nimbus_iam_policy::ContextKeys::new();
        for claim in ["aud", "sub", "amr", "azp"] {
            match claims.get(claim) {
                Some(Value::String(v)) => {
                    context.insert(&format!("{}:{claim}", provider.url), v.clone());
                }
                Some(Value::Array(vs)) => {
                    context.set(&format!("{}:{claim}", provider.url), vs.iter().filter_map(|v| v.as_str().map(String::from)).collect());
                }
                _ => {}
            }
        }
        let set = nimbus_iam_policy::PolicySet { identity: Vec::new(), boundary: None, session: None, resource: Some(&trust) };
        let req = nimbus_iam_policy::Request { principal: &principal, action: "sts:AssumeRoleWithWebIdentity", resource: &role.arn, resource_account: None, context: &context };
        match nimbus_iam_policy::evaluate(&set, &req) {
            nimbus_iam_policy::Decision::Allow => Ok(()),
            _ => Err(IamError::AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity".into())),
        }
    }
}

pub struct IamService {
    iam: Arc<Iam>,
}

impl IamService {
    pub fn new(iam: Arc<Iam>) -> IamService {
        IamService { iam }
    }
}

async fn dispatch_iam(iam: &Iam, ctx: &RequestContext, op: &str, inp: Input) -> IamResult<Value> {
    use ops_account as acc;
    use ops_policies as pol;
    use ops_roles as roles;
    use ops_tags::{self as tags, Tagged};
    use ops_users as users;
    match op {
        "CreateRole" => roles::create_role(iam, ctx, inp).await,
        "GetRole" => roles::get_role(iam, ctx, inp).await,
        "ListRoles" => roles::list_roles(iam, ctx, inp).await,
        "UpdateRole" => roles::update_role(iam, ctx, inp).await,
        "UpdateRoleDescription" => roles::update_role_description(iam, ctx, inp).await,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(iam, ctx, inp).await,
        "DeleteRole" => roles::delete_role(iam, ctx, inp).await,
        "TagRole" => tags::tag(iam, ctx, inp, Tagged::Role).await,
        "UntagRole" => tags::untag(iam, ctx, inp, Tagged::Role).await,
        "ListRoleTags" => tags::list(iam, ctx, inp, Tagged::Role).await,
        "PutRolePermissionsBoundary" => roles::put_role_permissions_boundary(iam, ctx, inp).await,
        "DeleteRolePermissionsBoundary" => roles::delete_role_permissions_boundary(iam, ctx, inp).await,
        "CreateServiceLinkedRole" => roles::create_service_linked_role(iam, ctx, inp).await,
        "DeleteServiceLinkedRole" => roles::delete_service_linked_role(iam, ctx, inp).await,
        "GetServiceLinkedRoleDeletionStatus" => roles::get_service_linked_role_deletion_status(iam, ctx, inp).await,
        "CreateInstanceProfile" => roles::create_instance_profile(iam, ctx, inp).await,
        "GetInstanceProfile" => roles::get_instance_profile(iam, ctx, inp).await,
        "ListInstanceProfiles" => roles::list_instance_profiles(iam, ctx, inp).await,
        "ListInstanceProfilesForRole" => roles::list_instance_profiles_for_role(iam, ctx, inp).await,
        "AddRoleToInstanceProfile" => roles::add_role_to_instance_profile(iam, ctx, inp).await,
        "RemoveRoleFromInstanceProfile" => roles::remove_role_from_instance_profile(iam, ctx, inp).await,
        "DeleteInstanceProfile" => roles::delete_instance_profile(iam, ctx, inp).await,
        "TagInstanceProfile" => tags::tag(iam, ctx, inp, Tagged::InstanceProfile).await,
        "UntagInstanceProfile" => tags::untag(iam, ctx, inp, Tagged::InstanceProfile).await,
        "ListInstanceProfileTags" => tags::list(iam, ctx, inp, Tagged::InstanceProfile).await,

        "CreatePolicy" => pol::create_policy(iam, ctx, inp).await,
        "GetPolicy" => pol::get_policy(iam, ctx, inp).await,
        "ListPolicies" => pol::list_policies(iam, ctx, inp).await,
        "DeletePolicy" => pol::delete_policy(iam, ctx, inp).await,
        "CreatePolicyVersion" => pol::create_policy_version(iam, ctx, inp).await,
        "GetPolicyVersion" => pol::get_policy_version(iam, ctx, inp).await,
        "ListPolicyVersions" => pol::list_policy_versions(iam, ctx, inp).await,
        "SetDefaultPolicyVersion" => pol::set_default_policy_version(iam, ctx, inp).await,
        "DeletePolicyVersion" => pol::delete_policy_version(iam, ctx, inp).await,
        "TagPolicy" => tags::tag(iam, ctx, inp, Tagged::Policy).await,
        "UntagPolicy" => tags::untag(iam, ctx, inp, Tagged::Policy).await,
        "ListPolicyTags" => tags::list(iam, ctx, inp, Tagged::Policy).await,
        "ListEntitiesForPolicy" => pol::list_entities_for_policy(iam, ctx, inp).await,
        "AttachRolePolicy" => pol::attach(iam, ctx, inp, Holder::Role).await,
        "AttachUserPolicy" => pol::attach(iam, ctx, inp, Holder::User).await,
        "AttachGroupPolicy" => pol::attach(iam, ctx, inp, Holder::Group).await,
        "DetachRolePolicy" => pol::detach(iam, ctx, inp, Holder::Role).await,
        "DetachUserPolicy" => pol::detach(iam, ctx, inp, Holder::User).await,
        "DetachGroupPolicy" => pol::detach(iam, ctx, inp, Holder::Group).await,
        "ListAttachedRolePolicies" => pol::list_attached(iam, ctx, inp, Holder::Role).await,
        "ListAttachedUserPolicies" => pol::list_attached(iam, ctx, inp, Holder::User).await,
        "ListAttachedGroupPolicies" => pol::list_attached(iam, ctx, inp, Holder::Group).await,
        "PutRolePolicy" => pol::put_inline(iam, ctx, inp, Holder::Role).await,
        "PutUserPolicy" => pol::put_inline(iam, ctx, inp, Holder::User).await,
        "PutGroupPolicy" => pol::put_inline(iam, ctx, inp, Holder::Group).await,
        "GetRolePolicy" => pol::get_inline(iam, ctx, inp, Holder::Role).await,
        "GetUserPolicy" => pol::get_inline(iam, ctx, inp, Holder::User).await,
        "GetGroupPolicy" => pol::get_inline(iam, ctx, inp, Holder::Group).await,
        "ListRolePolicies" => pol::list_inline(iam, ctx, inp, Holder::Role).await,
        "ListUserPolicies" => pol::list_inline(iam, ctx, inp, Holder::User).await,
        "ListGroupPolicies" => pol::list_inline(iam, ctx, inp, Holder::Group).await,
        "DeleteRolePolicy" => pol::delete_inline(iam, ctx, inp, Holder::Role).await,
        "DeleteUserPolicy" => pol::delete_inline(iam, ctx, inp, Holder::User).await,
        "DeleteGroupPolicy" => pol::delete_inline(iam, ctx, inp, Holder::Group).await,

        "CreateUser" => users::create_user(iam, ctx, inp).await,
        "GetUser" => users::get_user(iam, ctx, inp).await,
        "ListUsers" => users::list_users(iam, ctx, inp).await,
        "UpdateUser" => users::update_user(iam, ctx, inp).await,
        "DeleteUser" => users::delete_user(iam, ctx, inp).await,
        "TagUser" => tags::tag(iam, ctx, inp, Tagged::User).await,
        "UntagUser" => tags::untag(iam, ctx, inp, Tagged::User).await,
        "ListUserTags" => tags::list(iam, ctx, inp, Tagged::User).await,
        "PutUserPermissionsBoundary" => users::put_user_permissions_boundary(iam, ctx, inp).await,
        "DeleteUserPermissionsBoundary" => users::delete_user_permissions_boundary(iam, ctx, inp).await,
        "CreateGroup" => users::create_group(iam, ctx, inp).await,
        "GetGroup" => users::get_group(iam, ctx, inp).await,
        "ListGroups" => users::list_groups(iam, ctx, inp).await,
        "ListGroupsForUser" => users::list_groups_for_user(iam, ctx, inp).await,
        "UpdateGroup" => users::update_group(iam, ctx, inp).await,
        "DeleteGroup" => users::delete_group(iam, ctx, inp).await,
        "AddUserToGroup" => users::add_user_to_group(iam, ctx, inp).await,
        "RemoveUserFromGroup" => users::remove_user_from_group(iam, ctx, inp).await,
        "CreateAccessKey" => users::create_access_key(iam, ctx, inp).await,
        "ListAccessKeys" => users::list_access_keys(iam, ctx, inp).await,
        "UpdateAccessKey" => users::update_access_key(iam, ctx, inp).await,
        "DeleteAccessKey" => users::delete_access_key(iam, ctx, inp).await,
        "GetAccessKeyLastUsed" => users::get_access_key_last_used(iam, ctx, inp).await,

        "CreateOpenIDConnectProvider" => acc::create_oidc_provider(iam, ctx, inp).await,
        "GetOpenIDConnectProvider" => acc::get_oidc_provider(iam, ctx, inp).await,
        "ListOpenIDConnectProviders" => acc::list_oidc_providers(iam, ctx, inp).await,
        "DeleteOpenIDConnectProvider" => acc::delete_oidc_provider(iam, ctx, inp).await,
        "AddClientIDToOpenIDConnectProvider"
        | "RemoveClientIDFromOpenIDConnectProvider"
        | "UpdateOpenIDConnectProviderThumbprint"
        | "TagOpenIDConnectProvider"
        | "UntagOpenIDConnectProvider" => acc::edit_oidc_provider(iam, ctx, inp, op).await,
        "ListOpenIDConnectProviderTags" => acc::list_oidc_provider_tags(iam, ctx, inp).await,
        "CreateSAMLProvider" => acc::create_saml_provider(iam, ctx, inp).await,
        "GetSAMLProvider" => acc::get_saml_provider(iam, ctx, inp).await,
        "ListSAMLProviders" => acc::list_saml_providers(iam, ctx, inp).await,
        "UpdateSAMLProvider" => acc::update_saml_provider(iam, ctx, inp).await,
        "DeleteSAMLProvider" => acc::delete_saml_provider(iam, ctx, inp).await,
        "CreateAccountAlias" => acc::create_account_alias(iam, ctx, inp).await,
        "DeleteAccountAlias" => acc::delete_account_alias(iam, ctx, inp).await,
        "ListAccountAliases" => acc::list_account_aliases(iam, ctx, inp).await,
        "GetAccountSummary" => acc::get_account_summary(iam, ctx, inp).await,
        "SimulatePrincipalPolicy" => ops_simulate::simulate_principal_policy(iam, ctx, inp).await,
        "SimulateCustomPolicy" => ops_simulate::simulate_custom_policy(iam, ctx, inp).await,
        "GetContextKeysForCustomPolicy" => ops_simulate::get_context_keys_for_custom_policy(iam, ctx, inp).await,
        "GetContextKeysForPrincipalPolicy" => ops_simulate::get_context_keys_for_principal_policy(iam, ctx, inp).await,
        "GetAccountAuthorizationDetails" => acc::get_account_authorization_details(iam, ctx, inp).await,

        "CreateLoginProfile" | "GetLoginProfile" | "UpdateLoginProfile" | "DeleteLoginProfile" | "ChangePassword" => {
            Err(IamError::NotSupported(format!("IAM {op} (console passwords)")))
        }
        "CreateVirtualMFADevice" | "EnableMFADevice" | "DeactivateMFADevice" | "DeleteVirtualMFADevice" | "ResyncMFADevice" | "GetMFADevice" | "TagMFADevice"
        | "UntagMFADevice" | "ListMFADeviceTags" => Err(IamError::NotSupported(format!("IAM {op} (MFA devices)"))),
        "ListMFADevices" | "ListVirtualMFADevices" => Ok(serde_json::json!({"MFADevices": [], "VirtualMFADevices": [], "IsTruncated": false})),
        other => Err(IamError::NotSupported(format!("IAM {other}"))),
    }
}

impl AwsService for IamService {
    fn model(&self) -> &ServiceModel {
        iam_model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { dispatch_iam(&self.iam, ctx, operation, Input(input)).await.map_err(AwsError::from) })
    }
}

pub struct StsService {
    iam: Arc<Iam>,
}

impl StsService {
    pub fn new(iam: Arc<Iam>) -> StsService {
        StsService { iam }
    }
}

impl AwsService for StsService {
    fn model(&self) -> &ServiceModel {
        sts_model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move {
            let iam = &self.iam;
            let inp = Input(input);
            let out = match operation {
                "GetCallerIdentity" => sts::get_caller_identity(iam, ctx, inp).await,
                "AssumeRole" => sts::assume_role(iam, ctx, inp).await,
                "AssumeRoleWithWebIdentity" => sts::assume_role_with_web_identity(iam, ctx, inp).await,
                "GetSessionToken" => sts::get_session_token(iam, ctx, inp).await,
                "GetFederationToken" => sts::get_federation_token(iam, ctx, inp).await,
                "GetAccessKeyInfo" => sts::get_access_key_info(iam, ctx, inp).await,
                "DecodeAuthorizationMessage" => sts::decode_authorization_message(iam, ctx, inp).await,
                other => Err(IamError::NotSupported(format!("STS {other}"))),
            };
            out.map_err(AwsError::from)
        })
    }
}
