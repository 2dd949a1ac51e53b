//! The KMS service as the router sees it (JSON 1.1, target prefix `TrentService`): model,
//! dispatch, and what every operation shares — reading members, the key state checks,
//! KeyMetadata's shape. Also the `KeyService` other services encrypt through.

use crate::errors::{kms_names, KmsError, KmsResult};
use crate::keys::{Key, Registry};
use base64::Engine;
use nimbus_core::doc_store::DocStore;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/kms-2014-11-01.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored KMS model parses"))
}

pub struct KmsService {
    pub(crate) reg: Arc<Registry>,
}

impl KmsService {
    /// Opens the keys in `docs`, their material sealed under `<dir>/master.key` (a
    /// per-process master key when `dir` is `None`, i.e. `--in-memory`), and starts the
    /// deletion / rotation timer (when a Tokio runtime runs).
    pub fn open(docs: Arc<dyn DocStore>, dir: Option<PathBuf>, clock: Clock) -> Result<KmsService, String> {
        let master = match dir {
            Some(d) => crate::master::MasterKey::open(&d)?,
            None => crate::master::MasterKey::ephemeral()?,
        };
        let reg = Arc::new(Registry::open(docs, master, clock)?);
        crate::keys::start_timer(reg.clone());
        Ok(KmsService { reg })
    }

    /// `DryRun`: the checks run, nothing changes, and a request that would have succeeded
    /// answers DryRunOperationException. Cryptographic operations change nothing, so they
    /// run whole; grant operations stop after their checks.
    /// <https://docs.aws.amazon.com/kms/latest/developerguide/programming-dryrun.html>
    async fn call_op(&self, ctx: &RequestContext, op: &str, input: Value) -> KmsResult<Value> {
        if input.get("DryRun").and_then(Value::as_bool) != Some(true) {
            return self.dispatch(ctx, op, input).await;
        }
        let (a, r) = (ctx.account_id.as_str(), ctx.region.as_str());
        match op {
            "CreateGrant" | "RevokeGrant" => {
                self.key(a, r, s(&input, "KeyId")).await?;
            }
            "RetireGrant" => match s(&input, "GrantToken") {
                Some(token) => {
                    let known = self.reg.keys.read().iter().any(|(k, key)| k.0 == a && k.1 == r && key.grants.iter().any(|g| g.token == token));
                    if !known {
                        return Err(KmsError::InvalidGrantToken("Grant token is not valid.".into()));
                    }
                }
                None => {
                    self.key(a, r, s(&input, "KeyId")).await?;
                }
            },
            _ => {
                self.dispatch(ctx, op, input).await?;
            }
        }
        Err(KmsError::DryRun)
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> KmsResult<Value> {
        let (a, r) = (ctx.account_id.as_str(), ctx.region.as_str());
        match op {
            "CreateKey" => self.create_key(a, r, &input).await,
            "DescribeKey" => self.describe_key(a, r, &input).await,
            "ListKeys" => self.list_keys(a, r, &input).await,
            "EnableKey" => self.set_enabled(a, r, &input, true).await,
            "DisableKey" => self.set_enabled(a, r, &input, false).await,
            "UpdateKeyDescription" => self.update_key_description(a, r, &input).await,
            "ScheduleKeyDeletion" => self.schedule_key_deletion(a, r, &input).await,
            "CancelKeyDeletion" => self.cancel_key_deletion(a, r, &input).await,
            "GetKeyPolicy" => self.get_key_policy(a, r, &input).await,
            "PutKeyPolicy" => self.put_key_policy(a, r, &input).await,
            "ListKeyPolicies" => self.list_key_policies(a, r, &input).await,
            "TagResource" => self.tag_resource(a, r, &input).await,
            "UntagResource" => self.untag_resource(a, r, &input).await,
            "ListResourceTags" => self.list_resource_tags(a, r, &input).await,
            "CreateAlias" => self.create_alias(a, r, &input).await,
            "UpdateAlias" => self.update_alias(a, r, &input).await,
            "DeleteAlias" => self.delete_alias(a, r, &input).await,
            "ListAliases" => self.list_aliases(a, r, &input).await,
            "Encrypt" => self.encrypt_op(a, r, &input).await,
            "Decrypt" => self.decrypt_op(a, r, &input).await,
            "ReEncrypt" => self.re_encrypt(a, r, &input).await,
            "GenerateDataKey" => self.generate_data_key(a, r, &input, true).await,
            "GenerateDataKeyWithoutPlaintext" => self.generate_data_key(a, r, &input, false).await,
            "GenerateRandom" => crate::ops_crypto::generate_random(&input),
            "EnableKeyRotation" => self.enable_key_rotation(a, r, &input).await,
            "DisableKeyRotation" => self.disable_key_rotation(a, r, &input).await,
            "GetKeyRotationStatus" => self.get_key_rotation_status(a, r, &input).await,
            "RotateKeyOnDemand" => self.rotate_key_on_demand(a, r, &input).await,
            "ListKeyRotations" => self.list_key_rotations(a, r, &input).await,
            "Sign" => self.sign(a, r, &input).await,
            "Verify" => self.verify(a, r, &input).await,
            "GetPublicKey" => self.get_public_key(a, r, &input).await,
            "GenerateMac" => self.generate_mac(a, r, &input).await,
            "VerifyMac" => self.verify_mac(a, r, &input).await,
            "GenerateDataKeyPair" => self.generate_data_key_pair(a, r, &input, true).await,
            "GenerateDataKeyPairWithoutPlaintext" => self.generate_data_key_pair(a, r, &input, false).await,
            "GetParametersForImport" => self.get_parameters_for_import(a, r, &input).await,
            "ImportKeyMaterial" => self.import_key_material(a, r, &input).await,
            "DeleteImportedKeyMaterial" => self.delete_imported_key_material(a, r, &input).await,
            "CreateGrant" => self.create_grant(a, r, &input).await,
            "ListGrants" => self.list_grants(a, r, &input).await,
            "RetireGrant" => self.retire_grant(a, r, &input).await,
            "RevokeGrant" => self.revoke_grant(a, r, &input).await,
            "ListRetirableGrants" => self.list_retirable_grants(a, r, &input).await,
            other => Err(KmsError::NotSupported(format!("The operation {other}"))),
        }
    }

    /// The key a KeyId member names, in any state.
    pub(crate) async fn key(&self, account: &str, region: &str, key_id: Option<&str>) -> KmsResult<Arc<Key>> {
        let key_id = key_id.ok_or_else(|| KmsError::missing("keyId"))?;
        let id = self.reg.resolve(account, region, key_id).await?;
        self.reg.get(account, region, &id)
    }

    /// The key a KeyId names, refusing keys that cannot be used for cryptography now.
    pub(crate) async fn usable(&self, account: &str, region: &str, key_id: Option<&str>) -> KmsResult<Arc<Key>> {
        let key = self.key(account, region, key_id).await?;
        check_usable(&key, account, region)?;
        Ok(key)
    }
}

/// DisabledException / KMSInvalidStateException for a key that is not Enabled.
/// <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
pub(crate) fn check_usable(key: &Key, account: &str, region: &str) -> KmsResult<()> {
    let arn = key.arn(account, region);
    match key.state.as_str() {
        "Enabled" => Ok(()),
        "Disabled" => Err(KmsError::Disabled(format!("{arn} is disabled."))),
        "PendingDeletion" => Err(KmsError::InvalidState(format!("{arn} is pending deletion."))),
        "PendingImport" => Err(KmsError::InvalidState(format!("{arn} is pending import."))),
        other => Err(KmsError::InvalidState(format!("{arn} is {other}."))),
    }
}

/// KeyUsage must be `usage` for `operation`.
pub(crate) fn check_usage(key: &Key, account: &str, region: &str, usage: &str, operation: &str) -> KmsResult<()> {
    if key.usage == usage {
        Ok(())
    } else {
        Err(KmsError::InvalidKeyUsage(format!("{} key usage is {} which is not valid for {operation}.", key.arn(account, region), key.usage)))
    }
}

impl AwsService for KmsService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.call_op(ctx, operation, input).await.map_err(AwsError::from).map_err(kms_names) })
    }
}

/// Other services' encryption (Secrets Manager, SSM SecureString) through nimbus's KMS:
/// the same keys, blobs and checks as Encrypt / Decrypt.
impl nimbus_core::internal::KeyService for KmsService {
    fn encrypt<'a>(&'a self, account: &'a str, region: &'a str, key_id: &'a str, plaintext: &'a [u8], context: &'a BTreeMap<String, String>) -> BoxFuture<'a, Result<nimbus_core::internal::EncryptedBlob, AwsError>> {
        Box::pin(async move {
            let (ciphertext, key_arn) = self.encrypt_symmetric(account, region, key_id, plaintext, context).await.map_err(AwsError::from)?;
            Ok(nimbus_core::internal::EncryptedBlob { ciphertext, key_arn })
        })
    }

    fn decrypt<'a>(&'a self, account: &'a str, region: &'a str, ciphertext: &'a [u8], context: &'a BTreeMap<String, String>) -> BoxFuture<'a, Result<Vec<u8>, AwsError>> {
        Box::pin(async move { self.decrypt_symmetric(account, region, None, ciphertext, context).await.map(|(p, _)| p).map_err(AwsError::from) })
    }
}

/// A string member of the input.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A blob member (base64 on the wire; the codec has checked it is base64).
pub(crate) fn blob(input: &Value, member: &str) -> KmsResult<Option<Vec<u8>>> {
    match s(input, member) {
        None => Ok(None),
        Some(t) => base64::engine::general_purpose::STANDARD.decode(t).map(Some).map_err(|_| KmsError::Validation(format!("Invalid base64 in {member}"))),
    }
}

pub(crate) fn b64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// An EncryptionContext member as a sorted map.
pub(crate) fn context(input: &Value, member: &str) -> BTreeMap<String, String> {
    input
        .get(member)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub(crate) fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// KeyMetadata as DescribeKey / CreateKey return it.
/// <https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html>
pub(crate) fn metadata(key: &Key, account: &str, region: &str) -> Value {
    let mut m = json!({
        "AWSAccountId": account,
        "KeyId": key.id,
        "Arn": key.arn(account, region),
        "CreationDate": secs(key.created_ms),
        "Enabled": key.state == "Enabled",
        "Description": key.description,
        "KeyUsage": key.usage,
        "KeyState": key.state,
        "Origin": key.origin,
        "KeyManager": key.manager,
        "CustomerMasterKeySpec": key.spec,
        "KeySpec": key.spec,
        "MultiRegion": key.multi_region,
    });
    let enc = crate::spec::encryption_algorithms(&key.spec, &key.usage);
    if !enc.is_empty() {
        m["EncryptionAlgorithms"] = json!(enc);
    }
    let sig = crate::spec::signing_algorithms(&key.spec, &key.usage);
    if !sig.is_empty() {
        m["SigningAlgorithms"] = json!(sig);
    }
    let mac = crate::spec::mac_algorithms(&key.spec);
    if !mac.is_empty() {
        m["MacAlgorithms"] = json!(mac);
    }
    if let Some(d) = key.deletion_ms {
        m["DeletionDate"] = secs(d);
    }
    if let Some(p) = key.pending_days {
        m["PendingDeletionWindowInDays"] = json!(p);
    }
    if key.multi_region {
        m["MultiRegionConfiguration"] = json!({
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": key.arn(account, region), "Region": region},
            "ReplicaKeys": []
        });
    }
    if key.origin == "EXTERNAL" && !key.material.is_empty() {
        match key.valid_to_ms {
            Some(v) => {
                m["ExpirationModel"] = json!("KEY_MATERIAL_EXPIRES");
                m["ValidTo"] = secs(v);
            }
            None => m["ExpirationModel"] = json!("KEY_MATERIAL_DOES_NOT_EXPIRE"),
        }
    }
    m
}

/// Limit (1–1000, default 100) and Marker (an offset nimbus gave) of a list call.
pub(crate) fn page(input: &Value) -> KmsResult<(usize, usize)> {
    let limit = match input.get("Limit").and_then(Value::as_i64) {
        None => 100,
        Some(l) if (1..=1000).contains(&l) => l as usize,
        Some(l) => {
            let c = if l < 1 { "Member must have value greater than or equal to 1" } else { "Member must have value less than or equal to 1000" };
            return Err(KmsError::constraint(l, "limit", c));
        }
    };
    let start = match s(input, "Marker") {
        None => 0,
        Some(m) => m.parse::<usize>().map_err(|_| KmsError::InvalidMarker("Invalid marker".into()))?,
    };
    Ok((start, limit))
}

/// A page of `items` and the NextMarker / Truncated members.
pub(crate) fn paged(items: Vec<Value>, start: usize, limit: usize, member: &str) -> Value {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let mut out = json!({ member: page, "Truncated": end < total });
    if end < total {
        out["NextMarker"] = json!(end.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::internal::KeyService;

    #[tokio::test]
    async fn key_service_encrypts_under_a_managed_key_made_on_first_use() {
        let kms = KmsService::open(Arc::new(nimbus_core::doc_store::MemoryDocs), None, Clock::new()).expect("open");
        let mut ctx = BTreeMap::new();
        ctx.insert("PARAMETER_ARN".to_string(), "arn:aws:ssm:us-east-1:111111111111:parameter/p".to_string());
        let blob = kms.encrypt("111111111111", "us-east-1", "alias/aws/ssm", b"secret", &ctx).await.expect("encrypt");
        assert!(blob.key_arn.starts_with("arn:aws:kms:us-east-1:111111111111:key/"), "{}", blob.key_arn);
        assert_eq!(kms.decrypt("111111111111", "us-east-1", &blob.ciphertext, &ctx).await.expect("decrypt"), b"secret");
        let again = kms.encrypt("111111111111", "us-east-1", "alias/aws/ssm", b"x", &ctx).await.expect("encrypt");
        assert_eq!(again.key_arn, blob.key_arn, "one managed key per alias");
        let wrong = kms.decrypt("111111111111", "us-east-1", &blob.ciphertext, &BTreeMap::new()).await.expect_err("context");
        assert_eq!(wrong.code, "InvalidCiphertextException");
        let other = kms.decrypt("222222222222", "us-east-1", &blob.ciphertext, &ctx).await.expect_err("account");
        assert_eq!(other.code, "InvalidCiphertextException");
        let missing = kms.encrypt("111111111111", "us-east-1", "alias/nope", b"x", &ctx).await.expect_err("alias");
        assert_eq!(missing.code, "NotFoundException");
    }
}
