//! `--auth iam` over Kinesis and Step Functions through the AWS SDK for Rust: a user's
//! policy decides PutRecord / GetRecords stream by stream (by StreamName or StreamARN),
//! StartExecution state machine by state machine and DescribeExecution execution by
//! execution; a Task state's calls are made as the state machine's role (or the Task's
//! `Credentials.RoleArn`), so a call the role may not make fails with the integration's
//! AWS error name; stream resource policies grant, consumers are checked on their full ARN.
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesisdatastreams.html>
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html>

use aws_credential_types::Credentials;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_sfn::types::ExecutionStatus;
use nimbus_tests::{expect_err_message as err, unique_name, Nimbus, Signer, StartOptions, DEFAULT_REGION};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROOT_KEY: &str = "AKIANIMBUSROOTSFNKIN";
const ROOT_SECRET: &str = "nimbus/root/iam+sfn+kinesis/EXAMPLE";
const ACCOUNT: &str = "000000000000";

fn root() -> Signer<'static> {
    Signer { access_key: ROOT_KEY, secret: ROOT_SECRET, session_token: None }
}

fn start() -> Nimbus {
    Nimbus::start_with(StartOptions {
        in_memory: true,
        extra_args: vec!["--auth".into(), "iam".into()],
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
    })
}

fn creds(s: &Signer<'_>) -> Credentials {
    Credentials::new(s.access_key, s.secret, s.session_token.map(str::to_string), None, "nimbus-tests")
}

fn kinesis(n: &Nimbus, s: &Signer<'_>) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .credentials_provider(creds(s))
        .region(aws_sdk_kinesis::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

fn sfn(n: &Nimbus, s: &Signer<'_>) -> aws_sdk_sfn::Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .credentials_provider(creds(s))
        .region(aws_sdk_sfn::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}

fn s3(n: &Nimbus, s: &Signer<'_>) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .credentials_provider(creds(s))
        .region(aws_sdk_s3::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn doc(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A user with `policy` inline and one access key: (key id, secret).
async fn user(iam: &aws_sdk_iam::Client, name: &str, policy: Value) -> (String, String) {
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy().user_name(name).policy_name("p").policy_document(doc(policy)).send().await.unwrap();
    let key = iam.create_access_key().user_name(name).send().await.unwrap().access_key.unwrap();
    (key.access_key_id, key.secret_access_key)
}

/// A role Step Functions may assume, with `policy` inline: its ARN.
async fn role(iam: &aws_sdk_iam::Client, name: &str, policy: Value) -> String {
    let trust = doc(json!([{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]));
    let arn = iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn;
    iam.put_role_policy().role_name(name).policy_name("p").policy_document(doc(policy)).send().await.unwrap();
    arn
}

fn denial(user: &str, action: &str, resource: &str) -> String {
    format!("User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action")
}

#[tokio::test]
async fn kinesis_records_are_authorized_stream_by_stream() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = kinesis(&n, &root());
    let (s1, s2) = (unique_name("s1"), unique_name("s2"));
    for s in [&s1, &s2] {
        admin.create_stream().stream_name(s).shard_count(1).send().await.unwrap();
    }
    let arn = |s: &str| format!("arn:aws:kinesis:{DEFAULT_REGION}:{ACCOUNT}:stream/{s}");
    let (id, secret) = user(&iam, "producer", json!([{"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:GetShardIterator", "kinesis:GetRecords"], "Resource": arn(&s1)}])).await;
    let me = kinesis(&n, &Signer { access_key: &id, secret: &secret, session_token: None });

    // By name and by ARN: the same stream.
    me.put_record().stream_name(&s1).partition_key("k").data(Blob::new("by name")).send().await.unwrap();
    me.put_record().stream_arn(arn(&s1)).partition_key("k").data(Blob::new("by arn")).send().await.unwrap();
    let msg = err(me.put_record().stream_name(&s2).partition_key("k").data(Blob::new("no")).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:PutRecord", &arn(&s2)));
    let msg = err(me.put_record().stream_arn(arn(&s2)).partition_key("k").data(Blob::new("no")).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:PutRecord", &arn(&s2)));
    // PutRecords is its own action.
    let entry = aws_sdk_kinesis::types::PutRecordsRequestEntry::builder().partition_key("k").data(Blob::new("x")).build().unwrap();
    let msg = err(me.put_records().stream_name(&s1).records(entry).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:PutRecords", &arn(&s1)));

    // GetRecords is authorized on the stream its iterator reads.
    let it = me.get_shard_iterator().stream_name(&s1).shard_id("shardId-000000000000").shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator.unwrap();
    let got = me.get_records().shard_iterator(&it).send().await.unwrap();
    let bodies: Vec<&[u8]> = got.records().iter().map(|r| r.data().as_ref()).collect();
    assert_eq!(bodies, [b"by name".as_slice(), b"by arn".as_slice()]);
    let msg = err(me.get_shard_iterator().stream_name(&s2).shard_id("shardId-000000000000").shard_iterator_type(ShardIteratorType::TrimHorizon).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:GetShardIterator", &arn(&s2)));
    let other = admin.get_shard_iterator().stream_name(&s2).shard_id("shardId-000000000000").shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator.unwrap();
    let msg = err(me.get_records().shard_iterator(&other).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:GetRecords", &arn(&s2)));
    // Listing needs kinesis:ListStreams on *.
    let msg = err(me.list_streams().send().await, "AccessDeniedException");
    assert_eq!(msg, denial("producer", "kinesis:ListStreams", "*"));
}

/// Stream and consumer resource policies grant in the same account; a consumer named by
/// StreamARN and ConsumerName is authorized on its full ARN (with its creation timestamp).
#[tokio::test]
async fn kinesis_resource_policies_and_consumers() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = kinesis(&n, &root());
    let s = unique_name("s");
    admin.create_stream().stream_name(&s).shard_count(1).send().await.unwrap();
    let stream = format!("arn:aws:kinesis:{DEFAULT_REGION}:{ACCOUNT}:stream/{s}");
    let consumer = admin.register_stream_consumer().stream_arn(&stream).consumer_name("fan").send().await.unwrap().consumer.unwrap().consumer_arn;
    let (id, secret) = user(&iam, "watcher", json!([{"Effect": "Allow", "Action": "kinesis:DescribeStreamConsumer", "Resource": consumer}])).await;
    let me = kinesis(&n, &Signer { access_key: &id, secret: &secret, session_token: None });
    // By ARN and by stream + name: the same consumer ARN is checked.
    me.describe_stream_consumer().consumer_arn(&consumer).send().await.unwrap();
    let d = me.describe_stream_consumer().stream_arn(&stream).consumer_name("fan").send().await.unwrap();
    assert_eq!(d.consumer_description.unwrap().consumer_arn, consumer);

    let msg = err(me.describe_stream_summary().stream_name(&s).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("watcher", "kinesis:DescribeStreamSummary", &stream));
    let policy = doc(json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/watcher")}, "Action": "kinesis:DescribeStreamSummary", "Resource": stream}]));
    admin.put_resource_policy().resource_arn(&stream).policy(policy).send().await.unwrap();
    let summary = me.describe_stream_summary().stream_name(&s).send().await.unwrap();
    assert_eq!(summary.stream_description_summary.unwrap().stream_arn, stream);
}

/// Creates a state machine as root: its ARN.
async fn machine(admin: &aws_sdk_sfn::Client, name: &str, role: &str, definition: Value) -> String {
    admin.create_state_machine().name(name).role_arn(role).definition(definition.to_string()).send().await.expect("CreateStateMachine").state_machine_arn
}

/// Polls DescribeExecution until the execution ends: (status, error, cause).
async fn ended(c: &aws_sdk_sfn::Client, arn: &str) -> (ExecutionStatus, Option<String>, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = c.describe_execution().execution_arn(arn).send().await.expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            return (d.status, d.error, d.cause);
        }
        assert!(Instant::now() < deadline, "{arn} still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn step_functions_executions_are_authorized_machine_by_machine() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = sfn(&n, &root());
    let role = role(&iam, "sfn-pass", json!([{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}])).await;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let (m1, m2) = (unique_name("m1"), unique_name("m2"));
    let a1 = machine(&admin, &m1, &role, pass.clone()).await;
    let a2 = machine(&admin, &m2, &role, pass).await;
    let policy = json!([
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": a1},
        {"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": format!("arn:aws:states:{DEFAULT_REGION}:{ACCOUNT}:execution:{m1}:*")}
    ]);
    let (id, secret) = user(&iam, "operator", policy).await;
    let me = sfn(&n, &Signer { access_key: &id, secret: &secret, session_token: None });

    let exec = me.start_execution().state_machine_arn(&a1).name("run-1").send().await.unwrap().execution_arn;
    assert_eq!(ended(&me, &exec).await.0, ExecutionStatus::Succeeded);
    let msg = err(me.start_execution().state_machine_arn(&a2).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("operator", "states:StartExecution", &a2));
    // DescribeExecution is decided on the execution's ARN.
    let other = admin.start_execution().state_machine_arn(&a2).name("run-2").send().await.unwrap().execution_arn;
    let msg = err(me.describe_execution().execution_arn(&other).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("operator", "states:DescribeExecution", &other));
    let msg = err(me.stop_execution().execution_arn(&exec).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("operator", "states:StopExecution", &exec));
    let msg = err(me.list_state_machines().send().await, "AccessDeniedException");
    assert_eq!(msg, denial("operator", "states:ListStateMachines", "*"));
}

/// A state machine's tags are `aws:ResourceTag/<key>` for the operations on it (and on its
/// versions and aliases, which are authorized as the state machine).
#[tokio::test]
async fn state_machine_tags_decide_tag_conditioned_policies() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = sfn(&n, &root());
    let role = role(&iam, "sfn-tags", json!([{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}])).await;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string();
    let tag = aws_sdk_sfn::types::Tag::builder().key("team").value("blue").build();
    let blue = admin.create_state_machine().name(unique_name("blue")).role_arn(&role).definition(&pass).tags(tag).publish(true).send().await.unwrap();
    let plain = machine(&admin, &unique_name("plain"), &role, json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})).await;
    let policy = json!([{"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}]);
    let (id, secret) = user(&iam, "blue-team", policy).await;
    let me = sfn(&n, &Signer { access_key: &id, secret: &secret, session_token: None });
    me.start_execution().state_machine_arn(&blue.state_machine_arn).send().await.unwrap();
    // Version 1 of the tagged machine is authorized as the machine.
    me.start_execution().state_machine_arn(blue.state_machine_version_arn.unwrap()).send().await.unwrap();
    let msg = err(me.start_execution().state_machine_arn(&plain).send().await, "AccessDeniedException");
    assert_eq!(msg, denial("blue-team", "states:StartExecution", &plain));
}

#[tokio::test]
async fn task_states_call_as_the_state_machines_role() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = sfn(&n, &root());
    let sqs = n.sqs_client_signed(&root());
    let ok = sqs.create_queue().queue_name(unique_name("ok")).send().await.unwrap().queue_url.unwrap();
    let no = sqs.create_queue().queue_name(unique_name("no")).send().await.unwrap().queue_url.unwrap();
    let queue_arn = |url: &str| format!("arn:aws:sqs:{DEFAULT_REGION}:{ACCOUNT}:{}", url.rsplit('/').next().unwrap());
    let sender = role(&iam, "sfn-sender", json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn(&ok)}])).await;
    let send = |url: &str, extra: Value| {
        let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl": url, "MessageBody": "hi"}, "End": true});
        task.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({"StartAt": "Send", "States": {"Send": task}})
    };

    // Allowed: the message arrives.
    let m = machine(&admin, &unique_name("send-ok"), &sender, send(&ok, json!({}))).await;
    let exec = admin.start_execution().state_machine_arn(&m).send().await.unwrap().execution_arn;
    assert_eq!(ended(&admin, &exec).await.0, ExecutionStatus::Succeeded);
    assert_eq!(sqs.receive_message().queue_url(&ok).send().await.unwrap().messages().len(), 1);

    // Denied to the role: the task fails with the integration's error, nothing is sent.
    let m = machine(&admin, &unique_name("send-no"), &sender, send(&no, json!({}))).await;
    let exec = admin.start_execution().state_machine_arn(&m).send().await.unwrap().execution_arn;
    let (status, error, cause) = ended(&admin, &exec).await;
    assert_eq!(status, ExecutionStatus::Failed);
    assert_eq!(error.as_deref(), Some("SQS.AmazonSQSException"));
    let cause = cause.unwrap_or_default();
    let expected = format!("User: {sender} is not authorized to perform: sqs:SendMessage on resource: {} because no identity-based policy allows the sqs:SendMessage action (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied;", queue_arn(&no));
    assert!(cause.starts_with(&expected), "{cause}");
    assert!(sqs.receive_message().queue_url(&no).send().await.unwrap().messages().is_empty());

    // A Task's Credentials.RoleArn (here `RoleArn.$`, from the input) is the role its call
    // is made as, once the state machine's role may assume it: its own policy allows
    // sts:AssumeRole and the target's trust policy names it.
    let other = role(&iam, "sfn-other", json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn(&no)}])).await;
    let m = machine(&admin, &unique_name("send-as"), &sender, send(&no, json!({"Credentials": {"RoleArn.$": "$.role"}}))).await;
    let run_as = || async { admin.start_execution().state_machine_arn(&m).input(json!({"role": other}).to_string()).send().await.unwrap().execution_arn };
    let (status, error, cause) = ended(&admin, &run_as().await).await;
    assert_eq!((status, error.as_deref()), (ExecutionStatus::Failed, Some("SQS.AmazonSQSException")));
    let cause = cause.unwrap_or_default();
    assert!(cause.starts_with(&format!("User: {sender} is not authorized to perform: sts:AssumeRole on resource: {other}")), "{cause}");
    iam.put_role_policy().role_name("sfn-sender").policy_name("assume").policy_document(doc(json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": other}]))).send().await.unwrap();
    let trust = doc(json!([{"Effect": "Allow", "Principal": {"AWS": sender}, "Action": "sts:AssumeRole"}]));
    iam.update_assume_role_policy().role_name("sfn-other").policy_document(trust).send().await.unwrap();
    assert_eq!(ended(&admin, &run_as().await).await.0, ExecutionStatus::Succeeded);
    assert_eq!(sqs.receive_message().queue_url(&no).send().await.unwrap().messages().len(), 1);
}

/// A distributed Map's ItemReader reads S3 as the state machine's role.
#[tokio::test]
async fn a_distributed_map_reads_its_items_as_the_role() {
    let n = start();
    let iam = n.iam_client_signed(&root());
    let admin = sfn(&n, &root());
    let bucket = unique_name("items");
    let store = s3(&n, &root());
    store.create_bucket().bucket(&bucket).send().await.unwrap();
    for key in ["open.json", "closed.json"] {
        store.put_object().bucket(&bucket).key(key).body(br#"[{"id": 1}, {"id": 2}]"#.to_vec().into()).send().await.unwrap();
    }
    let reader = role(&iam, "sfn-reader", json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/open.json")}])).await;
    let map = |key: &str| json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": bucket, "Key": key}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let m = machine(&admin, &unique_name("read-ok"), &reader, map("open.json")).await;
    let exec = admin.start_execution().state_machine_arn(&m).send().await.unwrap().execution_arn;
    assert_eq!(ended(&admin, &exec).await.0, ExecutionStatus::Succeeded);
    let m = machine(&admin, &unique_name("read-no"), &reader, map("closed.json")).await;
    let exec = admin.start_execution().state_machine_arn(&m).send().await.unwrap().execution_arn;
    let (status, error, cause) = ended(&admin, &exec).await;
    assert_eq!((status, error.as_deref()), (ExecutionStatus::Failed, Some("States.ItemReaderFailed")));
    assert_eq!(cause.as_deref(), Some("Error occurred while GetObject. S3 Error Code: AccessDenied. S3 Error Message: Access Denied"));
}
