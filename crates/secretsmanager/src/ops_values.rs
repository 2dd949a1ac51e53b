//! Secret values and their versions: GetSecretValue, PutSecretValue,
//! BatchGetSecretValue, ListSecretVersionIds, UpdateSecretVersionStage, and the new
//! version every write makes (`add_version`: ClientRequestToken idempotency, staging).
//! <https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html>

use crate::errors::{SmError, SmResult, MARKED_FOR_DELETION};
use crate::filters::{filters_of, max_results, start_of, token_for};
use crate::ops_secrets::{day_of, token_of, value_of};
use crate::registry::{Secret, Version, CURRENT};
use crate::service::{b64, s, secret_id, secs, Inner};
use crate::values::SecretValue;
use serde_json::{json, Map, Value};

const EXISTING_VERSION: &str = "You can't modify an existing version, you can only create a new version.";

impl Inner {
    /// Adds version `token` holding `value` with `stages` to `sec` (in memory; its value
    /// is written to the store before this returns). A version that already exists with
    /// the same value is left as it is (`Ok(false)`); with another value it is
    /// ResourceExistsException, as AWS.
    pub(crate) async fn add_version(&self, sec: &mut Secret, token: &str, value: &SecretValue, stages: &[String]) -> SmResult<bool> {
        if sec.version(token).is_some() {
            let stored = self.open(&sec.account, &sec.region, &sec.arn, token).await?;
            return if &stored == value { Ok(false) } else { Err(SmError::ResourceExists(EXISTING_VERSION.into())) };
        }
        // The staging and the version quota first, on a copy: nothing is stored if the
        // new version would exceed it.
        let now = self.clock.now_ms();
        let mut next = sec.clone();
        next.versions.push(Version { id: token.to_string(), stages: Vec::new(), created_ms: now, last_accessed_day_ms: None, key_arn: String::new() });
        for st in stages {
            next.attach(token, st);
        }
        next.last_changed_ms = now;
        let dropped = next.prune(now);
        if next.versions.len() > crate::registry::MAX_VERSIONS {
            return Err(SmError::LimitExceeded(format!(
                "The secret {} already has {} versions, the quota, and Secrets Manager doesn't remove versions created less than 24 hours ago.",
                sec.name,
                crate::registry::MAX_VERSIONS
            )));
        }
        let (blob, key_arn) = self.seal(&sec.account, &sec.region, &sec.arn, token, sec.key_id(), value).await?;
        self.reg.store.put_value(&sec.arn, token, blob).wait().await.map_err(SmError::Internal)?;
        if let Some(v) = next.versions.iter_mut().find(|v| v.id == token) {
            v.key_arn = key_arn;
        }
        *sec = next;
        for gone in dropped {
            drop(self.reg.store.delete_value(&sec.arn, &gone));
        }
        Ok(true)
    }

    /// The version a GetSecretValue-like request names (VersionId and / or VersionStage,
    /// AWSCURRENT by default) and its value, with LastAccessedDate kept to the day.
    async fn read_value(&self, a: &str, r: &str, id: &str, version_id: Option<&str>, stage: Option<&str>) -> SmResult<(Secret, Version, SecretValue)> {
        let sec = self.reg.get(a, r, id)?;
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        let version = match (version_id, stage) {
            (Some(v), st) => {
                let version = sec.version(v).ok_or_else(|| SmError::ResourceNotFound(format!("Secrets Manager can't find the specified secret value for VersionId: {v}")))?;
                if let Some(st) = st {
                    if !version.stages.iter().any(|x| x == st) {
                        return Err(SmError::InvalidRequest("You provided a VersionStage that is not associated to the provided VersionId.".into()));
                    }
                }
                version
            }
            (None, st) => {
                let st = st.unwrap_or(CURRENT);
                sec.version_with_stage(st).ok_or_else(|| SmError::ResourceNotFound(format!("Secrets Manager can't find the specified secret value for staging label: {st}")))?
            }
        }
        .clone();
        let value = self.open(a, r, &sec.arn, &version.id).await?;
        let today = day_of(self.clock.now_ms());
        if version.last_accessed_day_ms != Some(today) {
            let _w = self.write.lock().await;
            if let Ok(mut fresh) = self.reg.get(a, r, &sec.arn) {
                if let Some(v) = fresh.versions.iter_mut().find(|v| v.id == version.id) {
                    v.last_accessed_day_ms = Some(today);
                    drop(self.reg.save(fresh));
                }
            }
        }
        Ok((sec, version, value))
    }

    fn value_json(sec: &Secret, v: &Version, value: &SecretValue) -> Value {
        let mut m = Map::new();
        m.insert("ARN".into(), json!(sec.arn));
        m.insert("Name".into(), json!(sec.name));
        m.insert("VersionId".into(), json!(v.id));
        match value {
            SecretValue::String(t) => m.insert("SecretString".into(), json!(t)),
            SecretValue::Binary(b) => m.insert("SecretBinary".into(), b64(b)),
        };
        m.insert("VersionStages".into(), json!(v.stages));
        m.insert("CreatedDate".into(), secs(v.created_ms));
        Value::Object(m)
    }

    pub(crate) async fn get_secret_value(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let (sec, v, value) = self.read_value(a, r, id, s(input, "VersionId"), s(input, "VersionStage")).await?;
        Ok(Self::value_json(&sec, &v, &value))
    }

    pub(crate) async fn put_secret_value(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let value = value_of(input)?.ok_or_else(|| SmError::InvalidParameter("You must provide either SecretString or SecretBinary.".into()))?;
        let token = token_of(input, true)?;
        let stages: Vec<String> = match input.get("VersionStages").and_then(Value::as_array) {
            Some(l) => l.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            None => vec![CURRENT.to_string()],
        };
        if stages.is_empty() || stages.len() > 20 {
            return Err(SmError::constraint(format!("{stages:?}"), "versionStages", "Member must have length between 1 and 20"));
        }
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        let created = self.add_version(&mut sec, &token, &value, &stages).await?;
        let version_stages = sec.version(&token).map(|v| v.stages.clone()).unwrap_or_default();
        let out = json!({"ARN": sec.arn, "Name": sec.name, "VersionId": token, "VersionStages": version_stages});
        if created {
            self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        }
        Ok(out)
    }

    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html>
    pub(crate) async fn batch_get_secret_value(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let ids: Option<Vec<String>> = input.get("SecretIdList").and_then(Value::as_array).map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect());
        let has_filters = input.get("Filters").and_then(Value::as_array).is_some();
        let mut out = json!({});
        let names: Vec<String> = match (ids, has_filters) {
            (Some(_), true) | (None, false) => return Err(SmError::InvalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.".into())),
            (Some(ids), false) => {
                if ids.is_empty() || ids.len() > 20 {
                    return Err(SmError::constraint(ids.len(), "secretIdList", "Member must have length between 1 and 20"));
                }
                if input.get("MaxResults").is_some() {
                    return Err(SmError::InvalidParameter("MaxResults can only be used with Filters.".into()));
                }
                ids
            }
            (None, true) => {
                let filters = filters_of(input)?;
                let max = max_results(input, 20)?.min(20);
                let start = start_of(input)?;
                let list = self.select(a, r, &filters, false, "created-date", true);
                if start + max < list.len() {
                    out["NextToken"] = json!(token_for(start + max));
                }
                list.into_iter().skip(start).take(max).map(|sec| sec.arn).collect()
            }
        };
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for id in names {
            match self.read_value(a, r, &id, None, None).await {
                Ok((sec, v, value)) => values.push(Self::value_json(&sec, &v, &value)),
                Err(e) => {
                    let e = nimbus_core::AwsError::from(e);
                    errors.push(json!({"SecretId": id, "ErrorCode": e.code, "Message": e.message}));
                }
            }
        }
        out["SecretValues"] = Value::Array(values);
        out["Errors"] = Value::Array(errors);
        Ok(out)
    }

    pub(crate) fn list_secret_version_ids(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let sec = self.reg.get(a, r, secret_id(input)?)?;
        let deprecated = input.get("IncludeDeprecated").and_then(Value::as_bool).unwrap_or(false);
        let max = max_results(input, 100)?;
        let start = start_of(input)?;
        let list: Vec<&Version> = sec.versions.iter().rev().filter(|v| deprecated || !v.stages.is_empty()).collect();
        let page: Vec<Value> = list
            .iter()
            .skip(start)
            .take(max)
            .map(|v| {
                let mut m = json!({"VersionId": v.id, "VersionStages": v.stages, "CreatedDate": secs(v.created_ms), "KmsKeyIds": [v.key_arn]});
                if let Some(t) = v.last_accessed_day_ms {
                    m["LastAccessedDate"] = secs(t);
                }
                m
            })
            .collect();
        let mut out = json!({"Versions": page, "ARN": sec.arn, "Name": sec.name});
        if start + max < list.len() {
            out["NextToken"] = json!(token_for(start + max));
        }
        Ok(out)
    }

    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html>
    pub(crate) async fn update_secret_version_stage(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let stage = s(input, "VersionStage").ok_or_else(|| SmError::missing("versionStage"))?;
        let remove = s(input, "RemoveFromVersionId");
        let move_to = s(input, "MoveToVersionId");
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        let holder = sec.version_with_stage(stage).map(|v| v.id.clone());
        match move_to {
            Some(to) => {
                if sec.version(to).is_none() {
                    return Err(SmError::ResourceNotFound(format!("Secrets Manager can't find the specified secret value for VersionId: {to}")));
                }
                match (&holder, remove) {
                    (Some(h), None) if h != to => {
                        return Err(SmError::InvalidParameter(format!("The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId.")));
                    }
                    (h, Some(rm)) if h.as_deref() != Some(rm) => {
                        return Err(SmError::InvalidParameter(format!("When you move staging label {stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label {stage}.")));
                    }
                    _ => {}
                }
                sec.attach(to, stage);
            }
            None => match remove {
                Some(_) if stage == CURRENT => return Err(SmError::InvalidParameter("You can't remove the staging label AWSCURRENT from a version without moving it to another version (MoveToVersionId).".into())),
                Some(rm) if holder.as_deref() != Some(rm) => return Err(SmError::InvalidParameter(format!("The staging label {stage} is not attached to version {rm}, so you can't remove it."))),
                Some(rm) => sec.detach(rm, stage),
                None => return Err(SmError::InvalidParameter("You must specify MoveToVersionId, RemoveFromVersionId, or both.".into())),
            },
        }
        sec.last_changed_ms = self.clock.now_ms();
        let out = json!({"ARN": sec.arn, "Name": sec.name});
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(out)
    }
}
