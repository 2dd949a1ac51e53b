//! Secrets as IAM reads them (`ResourcePolicies`, under `--auth iam`): a secret's resource
//! policy (PutResourcePolicy), its tags (`aws:ResourceTag/<key>`), and the full ARN a
//! request's SecretId names (a name, a full ARN or a partial ARN), which is the resource
//! IAM authorizes.
//! <https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access.html>

use crate::registry::Secret;
use crate::service::SecretsManagerService;

impl SecretsManagerService {
    /// The secret an ARN names (full or partial), in the ARN's account and region.
    fn by_arn(&self, arn: &str) -> Option<Secret> {
        let mut parts = arn.splitn(6, ':').skip(3);
        let (region, account) = (parts.next()?, parts.next()?);
        self.inner.reg.get(account, region, arn).ok()
    }
}

impl nimbus_core::internal::ResourcePolicies for SecretsManagerService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        self.by_arn(arn).and_then(|s| s.policy)
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        self.by_arn(arn).map(|s| s.tags).unwrap_or_default()
    }

    fn canonical_arn(&self, account: &str, region: &str, reference: &str) -> Option<String> {
        self.inner.reg.get(account, region, reference).ok().map(|s| s.arn)
    }
}
