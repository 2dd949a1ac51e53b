//! The secrets' control plane: CreateSecret, DescribeSecret, UpdateSecret, DeleteSecret,
//! RestoreSecret, ListSecrets, TagResource / UntagResource.
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html>

use crate::errors::{SmError, SmResult, MARKED_FOR_DELETION};
use crate::registry::{Rotation, Secret, CURRENT};
use crate::service::{s, secret_id, secs, Inner};
use crate::values::SecretValue;
use rand::Rng;
use serde_json::{json, Map, Value};

pub(crate) const DAY_MS: u64 = 86_400_000;
const MAX_TAGS: usize = 50;

/// 1–512 characters of ASCII letters, digits and `/_+=.@-`.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name>
fn check_name(name: &str) -> SmResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(SmError::constraint(name, "name", "Member must have length between 1 and 512"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)) {
        return Err(SmError::InvalidParameter("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!".into()));
    }
    Ok(())
}

/// The six random characters AWS appends to a secret's name in its ARN.
fn suffix() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// The `SecretString` / `SecretBinary` of a request, at most one of them.
pub(crate) fn value_of(input: &Value) -> SmResult<Option<SecretValue>> {
    match (s(input, "SecretString"), s(input, "SecretBinary")) {
        (Some(_), Some(_)) => Err(SmError::InvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.".into())),
        (Some(t), None) => Ok(Some(SecretValue::String(t.to_string()))),
        (None, Some(b)) => Ok(Some(SecretValue::Binary(crate::service::unb64(b, "SecretBinary")?))),
        (None, None) => Ok(None),
    }
}

/// The `ClientRequestToken` (32–64 characters). SDKs and the CLI always fill it in; a raw
/// request that carries a secret value without one is refused, as AWS refuses it ("If you
/// don't use the SDK … you must generate a ClientRequestToken yourself"); otherwise a new
/// one. <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html>
pub(crate) fn token_of(input: &Value, carries_value: bool) -> SmResult<String> {
    match s(input, "ClientRequestToken") {
        Some(t) if t.len() < 32 || t.len() > 64 => Err(SmError::constraint(t, "clientRequestToken", "Member must have length between 32 and 64")),
        Some(t) => Ok(t.to_string()),
        None if carries_value => Err(SmError::InvalidRequest("You must provide a ClientRequestToken value. We recommend a UUID-type value.".into())),
        None => Ok(uuid::Uuid::new_v4().to_string()),
    }
}

/// A Tags member (`[{Key, Value}]`).
pub(crate) fn tags_of(input: &Value) -> SmResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for t in input.get("Tags").and_then(Value::as_array).into_iter().flatten() {
        let k = s(t, "Key").unwrap_or_default();
        let v = s(t, "Value").unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 {
            return Err(SmError::InvalidParameter(format!("Invalid tag key: {k}")));
        }
        if v.chars().count() > 256 {
            return Err(SmError::InvalidParameter(format!("Invalid tag value for key {k}")));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// Midnight (UTC) of the day `ms` falls in: AWS keeps LastAccessedDate to the day.
pub(crate) fn day_of(ms: u64) -> u64 {
    ms - ms % DAY_MS
}

/// What DescribeSecret and ListSecrets show of a secret (`versions_member` names the map
/// of versions to stages: `VersionIdsToStages` or `SecretVersionsToStages`).
pub(crate) fn describe(sec: &Secret, versions_member: &str) -> Value {
    let mut m = Map::new();
    m.insert("ARN".into(), json!(sec.arn));
    m.insert("Name".into(), json!(sec.name));
    if let Some(d) = &sec.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(k) = &sec.kms_key_id {
        m.insert("KmsKeyId".into(), json!(k));
    }
    let r = &sec.rotation;
    m.insert("RotationEnabled".into(), json!(r.enabled));
    if let Some(l) = &r.lambda_arn {
        m.insert("RotationLambdaARN".into(), json!(l));
    }
    if r.automatically_after_days.is_some() || r.schedule_expression.is_some() {
        let mut rules = Map::new();
        if let Some(d) = r.automatically_after_days {
            rules.insert("AutomaticallyAfterDays".into(), json!(d));
        }
        if let Some(e) = &r.schedule_expression {
            rules.insert("ScheduleExpression".into(), json!(e));
        }
        if let Some(d) = &r.duration {
            rules.insert("Duration".into(), json!(d));
        }
        m.insert("RotationRules".into(), Value::Object(rules));
    }
    if let Some(t) = r.last_rotated_ms {
        m.insert("LastRotatedDate".into(), secs(t));
    }
    if let (true, Some(t)) = (r.enabled, r.next_rotation_ms) {
        m.insert("NextRotationDate".into(), secs(t));
    }
    m.insert("LastChangedDate".into(), secs(sec.last_changed_ms));
    if let Some(t) = sec.versions.iter().filter_map(|v| v.last_accessed_day_ms).max() {
        m.insert("LastAccessedDate".into(), secs(t));
    }
    if let Some(t) = sec.deleted_ms {
        m.insert("DeletedDate".into(), secs(t));
    }
    if !sec.tags.is_empty() {
        m.insert("Tags".into(), tags_json(&sec.tags));
    }
    let stages: Map<String, Value> = sec.versions.iter().filter(|v| !v.stages.is_empty()).map(|v| (v.id.clone(), json!(v.stages))).collect();
    m.insert(versions_member.into(), Value::Object(stages));
    m.insert("CreatedDate".into(), secs(sec.created_ms));
    Value::Object(m)
}

impl Inner {
    pub(crate) async fn create_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let name = s(input, "Name").ok_or_else(|| SmError::missing("name"))?;
        check_name(name)?;
        let value = value_of(input)?;
        let token = token_of(input, value.is_some())?;
        let tags = tags_of(input)?;
        if tags.len() > MAX_TAGS {
            return Err(SmError::InvalidParameter(format!("Number of tags exceeds the limit of {MAX_TAGS} tags.")));
        }
        if input.get("AddReplicaRegions").and_then(Value::as_array).is_some_and(|l| !l.is_empty()) {
            return Err(SmError::NotSupported("Replication to other regions (AddReplicaRegions)".into()));
        }
        let _w = self.write.lock().await;
        let mut existing = self.reg.secrets.read().get(&(a.to_string(), r.to_string(), name.to_string())).cloned();
        if let Some(gone) = existing.take_if(|s| self.reg.expired(s)) {
            self.reg.remove(&gone).wait().await.map_err(SmError::Internal)?;
        }
        if let Some(sec) = existing {
            if sec.deleted_ms.is_some() {
                return Err(SmError::InvalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.".into()));
            }
            // A retry with the same token and the same value answers as the first call.
            if let (Some(v), Some(value)) = (sec.version(&token), &value) {
                if self.open(a, r, &sec.arn, &v.id).await.ok().as_ref() == Some(value) {
                    return Ok(json!({"ARN": sec.arn, "Name": sec.name, "VersionId": token}));
                }
            }
            return Err(SmError::ResourceExists(format!("The operation failed because the secret {name} already exists.")));
        }
        let now = self.clock.now_ms();
        let sec = Secret {
            account: a.to_string(),
            region: r.to_string(),
            name: name.to_string(),
            arn: format!("arn:aws:secretsmanager:{r}:{a}:secret:{name}-{}", suffix()),
            description: s(input, "Description").map(str::to_string),
            kms_key_id: s(input, "KmsKeyId").map(str::to_string),
            tags,
            policy: None,
            created_ms: now,
            last_changed_ms: now,
            deleted_ms: None,
            delete_at_ms: None,
            versions: Vec::new(),
            rotation: Rotation::default(),
        };
        self.save_with_value(sec, &token, value).await
    }

    /// CreateSecret's and UpdateSecret's end: the value, if given, as the new AWSCURRENT
    /// version (its id the token), the secret saved; answers ARN, Name (and VersionId).
    async fn save_with_value(&self, mut sec: Secret, token: &str, value: Option<SecretValue>) -> SmResult<Value> {
        let mut out = json!({"ARN": sec.arn, "Name": sec.name});
        if let Some(value) = value {
            self.add_version(&mut sec, token, &value, &[CURRENT.to_string()]).await?;
            out["VersionId"] = json!(token);
        }
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(out)
    }

    pub(crate) fn describe_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let sec = self.reg.get(a, r, secret_id(input)?)?;
        Ok(describe(&sec, "VersionIdsToStages"))
    }

    pub(crate) async fn update_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let value = value_of(input)?;
        let token = token_of(input, value.is_some())?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        if let Some(d) = s(input, "Description") {
            sec.description = Some(d.to_string());
        }
        if let Some(k) = s(input, "KmsKeyId") {
            // Later versions are encrypted under the new key; earlier ones still decrypt
            // (a blob names its key).
            sec.kms_key_id = Some(k.to_string());
        }
        sec.last_changed_ms = self.clock.now_ms();
        self.save_with_value(sec, &token, value).await
    }

    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html>
    pub(crate) async fn delete_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let force = input.get("ForceDeleteWithoutRecovery").and_then(Value::as_bool).unwrap_or(false);
        let window = input.get("RecoveryWindowInDays").and_then(Value::as_i64);
        if force && window.is_some() {
            return Err(SmError::InvalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.".into()));
        }
        let days = window.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(SmError::InvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into()));
        }
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        let now = self.clock.now_ms();
        if force {
            self.reg.remove(&sec).wait().await.map_err(SmError::Internal)?;
            return Ok(json!({"ARN": sec.arn, "Name": sec.name, "DeletionDate": secs(now)}));
        }
        if sec.deleted_ms.is_some() {
            return Err(SmError::InvalidRequest(MARKED_FOR_DELETION.into()));
        }
        let at = now + days as u64 * DAY_MS;
        sec.deleted_ms = Some(now);
        sec.delete_at_ms = Some(at);
        let out = json!({"ARN": sec.arn, "Name": sec.name, "DeletionDate": secs(at)});
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        self.changed.notify_one();
        Ok(out)
    }

    pub(crate) async fn restore_secret(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        let out = json!({"ARN": sec.arn, "Name": sec.name});
        if sec.deleted_ms.is_some() {
            sec.deleted_ms = None;
            sec.delete_at_ms = None;
            self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
            self.changed.notify_one();
        }
        Ok(out)
    }

    pub(crate) async fn tag_resource(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let tags = tags_of(input)?;
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        for (k, v) in tags {
            match sec.tags.iter_mut().find(|(key, _)| *key == k) {
                Some(t) => t.1 = v,
                None => sec.tags.push((k, v)),
            }
        }
        if sec.tags.len() > MAX_TAGS {
            return Err(SmError::InvalidParameter(format!("Number of tags exceeds the limit of {MAX_TAGS} tags.")));
        }
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, a: &str, r: &str, input: &Value) -> SmResult<Value> {
        let id = secret_id(input)?;
        let keys: Vec<&str> = input.get("TagKeys").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let _w = self.write.lock().await;
        let mut sec = self.reg.get(a, r, id)?;
        sec.tags.retain(|(k, _)| !keys.contains(&k.as_str()));
        self.reg.save(sec).wait().await.map_err(SmError::Internal)?;
        Ok(json!({}))
    }
}
