"""``--auth iam`` with boto3: a Lambda function runs as its execution role, and what
the role's policies do not allow is refused from inside the function, as on AWS
(Lambda developer guide, "Defining Lambda function permissions with an execution role")."""

import json

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REGION, nimbus_server, python_runtime

ROOT_KEY = "AKIAPYIAMROOTEXAMPLE"
ROOT_SECRET = "py/iam/root+secret/EXAMPLE"
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def iam_endpoint():
    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}) as url:
        yield url


def client(url, service):
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET, config=CONFIG)


def test_function_role_without_put_item_is_denied_from_inside(iam_endpoint, python_function_zip):
    iam, awslambda, ddb = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda"), client(iam_endpoint, "dynamodb")
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    role = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="writer", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    awslambda.create_function(FunctionName="writer", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.put_item",
                              Code={"ZipFile": python_function_zip}, Timeout=30)
    awslambda.get_waiter("function_active_v2").wait(FunctionName="writer")
    body = json.loads(awslambda.invoke(FunctionName="writer", Payload=json.dumps({"table": "orders"}))["Payload"].read())
    assert body["ok"] is False and body["code"] == "AccessDeniedException", body
    assert body["message"].startswith("User: arn:aws:sts::000000000000:assumed-role/writer/writer is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/orders")
    # Granting the permission lets the same function write (a new environment is not needed:
    # decisions follow IAM changes at once).
    iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/orders"}]}))
    body = json.loads(awslambda.invoke(FunctionName="writer", Payload=json.dumps({"table": "orders"}))["Payload"].read())
    assert body == {"ok": True}
    assert ddb.get_item(TableName="orders", Key={"pk": {"S": "from-lambda"}})["Item"]["pk"]["S"] == "from-lambda"


def test_create_function_with_a_role_lambda_cannot_assume_is_refused(iam_endpoint, python_function_zip):
    iam, awslambda = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda")
    other = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="not-for-lambda", AssumeRolePolicyDocument=other)["Role"]
    for arn in (role["Arn"], "arn:aws:iam::000000000000:role/does-not-exist"):
        with pytest.raises(awslambda.exceptions.InvalidParameterValueException) as e:
            awslambda.create_function(FunctionName="nope", Runtime=python_runtime(), Role=arn, Handler="handler.echo", Code={"ZipFile": python_function_zip})
        assert e.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."


# ---- SimulatePrincipalPolicy agrees with enforcement
# Cases follow the patterns of the IAM User Guide's "Policy evaluation logic", "Determining
# whether a request is allowed or denied within an account", "Permissions boundaries" and
# "IAM JSON policy elements" pages: allow by action and resource, wildcards, NotAction,
# NotResource, explicit deny over allow, implicit deny, group policies, permissions
# boundaries intersecting, policy variables, and conditions on global keys.

A = "arn:aws:sqs:us-east-1:000000000000:"


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


SETUPS = {
    "send-alpha": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": A + "sim-alpha"})]},
    "all-sqs-on-alpha": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "Resource": A + "sim-alpha"})]},
    "get-star-wildcard": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:Get*", "Resource": A + "sim-*"})]},
    "not-action": {"inline": [_doc({"Effect": "Allow", "NotAction": ["sqs:SendMessage", "sqs:Tag*"], "Resource": "*"})]},
    "not-resource": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "NotResource": A + "sim-beta"})]},
    "deny-over-allow": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}, {"Effect": "Deny", "Action": ["sqs:SendMessage", "sqs:SetQueueAttributes"], "Resource": A + "sim-alpha"})]},
    "group-policy": {"group": [_doc({"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:ListQueueTags"], "Resource": "*"})]},
    "boundary-intersects": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})],
                            "boundary": _doc({"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"], "Resource": A + "sim-*"})},
    "username-variable": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "Resource": A + "sim-${aws:username}"})]},
    "condition-time": {"inline": [_doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}, "Bool": {"aws:SecureTransport": "false"}}},
                                       {"Effect": "Deny", "Action": "sqs:ReceiveMessage", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}})]},
    "nothing": {},
}

ACTIONS = {
    "sqs:SendMessage": lambda c, url: c.send_message(QueueUrl=url, MessageBody="x"),
    "sqs:ReceiveMessage": lambda c, url: c.receive_message(QueueUrl=url, WaitTimeSeconds=0),
    "sqs:GetQueueAttributes": lambda c, url: c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
    "sqs:ListQueueTags": lambda c, url: c.list_queue_tags(QueueUrl=url),
    "sqs:TagQueue": lambda c, url: c.tag_queue(QueueUrl=url, Tags={"k": "v"}),
    "sqs:SetQueueAttributes": lambda c, url: c.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"}),
}


def test_simulate_principal_policy_agrees_with_enforcement(iam_endpoint):
    iam, sqs_root = client(iam_endpoint, "iam"), client(iam_endpoint, "sqs")
    queues = {name: sqs_root.create_queue(QueueName=name)["QueueUrl"] for name in ("sim-alpha", "sim-beta")}
    boundary_arns = {}
    cases = 0
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for setup, spec in SETUPS.items():
        user = "alpha" if setup == "username-variable" else "u-" + setup
        iam.create_user(UserName=user)
        for i, d in enumerate(spec.get("inline", [])):
            iam.put_user_policy(UserName=user, PolicyName="p%d" % i, PolicyDocument=d)
        if "group" in spec:
            iam.create_group(GroupName="g-" + setup)
            iam.put_group_policy(GroupName="g-" + setup, PolicyName="g", PolicyDocument=spec["group"][0])
            iam.add_user_to_group(GroupName="g-" + setup, UserName=user)
        if "boundary" in spec:
            arn = iam.create_policy(PolicyName="b-" + setup, PolicyDocument=spec["boundary"])["Policy"]["Arn"]
            boundary_arns[setup] = arn
            iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=arn)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        as_user = boto3.session.Session().client("sqs", region_name=REGION, endpoint_url=iam_endpoint, aws_access_key_id=key["AccessKeyId"],
                                                 aws_secret_access_key=key["SecretAccessKey"], config=CONFIG)
        user_arn = iam.get_user(UserName=user)["User"]["Arn"]
        for action, call in ACTIONS.items():
            for qname, url in queues.items():
                # The simulator takes context keys from the caller, as AWS's does
                # (ContextEntries); enforcement supplies the same ones itself.
                context = [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [now], "ContextKeyType": "date"},
                           {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"}]
                simulated = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=[action], ResourceArns=[A + qname], ContextEntries=context)["EvaluationResults"][0]["EvalDecision"]
                try:
                    call(as_user, url)
                    enforced = "allowed"
                except botocore.exceptions.ClientError as e:
                    assert e.response["Error"]["Code"] == "AccessDenied", e.response
                    enforced = "denied"
                assert (simulated == "allowed") == (enforced == "allowed"), (setup, action, qname, simulated, enforced)
                cases += 1
    assert cases >= 50


def test_tag_based_access_control(iam_endpoint):
    """ABAC as the IAM User Guide's "Define permissions based on attributes with ABAC
    authorization" shows it: aws:ResourceTag against aws:PrincipalTag, and aws:RequestTag
    / aws:TagKeys on creation."""
    iam, sqs_root = client(iam_endpoint, "iam"), client(iam_endpoint, "sqs")
    blue = sqs_root.create_queue(QueueName="abac-blue", tags={"team": "blue"})["QueueUrl"]
    red = sqs_root.create_queue(QueueName="abac-red", tags={"team": "red"})["QueueUrl"]
    iam.create_user(UserName="abac", Tags=[{"Key": "team", "Value": "blue"}])
    iam.put_user_policy(UserName="abac", PolicyName="abac", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        {"Effect": "Allow", "Action": ["sqs:CreateQueue", "sqs:TagQueue"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "dev"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}}))
    key = iam.create_access_key(UserName="abac")["AccessKey"]
    sqs = boto3.session.Session().client("sqs", region_name=REGION, endpoint_url=iam_endpoint, aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"], config=CONFIG)
    sqs.send_message(QueueUrl=blue, MessageBody="mine")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=red, MessageBody="not mine")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    sqs.create_queue(QueueName="abac-dev", tags={"env": "dev"})
    for tags in ({"env": "prod"}, {"env": "dev", "owner": "x"}, {}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sqs.create_queue(QueueName="abac-other", tags=tags)
        assert e.value.response["Error"]["Code"] == "AccessDenied", tags


def test_event_source_mapping_needs_the_role_to_read_the_queue(iam_endpoint, python_function_zip):
    """CreateEventSourceMapping checks the function's role can read the source (Lambda
    developer guide, "Execution role permissions" for SQS: ReceiveMessage, DeleteMessage,
    GetQueueAttributes)."""
    iam, awslambda, sqs = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda"), client(iam_endpoint, "sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="esm-src", Attributes={"VisibilityTimeout": "60"})["QueueUrl"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = iam.create_role(RoleName="esm-role", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="esm-role", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    awslambda.create_function(FunctionName="esm-fn", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.echo", Code={"ZipFile": python_function_zip})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        awslambda.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=queue_arn)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    iam.attach_role_policy(RoleName="esm-role", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
    uuid = awslambda.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=queue_arn)["UUID"]
    awslambda.delete_event_source_mapping(UUID=uuid)


def test_function_logs_need_the_role_to_allow_writing_them(iam_endpoint, python_function_zip):
    """A role without logs:CreateLogStream / logs:PutLogEvents: the function runs but its
    logs never reach CloudWatch Logs (Lambda developer guide, "Sending Lambda function logs
    to CloudWatch Logs": the execution role needs those permissions); the invocation's
    LogType=Tail still answers."""
    import base64
    iam, awslambda, logs = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda"), client(iam_endpoint, "logs")
    role = iam.create_role(RoleName="mute-role", AssumeRolePolicyDocument=TRUST)["Role"]
    awslambda.create_function(FunctionName="mute-fn", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.print_it", Code={"ZipFile": python_function_zip})
    out = awslambda.invoke(FunctionName="mute-fn", Payload=json.dumps({"text": "quiet-line"}), LogType="Tail")
    assert "quiet-line" in base64.b64decode(out["LogResult"]).decode()
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/mute-fn")["logGroups"] == []


def test_source_ip_condition(iam_endpoint):
    """aws:SourceIp is the client's address (IAM User Guide, "AWS global condition context
    keys"); the tests connect from 127.0.0.1."""
    iam, sqs_root = client(iam_endpoint, "iam"), client(iam_endpoint, "sqs")
    url = sqs_root.create_queue(QueueName="ip-q")["QueueUrl"]
    iam.create_user(UserName="ip-user")
    iam.put_user_policy(UserName="ip-user", PolicyName="ip", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
        {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}))
    key = iam.create_access_key(UserName="ip-user")["AccessKey"]
    sqs = boto3.session.Session().client("sqs", region_name=REGION, endpoint_url=iam_endpoint, aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"], config=CONFIG)
    sqs.send_message(QueueUrl=url, MessageBody="from loopback")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.receive_message(QueueUrl=url)
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def _until(probe, what, seconds=20.0):
    """Asks `probe` until it answers truthy: state a server changes on its own tasks."""
    import time
    deadline = time.monotonic() + seconds
    while True:
        got = probe()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def test_running_mapping_reads_as_the_role_and_stops_when_it_loses_the_permission(iam_endpoint, python_function_zip):
    """A running SQS event source mapping polls as the function's execution role (Lambda
    developer guide, "Using Lambda with Amazon SQS": the execution role needs
    ReceiveMessage, DeleteMessage and GetQueueAttributes): detaching
    AWSLambdaSQSQueueExecutionRole stops delivery and the mapping says why; attaching it
    again resumes delivery of what waited."""
    iam, awslambda, sqs = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda"), client(iam_endpoint, "sqs")
    src = sqs.create_queue(QueueName="run-src", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    out = sqs.create_queue(QueueName="run-out")["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    reads = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
    role = iam.create_role(RoleName="run-role", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="run-role", PolicyArn=reads)
    iam.put_role_policy(RoleName="run-role", PolicyName="report", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": A + "run-out"}))
    awslambda.create_function(FunctionName="run-fn", Runtime=python_runtime(), Role=role["Arn"], Handler="esm.handler", Timeout=30,
                              Code={"ZipFile": python_function_zip}, Environment={"Variables": {"OUT_QUEUE_URL": out}})
    uuid = awslambda.create_event_source_mapping(FunctionName="run-fn", EventSourceArn=src_arn, BatchSize=1)["UUID"]

    def delivered(body):
        got = sqs.receive_message(QueueUrl=out, WaitTimeSeconds=20, MaxNumberOfMessages=1).get("Messages", [])
        assert got, "nothing delivered"
        report = json.loads(got[0]["Body"])
        sqs.delete_message(QueueUrl=out, ReceiptHandle=got[0]["ReceiptHandle"])
        assert [r["body"] for r in report["records"]] == [body]

    sqs.send_message(QueueUrl=src, MessageBody="before")
    delivered("before")

    iam.detach_role_policy(RoleName="run-role", PolicyArn=reads)
    problem = "PROBLEM: Lambda function execution role does not have permissions to call ReceiveMessage on SQS"
    _until(lambda: awslambda.get_event_source_mapping(UUID=uuid)["StateTransitionReason"] == problem, "the mapping to report the missing permission")
    listed = awslambda.list_event_source_mappings(FunctionName="run-fn")["EventSourceMappings"][0]
    assert listed["StateTransitionReason"] == problem and listed["State"] == "Enabled"
    sqs.send_message(QueueUrl=src, MessageBody="while-denied")
    # Nothing reads the queue meanwhile: the message stays visible and nothing reports.
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=2).get("Messages", []) == []
    attrs = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0"}, attrs

    iam.attach_role_policy(RoleName="run-role", PolicyArn=reads)
    delivered("while-denied")
    assert awslambda.get_event_source_mapping(UUID=uuid)["StateTransitionReason"] == "USER_INITIATED"
    awslambda.delete_event_source_mapping(UUID=uuid)


def test_running_stream_mapping_stops_when_the_role_loses_the_stream_actions(iam_endpoint, python_function_zip):
    """A DynamoDB stream mapping reads as the function's role (Lambda developer guide,
    "Process DynamoDB records with Lambda": GetRecords, GetShardIterator, DescribeStream,
    ListStreams): without them its LastProcessingResult says why and its checkpoint stays;
    with them back it delivers what waited."""
    iam, awslambda, sqs, ddb = (client(iam_endpoint, s) for s in ("iam", "lambda", "sqs", "dynamodb"))
    stream_arn = ddb.create_table(TableName="run-tab", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                                  StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]["LatestStreamArn"]
    out = sqs.create_queue(QueueName="run-stream-out")["QueueUrl"]
    reads = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
    role = iam.create_role(RoleName="run-stream-role", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="run-stream-role", PolicyArn=reads)
    iam.put_role_policy(RoleName="run-stream-role", PolicyName="report", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": A + "run-stream-out"}))
    awslambda.create_function(FunctionName="run-stream-fn", Runtime=python_runtime(), Role=role["Arn"], Handler="streams.handler", Timeout=30,
                              Code={"ZipFile": python_function_zip}, Environment={"Variables": {"OUT_URL": out}})
    uuid = awslambda.create_event_source_mapping(FunctionName="run-stream-fn", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=1)["UUID"]

    def delivered(pk):
        got = sqs.receive_message(QueueUrl=out, WaitTimeSeconds=20).get("Messages", [])
        assert got, "nothing delivered"
        sqs.delete_message(QueueUrl=out, ReceiptHandle=got[0]["ReceiptHandle"])
        assert json.loads(got[0]["Body"])["pk"] == pk

    ddb.put_item(TableName="run-tab", Item={"pk": {"S": "before"}})
    delivered("before")
    _until(lambda: awslambda.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", "the first batch's result")

    iam.detach_role_policy(RoleName="run-stream-role", PolicyArn=reads)
    problem = ("PROBLEM: Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, "
               "DescribeStream, and ListStreams Actions on your stream in IAM." % stream_arn)
    ddb.put_item(TableName="run-tab", Item={"pk": {"S": "while-denied"}})
    _until(lambda: awslambda.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == problem, "the mapping to report the missing permission")
    assert sqs.receive_message(QueueUrl=out, WaitTimeSeconds=2).get("Messages", []) == []

    iam.attach_role_policy(RoleName="run-stream-role", PolicyArn=reads)
    delivered("while-denied")
    _until(lambda: awslambda.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", "the result after recovery")
    awslambda.delete_event_source_mapping(UUID=uuid)


# ---- EventBridge and API Gateway v2 under --auth iam
# Service Authorization Reference: "Actions, resources, and condition keys for Amazon
# EventBridge" (events:PutEvents on the event-bus ARN, events:source / events:detail-type)
# and "... for Amazon API Gateway Management V2" (HTTP verbs on the REST path's ARN).

def _user_client(url, iam, name, service, *statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key["AccessKeyId"],
                                          aws_secret_access_key=key["SecretAccessKey"], config=CONFIG)


def test_eventbridge_put_events_allowed_on_one_bus_only(iam_endpoint):
    iam, events = client(iam_endpoint, "iam"), client(iam_endpoint, "events")
    bus = events.create_event_bus(Name="iam-orders")["EventBusArn"]
    assert bus == "arn:aws:events:us-east-1:000000000000:event-bus/iam-orders"
    publisher = _user_client(iam_endpoint, iam, "eb-publisher", "events", {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus})
    entry = {"Source": "app.orders", "DetailType": "placed", "Detail": "{}"}
    out = publisher.put_events(Entries=[{**entry, "EventBusName": "iam-orders"}])
    assert out["FailedEntryCount"] == 0, out
    out = publisher.put_events(Entries=[{**entry, "EventBusName": bus}])
    assert out["FailedEntryCount"] == 0, out
    # The default bus is another resource.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        publisher.put_events(Entries=[entry])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "events:PutEvents on resource: arn:aws:events:us-east-1:000000000000:event-bus/default" in e.value.response["Error"]["Message"]
    # PutRule is another action, on the rule's ARN (rule/<bus>/<name> off the default bus).
    with pytest.raises(botocore.exceptions.ClientError) as e:
        publisher.put_rule(Name="r1", EventBusName="iam-orders", EventPattern='{"source": ["app.orders"]}')
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::000000000000:user/eb-publisher is not authorized to perform: events:PutRule on resource: "
        "arn:aws:events:us-east-1:000000000000:rule/iam-orders/r1 because no identity-based policy allows the events:PutRule action")


def test_eventbridge_put_events_source_condition(iam_endpoint):
    iam = client(iam_endpoint, "iam")
    publisher = _user_client(iam_endpoint, iam, "eb-sourced", "events", {
        "Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:000000000000:event-bus/default",
        "Condition": {"StringEquals": {"events:source": "app.billing"}}})
    ok = publisher.put_events(Entries=[{"Source": "app.billing", "DetailType": "paid", "Detail": "{}"}])
    assert ok["FailedEntryCount"] == 0, ok
    with pytest.raises(botocore.exceptions.ClientError) as e:
        publisher.put_events(Entries=[{"Source": "app.other", "DetailType": "paid", "Detail": "{}"}])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_apigateway_get_allowed_post_denied(iam_endpoint):
    iam, apigw = client(iam_endpoint, "iam"), client(iam_endpoint, "apigatewayv2")
    api = apigw.create_api(Name="iam-api", ProtocolType="HTTP")["ApiId"]
    apis = "arn:aws:apigateway:us-east-1::/apis"
    # Only /apis/*: the collection itself (GetApis, CreateApi) is the resource /apis, which
    # the wildcard does not cover.
    reader = _user_client(iam_endpoint, iam, "apigw-reader", "apigatewayv2", {"Effect": "Allow", "Action": "apigateway:GET", "Resource": apis + "/*"})
    assert reader.get_api(ApiId=api)["Name"] == "iam-api"
    assert reader.get_routes(ApiId=api)["Items"] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.get_apis()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.put_user_policy(UserName="apigw-reader", PolicyName="p", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "apigateway:GET", "Resource": [apis, apis + "/*"]}))
    assert api in [a["ApiId"] for a in reader.get_apis()["Items"]]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.create_api(Name="nope", ProtocolType="HTTP")
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::000000000000:user/apigw-reader is not authorized to perform: apigateway:POST on resource: "
        f"{apis} because no identity-based policy allows the apigateway:POST action")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.delete_api(ApiId=api)
    assert f"apigateway:DELETE on resource: {apis}/{api}" in e.value.response["Error"]["Message"]
    assert apigw.get_api(ApiId=api)["Name"] == "iam-api"


# ---- Service principals: SNS and EventBridge deliveries need the target's resource policy
# SNS developer guide, "Subscribing an Amazon SQS queue to an Amazon SNS topic" (the queue
# policy must allow sqs:SendMessage by sns.amazonaws.com, with aws:SourceArn the topic);
# EventBridge user guide, "Using resource-based policies for Amazon EventBridge" (SQS
# queue policies for events.amazonaws.com; a denied target is NO_PERMISSIONS in the DLQ).

def _queue(sqs, name, policy_for=None):
    """A queue, with a policy letting `policy_for` = (service, source ARN) send to it."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if policy_for:
        service, source = policy_for
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _doc({
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": source}}})})
    return url, arn


def _receive_one(sqs, url):
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MessageAttributeNames=["All"]).get("Messages", [])
    assert got, "nothing arrived in " + url
    return got[0]


def test_sns_delivers_only_where_the_queue_policy_allows_the_topic(iam_endpoint):
    sns, sqs = client(iam_endpoint, "sns"), client(iam_endpoint, "sqs")
    topic = sns.create_topic(Name="policed-topic")["TopicArn"]
    other_topic = "arn:aws:sns:us-east-1:000000000000:some-other-topic"
    allowed_url, allowed = _queue(sqs, "sns-allowed", ("sns.amazonaws.com", topic))
    # A policy for another topic does not let this one in; nor does no policy at all.
    wrong_url, wrong = _queue(sqs, "sns-wrong-source", ("sns.amazonaws.com", other_topic))
    bare_url, bare = _queue(sqs, "sns-no-policy")
    dlq_url, dlq = _queue(sqs, "sns-sub-dlq", ("sns.amazonaws.com", topic))
    for arn in (allowed, wrong, bare):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                      Attributes={"RawMessageDelivery": "true", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})})
    sns.publish(TopicArn=topic, Message="policed")
    assert _receive_one(sqs, allowed_url)["Body"] == "policed"
    # A permission error is client-side: not retried, straight to the subscription's DLQ
    # (one per refused subscription).
    first, second = _receive_one(sqs, dlq_url), _receive_one(sqs, dlq_url)
    assert first["Body"] == second["Body"] == "policed"
    for url in (wrong_url, bare_url):
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_sns_to_lambda_needs_the_function_policy(iam_endpoint, python_function_zip):
    sns, awslambda, iam, logs, sqs = (client(iam_endpoint, s) for s in ("sns", "lambda", "iam", "logs", "sqs"))
    role = iam.create_role(RoleName="sns-target-role", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="sns-target-role", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    fn = awslambda.create_function(FunctionName="sns-target", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.print_it",
                                   Code={"ZipFile": python_function_zip})["FunctionArn"]
    awslambda.get_waiter("function_active_v2").wait(FunctionName="sns-target")
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    dlq_url, dlq = _queue(sqs, "sns-lambda-dlq", ("sns.amazonaws.com", topic))
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})})
    # Without a function policy letting sns.amazonaws.com invoke it the delivery is refused
    # (to the subscription's DLQ); with lambda:AddPermission for this topic the function runs.
    sns.publish(TopicArn=topic, Message="refused-one")
    assert json.loads(_receive_one(sqs, dlq_url)["Body"])["Message"] == "refused-one"
    awslambda.add_permission(FunctionName="sns-target", StatementId="sns", Action="lambda:InvokeFunction",
                             Principal="sns.amazonaws.com", SourceArn=topic)
    sns.publish(TopicArn=topic, Message="allowed-one")

    def runs():
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/sns-target")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        return [e for e in events if e["message"].startswith("END RequestId")] or None
    assert len(_until(runs, "the function to run once")) == 1


def test_eventbridge_target_without_queue_policy_is_no_permissions_in_the_dlq(iam_endpoint):
    events, sqs = client(iam_endpoint, "events"), client(iam_endpoint, "sqs")
    rule = events.put_rule(Name="policed-rule", EventPattern=json.dumps({"source": ["app.policed"]}))["RuleArn"]
    allowed_url, allowed = _queue(sqs, "eb-allowed", ("events.amazonaws.com", rule))
    bare_url, bare = _queue(sqs, "eb-no-policy")
    dlq_url, dlq = _queue(sqs, "eb-dlq", ("events.amazonaws.com", rule))
    events.put_targets(Rule="policed-rule", Targets=[{"Id": "ok", "Arn": allowed},
                                                     {"Id": "bare", "Arn": bare, "DeadLetterConfig": {"Arn": dlq}}])
    out = events.put_events(Entries=[{"Source": "app.policed", "DetailType": "t", "Detail": json.dumps({"n": 1})}])
    assert out["FailedEntryCount"] == 0
    assert json.loads(_receive_one(sqs, allowed_url)["Body"])["detail"] == {"n": 1}
    dead = _receive_one(sqs, dlq_url)
    attrs = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "NO_PERMISSIONS", attrs
    assert attrs["TARGET_ARN"] == bare and attrs["RULE_ARN"] == rule
    assert "RETRY_ATTEMPTS" not in attrs  # not retried
    assert sqs.receive_message(QueueUrl=bare_url, WaitTimeSeconds=0).get("Messages", []) == []


# ---- SSM Parameter Store under --auth iam
# Service Authorization Reference, "AWS Systems Manager": parameter ARNs drop the name's
# leading slash (arn:aws:ssm:<region>:<account>:parameter/app/db), selectors are not part of it.

def test_ssm_parameters_allowed_by_path(iam_endpoint):
    iam, ssm_root = client(iam_endpoint, "iam"), client(iam_endpoint, "ssm")
    ssm_root.put_parameter(Name="/app/db/host", Value="db.local", Type="String")
    ssm_root.put_parameter(Name="/other/secret", Value="no", Type="String")
    reader = _user_client(iam_endpoint, iam, "ssm-reader", "ssm", {
        "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
        "Resource": "arn:aws:ssm:us-east-1:000000000000:parameter/app/*"})
    assert reader.get_parameter(Name="/app/db/host")["Parameter"]["Value"] == "db.local"
    assert reader.get_parameter(Name="/app/db/host:1")["Parameter"]["Value"] == "db.local"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.get_parameter(Name="/other/secret")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/other/secret" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.put_parameter(Name="/app/db/host", Value="x", Type="String", Overwrite=True)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert ssm_root.get_parameter(Name="/app/db/host")["Parameter"]["Value"] == "db.local"


# ---- KMS under --auth iam
# KMS developer guide, "Permissions reference": operations are authorized on the key's ARN
# even when the request names it by alias, and Decrypt on the key the ciphertext names.

def test_kms_key_permissions_follow_aliases_and_ciphertexts(iam_endpoint):
    iam, kms_root = client(iam_endpoint, "iam"), client(iam_endpoint, "kms")
    mine = kms_root.create_key(Description="app")["KeyMetadata"]["Arn"]
    other = kms_root.create_key(Description="other")["KeyMetadata"]["Arn"]
    kms_root.create_alias(AliasName="alias/app", TargetKeyId=mine)
    user = _user_client(iam_endpoint, iam, "kms-user", "kms", {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": mine})
    blob = user.encrypt(KeyId="alias/app", Plaintext=b"s3cr3t")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"s3cr3t"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.encrypt(KeyId=other, Plaintext=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"kms:Encrypt on resource: {other}" in e.value.response["Error"]["Message"]
    # A blob of the other key: denied on that key, though the request names no key.
    foreign = kms_root.encrypt(KeyId=other, Plaintext=b"y")["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.decrypt(CiphertextBlob=foreign)
    assert f"kms:Decrypt on resource: {other}" in e.value.response["Error"]["Message"]


# ---- Secrets Manager under --auth iam
# Service Authorization Reference, "AWS Secrets Manager": operations on the secret's ARN
# (with its six-character suffix), whatever form of SecretId the request uses.

def test_secrets_allowed_by_arn_prefix_whatever_the_secret_id(iam_endpoint):
    iam, sm_root = client(iam_endpoint, "iam"), client(iam_endpoint, "secretsmanager")
    app = sm_root.create_secret(Name="app/db", SecretString="pw")["ARN"]
    other = sm_root.create_secret(Name="ops/root", SecretString="no")["ARN"]
    reader = _user_client(iam_endpoint, iam, "secret-reader", "secretsmanager", {
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/*"})
    for secret_id in ("app/db", app, app[:-7]):  # name, full ARN, partial ARN
        assert reader.get_secret_value(SecretId=secret_id)["SecretString"] == "pw"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.get_secret_value(SecretId="ops/root")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"secretsmanager:GetSecretValue on resource: {other}" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.put_secret_value(SecretId="app/db", SecretString="x")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    # A resource policy naming the user grants what the identity policy does not.
    sm_root.put_resource_policy(SecretId="ops/root", ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/secret-reader"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    assert reader.get_secret_value(SecretId="ops/root")["SecretString"] == "no"


# ---- CloudWatch under --auth iam
# Service Authorization Reference, Amazon CloudWatch: PutMetricData on "*", with the
# cloudwatch:namespace condition key; a signed RPC v2 CBOR request is authorized like any other.
def test_cloudwatch_put_metric_data_limited_by_namespace(iam_endpoint):
    iam = client(iam_endpoint, "iam")
    writer = _user_client(iam_endpoint, iam, "cw-writer", "cloudwatch", {
        "Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "cloudwatch:ListMetrics"], "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "MyApp"}}})
    writer.put_metric_data(Namespace="MyApp", MetricData=[{"MetricName": "ok", "Value": 1}])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        writer.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "no", "Value": 1}])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "cloudwatch:PutMetricData" in e.value.response["Error"]["Message"]
    assert [m["MetricName"] for m in client(iam_endpoint, "cloudwatch").list_metrics(Namespace="MyApp")["Metrics"]] == ["ok"]
    assert client(iam_endpoint, "cloudwatch").list_metrics(Namespace="Other")["Metrics"] == []
