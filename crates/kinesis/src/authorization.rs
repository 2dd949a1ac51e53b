//! Kinesis as IAM reads it under `--auth iam` (`ResourcePolicies`): the resource policy on
//! a stream or consumer ARN (PutResourcePolicy), a stream's tags (`aws:ResourceTag/<key>`),
//! and the full ARN of a consumer a request names by stream and consumer name (its ARN
//! ends in the creation timestamp, which only Kinesis knows).
//! <https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html>

use crate::service::{parse_stream_arn, KinesisService};
use nimbus_core::internal::ResourcePolicies;

impl ResourcePolicies for KinesisService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let handle = self.stream_by_key(&parse_stream_arn(arn)?)?;
        let st = handle.state.lock();
        st.meta.policies.get(arn).cloned()
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        if arn.contains("/consumer/") {
            return Vec::new();
        }
        let Some(handle) = parse_stream_arn(arn).and_then(|key| self.stream_by_key(&key)) else { return Vec::new() };
        let st = handle.state.lock();
        st.meta.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// `…:stream/<name>/consumer/<consumer>:` (no timestamp) → the consumer's ARN.
    fn canonical_arn(&self, _account: &str, _region: &str, reference: &str) -> Option<String> {
        let (_, consumer) = reference.split_once("/consumer/")?;
        let name = consumer.strip_suffix(':').unwrap_or(consumer);
        let handle = self.stream_by_key(&parse_stream_arn(reference)?)?;
        let st = handle.state.lock();
        st.meta.consumers.iter().find(|c| c.name == name).map(|c| c.arn.clone())
    }
}
