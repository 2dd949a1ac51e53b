//! Topic policies and tags as IAM reads them (`ResourcePolicies`): a topic's `Policy`
//! attribute (or AWS's default policy until one is set) decides cross-account callers and
//! service principals (EventBridge publishing to the topic) under `--auth iam`, and its
//! tags are `aws:ResourceTag/<key>`.

use crate::service::SnsService;
use crate::topic_attrs::default_policy;

impl nimbus_core::internal::ResourcePolicies for SnsService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let topic = self.sns.registry.topic(arn).ok()?;
        Some(topic.attributes.get("Policy").cloned().unwrap_or_else(|| default_policy(&topic.arn, &topic.account)))
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        self.sns.registry.topic(arn).map(|t| t.tags.into_iter().collect()).unwrap_or_default()
    }
}
