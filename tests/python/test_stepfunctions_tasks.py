"""Step Functions' Task integrations through boto3, each against nimbus's own service:
Lambda (`lambda:invoke`, `.waitForTaskToken`, a function ARN), DynamoDB, SQS (also
`.waitForTaskToken`), SNS, EventBridge, nested executions (`states:startExecution`,
`.sync`, `.sync:2`) and the AWS SDK integrations — their results as AWS shapes them and
their errors under AWS's names, caught by Catch and matched by Retry; resources nimbus
does not know refused by CreateStateMachine.

<https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>
<https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>
"""

import base64
import datetime
import hashlib
import json

import pytest
from conftest import unique_name
from nimbus_helpers import wait_for
from sfn_helpers import caught, create_machine, function_arn, run, single_task, wait_done

INVOKE = "arn:aws:states:::lambda:invoke"


@pytest.fixture
def stepfunctions(make_client):
    return make_client("stepfunctions")


@pytest.fixture
def ddb_table(make_client):
    ddb = make_client("dynamodb")

    def make():
        name = unique_name("tbl")
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    return make


# --------------------------------------------------------------------------- Lambda


def test_lambda_invoke_result_as_aws_shapes_it(stepfunctions, lambda_function):
    fn = lambda_function("handler.echo")
    desc, out, events = run(stepfunctions, single_task(INVOKE, {"FunctionName": fn, "Payload": {"trip.$": "$.trip"}}), {"trip": "t-1"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    # The payload is parsed from the function's JSON.
    assert out["Payload"]["echo"] == {"trip": "t-1"}
    meta = out["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    assert meta["HttpHeaders"]["X-Amz-Executed-Version"] == "$LATEST"
    assert meta["HttpHeaders"]["Content-Type"] == "application/json"
    assert meta["AllHttpHeaders"]["Content-Type"] == ["application/json"]
    assert out["SdkResponseMetadata"]["RequestId"] == meta["HttpHeaders"]["x-amzn-RequestId"]
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")


def test_function_arn_resource_answers_the_payload(stepfunctions, lambda_function):
    fn = lambda_function("handler.echo")
    desc, out, _ = run(stepfunctions, single_task(function_arn(fn)), {"a": [1, 2]})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["echo"] == {"a": [1, 2]}
    assert out["function_name"] == fn


def test_function_error_is_its_error_type_for_catch_and_retry(stepfunctions, lambda_function):
    """A function's exception fails the task with its errorType (`ValueError`) and the
    error document as the cause; Retry matches the name (one retry, then the Catch)."""
    fn = lambda_function("handler.fail")
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": fn, "Payload": {"message": "no seats left"}},
                "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    desc, out, events = run(stepfunctions, definition)
    assert desc["status"] == "SUCCEEDED", desc
    assert out["error"]["Error"] == "ValueError"
    cause = json.loads(out["error"]["Cause"])
    assert cause["errorType"] == "ValueError"
    assert cause["errorMessage"] == "no seats left"
    assert len([e for e in events if e["type"] == "TaskFailed"]) == 2, "the first attempt and the retry"


def test_function_arn_error_and_missing_function(stepfunctions, lambda_function):
    fn = lambda_function("handler.fail")
    _, out, _ = run(stepfunctions, caught(function_arn(fn)), {"message": "bare"})
    assert out["error"]["Error"] == "ValueError"
    assert json.loads(out["error"]["Cause"])["errorMessage"] == "bare"

    missing = unique_name("nofn")
    _, out, _ = run(stepfunctions, caught(INVOKE, {"FunctionName": missing}, errors=["Lambda.ResourceNotFoundException"]))
    assert out["error"]["Error"] == "Lambda.ResourceNotFoundException"
    cause = out["error"]["Cause"]
    assert "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: " in cause, cause
    assert cause.endswith("; Proxy: null)")


def test_lambda_wait_for_task_token(stepfunctions, lambda_function):
    fn = lambda_function("sfn_tasks.callback")
    resource = INVOKE + ".waitForTaskToken"
    params = {"FunctionName": fn, "Payload": {"token.$": "$$.Task.Token", "value.$": "$.value"}}
    desc, out, _ = run(stepfunctions, single_task(resource, params), {"value": 42})
    assert desc["status"] == "SUCCEEDED", desc
    assert out == {"answered": 42}, "the task's result is what SendTaskSuccess sent"

    params = {"FunctionName": fn, "Payload": {"token.$": "$$.Task.Token", "fail": "Booking.Rejected"}}
    _, out, _ = run(stepfunctions, caught(resource, params, errors=["Booking.Rejected"]))
    assert out["error"] == {"Error": "Booking.Rejected", "Cause": "the callback said no"}


# --------------------------------------------------------------------------- DynamoDB


def test_dynamodb_put_get_update_delete(stepfunctions, ddb_table):
    table = ddb_table()
    key = {"pk": {"S.$": "$.id"}}
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {"TableName": table, "Item": {"pk": {"S.$": "$.id"}, "n": {"N": "1"}}}, "ResultPath": "$.put", "Next": "Update"},
            "Update": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": table, "Key": key, "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"},
                "ResultPath": "$.update",
                "Next": "Get",
            },
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "Parameters": {"TableName": table, "Key": key}, "ResultPath": "$.get", "Next": "Delete"},
            "Delete": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem", "Parameters": {"TableName": table, "Key": key, "ReturnValues": "ALL_OLD"}, "ResultPath": "$.delete", "End": True},
        },
    }
    desc, out, _ = run(stepfunctions, definition, {"id": "item-1"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["put"]["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["put"]["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert out["update"]["Attributes"] == {"pk": {"S": "item-1"}, "n": {"N": "2"}}
    assert out["get"]["Item"] == {"pk": {"S": "item-1"}, "n": {"N": "2"}}
    assert out["delete"]["Attributes"]["n"] == {"N": "2"}


def test_dynamodb_conditional_check_failure_is_caught_by_name(stepfunctions, ddb_table, make_client):
    table = ddb_table()
    make_client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "taken"}})
    params = {"TableName": table, "Item": {"pk": {"S": "taken"}}, "ConditionExpression": "attribute_not_exists(pk)"}
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::dynamodb:putItem", params, errors=["DynamoDB.ConditionalCheckFailedException"]))
    assert out["error"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException;" in out["error"]["Cause"]


# --------------------------------------------------------------------------- SQS, SNS, EventBridge


def test_sqs_send_message_json_body(stepfunctions, sqs, queue):
    url = queue()
    params = {"QueueUrl": url, "MessageBody": {"order.$": "$.order", "kind": "trip"}}
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::sqs:sendMessage", params), {"order": 7})
    assert desc["status"] == "SUCCEEDED", desc
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(msgs[0]["Body"]) == {"order": 7, "kind": "trip"}, "a JSON body is sent as its JSON text"
    assert out["MessageId"] == msgs[0]["MessageId"]
    assert out["MD5OfMessageBody"] == hashlib.md5(msgs[0]["Body"].encode()).hexdigest()
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_sqs_missing_queue_error(stepfunctions):
    url = "http://sqs.us-east-1.localhost/000000000000/" + unique_name("gone")
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": "x"}))
    assert out["error"]["Error"] == "SQS.QueueDoesNotExistException"
    assert "(Service: AmazonSQS; Status Code: 400;" in out["error"]["Cause"]


def test_sqs_wait_for_task_token_success_and_failure(stepfunctions, sqs, queue):
    url = queue()
    resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    machine = create_machine(stepfunctions, caught(resource, {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token", "n.$": "$.n"}}, errors=["Worker.Failed"]))

    def answer(n, succeed):
        arn = stepfunctions.start_execution(stateMachineArn=machine, input=json.dumps({"n": n}))["executionArn"]
        msgs = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=20)
        body = json.loads(msgs[0]["Body"])
        assert body["n"] == n
        assert stepfunctions.describe_execution(executionArn=arn)["status"] == "RUNNING", "waiting for the token"
        if succeed:
            stepfunctions.send_task_success(taskToken=body["token"], output=json.dumps({"worked": n}))
        else:
            stepfunctions.send_task_failure(taskToken=body["token"], error="Worker.Failed", cause="out of stock")
        desc = wait_done(stepfunctions, arn)
        return desc, json.loads(desc["output"])

    desc, out = answer(1, True)
    assert desc["status"] == "SUCCEEDED" and out == {"worked": 1}
    desc, out = answer(2, False)
    assert desc["status"] == "SUCCEEDED" and out["error"] == {"Error": "Worker.Failed", "Cause": "out of stock"}


def test_sns_publish_reaches_a_subscribed_queue(stepfunctions, make_client, sqs, queue):
    sns = make_client("sns")
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    url = queue()
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    params = {"TopicArn": topic, "Message": {"trip.$": "$.trip"}, "Subject": "booked"}
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::sns:publish", params), {"trip": "t-9"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["MessageId"]
    msgs = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=20)
    assert json.loads(msgs[0]["Body"]) == {"trip": "t-9"}

    _, out, _ = run(stepfunctions, caught("arn:aws:states:::sns:publish", {"TopicArn": topic + "-missing", "Message": "x"}))
    assert out["error"]["Error"].startswith("SNS.") and out["error"]["Error"].endswith("Exception")
    assert "(Service: AmazonSNS; Status Code: " in out["error"]["Cause"]


def test_eventbridge_put_events_carries_the_execution(stepfunctions, make_client, sqs, queue):
    events = make_client("events")
    url = queue()
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = unique_name("trips")
    rule = unique_name("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    params = {"Entries": [{"Source": source, "DetailType": "TripBooked", "Detail": {"trip.$": "$.trip"}}]}
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::events:putEvents", params), {"trip": "t-3"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["FailedEntryCount"] == 0
    assert out["Entries"][0]["EventId"]
    msgs = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=20)
    event = json.loads(msgs[0]["Body"])
    assert event["detail"] == {"trip": "t-3"}, "a JSON Detail is sent as its JSON text"
    assert desc["executionArn"] in event["resources"]
    assert desc["stateMachineArn"] in event["resources"]


def test_sns_and_eventbridge_wait_for_task_token(stepfunctions, make_client, sqs, queue):
    """`.waitForTaskToken` on SNS and EventBridge: the message / event carries the token;
    the worker that receives it answers SendTaskSuccess."""
    sns, events = make_client("sns"), make_client("events")
    url = queue()
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    source = unique_name("src")
    rule = unique_name("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])

    cases = [
        ("arn:aws:states:::sns:publish.waitForTaskToken", {"TopicArn": topic, "Message": {"token.$": "$$.Task.Token"}}, lambda body: body["token"]),
        ("arn:aws:states:::events:putEvents.waitForTaskToken", {"Entries": [{"Source": source, "DetailType": "Ask", "Detail": {"token.$": "$$.Task.Token"}}]}, lambda body: body["detail"]["token"]),
    ]
    for resource, params, token_of in cases:
        machine = create_machine(stepfunctions, single_task(resource, params))
        arn = stepfunctions.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        msgs = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=20)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
        stepfunctions.send_task_success(taskToken=token_of(json.loads(msgs[0]["Body"])), output=json.dumps({"via": resource}))
        desc = wait_done(stepfunctions, arn)
        assert desc["status"] == "SUCCEEDED", desc
        assert json.loads(desc["output"]) == {"via": resource}


def test_apigateway_invoke_calls_an_http_api(stepfunctions, make_client, lambda_function):
    """`apigateway:invoke` on an HTTP API (quick create, `$default` stage, a Lambda proxy
    route that answers with the event): the request as the task describes it, the answer
    as `{Headers, ResponseBody, StatusCode, StatusText}`; a 404 is `ApiGateway.404`."""
    apigw = make_client("apigatewayv2")
    fn = lambda_function("handler.echo_proxy")
    api = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP", Target=function_arn(fn))
    endpoint = f"{api['ApiId']}.execute-api.us-east-1.amazonaws.com"
    params = {
        "ApiEndpoint": endpoint,
        "Method": "POST",
        "Path": "trips/7",
        "QueryParameters": {"q": ["x"]},
        "Headers": {"X-Trip": ["t-1"]},
        "RequestBody": {"car.$": "$.car"},
    }
    desc, out, events = run(stepfunctions, single_task("arn:aws:states:::apigateway:invoke", params), {"car": "compact"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["StatusCode"] == 200 and out["StatusText"] == "OK"
    event = out["ResponseBody"]
    assert event["rawPath"] == "/trips/7"
    assert event["queryStringParameters"] == {"q": "x"}
    assert event["headers"]["x-trip"] == "t-1"
    assert json.loads(event["body"]) == {"car": "compact"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert any(k.lower() == "content-type" for k in out["Headers"])
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("apigateway", "invoke")

    routed = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP")["ApiId"]
    apigw.create_stage(ApiId=routed, StageName="$default", AutoDeploy=True)
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::apigateway:invoke", {"ApiEndpoint": f"{routed}.execute-api.us-east-1.amazonaws.com", "Method": "GET", "Path": "nowhere"}, errors=["ApiGateway.404"]))
    assert out["error"]["Error"] == "ApiGateway.404"
    assert json.loads(out["error"]["Cause"]) == {"message": "Not Found"}


# --------------------------------------------------------------------------- nested executions


def test_start_execution_request_response_sync_and_sync2(stepfunctions):
    child = create_machine(stepfunctions, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"child": "done"}, "End": True}}})
    params = {"StateMachineArn": child, "Input": {"from.$": "$.from"}}

    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution", params), {"from": "parent"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["ExecutionArn"].startswith(child.replace(":stateMachine:", ":execution:"))
    assert isinstance(out["StartDate"], int), "epoch milliseconds"
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    started = stepfunctions.describe_execution(executionArn=out["ExecutionArn"])
    assert json.loads(started["input"]) == {"from": "parent"}

    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution.sync", params), {"from": "parent"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["Status"] == "SUCCEEDED"
    assert json.loads(out["Output"]) == {"child": "done"}, ".sync: Output as a JSON string"
    assert isinstance(out["StopDate"], int)

    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution.sync:2", params), {"from": "parent"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["Output"] == {"child": "done"}, ".sync:2: Output as JSON"
    assert out["Input"] == {"from": "parent"}


def test_start_execution_wait_for_task_token_answered_by_the_child(stepfunctions):
    """The parent waits on a token it hands the child execution; the child answers it
    through the AWS SDK integration `aws-sdk:sfn:sendTaskSuccess`."""
    child = create_machine(stepfunctions, single_task("arn:aws:states:::aws-sdk:sfn:sendTaskSuccess", {"TaskToken.$": "$.token", "Output.$": "States.JsonToString($.answer)"}))
    params = {"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token", "answer": {"from": "child"}}}
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution.waitForTaskToken", params))
    assert desc["status"] == "SUCCEEDED", desc
    assert out == {"from": "child"}


def test_sync_of_an_express_child(stepfunctions):
    """`.sync` / `.sync:2` of an EXPRESS state machine: the child runs to its end (as
    StartSyncExecution runs it) and its result is the task's; a failing child fails the
    task with States.TaskFailed."""
    child = create_machine(stepfunctions, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}, kind="EXPRESS")
    params = {"StateMachineArn": child, "Input": {"n.$": "$.n"}}
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution.sync:2", params), {"n": 4})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["Status"] == "SUCCEEDED"
    assert out["Output"] == {"doubled": 8}
    assert ":express:" in out["ExecutionArn"]
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::states:startExecution.sync", params), {"n": 1})
    assert json.loads(out["Output"]) == {"doubled": 2}

    failing = create_machine(stepfunctions, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Express.Broken", "Cause": "no"}}}, kind="EXPRESS")
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::states:startExecution.sync", {"StateMachineArn": failing}, errors=["States.TaskFailed"]))
    assert out["error"]["Error"] == "States.TaskFailed"
    assert json.loads(out["error"]["Cause"])["Error"] == "Express.Broken"


def test_failed_nested_execution_fails_the_task(stepfunctions):
    child = create_machine(stepfunctions, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Child.Broken", "Cause": "by design"}}})
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::states:startExecution.sync", {"StateMachineArn": child}, errors=["States.TaskFailed"]))
    assert out["error"]["Error"] == "States.TaskFailed"
    cause = json.loads(out["error"]["Cause"])
    assert cause["Status"] == "FAILED"
    assert cause["Error"] == "Child.Broken"

    missing = child + "-missing"
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::states:startExecution", {"StateMachineArn": missing}))
    assert out["error"]["Error"] == "StepFunctions.StateMachineDoesNotExistException"


# --------------------------------------------------------------------------- AWS SDK integrations


def test_aws_sdk_secrets_manager_and_its_errors(stepfunctions, make_client):
    name = unique_name("secret")
    definition = {
        "StartAt": "Create",
        "States": {
            "Create": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:secretsmanager:createSecret", "Parameters": {"Name": name, "SecretString": "s3cr3t"}, "ResultPath": "$.created", "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue", "Parameters": {"SecretId": name}, "ResultPath": "$.got", "End": True},
        },
    }
    desc, out, events = run(stepfunctions, definition)
    assert desc["status"] == "SUCCEEDED", desc
    assert out["got"]["SecretString"] == "s3cr3t"
    assert out["got"]["Name"] == name
    # Timestamps as ISO 8601; no SDK metadata on AWS SDK integrations.
    assert isinstance(out["got"]["CreatedDate"], str) and out["got"]["CreatedDate"].endswith("Z")
    assert "SdkHttpMetadata" not in out["got"]
    assert make_client("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == "s3cr3t"
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("aws-sdk:secretsmanager", "createSecret")

    _, out, _ = run(stepfunctions, caught("arn:aws:states:::aws-sdk:secretsmanager:getSecretValue", {"SecretId": name + "-missing"}, errors=["SecretsManager.ResourceNotFoundException"]))
    assert out["error"]["Error"] == "SecretsManager.ResourceNotFoundException"
    assert "(Service: SecretsManager, Status Code: 400, Request ID: " in out["error"]["Cause"]


def test_aws_sdk_s3_bodies_are_text_and_missing_key_is_no_such_key(stepfunctions, make_client):
    s3 = make_client("s3")
    bucket = unique_name("bkt")
    s3.create_bucket(Bucket=bucket)
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject", "Parameters": {"Bucket": bucket, "Key": "trip.json", "Body": {"trip.$": "$.trip"}}, "ResultPath": "$.put", "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "Parameters": {"Bucket": bucket, "Key": "trip.json"}, "ResultPath": "$.got", "End": True},
        },
    }
    desc, out, _ = run(stepfunctions, definition, {"trip": "t-5"})
    assert desc["status"] == "SUCCEEDED", desc
    assert out["put"]["ETag"]
    assert json.loads(out["got"]["Body"]) == {"trip": "t-5"}, "a JSON body is stored as its JSON text, read back as text"
    assert json.loads(s3.get_object(Bucket=bucket, Key="trip.json")["Body"].read()) == {"trip": "t-5"}

    _, out, _ = run(stepfunctions, caught("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "nope"}, errors=["S3.NoSuchKeyException"]))
    assert out["error"]["Error"] == "S3.NoSuchKeyException"


def test_aws_sdk_parameters_are_pascal_case_for_camel_case_apis(stepfunctions, make_client):
    """CloudWatch Logs and Step Functions name their members in camelCase; the
    integration takes them in PascalCase and answers in PascalCase."""
    group = "/sfn/" + unique_name("grp")
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::aws-sdk:cloudwatchlogs:createLogGroup", {"LogGroupName": group}))
    assert desc["status"] == "SUCCEEDED", desc
    groups = make_client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]

    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::aws-sdk:cloudwatchlogs:describeLogGroups", {"LogGroupNamePrefix": group}))
    assert out["LogGroups"][0]["LogGroupName"] == group

    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::aws-sdk:sfn:describeExecution", {"ExecutionArn.$": "$$.Execution.Id"}))
    assert desc["status"] == "SUCCEEDED", desc
    assert out["ExecutionArn"] == desc["executionArn"]
    assert out["Status"] == "RUNNING"


def test_aws_sdk_query_json_and_blob_services(stepfunctions):
    """STS (query protocol), SSM (JSON) and KMS (blobs as base64, as the API's JSON
    carries them) through one execution."""
    name = "/sfn/" + unique_name("param")
    plaintext = base64.b64encode(b"trip secret").decode()
    definition = {
        "StartAt": "Who",
        "States": {
            "Who": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sts:getCallerIdentity", "Parameters": {}, "ResultPath": "$.who", "Next": "Put"},
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ssm:putParameter", "Parameters": {"Name": name, "Value": "v1", "Type": "String"}, "ResultPath": "$.put", "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter", "Parameters": {"Name": name}, "ResultPath": "$.got", "Next": "Key"},
            "Key": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:createKey", "Parameters": {}, "ResultSelector": {"id.$": "$.KeyMetadata.KeyId"}, "ResultPath": "$.key", "Next": "Encrypt"},
            "Encrypt": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt", "Parameters": {"KeyId.$": "$.key.id", "Plaintext": plaintext}, "ResultPath": "$.sealed", "Next": "Decrypt"},
            "Decrypt": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:decrypt", "Parameters": {"CiphertextBlob.$": "$.sealed.CiphertextBlob"}, "ResultPath": "$.opened", "End": True},
        },
    }
    desc, out, _ = run(stepfunctions, definition)
    assert desc["status"] == "SUCCEEDED", desc
    assert out["who"]["Account"] == "000000000000"
    assert out["put"]["Version"] == 1
    assert out["got"]["Parameter"]["Value"] == "v1"
    assert out["got"]["Parameter"]["LastModifiedDate"].endswith("Z")
    assert out["opened"]["Plaintext"] == plaintext

    _, out, _ = run(stepfunctions, caught("arn:aws:states:::aws-sdk:ssm:getParameter", {"Name": name + "-missing"}, errors=["Ssm.ParameterNotFoundException"]))
    assert out["error"]["Error"] == "Ssm.ParameterNotFoundException"


def test_aws_sdk_lambda_invoke_answers_the_payload_as_text(stepfunctions, lambda_function):
    """Unlike the optimized `lambda:invoke`, `aws-sdk:lambda:invoke` leaves the function's
    result as the escaped JSON text it is."""
    fn = lambda_function("handler.echo")
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::aws-sdk:lambda:invoke", {"FunctionName": fn, "Payload": {"k": "v"}}))
    assert desc["status"] == "SUCCEEDED", desc
    assert out["StatusCode"] == 200
    assert isinstance(out["Payload"], str)
    assert json.loads(out["Payload"])["echo"] == {"k": "v"}


def test_aws_sdk_dates_in_and_out_are_iso_8601(stepfunctions):
    """CloudWatch through the AWS SDK integration: ISO 8601 dates in the parameters
    (`Timestamp`, `StartTime`, `EndTime`), ISO 8601 dates in the result."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    namespace = unique_name("Trips")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:cloudwatch:putMetricData",
                "Parameters": {"Namespace": namespace, "MetricData": [{"MetricName": "Booked", "Value": 3, "Timestamp": iso(now)}]},
                "ResultPath": None,
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:cloudwatch:getMetricStatistics",
                "Parameters": {"Namespace": namespace, "MetricName": "Booked", "StartTime": iso(now - datetime.timedelta(minutes=5)), "EndTime": iso(now + datetime.timedelta(minutes=5)), "Period": 60, "Statistics": ["Sum"]},
                "End": True,
            },
        },
    }
    desc, out, _ = run(stepfunctions, definition)
    assert desc["status"] == "SUCCEEDED", desc
    assert out["Datapoints"] == [{"Timestamp": iso(now), "Unit": "None", "Sum": 3.0}]


def test_aws_sdk_kinesis(stepfunctions, make_client):
    kinesis = make_client("kinesis")
    stream = unique_name("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    desc, out, _ = run(stepfunctions, single_task("arn:aws:states:::aws-sdk:kinesis:describeStreamSummary", {"StreamName": stream}))
    assert desc["status"] == "SUCCEEDED", desc
    summary = out["StreamDescriptionSummary"]
    assert summary["StreamName"] == stream
    assert summary["OpenShardCount"] == 1
    assert summary["StreamCreationTimestamp"].endswith("Z")

    _, out, _ = run(stepfunctions, caught("arn:aws:states:::aws-sdk:kinesis:describeStreamSummary", {"StreamName": stream + "-missing"}, errors=["Kinesis.ResourceNotFoundException"]))
    assert out["error"]["Error"] == "Kinesis.ResourceNotFoundException"


def test_aws_sdk_dynamodb_errors_use_the_sdk_service_name(stepfunctions):
    _, out, _ = run(stepfunctions, caught("arn:aws:states:::aws-sdk:dynamodb:getItem", {"TableName": unique_name("none"), "Key": {"pk": {"S": "x"}}}, errors=["DynamoDb.ResourceNotFoundException"]))
    assert out["error"]["Error"] == "DynamoDb.ResourceNotFoundException"


def test_aws_sdk_wait_for_task_token(stepfunctions, sqs, queue):
    url = queue()
    machine = create_machine(stepfunctions, single_task("arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken", {"QueueUrl": url, "MessageBody.$": "$$.Task.Token"}))
    arn = stepfunctions.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    msgs = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout=20)
    stepfunctions.send_task_success(taskToken=msgs[0]["Body"], output='{"sdk": true}')
    desc = wait_done(stepfunctions, arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"]) == {"sdk": True}


def test_jsonata_arguments_reach_the_integration(stepfunctions, lambda_function):
    """`QueryLanguage: JSONata`: the Task's `Arguments` are the call's parameters and
    `$states.result` the integration's result."""
    fn = lambda_function("handler.echo")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": INVOKE,
                "Arguments": {"FunctionName": fn, "Payload": {"n": "{% $states.input.n * 2 %}"}},
                "Output": "{% $states.result.Payload.echo %}",
                "End": True,
            }
        },
    }
    desc, out, _ = run(stepfunctions, definition, {"n": 21})
    assert desc["status"] == "SUCCEEDED", desc
    assert out == {"n": 42}


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "resource, says",
    [
        ("arn:aws:states:::sqs:receiveMessage", "is not recognized"),
        ("arn:aws:states:::dynamodb:putItem.waitForTaskToken", "is not recognized"),
        ("arn:aws:states:::aws-sdk:s3:noSuchAction", "is not recognized"),
        ("arn:aws:states:::aws-sdk:ec2:describeInstances", "is not recognized"),
        ("arn:aws:states:::ecs:runTask.sync", "is not supported by nimbus"),
        ("arn:aws:lambda:us-east-1:000000000000:function:f.waitForTaskToken", "is not recognized"),
    ],
)
def test_unknown_resources_are_refused_at_creation(stepfunctions, resource, says):
    with pytest.raises(stepfunctions.exceptions.InvalidDefinition) as e:
        create_machine(stepfunctions, single_task(resource, {}))
    assert says in str(e.value), str(e.value)
    assert resource in str(e.value)
