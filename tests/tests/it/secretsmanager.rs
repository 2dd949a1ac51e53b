//! Secrets Manager through the AWS SDK for Rust: secrets by name, full and partial ARN;
//! version stages over several PutSecretValue calls; ClientRequestToken idempotency;
//! UpdateSecretVersionStage's rules; ListSecrets filters, sorting and pages; deletion
//! and restore on nimbus's clock; resource policies, GetRandomPassword,
//! BatchGetSecretValue; values encrypted through KMS (a disabled key fails as AWS,
//! nothing in plaintext on disk) and surviving `kill -9`. Rotation through a real Lambda
//! function is in tests/python/test_secretsmanager.py.
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html>

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SortOrderType, Tag};
use aws_sdk_secretsmanager::Client;
use nimbus_tests::{expect_err_message as err, Nimbus};

const DAY: u64 = 86_400;


async fn create(c: &Client, name: &str, value: &str) -> String {
    c.create_secret().name(name).secret_string(value).send().await.expect("create").arn().expect("arn").to_string()
}

async fn value(c: &Client, id: &str) -> String {
    c.get_secret_value().secret_id(id).send().await.expect("get").secret_string().expect("string").to_string()
}

#[tokio::test]
async fn create_get_by_name_and_arns_and_stages_over_several_puts() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    let out = c.create_secret().name("prod/db").secret_string("v1").description("the db").send().await.expect("create");
    let arn = out.arn().expect("arn").to_string();
    let v1 = out.version_id().expect("version").to_string();
    let suffix = arn.rsplit('-').next().expect("suffix");
    assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-") && suffix.len() == 6, "{arn}");
    assert_eq!(value(&c, "prod/db").await, "v1");
    assert_eq!(value(&c, &arn).await, "v1");
    assert_eq!(value(&c, &arn[..arn.len() - 7]).await, "v1", "a partial ARN (no random suffix) names the secret");
    assert!(err(c.get_secret_value().secret_id("prod/nope").send().await, "ResourceNotFoundException").contains("Secrets Manager can't find the specified secret."));

    let mut versions = vec![v1.clone()];
    for i in 2..=4 {
        let put = c.put_secret_value().secret_id("prod/db").secret_string(format!("v{i}")).send().await.expect("put");
        assert_eq!(put.version_stages(), ["AWSCURRENT"]);
        versions.push(put.version_id().expect("id").to_string());
    }
    assert_eq!(value(&c, "prod/db").await, "v4");
    let prev = c.get_secret_value().secret_id("prod/db").version_stage("AWSPREVIOUS").send().await.expect("previous");
    assert_eq!(prev.secret_string(), Some("v3"));
    assert_eq!(prev.version_id(), Some(versions[2].as_str()));
    let first = c.get_secret_value().secret_id("prod/db").version_id(&v1).send().await.expect("by id");
    assert_eq!(first.secret_string(), Some("v1"));
    assert!(first.version_stages().is_empty(), "the first version has lost its labels");

    let d = c.describe_secret().secret_id("prod/db").send().await.expect("describe");
    let stages = d.version_ids_to_stages().expect("stages");
    assert_eq!(stages.len(), 2, "only labelled versions: {stages:?}");
    assert_eq!(stages[&versions[3]], ["AWSCURRENT"]);
    assert_eq!(stages[&versions[2]], ["AWSPREVIOUS"]);
    assert_eq!(d.description(), Some("the db"));
    assert_eq!(d.rotation_enabled(), Some(false));
    assert!(d.created_date().is_some() && d.last_changed_date().is_some() && d.last_accessed_date().is_some());

    // A version put with an explicit label of its own takes neither AWSCURRENT nor moves it.
    let staged = c.put_secret_value().secret_id("prod/db").secret_string("v5").version_stages("STAGING").send().await.expect("put staged");
    assert_eq!(staged.version_stages(), ["STAGING"]);
    assert_eq!(value(&c, "prod/db").await, "v4");
    let by_label = c.get_secret_value().secret_id("prod/db").version_stage("STAGING").send().await.expect("by label");
    assert_eq!(by_label.secret_string(), Some("v5"));
    let msg = err(c.get_secret_value().secret_id("prod/db").version_stage("NOPE").send().await, "ResourceNotFoundException");
    assert!(msg.contains("staging label: NOPE"), "{msg}");

    let listed = c.list_secret_version_ids().secret_id("prod/db").send().await.expect("versions");
    assert_eq!(listed.versions().len(), 3, "labelled versions only");
    let all = c.list_secret_version_ids().secret_id("prod/db").include_deprecated(true).send().await.expect("all versions");
    assert_eq!(all.versions().len(), 5);
    assert!(all.versions().iter().all(|v| v.kms_key_ids().len() == 1 && v.kms_key_ids()[0].starts_with("arn:aws:kms:us-east-1:000000000000:key/")));

    // UpdateSecret: a new value is a new AWSCURRENT version; a description alone is not.
    let upd = c.update_secret().secret_id("prod/db").description("renamed").send().await.expect("update description");
    assert!(upd.version_id().is_none());
    let upd = c.update_secret().secret_id(&arn).secret_string("v6").send().await.expect("update value");
    assert!(upd.version_id().is_some());
    assert_eq!(value(&c, "prod/db").await, "v6");
}

#[tokio::test]
async fn client_request_tokens_binary_values_and_bad_input() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    let token = "11111111-2222-3333-4444-555555555555";
    let a = c.create_secret().name("tok").secret_string("x").client_request_token(token).send().await.expect("create");
    let b = c.create_secret().name("tok").secret_string("x").client_request_token(token).send().await.expect("same token, same value: the same answer");
    assert_eq!((a.arn(), a.version_id()), (b.arn(), b.version_id()));
    assert_eq!(a.version_id(), Some(token));
    assert!(err(c.create_secret().name("tok").secret_string("y").client_request_token(token).send().await, "ResourceExistsException").contains("already exists"));
    assert!(err(c.create_secret().name("tok").secret_string("x").send().await, "ResourceExistsException").contains("tok already exists"));

    let t2 = "22222222-2222-3333-4444-555555555555";
    let p1 = c.put_secret_value().secret_id("tok").secret_string("z").client_request_token(t2).send().await.expect("put");
    let p2 = c.put_secret_value().secret_id("tok").secret_string("z").client_request_token(t2).send().await.expect("put retry");
    assert_eq!(p1.version_id(), p2.version_id());
    err(c.put_secret_value().secret_id("tok").secret_string("other").client_request_token(t2).send().await, "ResourceExistsException");
    assert_eq!(c.list_secret_version_ids().secret_id("tok").include_deprecated(true).send().await.expect("list").versions().len(), 2);

    let bytes = vec![0u8, 159, 146, 150, 255];
    c.create_secret().name("bin").secret_binary(Blob::new(bytes.clone())).send().await.expect("binary");
    let got = c.get_secret_value().secret_id("bin").send().await.expect("get binary");
    assert_eq!(got.secret_binary().map(|b| b.as_ref().to_vec()), Some(bytes));
    assert!(got.secret_string().is_none());

    err(c.create_secret().name("both").secret_string("a").secret_binary(Blob::new("b")).send().await, "InvalidParameterException");
    err(c.create_secret().name("bad name!").secret_string("a").send().await, "InvalidParameterException");
    // A secret with no value yet has no AWSCURRENT to read.
    c.create_secret().name("empty").send().await.expect("no value");
    assert!(err(c.get_secret_value().secret_id("empty").send().await, "ResourceNotFoundException").contains("AWSCURRENT"));
    err(c.put_secret_value().secret_id("empty").send().await, "InvalidParameterException");
}

#[tokio::test]
async fn update_secret_version_stage_moves_labels_by_the_rules() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    let v1 = c.create_secret().name("s").secret_string("1").send().await.expect("create").version_id().expect("id").to_string();
    let v2 = c.put_secret_value().secret_id("s").secret_string("2").version_stages("AWSPENDING").send().await.expect("pending").version_id().expect("id").to_string();
    // AWSCURRENT is on v1: moving it needs RemoveFromVersionId = v1.
    let msg = err(c.update_secret_version_stage().secret_id("s").version_stage("AWSCURRENT").move_to_version_id(&v2).send().await, "InvalidParameterException");
    assert!(msg.contains(&v1), "{msg}");
    err(c.update_secret_version_stage().secret_id("s").version_stage("AWSCURRENT").move_to_version_id(&v2).remove_from_version_id(&v2).send().await, "InvalidParameterException");
    c.update_secret_version_stage().secret_id("s").version_stage("AWSCURRENT").move_to_version_id(&v2).remove_from_version_id(&v1).send().await.expect("move");
    let d = c.describe_secret().secret_id("s").send().await.expect("describe");
    let st = d.version_ids_to_stages().expect("stages");
    let mut on_v2 = st[&v2].clone();
    on_v2.sort();
    assert_eq!(on_v2, ["AWSCURRENT", "AWSPENDING"]);
    assert_eq!(st[&v1], ["AWSPREVIOUS"], "the old current version becomes AWSPREVIOUS");
    c.update_secret_version_stage().secret_id("s").version_stage("AWSPENDING").remove_from_version_id(&v2).send().await.expect("remove pending");
    err(c.update_secret_version_stage().secret_id("s").version_stage("AWSCURRENT").remove_from_version_id(&v2).send().await, "InvalidParameterException");
    err(c.update_secret_version_stage().secret_id("s").version_stage("X").move_to_version_id("99999999-2222-3333-4444-555555555555").send().await, "ResourceNotFoundException");
    assert_eq!(value(&c, "s").await, "2");
}

#[tokio::test]
async fn list_secrets_filters_sorting_pages_and_tags() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    for (name, desc, env) in [("app/one", "Orders database", "prod"), ("app/two", "cache", "dev"), ("other", "orders queue key", "prod")] {
        c.create_secret().name(name).secret_string("v").description(desc).tags(Tag::builder().key("env").value(env).build()).send().await.expect("create");
    }
    let names = |out: &aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput| out.secret_list().iter().map(|s| s.name().unwrap_or_default().to_string()).collect::<Vec<_>>();
    let f = |k: FilterNameStringType, v: &[&str]| Filter::builder().key(k).set_values(Some(v.iter().map(|s| s.to_string()).collect())).build();
    let by_name = c.list_secrets().filters(f(FilterNameStringType::Name, &["app/"])).sort_order(SortOrderType::Asc).send().await.expect("name");
    assert_eq!(names(&by_name), ["app/one", "app/two"]);
    let not_app = c.list_secrets().filters(f(FilterNameStringType::Name, &["!app"])).send().await.expect("negated");
    assert_eq!(names(&not_app), ["other"]);
    let case = c.list_secrets().filters(f(FilterNameStringType::Name, &["APP"])).send().await.expect("name is case-sensitive");
    assert!(names(&case).is_empty());
    let desc = c.list_secrets().filters(f(FilterNameStringType::Description, &["orders"])).sort_order(SortOrderType::Asc).send().await.expect("description");
    assert_eq!(names(&desc), ["app/one", "other"], "description prefix, not case-sensitive");
    let tagged = c.list_secrets().filters(f(FilterNameStringType::TagKey, &["env"])).filters(f(FilterNameStringType::TagValue, &["prod"])).sort_order(SortOrderType::Asc).send().await.expect("tags");
    assert_eq!(names(&tagged), ["app/one", "other"]);
    let all = c.list_secrets().filters(f(FilterNameStringType::All, &["cache"])).send().await.expect("all");
    assert_eq!(names(&all), ["app/two"]);
    let by_name_desc = c.list_secrets().sort_by(aws_sdk_secretsmanager::types::SortByType::Name).sort_order(SortOrderType::Desc).send().await.expect("sort by name");
    assert_eq!(names(&by_name_desc), ["other", "app/two", "app/one"]);
    let desc_order = c.list_secrets().sort_order(SortOrderType::Desc).send().await.expect("desc");
    let asc_order = c.list_secrets().sort_order(SortOrderType::Asc).send().await.expect("asc");
    let mut rev = names(&asc_order);
    rev.reverse();
    assert_eq!(names(&desc_order), rev);

    let p1 = c.list_secrets().max_results(2).sort_order(SortOrderType::Asc).send().await.expect("page 1");
    assert_eq!(p1.secret_list().len(), 2);
    let p2 = c.list_secrets().max_results(2).sort_order(SortOrderType::Asc).next_token(p1.next_token().expect("token")).send().await.expect("page 2");
    assert_eq!(p2.secret_list().len(), 1);
    assert!(p2.next_token().is_none());
    err(c.list_secrets().next_token("garbage!").send().await, "InvalidNextTokenException");
    let entry = &p1.secret_list()[0];
    assert_eq!(entry.name(), Some("app/one"));
    assert_eq!(entry.secret_versions_to_stages().map(|m| m.len()), Some(1));

    c.tag_resource().secret_id("app/one").tags(Tag::builder().key("team").value("a").build()).send().await.expect("tag");
    c.untag_resource().secret_id("app/one").tag_keys("env").send().await.expect("untag");
    let d = c.describe_secret().secret_id("app/one").send().await.expect("describe");
    assert_eq!(d.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect::<Vec<_>>(), [("team", "a")]);
}

#[tokio::test]
async fn deletion_windows_on_the_clock_restore_and_force_delete() {
    let n = Nimbus::start_with_clock_control();
    let c = n.secretsmanager_client();
    create(&c, "gone", "v").await;
    err(c.delete_secret().secret_id("gone").recovery_window_in_days(6).send().await, "InvalidParameterException");
    err(c.delete_secret().secret_id("gone").recovery_window_in_days(31).send().await, "InvalidParameterException");
    err(c.delete_secret().secret_id("gone").recovery_window_in_days(7).force_delete_without_recovery(true).send().await, "InvalidParameterException");
    let del = c.delete_secret().secret_id("gone").recovery_window_in_days(7).send().await.expect("delete");
    assert!(del.deletion_date().is_some());
    let msg = err(c.get_secret_value().secret_id("gone").send().await, "InvalidRequestException");
    assert_eq!(msg, "You can't perform this operation on the secret because it was marked for deletion.");
    err(c.put_secret_value().secret_id("gone").secret_string("w").send().await, "InvalidRequestException");
    err(c.create_secret().name("gone").secret_string("w").send().await, "InvalidRequestException");
    assert!(c.describe_secret().secret_id("gone").send().await.expect("describe").deleted_date().is_some());
    assert!(c.list_secrets().send().await.expect("list").secret_list().is_empty());
    assert_eq!(c.list_secrets().include_planned_deletion(true).send().await.expect("list").secret_list().len(), 1);

    c.restore_secret().secret_id("gone").send().await.expect("restore");
    assert_eq!(value(&c, "gone").await, "v");
    c.delete_secret().secret_id("gone").recovery_window_in_days(7).send().await.expect("delete again");
    assert_eq!(n.advance_clock(6 * DAY), 200);
    assert!(c.describe_secret().secret_id("gone").send().await.is_ok(), "still in its recovery window");
    assert_eq!(n.advance_clock(DAY + 1), 200);
    // Gone once the clock passes its deletion date (the timer then removes it).
    err(c.describe_secret().secret_id("gone").send().await, "ResourceNotFoundException");
    create(&c, "gone", "new").await;

    create(&c, "forced", "v").await;
    c.delete_secret().secret_id("forced").force_delete_without_recovery(true).send().await.expect("force");
    err(c.describe_secret().secret_id("forced").send().await, "ResourceNotFoundException");
    create(&c, "forced", "again").await;
}

#[tokio::test]
async fn policies_random_passwords_and_batch_get() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    create(&c, "p", "v").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    assert!(c.get_resource_policy().secret_id("p").send().await.expect("get").resource_policy().is_none());
    c.put_resource_policy().secret_id("p").resource_policy(policy).send().await.expect("put");
    assert_eq!(c.get_resource_policy().secret_id("p").send().await.expect("get").resource_policy(), Some(policy));
    err(c.put_resource_policy().secret_id("p").resource_policy("{not json").send().await, "MalformedPolicyDocumentException");
    assert_eq!(c.validate_resource_policy().resource_policy(policy).send().await.expect("validate").policy_validation_passed(), true);
    c.delete_resource_policy().secret_id("p").send().await.expect("delete");
    assert!(c.get_resource_policy().secret_id("p").send().await.expect("get").resource_policy().is_none());

    let pw = c.get_random_password().password_length(20).exclude_punctuation(true).exclude_characters("aeiou").send().await.expect("password");
    let pw = pw.random_password().expect("pw");
    assert_eq!(pw.chars().count(), 20);
    assert!(pw.chars().all(|ch| ch.is_ascii_alphanumeric() && !"aeiou".contains(ch)), "{pw}");
    err(c.get_random_password().password_length(0).send().await, "ValidationException");
    err(c.get_random_password().exclude_lowercase(true).exclude_uppercase(true).exclude_numbers(true).exclude_punctuation(true).send().await, "InvalidParameterException");

    create(&c, "q", "w").await;
    let b = c.batch_get_secret_value().secret_id_list("p").secret_id_list("q").secret_id_list("missing").send().await.expect("batch");
    let mut got: Vec<_> = b.secret_values().iter().map(|v| (v.name().unwrap_or_default(), v.secret_string().unwrap_or_default())).collect();
    got.sort();
    assert_eq!(got, [("p", "v"), ("q", "w")]);
    assert_eq!(b.errors().len(), 1);
    assert_eq!(b.errors()[0].secret_id(), Some("missing"));
    assert_eq!(b.errors()[0].error_code(), Some("ResourceNotFoundException"));
    let f = Filter::builder().key(FilterNameStringType::Name).values("q").build();
    let b = c.batch_get_secret_value().filters(f).send().await.expect("batch by filter");
    assert_eq!(b.secret_values().len(), 1);
    err(c.batch_get_secret_value().send().await, "InvalidParameterException");
}

#[tokio::test]
async fn a_disabled_kms_key_fails_encryption_and_decryption() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    let kms = n.kms_client();
    let key = kms.create_key().send().await.expect("key").key_metadata().expect("meta").arn().expect("arn").to_string();
    c.create_secret().name("k").secret_string("v").kms_key_id(&key).send().await.expect("create under key");
    assert_eq!(c.describe_secret().secret_id("k").send().await.expect("describe").kms_key_id(), Some(key.as_str()));
    let versions = c.list_secret_version_ids().secret_id("k").send().await.expect("versions");
    assert_eq!(versions.versions()[0].kms_key_ids(), [key.clone()]);
    kms.disable_key().key_id(&key).send().await.expect("disable");
    err(c.get_secret_value().secret_id("k").send().await, "DecryptionFailure");
    err(c.put_secret_value().secret_id("k").secret_string("w").send().await, "EncryptionFailure");
    err(c.create_secret().name("k2").secret_string("v").kms_key_id(&key).send().await, "EncryptionFailure");
    kms.enable_key().key_id(&key).send().await.expect("enable");
    assert_eq!(value(&c, "k").await, "v");
    // The default key is the AWS managed key aws/secretsmanager, created on first use.
    create(&c, "d", "v").await;
    let aliases = kms.list_aliases().send().await.expect("aliases");
    assert!(aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/aws/secretsmanager")));
}

#[tokio::test]
async fn values_survive_kill9_and_are_not_stored_in_plaintext() {
    let mut n = Nimbus::start();
    let c = n.secretsmanager_client();
    let marker = "PLAINTEXT-MARKER-8c1e0f";
    create(&c, "durable", marker).await;
    c.put_secret_value().secret_id("durable").secret_string(format!("{marker}-2")).send().await.expect("put");
    c.tag_resource().secret_id("durable").tags(Tag::builder().key("k").value("v").build()).send().await.expect("tag");
    n.kill9();
    let dir = n.data_dir().expect("data dir");
    for entry in std::fs::read_dir(&dir).expect("data dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("secretsmanager.db") {
            let bytes = std::fs::read(entry.path()).expect("read db");
            assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()), "{name} holds the value in plaintext");
        }
    }
    assert!(dir.join("secretsmanager.db").exists());
    n.restart();
    let c = n.secretsmanager_client();
    assert_eq!(value(&c, "durable").await, format!("{marker}-2"));
    let prev = c.get_secret_value().secret_id("durable").version_stage("AWSPREVIOUS").send().await.expect("previous");
    assert_eq!(prev.secret_string(), Some(marker));
    assert_eq!(c.describe_secret().secret_id("durable").send().await.expect("describe").tags().len(), 1);
}

#[tokio::test]
async fn rotation_needs_a_function_and_takes_rate_and_cron_schedules() {
    let n = Nimbus::start_in_memory();
    let c = n.secretsmanager_client();
    create(&c, "r", "v").await;
    assert!(err(c.rotate_secret().secret_id("r").send().await, "InvalidRequestException").contains("No Lambda rotation function"));
    let missing = "arn:aws:lambda:us-east-1:000000000000:function:nope";
    err(c.rotate_secret().secret_id("r").rotation_lambda_arn(missing).send().await, "AccessDeniedException");
    let rules = |e: &str| aws_sdk_secretsmanager::types::RotationRulesType::builder().schedule_expression(e).build();
    // A cron needs exactly one of day-of-month / day-of-week as `?` (AWS's cron grammar).
    err(c.rotate_secret().secret_id("r").rotation_lambda_arn(missing).rotation_rules(rules("cron(0 16 1,15 * * *)")).rotate_immediately(false).send().await, "InvalidParameterException");
    c.rotate_secret().secret_id("r").rotation_lambda_arn(missing).rotation_rules(rules("cron(0 16 1,15 * ? *)")).rotate_immediately(false).send().await.expect("cron schedule");
    let d = c.describe_secret().secret_id("r").send().await.expect("describe");
    assert_eq!(d.rotation_rules().and_then(|r| r.schedule_expression()), Some("cron(0 16 1,15 * ? *)"));
    let next = d.next_rotation_date().expect("next rotation").secs();
    // 16:00 UTC on the 1st or the 15th of a month.
    assert_eq!(next % 86_400, 16 * 3_600, "{next}");
    c.rotate_secret().secret_id("r").rotation_lambda_arn(missing).rotation_rules(rules("rate(10 days)")).rotate_immediately(false).send().await.expect("schedule only");
    let d = c.describe_secret().secret_id("r").send().await.expect("describe");
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_rules().and_then(|r| r.schedule_expression()), Some("rate(10 days)"));
    assert!(d.next_rotation_date().is_some());
    c.cancel_rotate_secret().secret_id("r").send().await.expect("cancel");
    assert_eq!(c.describe_secret().secret_id("r").send().await.expect("describe").rotation_enabled(), Some(false));
}

/// AWS keeps every version younger than a day against its quota of 100 versions: writing
/// faster answers LimitExceededException; a day later the oldest unlabelled versions go.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html>
#[tokio::test]
async fn the_version_quota_keeps_versions_younger_than_a_day() {
    let n = Nimbus::start_with_clock_control();
    let c = n.secretsmanager_client();
    let first = c.create_secret().name("busy").secret_string("v0").send().await.expect("create").version_id().expect("id").to_string();
    for i in 1..100 {
        c.put_secret_value().secret_id("busy").secret_string(format!("v{i}")).send().await.expect("put");
    }
    err(c.put_secret_value().secret_id("busy").secret_string("v100").send().await, "LimitExceededException");
    assert_eq!(value(&c, "busy").await, "v99", "the refused put changed nothing");
    assert_eq!(n.advance_clock(DAY + 1), 200);
    c.put_secret_value().secret_id("busy").secret_string("v100").send().await.expect("a day later");
    let all = c.list_secret_version_ids().secret_id("busy").include_deprecated(true).max_results(100).send().await.expect("versions");
    assert_eq!(all.versions().len(), 100);
    assert!(all.versions().iter().all(|v| v.version_id() != Some(first.as_str())), "the oldest unlabelled version went");
    assert_eq!(value(&c, "busy").await, "v100");
}
