//! Resource policies: Get / Put / DeleteResourcePolicy (stored on the secret, not
//! enforced by nimbus's IAM authorizer yet) and ValidateResourcePolicy (the document must
//! be a JSON object; it then passes).
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html>

use crate::errors::{SmError, SmResult};
use crate::service::{s, secret_id, Inner};
use serde_json::{json, Value};

fn check_policy(p: &str) -> SmResult<()> {
    if p.is_empty() || p.len() > 20_480 {
        return Err(SmError::constraint(p.len(), "resourcePolicy", "Member must have length between 1 and 20480"));
    }
    match serde_json::from_str::<Value>(p) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(SmError::MalformedPolicy("This resource policy contains a syntax error.".into())),
    }
}

impl Inner {
    pub(crate) fn get_resource_policy(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let sec = self.reg.get(a, r, secret_id(input)?)?;
        let mut out = json!({"ARN": sec.arn, "Name": sec.name});
        if let Some(p) = &sec.policy {
            out["ResourcePolicy"] = json!(p);
        }
        Ok(out)
    }

    pub(crate) async fn put_resource_policy(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let policy = s(input, "ResourcePolicy").ok_or_else(|| SmError::missing("resourcePolicy"))?;
        check_policy(policy)?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        sec.policy = Some(policy.to_string());
        let out = json!({"ARN": sec.arn, "Name": sec.name});
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(out)
    }

    pub(crate) async fn delete_resource_policy(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        sec.policy = None;
        let out = json!({"ARN": sec.arn, "Name": sec.name});
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(out)
    }

    pub(crate) fn validate_resource_policy(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        if let Some(id) = s(input, "SecretId") {
            self.reg.get(a, r, id)?;
        }
        let policy = s(input, "ResourcePolicy").ok_or_else(|| SmError::missing("resourcePolicy"))?;
        check_policy(policy)?;
        Ok(json!({"PolicyValidationPassed": true, "ValidationErrors": []}))
    }
}
