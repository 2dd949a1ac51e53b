//! Step Functions as IAM reads it under `--auth iam` (`ResourcePolicies`): the tags of a
//! state machine or an activity, as `aws:ResourceTag/<key>` (Step Functions has no
//! resource-based policies; a version or alias is authorized on its state machine's ARN,
//! so its tags are the state machine's).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/tag-based-policies.html>

use crate::service::StepFunctionsService;
use nimbus_core::internal::ResourcePolicies;

impl ResourcePolicies for StepFunctionsService {
    fn policy_of(&self, _arn: &str) -> Option<String> {
        None
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        let reg = self.engine.registry.read();
        let tags = match reg.machines.get(arn).filter(|m| m.version.is_none()) {
            Some(m) => &m.tags,
            None => match reg.activities.get(arn) {
                Some(a) => &a.tags,
                None => return Vec::new(),
            },
        };
        tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}
