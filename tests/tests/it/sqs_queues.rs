//! Queue lifecycle: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
//! Get/SetQueueAttributes (+ validation), tags, permissions.

use aws_sdk_sqs::types::QueueAttributeName as A;
use nimbus_tests::sqs::{create_queue, queue_attrs};
use nimbus_tests::{default_account, expect_err_code, expect_err_code_in, unique_name, Nimbus};

#[tokio::test]
async fn create_get_url_list_delete() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("crud");
    let url = create_queue(&c, &name, &[]).await;
    assert!(url.ends_with(&format!("/{}/{name}", default_account())), "queue URL {url} should end with /<account>/<name>");

    let got = c.get_queue_url().queue_name(&name).send().await.unwrap();
    assert_eq!(got.queue_url(), Some(url.as_str()));

    // ListQueues with a prefix finds exactly this queue.
    let listed = c.list_queues().queue_name_prefix(&name).send().await.unwrap();
    assert_eq!(listed.queue_urls(), [url.clone()]);

    c.delete_queue().queue_url(&url).send().await.unwrap();

    let e = expect_err_code(
        c.get_queue_url().queue_name(&name).send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{e:?}");
    let listed = c.list_queues().queue_name_prefix(&name).send().await.unwrap();
    assert!(listed.queue_urls().is_empty(), "deleted queue still listed: {:?}", listed.queue_urls());
}

#[tokio::test]
async fn create_is_idempotent_with_same_attributes_and_conflicts_otherwise() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("idem");
    let url1 = create_queue(&c, &name, &[(A::VisibilityTimeout, "45")]).await;
    let url2 = create_queue(&c, &name, &[(A::VisibilityTimeout, "45")]).await;
    assert_eq!(url1, url2, "same name + same attributes must return the same URL");

    let e = expect_err_code(
        c.create_queue().queue_name(&name).attributes(A::VisibilityTimeout, "46").send().await,
        "QueueAlreadyExists",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_name_exists()), "{e:?}");
}

#[tokio::test]
async fn operations_on_missing_queue_fail_with_queue_does_not_exist() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("missing");
    let url = format!("{}/{}/{name}", n.endpoint(), default_account());
    let code = "AWS.SimpleQueueService.NonExistentQueue";
    let e = expect_err_code(c.send_message().queue_url(&url).message_body("x").send().await, code);
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()));
    let e = expect_err_code(c.receive_message().queue_url(&url).send().await, code);
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()));
    expect_err_code(c.get_queue_attributes().queue_url(&url).attribute_names(A::All).send().await, code);
    expect_err_code(c.delete_queue().queue_url(&url).send().await, code);
    expect_err_code(c.purge_queue().queue_url(&url).send().await, code);
    expect_err_code(c.list_queue_tags().queue_url(&url).send().await, code);
}

#[tokio::test]
async fn invalid_queue_names_are_rejected() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    for bad in ["has space", "bad!char", &"x".repeat(81), ""] {
        let r = c.create_queue().queue_name(bad).send().await;
        assert!(r.is_err(), "queue name {bad:?} must be rejected, got {r:?}");
    }
    // 80 characters is the maximum and is fine.
    let base = unique_name("len");
    let ok = format!("{base}{}", "a".repeat(80 - base.len()));
    assert_eq!(ok.len(), 80);
    create_queue(&c, &ok, &[]).await;
    // A FIFO queue needs the .fifo suffix, and a .fifo name needs FifoQueue=true.
    expect_err_code_in(
        c.create_queue().queue_name(unique_name("nofifo")).attributes(A::FifoQueue, "true").send().await,
        &["InvalidParameterValue", "InvalidAttributeValue"],
    );
    expect_err_code_in(
        c.create_queue().queue_name(format!("{}.fifo", unique_name("std"))).send().await,
        &["InvalidParameterValue", "InvalidAttributeValue"],
    );
}

#[tokio::test]
async fn default_attributes_of_standard_queue() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("defaults");
    let url = create_queue(&c, &name, &[]).await;
    let a = queue_attrs(&c, &url).await;
    let get = |k: A| a.get(&k).cloned().unwrap_or_else(|| panic!("missing attribute {k:?} in {a:?}"));
    assert_eq!(get(A::VisibilityTimeout), "30");
    assert_eq!(get(A::MessageRetentionPeriod), "345600");
    assert_eq!(get(A::DelaySeconds), "0");
    assert_eq!(get(A::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(get(A::ApproximateNumberOfMessages), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesNotVisible), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesDelayed), "0");
    assert_eq!(get(A::QueueArn), format!("arn:aws:sqs:us-east-1:{}:{name}", default_account()));
    let max: i64 = get(A::MaximumMessageSize).parse().unwrap();
    assert!(max == 262_144 || max == 1_048_576, "MaximumMessageSize default {max}");
    let created: i64 = get(A::CreatedTimestamp).parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((created - now).abs() < 120, "CreatedTimestamp {created} is in epoch seconds (now {now})");
    let _: i64 = get(A::LastModifiedTimestamp).parse().unwrap();
    assert!(!a.contains_key(&A::FifoQueue), "standard queues have no FifoQueue attribute: {a:?}");

    // Asking for specific attributes returns only those.
    let only = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::VisibilityTimeout)
        .attribute_names(A::DelaySeconds)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(only.len(), 2, "{only:?}");
}

#[tokio::test]
async fn fifo_queue_attributes() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = format!("{}.fifo", unique_name("attrs"));
    let url = create_queue(&c, &name, &[(A::FifoQueue, "true")]).await;
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a.get(&A::FifoQueue).map(String::as_str), Some("true"), "{a:?}");
    assert_eq!(a.get(&A::ContentBasedDeduplication).map(String::as_str), Some("false"), "{a:?}");
    // FifoQueue cannot be changed after creation.
    let r = c.set_queue_attributes().queue_url(&url).attributes(A::FifoQueue, "false").send().await;
    assert!(r.is_err(), "changing FifoQueue must fail: {r:?}");
    // ContentBasedDeduplication can.
    c.set_queue_attributes().queue_url(&url).attributes(A::ContentBasedDeduplication, "true").send().await.unwrap();
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a.get(&A::ContentBasedDeduplication).map(String::as_str), Some("true"));
}

#[tokio::test]
async fn set_queue_attributes_roundtrip() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("set"), &[]).await;
    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "120")
        .attributes(A::DelaySeconds, "5")
        .attributes(A::MessageRetentionPeriod, "60")
        .attributes(A::ReceiveMessageWaitTimeSeconds, "20")
        .attributes(A::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap();
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a[&A::VisibilityTimeout], "120");
    assert_eq!(a[&A::DelaySeconds], "5");
    assert_eq!(a[&A::MessageRetentionPeriod], "60");
    assert_eq!(a[&A::ReceiveMessageWaitTimeSeconds], "20");
    assert_eq!(a[&A::MaximumMessageSize], "1024");
}

#[tokio::test]
async fn attribute_values_are_validated() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("validate"), &[]).await;
    let bad: &[(A, &str)] = &[
        (A::VisibilityTimeout, "43201"),
        (A::VisibilityTimeout, "-1"),
        (A::VisibilityTimeout, "abc"),
        (A::DelaySeconds, "901"),
        (A::MessageRetentionPeriod, "59"),
        (A::MessageRetentionPeriod, "1209601"),
        (A::ReceiveMessageWaitTimeSeconds, "21"),
        (A::MaximumMessageSize, "1023"),
        (A::MaximumMessageSize, "2000000"),
    ];
    for (k, v) in bad {
        let e = expect_err_code(
            c.set_queue_attributes().queue_url(&url).attributes(k.clone(), *v).send().await,
            "InvalidAttributeValue",
        );
        assert!(e.as_service_error().is_some_and(|e| e.is_invalid_attribute_value()), "{k:?}={v}: {e:?}");
        // Same validation at creation time.
        expect_err_code(
            c.create_queue().queue_name(unique_name("badcreate")).attributes(k.clone(), *v).send().await,
            "InvalidAttributeValue",
        );
    }
    // A malformed RedrivePolicy (SQS reports it as InvalidParameterValue).
    for bad in ["not json", r#"{"maxReceiveCount":"5"}"#, "[]"] {
        expect_err_code_in(
            c.set_queue_attributes().queue_url(&url).attributes(A::RedrivePolicy, bad).send().await,
            &["InvalidParameterValue", "InvalidAttributeValue"],
        );
    }
    // Boundary values are accepted.
    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "43200")
        .attributes(A::DelaySeconds, "900")
        .attributes(A::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .unwrap();
    // Nothing changed by the failed calls except what succeeded.
    let a = queue_attrs(&c, &url).await;
    assert_eq!(a[&A::VisibilityTimeout], "43200");
    assert_eq!(a[&A::ReceiveMessageWaitTimeSeconds], "0");
}

#[tokio::test]
async fn unknown_attribute_name_is_rejected() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("attrname"), &[]).await;
    let e = expect_err_code(
        c.set_queue_attributes().queue_url(&url).attributes(A::from("NoSuchAttribute"), "1").send().await,
        "InvalidAttributeName",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_invalid_attribute_name()), "{e:?}");
    expect_err_code(
        c.get_queue_attributes().queue_url(&url).attribute_names(A::from("NoSuchAttribute")).send().await,
        "InvalidAttributeName",
    );
}

#[tokio::test]
async fn list_queues_pagination_and_prefix() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let prefix = unique_name("page");
    let mut urls = Vec::new();
    for i in 0..5 {
        urls.push(create_queue(&c, &format!("{prefix}-{i}"), &[]).await);
    }
    create_queue(&c, &unique_name("other"), &[]).await;

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_queues()
            .queue_name_prefix(&prefix)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(out.queue_urls().len() <= 2, "MaxResults=2 returned {:?}", out.queue_urls());
        seen.extend(out.queue_urls().iter().cloned());
        pages += 1;
        assert!(pages <= 5, "pagination does not terminate");
        match out.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    seen.sort();
    urls.sort();
    assert_eq!(seen, urls);
    assert!(pages >= 3, "5 queues with MaxResults=2 need at least 3 pages, got {pages}");

    // Invalid MaxResults.
    let r = c.list_queues().max_results(0).send().await;
    assert!(r.is_err(), "MaxResults=0 must be rejected: {r:?}");
    let r = c.list_queues().max_results(1001).send().await;
    assert!(r.is_err(), "MaxResults=1001 must be rejected: {r:?}");
}

#[tokio::test]
async fn deleted_queue_name_cannot_be_reused_for_60_seconds() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let name = unique_name("recent");
    let url = create_queue(&c, &name, &[]).await;
    c.delete_queue().queue_url(&url).send().await.unwrap();
    let e = expect_err_code(
        c.create_queue().queue_name(&name).send().await,
        "AWS.SimpleQueueService.QueueDeletedRecently",
    );
    assert!(e.as_service_error().is_some_and(|e| e.is_queue_deleted_recently()));
}

#[tokio::test]
async fn tags_create_tag_untag_list() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = c
        .create_queue()
        .queue_name(unique_name("tags"))
        .tags("team", "core")
        .tags("env", "test")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let tags = c.list_queue_tags().queue_url(&url).send().await.unwrap().tags.unwrap_or_default();
    assert_eq!(tags.len(), 2, "{tags:?}");
    assert_eq!(tags["team"], "core");

    c.tag_queue().queue_url(&url).tags("env", "prod").tags("owner", "me").send().await.unwrap();
    let tags = c.list_queue_tags().queue_url(&url).send().await.unwrap().tags.unwrap_or_default();
    assert_eq!(tags.len(), 3, "{tags:?}");
    assert_eq!(tags["env"], "prod", "TagQueue overwrites existing keys");

    c.untag_queue().queue_url(&url).tag_keys("team").tag_keys("nonexistent").send().await.unwrap();
    let tags = c.list_queue_tags().queue_url(&url).send().await.unwrap().tags.unwrap_or_default();
    let mut keys: Vec<_> = tags.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["env", "owner"]);

    c.untag_queue().queue_url(&url).tag_keys("env").tag_keys("owner").send().await.unwrap();
    let tags = c.list_queue_tags().queue_url(&url).send().await.unwrap().tags.unwrap_or_default();
    assert!(tags.is_empty(), "{tags:?}");
}

#[tokio::test]
async fn add_and_remove_permission() {
    let n = Nimbus::start();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("perm"), &[]).await;
    c.add_permission()
        .queue_url(&url)
        .label("AllowSend")
        .aws_account_ids("111122223333")
        .actions("SendMessage")
        .actions("ReceiveMessage")
        .send()
        .await
        .unwrap();
    let a = queue_attrs(&c, &url).await;
    let policy = a.get(&A::Policy).unwrap_or_else(|| panic!("Policy attribute missing after AddPermission: {a:?}"));
    assert!(policy.contains("AllowSend"), "policy has the label as Sid: {policy}");
    assert!(policy.contains("111122223333"), "policy names the principal: {policy}");
    assert!(policy.contains("SQS:SendMessage") || policy.contains("sqs:SendMessage"), "{policy}");

    // Duplicate label is an error.
    let r = c
        .add_permission()
        .queue_url(&url)
        .label("AllowSend")
        .aws_account_ids("111122223333")
        .actions("SendMessage")
        .send()
        .await;
    assert!(r.is_err(), "duplicate permission label must fail: {r:?}");

    c.remove_permission().queue_url(&url).label("AllowSend").send().await.unwrap();
    let a = queue_attrs(&c, &url).await;
    let policy = a.get(&A::Policy).cloned().unwrap_or_default();
    assert!(!policy.contains("AllowSend"), "label still present after RemovePermission: {policy}");

    // Removing an unknown label is an error.
    let r = c.remove_permission().queue_url(&url).label("AllowSend").send().await;
    assert!(r.is_err(), "removing an unknown label must fail: {r:?}");
}

#[tokio::test]
async fn in_memory_server_works() {
    let n = Nimbus::start_in_memory();
    let c = n.sqs_client();
    let url = create_queue(&c, &unique_name("mem"), &[]).await;
    nimbus_tests::sqs::send(&c, &url, "hello").await;
    let got = nimbus_tests::sqs::receive(&c, &url, 1, 1, None).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), Some("hello"));
}
