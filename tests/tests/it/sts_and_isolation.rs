//! STS GetCallerIdentity and account/region isolation of SQS.

use nimbus_tests::sqs::{create_queue, receive, send};
use nimbus_tests::{expect_err_code, unique_name, Nimbus, DEFAULT_ACCOUNT};

#[tokio::test]
async fn get_caller_identity_default_account() {
    let n = Nimbus::start();
    let out = n.sts_client().get_caller_identity().send().await.unwrap();
    assert_eq!(out.account(), Some(DEFAULT_ACCOUNT), "{out:?}");
    let arn = out.arn().expect("Arn");
    assert!(arn.starts_with(&format!("arn:aws:iam::{DEFAULT_ACCOUNT}:")) || arn.starts_with(&format!("arn:aws:sts::{DEFAULT_ACCOUNT}:")), "{arn}");
    assert!(out.user_id().is_some_and(|u| !u.is_empty()), "{out:?}");
}

#[tokio::test]
async fn get_caller_identity_numeric_key_is_the_account() {
    let n = Nimbus::start();
    let out = n.sts_client_for("123456789012", "us-east-1").get_caller_identity().send().await.unwrap();
    assert_eq!(out.account(), Some("123456789012"), "{out:?}");
    assert!(out.arn().is_some_and(|a| a.contains(":123456789012:")), "{out:?}");
    // Another region, another 12-digit key.
    let out = n.sts_client_for("111122223333", "eu-west-1").get_caller_identity().send().await.unwrap();
    assert_eq!(out.account(), Some("111122223333"), "{out:?}");
}

#[tokio::test]
async fn queues_are_isolated_per_account() {
    let n = Nimbus::start();
    let a = n.sqs_client();
    let b = n.sqs_client_for("123456789012", "us-east-1");
    let name = unique_name("iso-acct");
    let url_a = create_queue(&a, &name, &[(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "10")]).await;
    // Same name, different attributes in another account: no QueueAlreadyExists.
    let url_b = create_queue(&b, &name, &[(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "20")]).await;
    assert_ne!(url_a, url_b);
    assert!(url_a.contains(&format!("/{DEFAULT_ACCOUNT}/")), "{url_a}");
    assert!(url_b.contains("/123456789012/"), "{url_b}");
    assert_eq!(
        b.get_queue_url().queue_name(&name).send().await.unwrap().queue_url(),
        Some(url_b.as_str())
    );
    send(&a, &url_a, "for A only").await;
    assert!(receive(&b, &url_b, 10, 1, None).await.is_empty(), "account B sees account A's message");
    assert_eq!(receive(&a, &url_a, 10, 1, None).await.len(), 1);

    // An account-only queue is invisible to the other account.
    let only_b = unique_name("iso-only-b");
    create_queue(&b, &only_b, &[]).await;
    expect_err_code(a.get_queue_url().queue_name(&only_b).send().await, "AWS.SimpleQueueService.NonExistentQueue");
    let listed = a.list_queues().queue_name_prefix(&only_b).send().await.unwrap();
    assert!(listed.queue_urls().is_empty(), "{:?}", listed.queue_urls());
    // ARNs carry the owning account.
    let attrs = nimbus_tests::sqs::queue_attrs(&b, &url_b).await;
    assert_eq!(
        attrs[&aws_sdk_sqs::types::QueueAttributeName::QueueArn],
        format!("arn:aws:sqs:us-east-1:123456789012:{name}")
    );
}

#[tokio::test]
async fn queues_are_isolated_per_region() {
    let n = Nimbus::start();
    let east = n.sqs_client();
    let west = n.sqs_client_for(nimbus_tests::DEFAULT_ACCESS_KEY, "eu-west-1");
    let name = unique_name("iso-region");
    let url_e = create_queue(&east, &name, &[]).await;
    expect_err_code(
        west.get_queue_url().queue_name(&name).send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
    );
    let url_w = create_queue(&west, &name, &[]).await;
    send(&east, &url_e, "east").await;
    assert!(receive(&west, &url_w, 10, 1, None).await.is_empty(), "eu-west-1 sees a us-east-1 message");
    let attrs = nimbus_tests::sqs::queue_attrs(&west, &url_w).await;
    assert_eq!(
        attrs[&aws_sdk_sqs::types::QueueAttributeName::QueueArn],
        format!("arn:aws:sqs:eu-west-1:{DEFAULT_ACCOUNT}:{name}")
    );
    let listed = west.list_queues().queue_name_prefix(&name).send().await.unwrap();
    assert_eq!(listed.queue_urls(), [url_w.clone()]);
}
