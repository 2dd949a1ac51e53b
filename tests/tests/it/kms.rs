//! KMS through the AWS SDK for Rust: keys (every key spec nimbus supports), aliases in
//! every KeyId form, Encrypt/Decrypt with the encryption context bound, blobs refused
//! across keys, accounts and regions, deletion and rotation on nimbus's clock, key
//! material surviving `kill -9`, Sign/Verify, GetPublicKey, HMAC and data keys, with
//! AWS's error codes for bad input.
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html>
//! <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
//! <https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html>

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithmSpec, KeyManagerType, KeySpec, KeyState, KeyUsageType, MacAlgorithmSpec, MessageType, SigningAlgorithmSpec, Tag,
};
use aws_sdk_kms::Client;
use nimbus_tests::{expect_err_message as err, Nimbus};
use std::collections::HashMap;

const DAY: u64 = 86_400;


async fn symmetric(c: &Client) -> String {
    c.create_key().send().await.expect("create_key").key_metadata().expect("metadata").key_id().to_string()
}

async fn encrypt(c: &Client, key: &str, plain: &[u8], ctx: &[(&str, &str)]) -> Blob {
    let mut req = c.encrypt().key_id(key).plaintext(Blob::new(plain));
    for (k, v) in ctx {
        req = req.encryption_context(*k, *v);
    }
    req.send().await.expect("encrypt").ciphertext_blob().expect("blob").clone()
}

#[tokio::test]
async fn create_describe_list_enable_disable_policy_and_tags() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let created = c
        .create_key()
        .description("orders")
        .tags(Tag::builder().tag_key("team").tag_value("a").build().expect("tag"))
        .multi_region(true)
        .send()
        .await
        .expect("create");
    let m = created.key_metadata().expect("metadata");
    let id = m.key_id().to_string();
    assert!(id.starts_with("mrk-"), "{id}");
    assert_eq!(m.arn(), Some(format!("arn:aws:kms:us-east-1:000000000000:key/{id}").as_str()));
    assert_eq!(m.aws_account_id(), Some("000000000000"));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(m.encryption_algorithms(), &[EncryptionAlgorithmSpec::SymmetricDefault]);
    assert_eq!(m.multi_region(), Some(true));
    assert!(m.creation_date().is_some() && m.enabled());

    let listed = c.list_keys().send().await.expect("list");
    assert!(listed.keys().iter().any(|k| k.key_id() == Some(id.as_str())));
    assert!(!listed.truncated());

    c.disable_key().key_id(&id).send().await.expect("disable");
    let msg = err(c.encrypt().key_id(&id).plaintext(Blob::new("x")).send().await, "DisabledException");
    assert!(msg.ends_with("is disabled."), "{msg}");
    assert_eq!(c.describe_key().key_id(&id).send().await.expect("describe").key_metadata().and_then(|m| m.key_state().cloned()), Some(KeyState::Disabled));
    c.enable_key().key_id(&id).send().await.expect("enable");
    encrypt(&c, &id, b"x", &[]).await;

    c.update_key_description().key_id(&id).description("renamed").send().await.expect("describe");
    assert_eq!(c.describe_key().key_id(&id).send().await.expect("describe").key_metadata().and_then(|m| m.description().map(str::to_string)).as_deref(), Some("renamed"));

    // Default key policy: the account root may do everything.
    let policy = c.get_key_policy().key_id(&id).send().await.expect("policy").policy().unwrap_or_default().to_string();
    let doc: serde_json::Value = serde_json::from_str(&policy).expect("JSON policy");
    assert_eq!(doc["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::000000000000:root");
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    let mine = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
    c.put_key_policy().key_id(&id).policy(mine).send().await.expect("put policy");
    assert_eq!(c.get_key_policy().key_id(&id).send().await.expect("policy").policy(), Some(mine));
    err(c.put_key_policy().key_id(&id).policy("{not json").send().await, "MalformedPolicyDocumentException");
    assert_eq!(c.list_key_policies().key_id(&id).send().await.expect("policies").policy_names(), &["default".to_string()]);

    c.tag_resource().key_id(&id).tags(Tag::builder().tag_key("env").tag_value("dev").build().expect("tag")).send().await.expect("tag");
    c.untag_resource().key_id(&id).tag_keys("team").send().await.expect("untag");
    let tags: Vec<(String, String)> = c.list_resource_tags().key_id(&id).send().await.expect("tags").tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())).collect();
    assert_eq!(tags, vec![("env".to_string(), "dev".to_string())]);
    err(c.tag_resource().key_id(&id).tags(Tag::builder().tag_key("aws:x").tag_value("v").build().expect("tag")).send().await, "TagException");
}

#[tokio::test]
async fn create_key_refuses_what_aws_refuses_and_unknown_keys_are_not_found() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let m = err(c.create_key().key_spec(KeySpec::EccNistP256).key_usage(KeyUsageType::EncryptDecrypt).send().await, "ValidationException");
    assert!(m.contains("ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256"), "{m}");
    err(c.create_key().key_spec(KeySpec::SymmetricDefault).key_usage(KeyUsageType::SignVerify).send().await, "ValidationException");
    err(c.create_key().key_spec(KeySpec::Hmac256).key_usage(KeyUsageType::EncryptDecrypt).send().await, "ValidationException");
    err(c.create_key().key_spec(KeySpec::Rsa2048).send().await, "ValidationException");
    err(c.create_key().description("x".repeat(8193)).send().await, "ValidationException");
    err(c.create_key().policy("[]").send().await, "MalformedPolicyDocumentException");
    let missing = "0b8a9c2e-1111-4222-8333-944445555666";
    let m = err(c.describe_key().key_id(missing).send().await, "NotFoundException");
    assert_eq!(m, format!("Key 'arn:aws:kms:us-east-1:000000000000:key/{missing}' does not exist"));
    err(c.describe_key().key_id("alias/nope").send().await, "NotFoundException");
    err(c.list_keys().limit(0).send().await, "ValidationException");
    err(c.list_keys().marker("garbage").send().await, "InvalidMarkerException");
}

#[tokio::test]
async fn aliases_name_keys_everywhere_and_alias_aws_is_reserved() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let a = symmetric(&c).await;
    let b = symmetric(&c).await;
    c.create_alias().alias_name("alias/orders").target_key_id(&a).send().await.expect("alias");
    err(c.create_alias().alias_name("alias/orders").target_key_id(&b).send().await, "AlreadyExistsException");
    err(c.create_alias().alias_name("orders").target_key_id(&a).send().await, "InvalidAliasNameException");
    err(c.create_alias().alias_name("alias/aws/mine").target_key_id(&a).send().await, "NotAuthorizedException");
    err(c.create_alias().alias_name("alias/bad name").target_key_id(&a).send().await, "ValidationException");
    err(c.create_alias().alias_name("alias/x").target_key_id("alias/orders").send().await, "ValidationException");

    // The alias name and the alias ARN work wherever a KeyId does.
    let by_name = c.encrypt().key_id("alias/orders").plaintext(Blob::new("p")).send().await.expect("encrypt");
    assert_eq!(by_name.key_id(), Some(format!("arn:aws:kms:us-east-1:000000000000:key/{a}").as_str()));
    let alias_arn = "arn:aws:kms:us-east-1:000000000000:alias/orders";
    assert_eq!(c.describe_key().key_id(alias_arn).send().await.expect("describe").key_metadata().map(|m| m.key_id().to_string()), Some(a.clone()));

    let listed = c.list_aliases().key_id(&a).send().await.expect("list");
    assert_eq!(listed.aliases().len(), 1);
    assert_eq!(listed.aliases()[0].alias_arn(), Some(alias_arn));
    assert_eq!(listed.aliases()[0].target_key_id(), Some(a.as_str()));
    assert!(c.list_aliases().key_id(&b).send().await.expect("list").aliases().is_empty());

    c.update_alias().alias_name("alias/orders").target_key_id(&b).send().await.expect("update");
    assert_eq!(c.describe_key().key_id("alias/orders").send().await.expect("describe").key_metadata().map(|m| m.key_id().to_string()), Some(b.clone()));
    c.delete_alias().alias_name("alias/orders").send().await.expect("delete");
    let m = err(c.delete_alias().alias_name("alias/orders").send().await, "NotFoundException");
    assert_eq!(m, "Alias arn:aws:kms:us-east-1:000000000000:alias/orders is not found.");
    err(c.describe_key().key_id("alias/orders").send().await, "NotFoundException");
}

#[tokio::test]
async fn aws_managed_keys_are_created_on_first_use() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let m = c.describe_key().key_id("alias/aws/secretsmanager").send().await.expect("describe");
    let m = m.key_metadata().expect("metadata");
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Aws));
    let again = c.describe_key().key_id("alias/aws/secretsmanager").send().await.expect("describe");
    assert_eq!(again.key_metadata().map(|x| x.key_id()), Some(m.key_id()), "one managed key per alias");
    assert!(c.list_keys().send().await.expect("keys").keys().iter().any(|k| k.key_id() == Some(m.key_id())));
    let aliases = c.list_aliases().send().await.expect("aliases");
    assert!(aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/aws/secretsmanager") && a.target_key_id() == Some(m.key_id())));
    let rotation = c.get_key_rotation_status().key_id(m.key_id()).send().await.expect("rotation");
    assert!(rotation.key_rotation_enabled(), "AWS managed keys rotate yearly");
    err(c.schedule_key_deletion().key_id(m.key_id()).send().await, "UnsupportedOperationException");
    err(c.delete_alias().alias_name("alias/aws/secretsmanager").send().await, "NotAuthorizedException");
    let blob = encrypt(&c, "alias/aws/ssm", b"secure", &[]).await;
    assert_eq!(c.decrypt().ciphertext_blob(blob).send().await.expect("decrypt").plaintext().map(|p| p.as_ref().to_vec()), Some(b"secure".to_vec()));
}

#[tokio::test]
async fn encrypt_decrypt_bind_the_context_and_refuse_other_keys_accounts_and_tampering() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let a = symmetric(&c).await;
    let b = symmetric(&c).await;
    let blob = encrypt(&c, &a, b"top secret", &[("purpose", "test"), ("tenant", "7")]).await;

    // The blob names its key: no KeyId needed.
    let out = c.decrypt().ciphertext_blob(blob.clone()).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await.expect("decrypt");
    assert_eq!(out.plaintext().map(|p| p.as_ref().to_vec()), Some(b"top secret".to_vec()));
    assert_eq!(out.key_id(), Some(format!("arn:aws:kms:us-east-1:000000000000:key/{a}").as_str()));
    assert_eq!(out.encryption_algorithm(), Some(&EncryptionAlgorithmSpec::SymmetricDefault));
    c.decrypt().ciphertext_blob(blob.clone()).key_id(&a).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await.expect("decrypt with KeyId");

    // The context is authenticated: missing, changed or extra pairs fail.
    err(c.decrypt().ciphertext_blob(blob.clone()).send().await, "InvalidCiphertextException");
    err(c.decrypt().ciphertext_blob(blob.clone()).encryption_context("tenant", "8").encryption_context("purpose", "test").send().await, "InvalidCiphertextException");
    // Another key named: IncorrectKeyException.
    err(c.decrypt().ciphertext_blob(blob.clone()).key_id(&b).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await, "IncorrectKeyException");
    // A flipped bit, garbage, another account, another region.
    let mut bytes = blob.as_ref().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    err(c.decrypt().ciphertext_blob(Blob::new(bytes)).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await, "InvalidCiphertextException");
    err(c.decrypt().ciphertext_blob(Blob::new(vec![1u8; 40])).send().await, "InvalidCiphertextException");
    let other_account = n.kms_client_for("123456789012", "us-east-1");
    err(other_account.decrypt().ciphertext_blob(blob.clone()).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await, "InvalidCiphertextException");
    let other_region = n.kms_client_for(nimbus_tests::DEFAULT_ACCESS_KEY, "eu-west-1");
    err(other_region.decrypt().ciphertext_blob(blob.clone()).encryption_context("tenant", "7").encryption_context("purpose", "test").send().await, "InvalidCiphertextException");

    // Limits.
    err(c.encrypt().key_id(&a).plaintext(Blob::new(vec![0u8; 4097])).send().await, "ValidationException");
    encrypt(&c, &a, &[0u8; 4096], &[]).await;
    err(c.encrypt().key_id(&a).send().await, "ValidationException");

    // ReEncrypt: to another key under another context, the source needs no KeyId.
    let re = c
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("tenant", "7")
        .source_encryption_context("purpose", "test")
        .destination_key_id(&b)
        .destination_encryption_context("to", "b")
        .send()
        .await
        .expect("re-encrypt");
    assert_eq!(re.source_key_id(), Some(format!("arn:aws:kms:us-east-1:000000000000:key/{a}").as_str()));
    assert_eq!(re.key_id(), Some(format!("arn:aws:kms:us-east-1:000000000000:key/{b}").as_str()));
    let back = c.decrypt().ciphertext_blob(re.ciphertext_blob().expect("blob").clone()).encryption_context("to", "b").send().await.expect("decrypt");
    assert_eq!(back.plaintext().map(|p| p.as_ref().to_vec()), Some(b"top secret".to_vec()));
}

#[tokio::test]
async fn data_keys_and_random_bytes() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let k = symmetric(&c).await;
    let dk = c.generate_data_key().key_id(&k).key_spec(DataKeySpec::Aes256).encryption_context("f", "1").send().await.expect("data key");
    let plain = dk.plaintext().expect("plaintext").as_ref().to_vec();
    assert_eq!(plain.len(), 32);
    let opened = c.decrypt().ciphertext_blob(dk.ciphertext_blob().expect("blob").clone()).encryption_context("f", "1").send().await.expect("decrypt");
    assert_eq!(opened.plaintext().map(|p| p.as_ref().to_vec()), Some(plain));
    assert_eq!(c.generate_data_key().key_id(&k).key_spec(DataKeySpec::Aes128).send().await.expect("dk").plaintext().map(|p| p.as_ref().len()), Some(16));
    assert_eq!(c.generate_data_key().key_id(&k).number_of_bytes(64).send().await.expect("dk").plaintext().map(|p| p.as_ref().len()), Some(64));
    err(c.generate_data_key().key_id(&k).send().await, "ValidationException");
    err(c.generate_data_key().key_id(&k).number_of_bytes(16).key_spec(DataKeySpec::Aes128).send().await, "ValidationException");
    err(c.generate_data_key().key_id(&k).number_of_bytes(1025).send().await, "ValidationException");
    let without = c.generate_data_key_without_plaintext().key_id(&k).key_spec(DataKeySpec::Aes256).send().await.expect("without");
    let opened = c.decrypt().ciphertext_blob(without.ciphertext_blob().expect("blob").clone()).send().await.expect("decrypt");
    assert_eq!(opened.plaintext().map(|p| p.as_ref().len()), Some(32));

    let r = c.generate_random().number_of_bytes(1024).send().await.expect("random");
    assert_eq!(r.plaintext().map(|p| p.as_ref().len()), Some(1024));
    assert_ne!(r.plaintext(), c.generate_random().number_of_bytes(1024).send().await.expect("random").plaintext());
    err(c.generate_random().number_of_bytes(1025).send().await, "ValidationException");
    err(c.generate_random().number_of_bytes(0).send().await, "ValidationException");

    let k1 = c.generate_data_key_pair().key_id(&k).key_pair_spec(DataKeyPairSpec::EccSecgP256K1).send().await.expect("secp256k1 pair");
    assert_eq!(k1.public_key().map(|p| p.as_ref().len()), Some(88));
    let pair = c.generate_data_key_pair().key_id(&k).key_pair_spec(DataKeyPairSpec::EccNistP256).send().await.expect("pair");
    let private = c.decrypt().ciphertext_blob(pair.private_key_ciphertext_blob().expect("blob").clone()).send().await.expect("decrypt private key");
    assert_eq!(private.plaintext(), pair.private_key_plaintext());
    assert_eq!(pair.public_key().map(|p| p.as_ref().len()), Some(91));
    let rsa = c.generate_data_key_pair_without_plaintext().key_id(&k).key_pair_spec(DataKeyPairSpec::Rsa2048).send().await.expect("rsa pair");
    assert!(rsa.public_key().is_some() && rsa.private_key_ciphertext_blob().is_some());
}

#[tokio::test]
async fn deletion_waits_its_window_on_the_clock_and_cancel_leaves_the_key_disabled() {
    let n = Nimbus::start_with_clock_control();
    let c = n.kms_client();
    let k = symmetric(&c).await;
    c.create_alias().alias_name("alias/doomed").target_key_id(&k).send().await.expect("alias");
    let blob = encrypt(&c, &k, b"x", &[]).await;
    err(c.schedule_key_deletion().key_id(&k).pending_window_in_days(6).send().await, "ValidationException");
    err(c.schedule_key_deletion().key_id(&k).pending_window_in_days(31).send().await, "ValidationException");
    let s = c.schedule_key_deletion().key_id(&k).pending_window_in_days(7).send().await.expect("schedule");
    assert_eq!(s.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(s.pending_window_in_days(), Some(7));
    let m = err(c.encrypt().key_id(&k).plaintext(Blob::new("x")).send().await, "KMSInvalidStateException");
    assert!(m.ends_with("is pending deletion."), "{m}");
    err(c.decrypt().ciphertext_blob(blob.clone()).send().await, "KMSInvalidStateException");
    err(c.enable_key().key_id(&k).send().await, "KMSInvalidStateException");
    c.cancel_key_deletion().key_id(&k).send().await.expect("cancel");
    let m = c.describe_key().key_id(&k).send().await.expect("describe");
    assert_eq!(m.key_metadata().and_then(|m| m.key_state().cloned()), Some(KeyState::Disabled));
    assert!(m.key_metadata().and_then(|m| m.deletion_date()).is_none());
    err(c.cancel_key_deletion().key_id(&k).send().await, "KMSInvalidStateException");

    c.schedule_key_deletion().key_id(&k).pending_window_in_days(7).send().await.expect("schedule");
    assert_eq!(n.advance_clock(6 * DAY), 200);
    assert!(c.describe_key().key_id(&k).send().await.is_ok(), "still there after 6 days");
    assert_eq!(n.advance_clock(DAY + 1), 200);
    err(c.describe_key().key_id(&k).send().await, "NotFoundException");
    err(c.describe_key().key_id("alias/doomed").send().await, "NotFoundException");
    err(c.decrypt().ciphertext_blob(blob).send().await, "InvalidCiphertextException");
    assert!(!c.list_keys().send().await.expect("keys").keys().iter().any(|x| x.key_id() == Some(k.as_str())));
}

#[tokio::test]
async fn rotation_on_demand_and_on_the_clock_keeps_old_ciphertexts_readable() {
    let n = Nimbus::start_with_clock_control();
    let c = n.kms_client();
    let k = symmetric(&c).await;
    let before = encrypt(&c, &k, b"v0", &[]).await;
    let status = c.get_key_rotation_status().key_id(&k).send().await.expect("status");
    assert!(!status.key_rotation_enabled());
    err(c.enable_key_rotation().key_id(&k).rotation_period_in_days(89).send().await, "ValidationException");
    err(c.enable_key_rotation().key_id(&k).rotation_period_in_days(2561).send().await, "ValidationException");
    c.enable_key_rotation().key_id(&k).rotation_period_in_days(90).send().await.expect("enable rotation");
    let status = c.get_key_rotation_status().key_id(&k).send().await.expect("status");
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    assert!(status.next_rotation_date().is_some());

    c.rotate_key_on_demand().key_id(&k).send().await.expect("rotate");
    let middle = encrypt(&c, &k, b"v1", &[]).await;
    assert_ne!(before.as_ref()[..], middle.as_ref()[..]);
    assert_eq!(n.advance_clock(90 * DAY + 1), 200);
    let after = encrypt(&c, &k, b"v2", &[]).await;
    let rotations = c.list_key_rotations().key_id(&k).send().await.expect("rotations");
    let kinds: Vec<String> = rotations.rotations().iter().map(|r| r.rotation_type().map(|t| t.as_str().to_string()).unwrap_or_default()).collect();
    assert_eq!(kinds, vec!["ON_DEMAND".to_string(), "AUTOMATIC".to_string()]);
    for (blob, want) in [(before, b"v0"), (middle, b"v1"), (after, b"v2")] {
        let out = c.decrypt().ciphertext_blob(blob).send().await.expect("decrypt");
        assert_eq!(out.plaintext().map(|p| p.as_ref().to_vec()), Some(want.to_vec()));
    }
    c.disable_key_rotation().key_id(&k).send().await.expect("disable");
    assert!(!c.get_key_rotation_status().key_id(&k).send().await.expect("status").key_rotation_enabled());

    let rsa = c.create_key().key_spec(KeySpec::Rsa2048).key_usage(KeyUsageType::SignVerify).send().await.expect("rsa");
    err(c.enable_key_rotation().key_id(rsa.key_metadata().expect("m").key_id()).send().await, "UnsupportedOperationException");
}

#[tokio::test]
async fn key_material_survives_kill_9_and_is_sealed_at_rest() {
    let mut n = Nimbus::start();
    let c = n.kms_client();
    let k = symmetric(&c).await;
    c.create_alias().alias_name("alias/durable").target_key_id(&k).send().await.expect("alias");
    c.rotate_key_on_demand().key_id(&k).send().await.expect("rotate");
    let blob = encrypt(&c, "alias/durable", b"kept", &[("a", "b")]).await;
    let hmac = c.create_key().key_spec(KeySpec::Hmac256).key_usage(KeyUsageType::GenerateVerifyMac).send().await.expect("hmac");
    let hmac_id = hmac.key_metadata().expect("m").key_id().to_string();
    let mac = c.generate_mac().key_id(&hmac_id).mac_algorithm(MacAlgorithmSpec::HmacSha256).message(Blob::new("m")).send().await.expect("mac");
    n.kill9();
    n.restart();
    let c = n.kms_client();
    let out = c.decrypt().ciphertext_blob(blob).encryption_context("a", "b").send().await.expect("decrypt after restart");
    assert_eq!(out.plaintext().map(|p| p.as_ref().to_vec()), Some(b"kept".to_vec()));
    c.verify_mac().key_id(&hmac_id).mac_algorithm(MacAlgorithmSpec::HmacSha256).message(Blob::new("m")).mac(mac.mac().expect("mac").clone()).send().await.expect("mac after restart");
    assert_eq!(c.list_key_rotations().key_id(&k).send().await.expect("rotations").rotations().len(), 1);

    let dir = n.data_dir().expect("data dir");
    let master = dir.join("kms").join("master.key");
    let meta = std::fs::metadata(&master).expect("master.key");
    assert_eq!(meta.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert!(dir.join("kms.db").exists());
}

#[tokio::test]
async fn signatures_rsa_and_ecdsa_raw_and_digest() {
    use sha2::Digest;
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let rsa = c.create_key().key_spec(KeySpec::Rsa2048).key_usage(KeyUsageType::SignVerify).send().await.expect("rsa");
    let rsa = rsa.key_metadata().expect("m");
    assert_eq!(rsa.signing_algorithms().len(), 6);
    let rsa_id = rsa.key_id().to_string();
    let msg = b"the message".to_vec();
    for alg in [
        SigningAlgorithmSpec::RsassaPssSha256,
        SigningAlgorithmSpec::RsassaPssSha384,
        SigningAlgorithmSpec::RsassaPssSha512,
        SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
        SigningAlgorithmSpec::RsassaPkcs1V15Sha384,
        SigningAlgorithmSpec::RsassaPkcs1V15Sha512,
    ] {
        let s = c.sign().key_id(&rsa_id).message(Blob::new(msg.clone())).signing_algorithm(alg.clone()).send().await.expect("sign");
        let sig = s.signature().expect("signature").clone();
        let v = c.verify().key_id(&rsa_id).message(Blob::new(msg.clone())).signing_algorithm(alg.clone()).signature(sig.clone()).send().await.expect("verify");
        assert!(v.signature_valid(), "{alg:?}");
        err(c.verify().key_id(&rsa_id).message(Blob::new("other")).signing_algorithm(alg.clone()).signature(sig).send().await, "KMSInvalidSignatureException");
    }
    // DIGEST: the caller hashed; the same signature verifies as RAW.
    let digest = sha2::Sha256::digest(&msg).to_vec();
    let s = c.sign().key_id(&rsa_id).message(Blob::new(digest.clone())).message_type(MessageType::Digest).signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256).send().await.expect("sign digest");
    c.verify().key_id(&rsa_id).message(Blob::new(msg.clone())).signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256).signature(s.signature().expect("sig").clone()).send().await.expect("verify raw");
    err(c.sign().key_id(&rsa_id).message(Blob::new(vec![1u8; 31])).message_type(MessageType::Digest).signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256).send().await, "ValidationException");
    err(c.sign().key_id(&rsa_id).message(Blob::new(vec![1u8; 4097])).signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256).send().await, "ValidationException");
    err(c.sign().key_id(&rsa_id).message(Blob::new("m")).signing_algorithm(SigningAlgorithmSpec::EcdsaSha256).send().await, "InvalidKeyUsageException");
    err(c.encrypt().key_id(&rsa_id).plaintext(Blob::new("m")).send().await, "InvalidKeyUsageException");

    for (spec, alg, der_len) in [
        (KeySpec::EccNistP256, SigningAlgorithmSpec::EcdsaSha256, 91),
        (KeySpec::EccNistP384, SigningAlgorithmSpec::EcdsaSha384, 120),
        (KeySpec::EccNistP521, SigningAlgorithmSpec::EcdsaSha512, 158),
        (KeySpec::EccSecgP256K1, SigningAlgorithmSpec::EcdsaSha256, 88),
    ] {
        let k = c.create_key().key_spec(spec.clone()).key_usage(KeyUsageType::SignVerify).send().await.expect("ecc");
        let id = k.key_metadata().expect("m").key_id().to_string();
        let s = c.sign().key_id(&id).message(Blob::new(msg.clone())).signing_algorithm(alg.clone()).send().await.expect("sign");
        let v = c.verify().key_id(&id).message(Blob::new(msg.clone())).signing_algorithm(alg.clone()).signature(s.signature().expect("sig").clone()).send().await.expect("verify");
        assert!(v.signature_valid());
        // DIGEST: the caller's hash of the message, verified as RAW.
        let hashed = match alg {
            SigningAlgorithmSpec::EcdsaSha384 => sha2::Sha384::digest(&msg).to_vec(),
            SigningAlgorithmSpec::EcdsaSha512 => sha2::Sha512::digest(&msg).to_vec(),
            _ => sha2::Sha256::digest(&msg).to_vec(),
        };
        let s = c.sign().key_id(&id).message(Blob::new(hashed)).message_type(MessageType::Digest).signing_algorithm(alg.clone()).send().await.expect("sign digest");
        c.verify().key_id(&id).message(Blob::new(msg.clone())).signing_algorithm(alg.clone()).signature(s.signature().expect("sig").clone()).send().await.expect("verify raw");
        err(c.verify().key_id(&id).message(Blob::new("other")).signing_algorithm(alg.clone()).signature(s.signature().expect("sig").clone()).send().await, "KMSInvalidSignatureException");
        let p = c.get_public_key().key_id(&id).send().await.expect("public key");
        assert_eq!(p.key_spec(), Some(&spec));
        assert_eq!(p.key_usage(), Some(&KeyUsageType::SignVerify));
        assert_eq!(p.signing_algorithms(), &[alg]);
        assert_eq!(p.public_key().map(|k| k.as_ref().len()), Some(der_len));
    }
    err(c.get_key_rotation_status().key_id(&rsa_id).send().await, "UnsupportedOperationException");
    let sym = symmetric(&c).await;
    err(c.get_public_key().key_id(&sym).send().await, "UnsupportedOperationException");
    err(c.sign().key_id(&sym).message(Blob::new("m")).signing_algorithm(SigningAlgorithmSpec::EcdsaSha256).send().await, "InvalidKeyUsageException");
}

#[tokio::test]
async fn rsa_encryption_and_hmac_keys() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let k = c.create_key().key_spec(KeySpec::Rsa3072).key_usage(KeyUsageType::EncryptDecrypt).send().await.expect("rsa");
    let id = k.key_metadata().expect("m").key_id().to_string();
    let p = c.get_public_key().key_id(&id).send().await.expect("public");
    assert_eq!(p.encryption_algorithms(), &[EncryptionAlgorithmSpec::RsaesOaepSha1, EncryptionAlgorithmSpec::RsaesOaepSha256]);
    for alg in [EncryptionAlgorithmSpec::RsaesOaepSha1, EncryptionAlgorithmSpec::RsaesOaepSha256] {
        let e = c.encrypt().key_id(&id).plaintext(Blob::new("asym")).encryption_algorithm(alg.clone()).send().await.expect("encrypt");
        let d = c.decrypt().key_id(&id).ciphertext_blob(e.ciphertext_blob().expect("blob").clone()).encryption_algorithm(alg).send().await.expect("decrypt");
        assert_eq!(d.plaintext().map(|p| p.as_ref().to_vec()), Some(b"asym".to_vec()));
    }
    err(c.encrypt().key_id(&id).plaintext(Blob::new("asym")).send().await, "InvalidKeyUsageException");

    let mut macs: HashMap<String, usize> = HashMap::new();
    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlgorithmSpec::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithmSpec::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithmSpec::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithmSpec::HmacSha512, 64),
    ] {
        let k = c.create_key().key_spec(spec.clone()).key_usage(KeyUsageType::GenerateVerifyMac).send().await.expect("hmac key");
        let m = k.key_metadata().expect("m");
        assert_eq!(m.mac_algorithms(), &[alg.clone()]);
        let id = m.key_id().to_string();
        let mac = c.generate_mac().key_id(&id).mac_algorithm(alg.clone()).message(Blob::new("data")).send().await.expect("mac");
        let bytes = mac.mac().expect("mac").clone();
        macs.insert(spec.as_str().to_string(), bytes.as_ref().len());
        assert_eq!(bytes.as_ref().len(), len);
        assert!(c.verify_mac().key_id(&id).mac_algorithm(alg.clone()).message(Blob::new("data")).mac(bytes.clone()).send().await.expect("verify").mac_valid());
        err(c.verify_mac().key_id(&id).mac_algorithm(alg.clone()).message(Blob::new("datb")).mac(bytes).send().await, "KMSInvalidMacException");
        err(c.encrypt().key_id(&id).plaintext(Blob::new("x")).send().await, "InvalidKeyUsageException");
    }
    assert_eq!(macs.len(), 4);
    let k = c.create_key().key_spec(KeySpec::Hmac256).key_usage(KeyUsageType::GenerateVerifyMac).send().await.expect("hmac key");
    err(c.generate_mac().key_id(k.key_metadata().expect("m").key_id()).mac_algorithm(MacAlgorithmSpec::HmacSha512).message(Blob::new("d")).send().await, "InvalidKeyUsageException");
}

#[tokio::test]
async fn grants_are_stored_listed_retired_and_revoked() {
    use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let k = symmetric(&c).await;
    let role = "arn:aws:iam::000000000000:role/app";
    let g = c
        .create_grant()
        .key_id(&k)
        .grantee_principal(role)
        .retiring_principal("arn:aws:iam::000000000000:role/ops")
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::Encrypt)
        .constraints(GrantConstraints::builder().encryption_context_subset("app", "x").build())
        .name("app-grant")
        .send()
        .await
        .expect("grant");
    let id = g.grant_id().expect("id").to_string();
    assert_eq!(id.len(), 64);
    assert!(g.grant_token().is_some());
    // Same name and parameters: the same grant (idempotent).
    let again = c.create_grant().key_id(&k).grantee_principal(role).retiring_principal("arn:aws:iam::000000000000:role/ops").operations(GrantOperation::Decrypt).operations(GrantOperation::Encrypt).constraints(GrantConstraints::builder().encryption_context_subset("app", "x").build()).name("app-grant").send().await.expect("grant again");
    assert_eq!(again.grant_id(), Some(id.as_str()));
    let listed = c.list_grants().key_id(&k).send().await.expect("list");
    assert_eq!(listed.grants().len(), 1);
    let e = &listed.grants()[0];
    assert_eq!(e.grantee_principal(), Some(role));
    assert_eq!(e.issuing_account(), Some("arn:aws:iam::000000000000:root"));
    assert_eq!(e.operations(), &[GrantOperation::Decrypt, GrantOperation::Encrypt]);
    assert_eq!(e.constraints().and_then(|c| c.encryption_context_subset()).and_then(|m| m.get("app")).map(String::as_str), Some("x"));
    let retirable = c.list_retirable_grants().retiring_principal("arn:aws:iam::000000000000:role/ops").send().await.expect("retirable");
    assert_eq!(retirable.grants().len(), 1);

    let second = c.create_grant().key_id(&k).grantee_principal(role).operations(GrantOperation::DescribeKey).send().await.expect("second");
    c.retire_grant().grant_token(g.grant_token().expect("token")).send().await.expect("retire by token");
    err(c.retire_grant().grant_token("bm90LWEtdG9rZW4").send().await, "InvalidGrantTokenException");
    c.revoke_grant().key_id(&k).grant_id(second.grant_id().expect("id")).send().await.expect("revoke");
    err(c.revoke_grant().key_id(&k).grant_id(second.grant_id().expect("id")).send().await, "NotFoundException");
    assert!(c.list_grants().key_id(&k).send().await.expect("list").grants().is_empty());
    // DryRun: checked, not done.
    let m = err(c.create_grant().key_id(&k).grantee_principal(role).operations(GrantOperation::Decrypt).dry_run(true).send().await, "DryRunOperationException");
    assert_eq!(m, "The request would have succeeded, but the DryRun option is set.");
    assert!(c.list_grants().key_id(&k).send().await.expect("list").grants().is_empty());
    err(c.encrypt().key_id(&k).plaintext(Blob::new("x")).dry_run(true).send().await, "DryRunOperationException");
    err(c.encrypt().key_id("alias/none").plaintext(Blob::new("x")).dry_run(true).send().await, "NotFoundException");
    err(c.create_grant().key_id(&k).grantee_principal(role).operations(GrantOperation::from("Fly")).send().await, "ValidationException");
}

#[tokio::test]
async fn external_keys_wait_for_imported_material() {
    use aws_sdk_kms::types::{AlgorithmSpec, OriginType, WrappingKeySpec};
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let k = c.create_key().origin(OriginType::External).send().await.expect("external key");
    let m = k.key_metadata().expect("m");
    assert_eq!(m.key_state(), Some(&KeyState::PendingImport));
    assert_eq!(m.origin().map(|o| o.as_str()), Some("EXTERNAL"));
    let id = m.key_id().to_string();
    err(c.encrypt().key_id(&id).plaintext(Blob::new("x")).send().await, "KMSInvalidStateException");
    let p = c.get_parameters_for_import().key_id(&id).wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256).wrapping_key_spec(WrappingKeySpec::Rsa2048).send().await.expect("parameters");
    assert!(p.import_token().is_some() && p.public_key().is_some() && p.parameters_valid_to().is_some());
    // A token of nothing and material that is not wrapped are refused.
    err(c.import_key_material().key_id(&id).import_token(Blob::new(vec![1u8; 64])).encrypted_key_material(Blob::new(vec![2u8; 256])).send().await, "InvalidImportTokenException");
    err(c.import_key_material().key_id(&id).import_token(p.import_token().expect("token").clone()).encrypted_key_material(Blob::new(vec![2u8; 256])).send().await, "InvalidCiphertextException");
    let sym = symmetric(&c).await;
    err(c.get_parameters_for_import().key_id(&sym).wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256).wrapping_key_spec(WrappingKeySpec::Rsa2048).send().await, "UnsupportedOperationException");
    err(c.delete_imported_key_material().key_id(&sym).send().await, "UnsupportedOperationException");
}

#[tokio::test]
async fn operations_nimbus_lacks_say_so() {
    let n = Nimbus::start_in_memory();
    let c = n.kms_client();
    let m = err(c.describe_custom_key_stores().send().await, "UnsupportedOperationException");
    assert!(m.contains("not supported by nimbus"), "{m}");
    err(c.create_key().origin(aws_sdk_kms::types::OriginType::AwsCloudhsm).send().await, "UnsupportedOperationException");
    err(c.create_key().key_spec(KeySpec::MlDsa44).key_usage(KeyUsageType::SignVerify).send().await, "UnsupportedOperationException");
    err(c.create_key().key_spec(KeySpec::EccNistP256).key_usage(KeyUsageType::KeyAgreement).send().await, "UnsupportedOperationException");
}
