//! Resource-based policies on streams and consumers: PutResourcePolicy,
//! GetResourcePolicy, DeleteResourcePolicy. The policy is stored with the stream (by the
//! stream's or the consumer's ARN) and given back as it was put; under `--auth iam` IAM
//! evaluates it (`authorization.rs`).
//! <https://docs.aws.amazon.com/streams/latest/dev/resource-based-policy-examples.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{parse_stream_arn, req, KinesisService};
use crate::stream::StreamHandle;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

/// A resource policy document's largest size (20 KB).
const MAX_POLICY_BYTES: usize = 20 * 1024;

impl KinesisService {
    /// The stream holding the resource (the stream itself, or one of its consumers).
    fn policy_holder(&self, arn: &str) -> KinesisResult<Arc<StreamHandle>> {
        let key = parse_stream_arn(arn).ok_or_else(|| KinesisError::constraint(arn, "resourceARN", "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream\\/\\S+"))?;
        let handle = self.stream_by_key(&key).ok_or_else(|| KinesisError::stream_not_found(&key.2, &key.0))?;
        if arn.contains("/consumer/") && !handle.state.lock().meta.consumers.iter().any(|c| c.arn == arn) {
            return Err(KinesisError::ResourceNotFound(format!("Consumer {arn} not found.")));
        }
        Ok(handle)
    }

    pub(crate) async fn put_resource_policy(&self, _ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let arn = req(input, "ResourceARN")?;
        let policy = req(input, "Policy")?;
        if policy.len() > MAX_POLICY_BYTES {
            return Err(KinesisError::constraint("…", "policy", "Member must have length less than or equal to 20480"));
        }
        match serde_json::from_str::<Value>(policy) {
            Ok(Value::Object(_)) => {}
            _ => return Err(KinesisError::InvalidArgument("Policy is not a valid JSON policy document.".into())),
        }
        let handle = self.policy_holder(arn)?;
        let pending = {
            let mut st = handle.state.lock();
            st.meta.policies.insert(arn.to_string(), policy.to_string());
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) fn get_resource_policy(&self, _ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let arn = req(input, "ResourceARN")?;
        let handle = self.policy_holder(arn)?;
        let st = handle.state.lock();
        Ok(json!({ "Policy": st.meta.policies.get(arn).cloned().unwrap_or_else(|| "{}".to_string()) }))
    }

    pub(crate) async fn delete_resource_policy(&self, _ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let arn = req(input, "ResourceARN")?;
        let handle = self.policy_holder(arn)?;
        let pending = {
            let mut st = handle.state.lock();
            if st.meta.policies.remove(arn).is_none() {
                return Err(KinesisError::ResourceNotFound(format!("No resource policy found for resource ARN {arn}.")));
            }
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }
}
