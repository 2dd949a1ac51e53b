//! Step Functions' Task integrations through the AWS SDK for Rust: a DynamoDB
//! put → update → get chain, a Python function through `lambda:invoke` with its result as
//! AWS shapes it, a function's error and a missing function caught by their AWS names, an
//! AWS SDK integration (`aws-sdk:sqs:sendMessage`), and resources nimbus does not know
//! refused by CreateStateMachine.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>

use crate::stepfunctions::sfn as sfn_client;
use aws_sdk_sfn::types::ExecutionStatus;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::000000000000:role/sfn-role";


/// Creates a state machine of `definition`, runs it on `input` and polls DescribeExecution
/// until it ends (StartSyncExecution would not do: the SDK sends it to `sync-<host>`):
/// (status, output, error).
async fn run(sfn: &aws_sdk_sfn::Client, definition: Value, input: Value) -> (ExecutionStatus, Value, Option<String>) {
    let machine = sfn
        .create_state_machine()
        .name(unique_name("sm"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn;
    let arn = sfn.start_execution().state_machine_arn(&machine).input(input.to_string()).send().await.expect("StartExecution").execution_arn;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = sfn.describe_execution().execution_arn(&arn).send().await.expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            let output = d.output.as_deref().map(|o| serde_json::from_str(o).expect("output is JSON")).unwrap_or(Value::Null);
            return (d.status, output, d.error);
        }
        assert!(Instant::now() < deadline, "execution {arn} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn caught(resource: &str, parameters: Value) -> Value {
    json!({
        "StartAt": "Call",
        "States": {
            "Call": { "Type": "Task", "Resource": resource, "Parameters": parameters,
                      "Catch": [{ "ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught" }], "End": true },
            "Caught": { "Type": "Pass", "End": true }
        }
    })
}

#[tokio::test]
async fn dynamodb_chain_through_the_optimized_integration() {
    let n = Nimbus::start_in_memory();
    let ddb = n.dynamodb_client();
    let table = unique_name("tbl");
    ddb.create_table()
        .table_name(&table)
        .key_schema(aws_sdk_dynamodb::types::KeySchemaElement::builder().attribute_name("pk").key_type(aws_sdk_dynamodb::types::KeyType::Hash).build().unwrap())
        .attribute_definitions(aws_sdk_dynamodb::types::AttributeDefinition::builder().attribute_name("pk").attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S).build().unwrap())
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let definition = json!({
        "StartAt": "Put",
        "States": {
            "Put": { "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                     "Parameters": { "TableName": table, "Item": { "pk": { "S.$": "$.id" }, "seats": { "N": "3" } } },
                     "ResultPath": null, "Next": "Take" },
            "Take": { "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                      "Parameters": { "TableName": table, "Key": { "pk": { "S.$": "$.id" } },
                                      "UpdateExpression": "SET seats = seats - :one", "ConditionExpression": "seats > :zero",
                                      "ExpressionAttributeValues": { ":one": { "N": "1" }, ":zero": { "N": "0" } } },
                      "ResultPath": null, "Next": "Get" },
            "Get": { "Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                     "Parameters": { "TableName": table, "Key": { "pk": { "S.$": "$.id" } } },
                     "ResultSelector": { "seats.$": "$.Item.seats.N" }, "End": true }
        }
    });
    let sfn = sfn_client(&n);
    let (status, out, _) = run(&sfn, definition, json!({ "id": "flight-1" })).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(out, json!({ "seats": "2" }));
    let item = ddb.get_item().table_name(&table).key("pk", aws_sdk_dynamodb::types::AttributeValue::S("flight-1".into())).send().await.unwrap();
    assert_eq!(item.item.unwrap()["seats"], aws_sdk_dynamodb::types::AttributeValue::N("2".into()));
}

#[tokio::test]
async fn lambda_invoke_results_and_errors() {
    let n = Nimbus::start_in_memory();
    let lc = n.lambda_client();
    let echo = unique_name("echo");
    lambda::create(&lc, &echo, FnSpec::python("handler.echo")).await;
    let fail = unique_name("fail");
    lambda::create(&lc, &fail, FnSpec::python("handler.fail")).await;
    let sfn = sfn_client(&n);

    let definition = json!({ "StartAt": "Call", "States": { "Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": { "FunctionName": echo, "Payload.$": "$" }, "End": true } } });
    let (status, out, _) = run(&sfn, definition, json!({ "hello": "sfn" })).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["ExecutedVersion"], "$LATEST");
    assert_eq!(out["Payload"]["echo"], json!({ "hello": "sfn" }));
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);

    let (_, out, _) = run(&sfn, caught("arn:aws:states:::lambda:invoke", json!({ "FunctionName": fail, "Payload": { "message": "sold out" } })), json!({})).await;
    assert_eq!(out["error"]["Error"], "ValueError");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorMessage"], "sold out");

    let (_, out, _) = run(&sfn, caught("arn:aws:states:::lambda:invoke", json!({ "FunctionName": unique_name("missing") })), json!({})).await;
    assert_eq!(out["error"]["Error"], "Lambda.ResourceNotFoundException");

    // Uncaught, the function's error is the execution's.
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{fail}");
    let (status, _, error) = run(&sfn, json!({ "StartAt": "Call", "States": { "Call": { "Type": "Task", "Resource": arn, "End": true } } }), json!({})).await;
    assert_eq!(status, ExecutionStatus::Failed);
    assert_eq!(error.as_deref(), Some("ValueError"));
}

#[tokio::test]
async fn aws_sdk_sqs_send_message_and_missing_queue() {
    let n = Nimbus::start_in_memory();
    let sqs = n.sqs_client();
    let url = sqs.create_queue().queue_name(unique_name("q")).send().await.unwrap().queue_url.unwrap();
    let sfn = sfn_client(&n);
    let definition = json!({ "StartAt": "Send", "States": { "Send": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:sendMessage",
        "Parameters": { "QueueUrl": url, "MessageBody.$": "$.body" }, "End": true } } });
    let (status, out, _) = run(&sfn, definition, json!({ "body": "hello" })).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let got = sqs.receive_message().queue_url(&url).send().await.unwrap();
    let msg = &got.messages.unwrap()[0];
    assert_eq!(msg.body.as_deref(), Some("hello"));
    assert_eq!(out["MessageId"], json!(msg.message_id.clone().unwrap()));
    assert!(out.get("SdkHttpMetadata").is_none(), "no SDK metadata on AWS SDK integrations: {out}");

    let gone = format!("{url}-gone");
    let (_, out, _) = run(&sfn, caught("arn:aws:states:::aws-sdk:sqs:sendMessage", json!({ "QueueUrl": gone, "MessageBody": "x" })), json!({})).await;
    assert_eq!(out["error"]["Error"], "Sqs.QueueDoesNotExistException");
}

#[tokio::test]
async fn unknown_resources_are_refused_at_creation() {
    let n = Nimbus::start_in_memory();
    let sfn = sfn_client(&n);
    for resource in ["arn:aws:states:::lambda:invoke.sync", "arn:aws:states:::aws-sdk:dynamodb:noSuchThing"] {
        let definition = json!({ "StartAt": "T", "States": { "T": { "Type": "Task", "Resource": resource, "End": true } } });
        let err = sfn.create_state_machine().name(unique_name("bad")).definition(definition.to_string()).role_arn(ROLE).send().await.expect_err("refused");
        let service = err.into_service_error();
        assert!(service.is_invalid_definition(), "{service:?}");
        let message = service.meta().message().unwrap_or_default().to_string();
        assert!(message.contains(&format!("The resource provided {resource} is not recognized")), "{message}");
    }
}
