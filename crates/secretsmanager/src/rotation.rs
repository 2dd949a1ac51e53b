//! Rotation: RotateSecret and CancelRotateSecret, and one rotation run — the rotation
//! function invoked synchronously through core's `FunctionInvoker` for `createSecret`,
//! `setSecret`, `testSecret` and `finishSecret`, with the event AWS sends
//! (`Step`, `SecretId`, `ClientRequestToken`, `RotationToken`). The function stages the
//! new version itself (PutSecretValue with AWSPENDING, UpdateSecretVersionStage moving
//! AWSCURRENT in finishSecret); once AWSCURRENT is on the new version, AWSPENDING is
//! removed and the next rotation scheduled. A failing step stops the run and leaves the
//! staging as it is (AWSPENDING on the new version, AWSCURRENT unchanged).
//! <https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html>

use crate::errors::{SmError, SmResult, MARKED_FOR_DELETION};
use crate::ops_secrets::token_of;
use crate::registry::{CURRENT, PENDING};
use crate::schedule::{apply_rules, next_after};
use crate::service::{s, secret_id, Inner};
use serde_json::{json, Value};

pub(crate) const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

/// Why a rotation run stopped.
#[derive(Debug)]
pub(crate) enum RotationFailure {
    /// The function could not be invoked at all.
    Invoke(String),
    /// A step answered a function error.
    Step { step: &'static str, error: String },
    /// The steps ran but AWSCURRENT is not on the new version.
    NotFinished,
}

impl std::fmt::Display for RotationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RotationFailure::Invoke(e) => write!(f, "the function could not be invoked: {e}"),
            RotationFailure::Step { step, error } => write!(f, "step {step} failed: {error}"),
            RotationFailure::NotFinished => write!(f, "finishSecret did not move AWSCURRENT to the new version"),
        }
    }
}

impl Inner {
    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html>
    pub(crate) async fn rotate_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let token = token_of(input, false)?;
        let immediately = input.get("RotateImmediately").and_then(Value::as_bool).unwrap_or(true);
        let (arn, name) = {
            let _w = self.write.lock().await;
            let mut sec = self.reg.get(a, r, id)?;
            if sec.deleted_ms.is_some() {
                return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
            }
            if let Some(l) = s(input, "RotationLambdaARN") {
                sec.rotation.lambda_arn = Some(l.to_string());
            }
            if sec.rotation.lambda_arn.is_none() {
                return Err(SmError::InvalidRequest("No Lambda rotation function ARN is associated with this secret.".into()));
            }
            apply_rules(&mut sec.rotation, input)?;
            if let Some(p) = sec.version_with_stage(PENDING) {
                if immediately && !p.stages.iter().any(|x| x == CURRENT) && p.id != token {
                    return Err(SmError::InvalidRequest("A previous rotation isn't complete. That rotation will be reattempted.".into()));
                }
            }
            sec.rotation.enabled = true;
            let now = self.clock.now_ms();
            sec.rotation.next_rotation_ms = next_after(&sec.rotation, now);
            let out = (sec.arn.clone(), sec.name.clone());
            self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
            self.changed.notify_one();
            out
        };
        if !immediately {
            return Ok(json!({"ARN": arn, "Name": name}));
        }
        match self.run_rotation(a, r, &arn, &token).await {
            Err(RotationFailure::Invoke(e)) => {
                tracing::warn!(secret = %arn, error = %e, "secretsmanager: the rotation function could not be invoked");
                Err(SmError::AccessDenied("Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.".into()))
            }
            // As on AWS, where RotateSecret only starts the rotation, a failing step does not
            // fail the call: the secret keeps AWSCURRENT and shows AWSPENDING.
            Err(f) => {
                tracing::warn!(secret = %arn, failure = %f, "secretsmanager: rotation failed");
                Ok(json!({"ARN": arn, "Name": name, "VersionId": token}))
            }
            Ok(()) => Ok(json!({"ARN": arn, "Name": name, "VersionId": token})),
        }
    }

    /// Runs the four steps for the new version `token` of `arn`.
    pub(crate) async fn run_rotation(&self, a: &str, r: &str, arn: &str, token: &str) -> Result<(), RotationFailure> {
        let lambda = self.reg.get(a, r, arn).ok().and_then(|s| s.rotation.lambda_arn).ok_or(RotationFailure::NotFinished)?;
        let rotation_token = uuid::Uuid::new_v4().to_string();
        for step in STEPS {
            let event = json!({"Step": step, "SecretId": arn, "ClientRequestToken": token, "RotationToken": rotation_token});
            let outcome = self.functions.invoke(&lambda, bytes::Bytes::from(event.to_string())).await.map_err(RotationFailure::Invoke)?;
            if outcome.function_error {
                return Err(RotationFailure::Step { step, error: String::from_utf8_lossy(&outcome.payload).into_owned() });
            }
        }
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, arn).map_err(|_| RotationFailure::NotFinished)?;
        if !sec.version(token).is_some_and(|v| v.stages.iter().any(|x| x == CURRENT)) {
            return Err(RotationFailure::NotFinished);
        }
        sec.detach(token, PENDING);
        let now = self.clock.now_ms();
        sec.rotation.last_rotated_ms = Some(now);
        sec.rotation.next_rotation_ms = next_after(&sec.rotation, now);
        drop(self.reg.save(sec).wait().await);
        self.changed.notify_one();
        Ok(())
    }

    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html>
    pub(crate) async fn cancel_rotate_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        sec.rotation.enabled = false;
        sec.rotation.next_rotation_ms = None;
        let mut out = json!({"ARN": sec.arn, "Name": sec.name});
        if let Some(p) = sec.version_with_stage(PENDING) {
            out["VersionId"] = json!(p.id);
        }
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        self.changed.notify_one();
        Ok(out)
    }
}
