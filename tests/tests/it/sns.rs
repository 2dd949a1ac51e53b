//! Amazon SNS through the AWS SDK for Rust: topics and subscriptions, fan-out of one
//! Publish to standard and FIFO SQS queues and a Lambda function, raw delivery, filter
//! policies in both scopes, PublishBatch, AWS's errors, a RedrivePolicy dead-letter
//! queue, Lambda destinations on a topic, and acknowledged publishes delivered after
//! kill -9.
//! https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
//! https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html

use aws_sdk_lambda::types::{DestinationConfig, OnSuccess};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sqs::types::QueueAttributeName;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Creates a queue; returns (url, arn).
async fn queue(n: &Nimbus, name: &str) -> (String, String) {
    let c = n.sqs_client();
    let attrs: Vec<(QueueAttributeName, &str)> = if name.ends_with(".fifo") { vec![(QueueAttributeName::FifoQueue, "true")] } else { vec![] };
    let url = sqs::create_queue(&c, name, &attrs).await;
    let arn = sqs::queue_attrs(&c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

/// Long-polls until `want` messages arrived (deleting them) or `secs` passed.
async fn drain(n: &Nimbus, url: &str, want: usize, secs: u64) -> Vec<aws_sdk_sqs::types::Message> {
    let c = n.sqs_client();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        let out = c
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        for m in out.messages.unwrap_or_default() {
            c.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap_or_default()).send().await.expect("delete");
            got.push(m);
        }
    }
    got
}

fn body(m: &aws_sdk_sqs::types::Message) -> Value {
    serde_json::from_str(m.body().unwrap_or("")).unwrap_or(Value::Null)
}

async fn topic(c: &aws_sdk_sns::Client, name: &str, attrs: &[(&str, &str)]) -> String {
    let mut req = c.create_topic().name(name);
    for (k, v) in attrs {
        req = req.attributes(*k, *v);
    }
    req.send().await.expect("create topic").topic_arn.expect("TopicArn")
}

async fn subscribe(c: &aws_sdk_sns::Client, topic: &str, protocol: &str, endpoint: &str, attrs: &[(&str, &str)]) -> String {
    let mut req = c.subscribe().topic_arn(topic).protocol(protocol).endpoint(endpoint);
    for (k, v) in attrs {
        req = req.attributes(*k, *v);
    }
    req.send().await.expect("subscribe").subscription_arn.expect("SubscriptionArn")
}

fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(v).build().expect("attribute")
}

fn code<E: aws_sdk_sns::error::ProvideErrorMetadata, R>(e: &aws_sdk_sns::error::SdkError<E, R>) -> (String, String) {
    let meta = e.as_service_error().map(|s| (s.code().unwrap_or("").to_string(), s.message().unwrap_or("").to_string()));
    meta.unwrap_or_else(|| ("<no service error>".into(), String::new()))
}

#[tokio::test]
async fn one_publish_fans_out_to_queues_raw_and_enveloped_and_to_a_function() {
    let n = Nimbus::start_in_memory();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("fan"), &[("DisplayName", "Fan")]).await;
    let (env_url, env_arn) = queue(&n, &unique_name("env")).await;
    let (raw_url, raw_arn) = queue(&n, &unique_name("raw")).await;
    let env_sub = subscribe(&c, &t, "sqs", &env_arn, &[]).await;
    subscribe(&c, &t, "sqs", &raw_arn, &[("RawMessageDelivery", "true")]).await;
    // The function's OnSuccess destination shows the event it received.
    let l = n.lambda_client();
    let fname = unique_name("snsfn");
    let fn_arn = lambda::create(&l, &fname, FnSpec::rust()).await;
    let (dest_url, dest_arn) = queue(&n, &unique_name("dest")).await;
    l.put_function_event_invoke_config()
        .function_name(&fname)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&dest_arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    let fn_sub = subscribe(&c, &t, "lambda", &fn_arn, &[]).await;

    let out = c
        .publish()
        .topic_arn(&t)
        .message("hello fan-out")
        .subject("Greeting")
        .message_attributes("color", string_attr("blue"))
        .message_attributes("n", MessageAttributeValue::builder().data_type("Number").string_value("7").build().unwrap())
        .send()
        .await
        .expect("publish");
    let id = out.message_id.expect("MessageId");

    let env = drain(&n, &env_url, 1, 10).await;
    assert_eq!(env.len(), 1, "enveloped delivery\n{}", n.log_tail(2000));
    let e = body(&env[0]);
    assert_eq!(e["Type"], "Notification");
    assert_eq!(e["MessageId"], id.as_str());
    assert_eq!(e["TopicArn"], t.as_str());
    assert_eq!(e["Subject"], "Greeting");
    assert_eq!(e["Message"], "hello fan-out");
    assert_eq!(e["SignatureVersion"], "1");
    assert!(e["Timestamp"].as_str().is_some_and(|s| s.ends_with('Z') && s.contains('.')), "{e}");
    assert!(e["SigningCertURL"].as_str().is_some_and(|s| s.ends_with("/_aws/sns/SimpleNotificationService.pem")), "{e}");
    assert!(e["UnsubscribeURL"].as_str().is_some_and(|s| s.contains(&env_sub)), "{e}");
    assert_eq!(e["MessageAttributes"]["color"], json!({"Type": "String", "Value": "blue"}));
    assert_eq!(e["MessageAttributes"]["n"], json!({"Type": "Number", "Value": "7"}));
    assert!(env[0].message_attributes().is_none_or(|m| m.is_empty()), "enveloped delivery carries no SQS attributes");

    let raw = drain(&n, &raw_url, 1, 10).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].body(), Some("hello fan-out"));
    let attrs = raw[0].message_attributes().expect("raw delivery carries the attributes");
    assert_eq!(attrs["color"].string_value(), Some("blue"));
    assert_eq!(attrs["n"].data_type(), "Number");

    let dest = drain(&n, &dest_url, 1, 20).await;
    assert_eq!(dest.len(), 1, "the function ran\n{}", n.log_tail(3000));
    let record = body(&dest[0]);
    let ev = &record["requestPayload"]["Records"][0];
    assert_eq!(ev["EventSource"], "aws:sns", "{record}");
    assert_eq!(ev["EventSubscriptionArn"], fn_sub.as_str());
    assert_eq!(ev["Sns"]["MessageId"], id.as_str());
    assert_eq!(ev["Sns"]["Message"], "hello fan-out");
    assert_eq!(ev["Sns"]["Subject"], "Greeting");
    assert_eq!(ev["Sns"]["MessageAttributes"]["color"]["Value"], "blue");
    assert!(ev["Sns"]["SigningCertUrl"].is_string(), "{ev}");

    // Topic attributes count the three subscriptions.
    let attrs = c.get_topic_attributes().topic_arn(&t).send().await.expect("attributes").attributes.unwrap_or_default();
    assert_eq!(attrs["SubscriptionsConfirmed"], "3");
    assert_eq!(attrs["DisplayName"], "Fan");
    assert_eq!(attrs["Owner"], nimbus_tests::default_account());
    // MessageStructure=json: each protocol its own message.
    let msg = json!({"default": "d", "sqs": "for queues", "lambda": "for functions"}).to_string();
    c.publish().topic_arn(&t).message(msg).message_structure("json").send().await.expect("json publish");
    assert_eq!(drain(&n, &raw_url, 1, 10).await[0].body(), Some("for queues"));
    assert_eq!(body(&drain(&n, &env_url, 1, 10).await[0])["Message"], "for queues");
}

#[tokio::test]
async fn fifo_topic_keeps_group_order_and_deduplicates() {
    let n = Nimbus::start_in_memory();
    let c = n.sns_client();
    let t = topic(&c, &format!("{}.fifo", unique_name("ordered")), &[("FifoTopic", "true"), ("ContentBasedDeduplication", "true")]).await;
    let (url, arn) = queue(&n, &format!("{}.fifo", unique_name("q"))).await;
    let (raw_url, raw_arn) = queue(&n, &format!("{}.fifo", unique_name("raw"))).await;
    subscribe(&c, &t, "sqs", &arn, &[]).await;
    subscribe(&c, &t, "sqs", &raw_arn, &[("RawMessageDelivery", "true")]).await;
    // A FIFO topic also fans out to standard queues.
    let (std_url, std_arn) = queue(&n, &unique_name("std")).await;
    subscribe(&c, &t, "sqs", &std_arn, &[("RawMessageDelivery", "true")]).await;
    let mut seqs = Vec::new();
    for i in 0..5 {
        let out = c.publish().topic_arn(&t).message(format!("m{i}")).message_group_id("g").send().await.expect("fifo publish");
        seqs.push(out.sequence_number.expect("SequenceNumber on FIFO topics"));
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing sequence numbers: {seqs:?}");
    // Content-based deduplication: the same body again within 5 minutes is not delivered.
    let again = c.publish().topic_arn(&t).message("m0").message_group_id("g").send().await.expect("duplicate publish");
    assert_eq!(again.sequence_number.as_deref(), Some(seqs[0].as_str()));
    let got = drain(&n, &raw_url, 5, 10).await;
    let bodies: Vec<&str> = got.iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    assert!(drain(&n, &raw_url, 1, 1).await.is_empty(), "the duplicate was not delivered");
    let env = drain(&n, &url, 5, 10).await;
    let messages: Vec<String> = env.iter().map(|m| body(m)["Message"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(messages, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(body(&env[0])["SequenceNumber"], seqs[0].as_str());
    let mut plain: Vec<String> = drain(&n, &std_url, 5, 10).await.iter().filter_map(|m| m.body().map(str::to_string)).collect();
    plain.sort();
    assert_eq!(plain, ["m0", "m1", "m2", "m3", "m4"], "the standard queue got each message once");

    // FIFO rules.
    let e = c.publish().topic_arn(&t).message("x").send().await.expect_err("no group id");
    assert_eq!(code(&e), ("InvalidParameter".into(), "Invalid parameter: The MessageGroupId parameter is required for FIFO topics".into()));
    let std_topic = topic(&c, &unique_name("std"), &[]).await;
    let e = c.subscribe().topic_arn(&std_topic).protocol("sqs").endpoint(&arn).send().await.expect_err("FIFO queue on a standard topic");
    assert_eq!(code(&e).0, "InvalidParameter");
    let e = c.create_topic().name(unique_name("nofifo")).attributes("FifoTopic", "true").send().await.expect_err("FIFO name without .fifo");
    assert_eq!(code(&e).0, "InvalidParameter");
}

#[tokio::test]
async fn filter_policies_in_both_scopes() {
    let n = Nimbus::start_in_memory();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("filtered"), &[]).await;
    let (attr_url, attr_arn) = queue(&n, &unique_name("attr")).await;
    let (body_url, body_arn) = queue(&n, &unique_name("body")).await;
    let (all_url, all_arn) = queue(&n, &unique_name("all")).await;
    let policy = json!({"color": ["blue", {"prefix": "gr"}], "size": [{"numeric": [">", 10]}]}).to_string();
    let attr_sub = subscribe(&c, &t, "sqs", &attr_arn, &[("FilterPolicy", &policy), ("RawMessageDelivery", "true")]).await;
    let body_policy = json!({"order": {"kind": ["paid"], "total": [{"numeric": [">=", 100]}]}}).to_string();
    subscribe(&c, &t, "sqs", &body_arn, &[("FilterPolicy", &body_policy), ("FilterPolicyScope", "MessageBody"), ("RawMessageDelivery", "true")]).await;
    subscribe(&c, &t, "sqs", &all_arn, &[("RawMessageDelivery", "true")]).await;

    let num = |v: &str| MessageAttributeValue::builder().data_type("Number").string_value(v).build().unwrap();
    let cases = [
        ("a-match", "blue", "11"),
        ("a-prefix", "green", "20"),
        ("a-small", "blue", "10"),
        ("a-color", "red", "50"),
    ];
    for (msg, color, size) in cases {
        c.publish().topic_arn(&t).message(msg).message_attributes("color", string_attr(color)).message_attributes("size", num(size)).send().await.expect("publish");
    }
    for (msg, body) in [("b-match", json!({"order": {"kind": "paid", "total": 150}})), ("b-low", json!({"order": {"kind": "paid", "total": 5}}))] {
        let _ = msg;
        c.publish().topic_arn(&t).message(body.to_string()).send().await.expect("publish");
    }
    c.publish().topic_arn(&t).message("not json").send().await.expect("publish");
    let all = drain(&n, &all_url, 7, 10).await;
    assert_eq!(all.len(), 7, "the unfiltered subscription gets everything");
    let attr: Vec<String> = drain(&n, &attr_url, 2, 5).await.iter().filter_map(|m| m.body().map(str::to_string)).collect();
    assert_eq!(attr, ["a-match", "a-prefix"]);
    let bodies: Vec<Value> = drain(&n, &body_url, 1, 5).await.iter().map(body).collect();
    assert_eq!(bodies, [json!({"order": {"kind": "paid", "total": 150}})]);
    assert!(drain(&n, &attr_url, 1, 1).await.is_empty() && drain(&n, &body_url, 1, 1).await.is_empty(), "nothing else passed the filters");

    // Changing the policy takes effect; a bad policy is refused with SNS's message.
    c.set_subscription_attributes().subscription_arn(&attr_sub).attribute_name("FilterPolicy").attribute_value(json!({"color": ["red"]}).to_string()).send().await.expect("set policy");
    c.publish().topic_arn(&t).message("now red").message_attributes("color", string_attr("red")).send().await.expect("publish");
    assert_eq!(drain(&n, &attr_url, 1, 5).await[0].body(), Some("now red"));
    let e = c
        .set_subscription_attributes()
        .subscription_arn(&attr_sub)
        .attribute_name("FilterPolicy")
        .attribute_value(json!({"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]}).to_string())
        .send()
        .await
        .expect_err("six keys");
    let (code, message) = code(&e);
    assert_eq!(code, "InvalidParameter");
    assert!(message.starts_with("Invalid parameter: FilterPolicy:"), "{message}");
    let attrs = c.get_subscription_attributes().subscription_arn(&attr_sub).send().await.expect("get").attributes.unwrap_or_default();
    assert_eq!(attrs["FilterPolicyScope"], "MessageAttributes");
    assert_eq!(attrs["RawMessageDelivery"], "true");
}

#[tokio::test]
async fn publish_batch_and_errors() {
    let n = Nimbus::start_in_memory();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("batch"), &[]).await;
    let (url, arn) = queue(&n, &unique_name("q")).await;
    subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    let entry = |id: &str, msg: &str| PublishBatchRequestEntry::builder().id(id).message(msg).build().unwrap();
    let out = c
        .publish_batch()
        .topic_arn(&t)
        .publish_batch_request_entries(entry("a", "one"))
        .publish_batch_request_entries(entry("b", ""))
        .publish_batch_request_entries(entry("c", "three"))
        .send()
        .await
        .expect("batch");
    assert_eq!(out.successful().len(), 2);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "b");
    assert_eq!(out.failed()[0].code(), "InvalidParameter");
    assert!(out.failed()[0].sender_fault());
    let mut got: Vec<String> = drain(&n, &url, 2, 10).await.iter().filter_map(|m| m.body().map(str::to_string)).collect();
    got.sort();
    assert_eq!(got, ["one", "three"]);

    let e = c.publish_batch().topic_arn(&t).publish_batch_request_entries(entry("x", "1")).publish_batch_request_entries(entry("x", "2")).send().await.expect_err("same ids");
    assert_eq!(code(&e).0, "BatchEntryIdsNotDistinct");
    let mut req = c.publish_batch().topic_arn(&t);
    for i in 0..11 {
        req = req.publish_batch_request_entries(entry(&format!("e{i}"), "m"));
    }
    assert_eq!(code(&req.send().await.expect_err("eleven")).0, "TooManyEntriesInBatchRequest");
    let big = "x".repeat(200_000);
    let e = c.publish_batch().topic_arn(&t).publish_batch_request_entries(entry("a", &big)).publish_batch_request_entries(entry("b", &big)).send().await.expect_err("too long");
    assert_eq!(code(&e).0, "BatchRequestTooLong");
    assert_eq!(code(&c.publish_batch().topic_arn(&t).publish_batch_request_entries(entry("bad id!", "m")).send().await.expect_err("bad id")).0, "InvalidBatchEntryId");

    // Publish errors.
    let missing = t.replace("batch", "missing");
    assert_eq!(code(&c.publish().topic_arn(&missing).message("m").send().await.expect_err("no topic")), ("NotFound".into(), "Topic does not exist".into()));
    assert_eq!(code(&c.publish().topic_arn("not-an-arn").message("m").send().await.expect_err("bad arn")), ("InvalidParameter".into(), "Invalid parameter: TopicArn".into()));
    assert_eq!(code(&c.publish().topic_arn(&t).message("").send().await.expect_err("empty")).1, "Invalid parameter: Empty message");
    assert_eq!(code(&c.publish().topic_arn(&t).message("x".repeat(262_145)).send().await.expect_err("too long")).1, "Invalid parameter: Message too long");
    let e = c.publish().topic_arn(&t).message("{}").message_structure("json").send().await.expect_err("no default");
    assert_eq!(code(&e).1, "Invalid parameter: Message Structure - No default entry in JSON message body");
    let e = c.publish().phone_number("+15555550100").message("sms").send().await.expect_err("sms");
    assert!(code(&e).1.contains("not supported by nimbus"), "{e:?}");
    let bad_num = MessageAttributeValue::builder().data_type("Number").string_value("abc").build().unwrap();
    let e = c.publish().topic_arn(&t).message("m").message_attributes("n", bad_num).send().await.expect_err("bad number");
    assert_eq!(code(&e).0, "InvalidParameterValue");
    let e = c.subscribe().topic_arn(&t).protocol("carrier-pigeon").endpoint("x").send().await.expect_err("protocol");
    assert_eq!(code(&e).1, "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon");
    let e = c.get_subscription_attributes().subscription_arn(format!("{t}:00000000-0000-0000-0000-000000000000")).send().await.expect_err("no subscription");
    assert_eq!(code(&e), ("NotFound".into(), "Subscription does not exist".into()));

    // Topics list, tags, permissions, delete.
    let listed = c.list_topics().send().await.expect("list").topics.unwrap_or_default();
    assert!(listed.iter().any(|x| x.topic_arn() == Some(t.as_str())));
    c.tag_resource().resource_arn(&t).tags(aws_sdk_sns::types::Tag::builder().key("team").value("a").build().unwrap()).send().await.expect("tag");
    let tags = c.list_tags_for_resource().resource_arn(&t).send().await.expect("tags").tags.unwrap_or_default();
    assert_eq!(tags.len(), 1);
    c.add_permission().topic_arn(&t).label("pub").aws_account_id("111122223333").action_name("Publish").send().await.expect("add permission");
    let policy = c.get_topic_attributes().topic_arn(&t).send().await.unwrap().attributes.unwrap_or_default()["Policy"].clone();
    assert!(policy.contains("\"Sid\":\"pub\"") && policy.contains("arn:aws:iam::111122223333:root"), "{policy}");
    c.remove_permission().topic_arn(&t).label("pub").send().await.expect("remove permission");
    c.delete_topic().topic_arn(&t).send().await.expect("delete");
    assert_eq!(code(&c.get_topic_attributes().topic_arn(&t).send().await.expect_err("deleted")).0, "NotFound");
    assert!(c.list_subscriptions().send().await.unwrap().subscriptions().iter().all(|s| s.topic_arn() != Some(t.as_str())), "subscriptions went with the topic");
}

#[tokio::test]
async fn redrive_policy_sends_undeliverable_messages_to_the_dead_letter_queue() {
    let n = Nimbus::start_with_clock_control();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("redrive"), &[]).await;
    let (dlq_url, dlq_arn) = queue(&n, &unique_name("dlq")).await;
    // A queue that does not exist: every attempt fails.
    let gone = format!("arn:aws:sqs:us-east-1:{}:{}", nimbus_tests::default_account(), unique_name("gone"));
    let redrive = json!({"deadLetterTargetArn": dlq_arn}).to_string();
    subscribe(&c, &t, "sqs", &gone, &[("RedrivePolicy", &redrive), ("RawMessageDelivery", "true")]).await;
    c.publish().topic_arn(&t).message("undeliverable").send().await.expect("publish");
    // AWS's policy for AWS-managed endpoints: 3 immediate retries, 2 at 1 s, 10 backing
    // off from 1 s to 20 s, then 100,000 at 20 s — about 23.15 days. Ten minutes in, the
    // message is still being retried.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
    n.advance_clock(600);
    assert!(drain(&n, &dlq_url, 1, 1).await.is_empty(), "still retrying after 10 minutes");
    // Past the whole schedule, the retries the clock skipped run at once, then the DLQ.
    n.advance_clock(24 * 86_400);
    let got = drain(&n, &dlq_url, 1, 60).await;
    assert_eq!(got.len(), 1, "dead-lettered after the retries\n{}", n.log_tail(3000));
    assert_eq!(got[0].body(), Some("undeliverable"));
}

#[tokio::test]
async fn fifo_deduplication_survives_a_restart() {
    // https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html: a repeated
    // MessageDeduplicationId within 5 minutes is accepted and not delivered again.
    let mut n = Nimbus::start_with_clock_control();
    let c = n.sns_client();
    let t = topic(&c, &format!("{}.fifo", unique_name("dedup")), &[("FifoTopic", "true")]).await;
    // A standard queue: it does not deduplicate itself, so every delivery shows.
    let (url, arn) = queue(&n, &unique_name("plain")).await;
    subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    let first = c.publish().topic_arn(&t).message("once").message_group_id("g").message_deduplication_id("d-1").send().await.expect("publish");
    assert_eq!(drain(&n, &url, 1, 10).await.len(), 1);
    n.kill9();
    n.restart();
    let c = n.sns_client();
    let again = c.publish().topic_arn(&t).message("once more").message_group_id("g").message_deduplication_id("d-1").send().await.expect("duplicate");
    assert_eq!(again.message_id, first.message_id, "the first publish's MessageId");
    assert_eq!(again.sequence_number, first.sequence_number, "the first publish's SequenceNumber");
    assert!(drain(&n, &url, 1, 2).await.is_empty(), "the duplicate was not delivered after the restart");
    // After the 5-minute window the id is new again.
    n.advance_clock(301);
    let later = c.publish().topic_arn(&t).message("later").message_group_id("g").message_deduplication_id("d-1").send().await.expect("publish");
    assert_ne!(later.message_id, first.message_id);
    let got = drain(&n, &url, 1, 10).await;
    assert_eq!(got.iter().filter_map(|m| m.body()).collect::<Vec<_>>(), ["later"]);
}

#[tokio::test]
async fn lambda_destination_on_a_topic_publishes() {
    let n = Nimbus::start_in_memory();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("dest"), &[]).await;
    let (url, arn) = queue(&n, &unique_name("q")).await;
    subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    let l = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&l, &name, FnSpec::rust()).await;
    l.put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&t).build()).build())
        .send()
        .await
        .expect("destination on a topic");
    l.invoke()
        .function_name(&name)
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(aws_sdk_lambda::primitives::Blob::new(json!({"action": "echo"}).to_string()))
        .send()
        .await
        .expect("invoke");
    let got = drain(&n, &url, 1, 20).await;
    assert_eq!(got.len(), 1, "{}", n.log_tail(3000));
    assert_eq!(body(&got[0])["requestContext"]["condition"], "Success");
}

#[tokio::test]
async fn acknowledged_publishes_are_delivered_after_kill_9() {
    let mut n = Nimbus::start_with_clock_control();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("durable"), &[]).await;
    // Two subscribers: a publish's deliveries are stored together, and each that waits
    // for a retry on its own.
    let qnames = [unique_name("later"), unique_name("later-too")];
    for q in &qnames {
        let arn = format!("arn:aws:sqs:us-east-1:{}:{q}", nimbus_tests::default_account());
        subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    }
    // The queues do not exist yet: the deliveries stay pending, retried on the clock.
    for i in 0..3 {
        c.publish().topic_arn(&t).message(format!("kept {i}")).send().await.expect("publish");
    }
    let cert = n.http("GET", "/_aws/sns/SimpleNotificationService.pem", None).expect("certificate");
    assert_eq!(cert.0, 200);
    assert!(cert.1.starts_with("-----BEGIN CERTIFICATE-----"), "{}", cert.1);
    n.kill9();
    n.restart();
    let again = n.http("GET", "/_aws/sns/SimpleNotificationService.pem", None).expect("certificate");
    assert_eq!(again.1, cert.1, "the signing key and certificate are kept in the data directory");
    let c = n.sns_client();
    let attrs = c.get_topic_attributes().topic_arn(&t).send().await.expect("topic survived").attributes.unwrap_or_default();
    assert_eq!(attrs["SubscriptionsConfirmed"], "2");
    let mut urls = Vec::new();
    for q in &qnames {
        urls.push(queue(&n, q).await.0);
    }
    for url in &urls {
        let mut got = Vec::new();
        for _ in 0..10 {
            n.advance_clock(30);
            got.extend(drain(&n, url, 3 - got.len(), 1).await);
            if got.len() == 3 {
                break;
            }
        }
        let mut bodies: Vec<String> = got.iter().filter_map(|m| m.body().map(str::to_string)).collect();
        bodies.sort();
        bodies.dedup();
        assert_eq!(bodies, ["kept 0", "kept 1", "kept 2"], "{url}: {}", n.log_tail(3000));
    }
}

#[tokio::test]
async fn pending_deliveries_stop_when_the_subscription_goes() {
    let n = Nimbus::start_with_clock_control();
    let c = n.sns_client();
    let t = topic(&c, &unique_name("gone"), &[]).await;
    let qname = unique_name("late");
    let arn = format!("arn:aws:sqs:us-east-1:{}:{qname}", nimbus_tests::default_account());
    let sub = subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    let kept = unique_name("kept");
    let (kept_url, kept_arn) = queue(&n, &kept).await;
    subscribe(&c, &t, "sqs", &kept_arn, &[("RawMessageDelivery", "true")]).await;
    c.publish().topic_arn(&t).message("before unsubscribe").send().await.expect("publish");
    assert_eq!(drain(&n, &kept_url, 1, 10).await.len(), 1, "the other subscription got it at once");
    c.unsubscribe().subscription_arn(&sub).send().await.expect("unsubscribe");
    let (url, _) = queue(&n, &qname).await;
    n.advance_clock(60);
    assert!(drain(&n, &url, 1, 2).await.is_empty(), "nothing after Unsubscribe");
}

#[tokio::test]
async fn a_failing_fifo_delivery_holds_back_the_later_ones() {
    let n = Nimbus::start_with_clock_control();
    let c = n.sns_client();
    let t = topic(&c, &format!("{}.fifo", unique_name("held")), &[("FifoTopic", "true"), ("ContentBasedDeduplication", "true")]).await;
    let qname = format!("{}.fifo", unique_name("late"));
    let arn = format!("arn:aws:sqs:us-east-1:{}:{qname}", nimbus_tests::default_account());
    subscribe(&c, &t, "sqs", &arn, &[("RawMessageDelivery", "true")]).await;
    // m0 fails (no queue yet) and waits for its retry; m1, published once the queue
    // exists, must not overtake it.
    c.publish().topic_arn(&t).message("m0").message_group_id("g").send().await.expect("publish");
    let (url, _) = queue(&n, &qname).await;
    c.publish().topic_arn(&t).message("m1").message_group_id("g").send().await.expect("publish");
    n.advance_clock(5);
    let got = drain(&n, &url, 2, 10).await;
    let bodies: Vec<&str> = got.iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["m0", "m1"]);
}
