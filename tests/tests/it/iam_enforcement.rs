//! IAM and STS through the AWS SDK for Rust, and `--auth iam` enforcement: identities
//! IAM issues sign requests, STS sessions expire on nimbus's clock, and policies decide
//! (IAM User Guide, "Policy evaluation logic": explicit deny wins; an allow from an
//! identity-based or — in the same account — a resource-based policy grants).

use aws_sdk_sqs::error::ProvideErrorMetadata;
use nimbus_tests::{expect_err_code, unique_name, Nimbus, Signer, StartOptions};

const ROOT_KEY: &str = "AKIANIMBUSROOTIAMTEST";
const ROOT_SECRET: &str = "nimbus/root/iam+enforcement/EXAMPLE";

fn root() -> Signer<'static> {
    Signer { access_key: ROOT_KEY, secret: ROOT_SECRET, session_token: None }
}

fn start(mode: &str) -> Nimbus {
    Nimbus::start_with(StartOptions {
        in_memory: true,
        extra_args: vec!["--auth".into(), mode.into(), "--clock-control".into()],
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
    })
}

fn doc(statements: serde_json::Value) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A user with one access key; returns (key id, secret).
async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    iam.create_user().user_name(name).send().await.unwrap();
    let key = iam.create_access_key().user_name(name).send().await.unwrap().access_key.unwrap();
    (key.access_key_id, key.secret_access_key)
}

#[tokio::test]
async fn sdk_roles_policies_and_sts_sessions_that_expire_on_the_clock() {
    let n = start("sigv4");
    let iam = n.iam_client_signed(&root());
    let trust = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]));
    let role = iam.create_role().role_name("deployer").assume_role_policy_document(&trust).send().await.unwrap().role.unwrap();
    // The Rust SDK hands the document back as IAM sends it: URL-encoded.
    assert!(role.assume_role_policy_document().unwrap().starts_with("%7B%22Version%22"), "{role:?}");
    let policy = iam.create_policy().policy_name("send").policy_document(doc(serde_json::json!([{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]))).send().await.unwrap();
    let arn = policy.policy.unwrap().arn.unwrap();
    iam.attach_role_policy().role_name("deployer").policy_arn(&arn).send().await.unwrap();
    let attached = iam.list_attached_role_policies().role_name("deployer").send().await.unwrap();
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(arn.as_str()));

    let sts = n.sts_client_signed(&root());
    let too_long = sts.assume_role().role_arn(role.arn()).role_session_name("s").duration_seconds(7200).send().await;
    assert_eq!(too_long.as_ref().err().and_then(|e| e.code()), Some("ValidationError"), "{too_long:?}");
    let out = sts.assume_role().role_arn(role.arn()).role_session_name("ci-run").duration_seconds(900).send().await.unwrap();
    let creds = out.credentials.unwrap();
    assert!(creds.access_key_id.starts_with("ASIA"));
    assert_eq!(out.assumed_role_user.unwrap().arn, "arn:aws:sts::000000000000:assumed-role/deployer/ci-run");
    let session = Signer { access_key: &creds.access_key_id, secret: &creds.secret_access_key, session_token: Some(&creds.session_token) };
    let me = n.sts_client_signed(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:sts::000000000000:assumed-role/deployer/ci-run"));
    assert_eq!(me.user_id(), Some(format!("{}:ci-run", role.role_id()).as_str()));
    // Without its session token the temporary key is not accepted.
    let no_token = Signer { session_token: None, ..Signer { access_key: &creds.access_key_id, secret: &creds.secret_access_key, session_token: None } };
    expect_err_code(n.sts_client_signed(&no_token).get_caller_identity().send().await, "InvalidClientTokenId");
    // An IAM user's access key signs as the user until it is made inactive.
    let (id, secret) = user_with_key(&iam, "builder").await;
    let user = Signer { access_key: &id, secret: &secret, session_token: None };
    let me = n.sts_client_signed(&user).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:user/builder"));
    let info = n.sts_client_signed(&root()).get_access_key_info().access_key_id(&id).send().await.unwrap();
    assert_eq!(info.account(), Some("000000000000"));
    iam.update_access_key().user_name("builder").access_key_id(&id).status(aws_sdk_iam::types::StatusType::Inactive).send().await.unwrap();
    expect_err_code(n.sts_client_signed(&user).get_caller_identity().send().await, "InvalidClientTokenId");
    // Last (moving the server clock makes every later signature look skewed):
    // 900 s later (nimbus's clock) the session has expired.
    assert_eq!(n.advance_clock(901), 200);
    expect_err_code(n.sts_client_signed(&session).get_caller_identity().send().await, "ExpiredToken");

}

#[tokio::test]
async fn iam_mode_allows_exactly_what_policies_grant() {
    let n = start("iam");
    let iam = n.iam_client_signed(&root());
    let sqs_root = n.sqs_client_signed(&root());
    let q1 = sqs_root.create_queue().queue_name(unique_name("q1")).send().await.unwrap().queue_url.unwrap();
    let q2 = sqs_root.create_queue().queue_name(unique_name("q2")).send().await.unwrap().queue_url.unwrap();
    let q1_arn = format!("arn:aws:sqs:us-east-1:000000000000:{}", q1.rsplit('/').next().unwrap());
    let q2_arn = format!("arn:aws:sqs:us-east-1:000000000000:{}", q2.rsplit('/').next().unwrap());

    let (id, secret) = user_with_key(&iam, "alice").await;
    let allow_q1 = doc(serde_json::json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": q1_arn}]));
    iam.put_user_policy().user_name("alice").policy_name("send-q1").policy_document(&allow_q1).send().await.unwrap();
    let alice = n.sqs_client_signed(&Signer { access_key: &id, secret: &secret, session_token: None });
    alice.send_message().queue_url(&q1).message_body("allowed").send().await.unwrap();

    let denied = alice.send_message().queue_url(&q2).message_body("no").send().await;
    let e = expect_err_code(denied, "AccessDenied");
    assert_eq!(
        e.message(),
        Some(format!("User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:SendMessage on resource: {q2_arn} because no identity-based policy allows the sqs:SendMessage action").as_str())
    );
    expect_err_code(alice.delete_queue().queue_url(&q1).send().await, "AccessDenied");

    // An explicit deny beats the allow.
    let deny = doc(serde_json::json!([{"Effect": "Deny", "Action": "sqs:*", "Resource": q1_arn}]));
    iam.put_user_policy().user_name("alice").policy_name("deny-q1").policy_document(&deny).send().await.unwrap();
    let e = expect_err_code(alice.send_message().queue_url(&q1).message_body("no").send().await, "AccessDenied");
    assert_eq!(
        e.message(),
        Some(format!("User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:SendMessage on resource: {q1_arn} with an explicit deny in an identity-based policy").as_str())
    );

    // A queue policy naming a user grants in the same account (resource-based allow).
    let (bid, bsecret) = user_with_key(&iam, "bob").await;
    let bob = n.sqs_client_signed(&Signer { access_key: &bid, secret: &bsecret, session_token: None });
    expect_err_code(bob.send_message().queue_url(&q2).message_body("before").send().await, "AccessDenied");
    let queue_policy = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/bob"}, "Action": "sqs:SendMessage", "Resource": q2_arn}]));
    sqs_root.set_queue_attributes().queue_url(&q2).attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, queue_policy).send().await.unwrap();
    bob.send_message().queue_url(&q2).message_body("after").send().await.unwrap();

    // Group policies apply to members; the root key pair is never limited by identity policies.
    iam.create_group().group_name("readers").send().await.unwrap();
    let read = doc(serde_json::json!([{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"], "Resource": "*"}]));
    iam.put_group_policy().group_name("readers").policy_name("read").policy_document(&read).send().await.unwrap();
    expect_err_code(bob.receive_message().queue_url(&q2).send().await, "AccessDenied");
    iam.add_user_to_group().group_name("readers").user_name("bob").send().await.unwrap();
    assert_eq!(bob.receive_message().queue_url(&q2).send().await.unwrap().messages().len(), 1);
    sqs_root.delete_queue().queue_url(&q1).send().await.unwrap();

    // IAM itself is authorized too: alice may not create users.
    let alice_iam = n.iam_client_signed(&Signer { access_key: &id, secret: &secret, session_token: None });
    let e = alice_iam.create_user().user_name("mallory").send().await;
    assert_eq!(e.as_ref().err().and_then(|e| e.code()), Some("AccessDenied"), "{e:?}");
}

#[tokio::test]
async fn iam_mode_assume_role_needs_the_trust_policy() {
    let n = start("iam");
    let iam = n.iam_client_signed(&root());
    let (id, secret) = user_with_key(&iam, "carol").await;
    let may_assume = doc(serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]));
    iam.put_user_policy().user_name("carol").policy_name("assume").policy_document(&may_assume).send().await.unwrap();
    let trust_lambda = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]));
    let role = iam.create_role().role_name("fn-role").assume_role_policy_document(&trust_lambda).send().await.unwrap().role.unwrap();
    let carol = n.sts_client_signed(&Signer { access_key: &id, secret: &secret, session_token: None });
    let refused = carol.assume_role().role_arn(role.arn()).role_session_name("xy").send().await;
    assert_eq!(refused.as_ref().err().and_then(|e| e.code()), Some("AccessDenied"), "{refused:?}");
    let trust_carol = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/carol"}, "Action": "sts:AssumeRole"}]));
    iam.update_assume_role_policy().role_name("fn-role").policy_document(&trust_carol).send().await.unwrap();
    let ok = carol.assume_role().role_arn(role.arn()).role_session_name("xy").send().await.unwrap();
    assert!(ok.credentials.is_some());
    // A role that does not exist cannot be assumed when IAM enforces.
    let missing = carol.assume_role().role_arn("arn:aws:iam::000000000000:role/nope").role_session_name("xy").send().await;
    assert_eq!(missing.as_ref().err().and_then(|e| e.code()), Some("AccessDenied"), "{missing:?}");
}

#[tokio::test]
async fn iam_state_and_credentials_survive_a_restart() {
    let mut n = Nimbus::start_with(StartOptions {
        in_memory: false,
        extra_args: vec!["--auth".into(), "sigv4".into()],
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
    });
    let iam = n.iam_client_signed(&root());
    let trust = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]));
    let role = iam.create_role().role_name("durable").path("/svc/").assume_role_policy_document(&trust).send().await.unwrap().role.unwrap();
    let policy = iam.create_policy().policy_name("p").policy_document(doc(serde_json::json!([{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]))).send().await.unwrap();
    let policy_arn = policy.policy.unwrap().arn.unwrap();
    iam.create_policy_version().policy_arn(&policy_arn).policy_document(doc(serde_json::json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]))).set_as_default(true).send().await.unwrap();
    iam.attach_role_policy().role_name("durable").policy_arn(&policy_arn).send().await.unwrap();
    let (id, secret) = user_with_key(&iam, "keeper").await;
    let creds = n.sts_client_signed(&root()).assume_role().role_arn(role.arn()).role_session_name("long").send().await.unwrap().credentials.unwrap();
    n.restart();
    let iam = n.iam_client_signed(&root());
    let got = iam.get_role().role_name("durable").send().await.unwrap().role.unwrap();
    assert_eq!((got.arn(), got.role_id()), (role.arn(), role.role_id()));
    let p = iam.get_policy().policy_arn(&policy_arn).send().await.unwrap().policy.unwrap();
    assert_eq!(p.default_version_id(), Some("v2"));
    assert_eq!(p.attachment_count(), Some(1));
    // The user's key and the role session still sign after the restart.
    let me = n.sts_client_signed(&Signer { access_key: &id, secret: &secret, session_token: None }).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:user/keeper"));
    let session = Signer { access_key: &creds.access_key_id, secret: &creds.secret_access_key, session_token: Some(&creds.session_token) };
    let me = n.sts_client_signed(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:sts::000000000000:assumed-role/durable/long"));
}

/// Cross-account access needs both sides (IAM User Guide, "Cross-account policy
/// evaluation logic"): the caller's identity policy AND the queue's policy. The two
/// accounts' users are set up in the open mode (a 12-digit key acts in that account), then
/// the server restarts enforcing.
#[tokio::test]
async fn cross_account_needs_the_identity_policy_and_the_queue_policy() {
    let mut n = Nimbus::start_with(StartOptions {
        in_memory: false,
        extra_args: vec![],
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
    });
    let owner = Signer { access_key: "000000000000", secret: "x", session_token: None };
    let other = Signer { access_key: "222233334444", secret: "x", session_token: None };
    let queue = n.sqs_client_signed(&owner).create_queue().queue_name("shared").send().await.unwrap().queue_url.unwrap();
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:shared";
    let iam_b = n.iam_client_signed(&other);
    let (id, secret) = user_with_key(&iam_b, "sender").await;
    let send_anywhere = doc(serde_json::json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]));
    iam_b.put_user_policy().user_name("sender").policy_name("send").policy_document(&send_anywhere).send().await.unwrap();
    let (idle_id, idle_secret) = user_with_key(&iam_b, "idle").await;
    n.restart_with_args(vec!["--auth".into(), "iam".into()]);

    let sender = n.sqs_client_signed(&Signer { access_key: &id, secret: &secret, session_token: None });
    let e = expect_err_code(sender.send_message().queue_url(&queue).message_body("no policy yet").send().await, "AccessDenied");
    assert!(e.message().unwrap().starts_with("User: arn:aws:iam::222233334444:user/sender is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:shared"), "{e:?}");
    let policy = doc(serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222233334444:root"}, "Action": "sqs:SendMessage", "Resource": queue_arn}]));
    let sqs_root = n.sqs_client_signed(&root());
    sqs_root.set_queue_attributes().queue_url(&queue).attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy).send().await.unwrap();
    sender.send_message().queue_url(&queue).message_body("both sides allow").send().await.unwrap();
    // The queue policy alone does not do: a user of that account without an identity allow is denied.
    let idle = n.sqs_client_signed(&Signer { access_key: &idle_id, secret: &idle_secret, session_token: None });
    expect_err_code(idle.send_message().queue_url(&queue).message_body("no identity allow").send().await, "AccessDenied");
    let got = sqs_root.receive_message().queue_url(&queue).send().await.unwrap();
    assert_eq!(got.messages()[0].body(), Some("both sides allow"));
}
