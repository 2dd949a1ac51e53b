"""CloudWatch Logs metric filters and subscription filters through boto3 (issue 17):
PutMetricFilter / DescribeMetricFilters / DeleteMetricFilter / TestMetricFilter with AWS's
limits and errors, and a subscription filter delivering gzip'd `awslogs` batches to a
Python function, which forwards what it got to an SQS queue the test reads."""

import base64
import gzip
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


@pytest.fixture
def group(logs):
    name = f"/test/filters-{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def transformation(**kw):
    t = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}
    t.update(kw)
    return [t]


def test_metric_filter_crud_and_describe_filters(logs, group):
    logs.put_metric_filter(
        logGroupName=group,
        filterName="latency",
        filterPattern='{ $.level = "info" }',
        metricTransformations=transformation(metricName="Latency", metricValue="$.ms", unit="Milliseconds", dimensions={"Service": "$.svc"}),
    )
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", metricTransformations=transformation(defaultValue=0.0))
    got = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in got] == ["errors", "latency"]
    latency = got[1]
    assert latency["logGroupName"] == group and latency["filterPattern"] == '{ $.level = "info" }'
    assert latency["metricTransformations"] == [
        {"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.ms", "dimensions": {"Service": "$.svc"}, "unit": "Milliseconds"}
    ]
    assert got[0]["metricTransformations"][0]["defaultValue"] == 0.0
    assert isinstance(latency["creationTime"], int)
    # Replacing keeps one filter of that name.
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="FATAL", metricTransformations=transformation())
    assert [f["filterPattern"] for f in logs.describe_metric_filters(logGroupName=group, filterNamePrefix="err")["metricFilters"]] == ["FATAL"]
    # By metric, across groups.
    by_metric = logs.describe_metric_filters(metricName="Latency", metricNamespace="App")["metricFilters"]
    assert [(f["logGroupName"], f["filterName"]) for f in by_metric if f["logGroupName"] == group] == [(group, "latency")]
    # Pages.
    first = logs.describe_metric_filters(logGroupName=group, limit=1)
    assert len(first["metricFilters"]) == 1 and "nextToken" in first
    second = logs.describe_metric_filters(logGroupName=group, limit=1, nextToken=first["nextToken"])
    assert [f["filterName"] for f in second["metricFilters"]] == ["latency"] and "nextToken" not in second
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["latency"]
    with pytest.raises(ClientError) as e:
        logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert error(e) == ("ResourceNotFoundException", "The specified filter does not exist.")


def test_metric_filter_errors(logs, group):
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group + "-missing", filterName="f", filterPattern="x", metricTransformations=transformation())
    assert error(e) == ("ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as e:
        logs.describe_metric_filters(logGroupName=group + "-missing")
    assert error(e)[0] == "ResourceNotFoundException"
    bad = [
        transformation(dimensions={"a": "1", "b": "2", "c": "3", "d": "4"}),
        transformation(metricValue="lots"),
        transformation(unit="Parsecs"),
        transformation(metricName="a:b"),
        transformation() + transformation(),
    ]
    for t in bad:
        with pytest.raises(ClientError) as e:
            logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="x", metricTransformations=t)
        assert error(e)[0] == "InvalidParameterException", t
    for pattern in ["{ $.a = ", "[ip user]", "%(x)%"]:
        with pytest.raises(ClientError) as e:
            logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern=pattern, metricTransformations=transformation())
        assert error(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.describe_metric_filters(metricName="Errors")
    assert error(e)[0] == "InvalidParameterException"
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []


def test_one_hundred_metric_filters_per_group(logs, group):
    for i in range(100):
        logs.put_metric_filter(logGroupName=group, filterName=f"f{i:03}", filterPattern="x", metricTransformations=transformation())
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="one-more", filterPattern="x", metricTransformations=transformation())
    assert error(e) == ("LimitExceededException", "Resource limit exceeded.")
    # Replacing an existing one is still allowed.
    logs.put_metric_filter(logGroupName=group, filterName="f000", filterPattern="y", metricTransformations=transformation())


def test_test_metric_filter(logs):
    got = logs.test_metric_filter(filterPattern='{ $.status >= 500 }', logEventMessages=['{"status": 200}', '{"status": 503}', "plain", '{"status": 500}'])
    assert got["matches"] == [
        {"eventNumber": 2, "eventMessage": '{"status": 503}', "extractedValues": {"$.status": "503"}},
        {"eventNumber": 4, "eventMessage": '{"status": 500}', "extractedValues": {"$.status": "500"}},
    ]
    assert logs.test_metric_filter(filterPattern="ERROR", logEventMessages=["ok"])["matches"] == []
    with pytest.raises(ClientError) as e:
        logs.test_metric_filter(filterPattern="%ERR(.*)%", logEventMessages=["x"])
    assert error(e)[0] == "InvalidParameterException"


def decode(raw):
    return json.loads(gzip.decompress(base64.b64decode(raw["awslogs"]["data"])))


def test_subscription_filter_delivers_gzipped_batches_to_a_function(logs, group, awslambda, lambda_function, sqs, queue):
    url = queue()
    fn = lambda_function("handler.forward_awslogs", Environment={"Variables": {"QUEUE_URL": url}})
    arn = awslambda.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=arn)
    got = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert len(got) == 1
    assert {k: got[0][k] for k in ("filterName", "logGroupName", "filterPattern", "destinationArn", "distribution")} == {
        "filterName": "errors",
        "logGroupName": group,
        "filterPattern": "ERROR",
        "destinationArn": arn,
        "distribution": "ByLogStream",
    }
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now, "message": "ERROR one"},
            {"timestamp": now + 1, "message": "fine"},
            {"timestamp": now + 2, "message": "ERROR two"},
        ],
    )
    # A batch with no match delivers nothing; the next matching batch is its own delivery.
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now + 3, "message": "fine again"}])
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now + 4, "message": "ERROR three"}])
    bodies = []
    for _ in range(10):
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=10)
        for m in resp.get("Messages", []):
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(bodies) >= 2:
            break
    assert len(bodies) == 2, bodies
    batches = sorted((b["decoded"] for b in bodies), key=lambda d: d["logEvents"][0]["timestamp"])
    for b, d in zip(bodies, [decode(b["raw"]) for b in bodies]):
        assert d == b["decoded"]  # the function saw exactly AWS's encoding
    owner = arn.split(":")[4]
    first = batches[0]
    assert {k: first[k] for k in ("messageType", "owner", "logGroup", "logStream", "subscriptionFilters")} == {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": "s",
        "subscriptionFilters": ["errors"],
    }
    assert [(e["timestamp"], e["message"]) for e in first["logEvents"]] == [(now, "ERROR one"), (now + 2, "ERROR two")]
    assert all(isinstance(e["id"], str) and e["id"] for e in first["logEvents"])
    assert [e["message"] for e in batches[1]["logEvents"]] == ["ERROR three"]
    # The ids are FilterLogEvents' eventIds.
    ids = {e["eventId"] for e in logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]}
    assert ids == {e["id"] for b in batches for e in b["logEvents"]}

    logs.delete_subscription_filter(logGroupName=group, filterName="errors")
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_subscription_filter(logGroupName=group, filterName="errors")
    assert error(e) == ("ResourceNotFoundException", "The specified filter does not exist.")


def test_subscription_filter_limits_and_destinations(logs, group, awslambda, lambda_function):
    fn = lambda_function("handler.echo")
    arn = awslambda.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="", destinationArn=arn)
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="x", destinationArn=arn, distribution="Random")
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="", destinationArn=arn)
    assert error(e) == ("LimitExceededException", "Resource limit exceeded.")
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="y", destinationArn=arn)
    assert [f["filterPattern"] for f in logs.describe_subscription_filters(logGroupName=group, filterNamePrefix="b")["subscriptionFilters"]] == ["y"]
    logs.delete_subscription_filter(logGroupName=group, filterName="b")
    kinesis = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="k", filterPattern="", destinationArn=kinesis)
    # A stream that does not exist fails AWS's test message (tests/python/test_kinesis_destinations.py has a real one).
    assert error(e) == ("InvalidParameterException", "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.")
    missing = arn.replace(fn, fn + "-missing")
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="m", filterPattern="", destinationArn=missing)
    assert error(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group + "-missing", filterName="m", filterPattern="", destinationArn=arn)
    assert error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.describe_subscription_filters(logGroupName=group + "-missing")
    assert error(e)[0] == "ResourceNotFoundException"


def test_under_iam_auth_the_function_must_allow_cloudwatch_logs(python_function_zip):
    """AWS checks the destination function's resource policy on PutSubscriptionFilter:
    it must allow `logs.amazonaws.com` (lambda add-permission), else InvalidParameterException."""
    import boto3
    from conftest import REGION, nimbus_server, python_runtime

    root_key, root_secret = "AKIALOGSROOTEXAMPLE0", "logs/root+secret/EXAMPLE"
    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": root_key, "NIMBUS_ROOT_SECRET_ACCESS_KEY": root_secret}) as url:
        def client(service):
            return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=root_key, aws_secret_access_key=root_secret)

        logs, awslambda = client("logs"), client("lambda")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        role = client("iam").create_role(RoleName="sub-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        fn = awslambda.create_function(FunctionName="sub", Runtime=python_runtime(), Role=role, Handler="handler.echo", Code={"ZipFile": python_function_zip})
        arn = fn["FunctionArn"]
        logs.create_log_group(logGroupName="/app")
        with pytest.raises(ClientError) as e:
            logs.put_subscription_filter(logGroupName="/app", filterName="f", filterPattern="", destinationArn=arn)
        assert error(e) == (
            "InvalidParameterException",
            "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.",
        )
        account = arn.split(":")[4]
        awslambda.add_permission(
            FunctionName="sub",
            StatementId="logs",
            Action="lambda:InvokeFunction",
            Principal="logs.amazonaws.com",
            SourceArn=f"arn:aws:logs:{REGION}:{account}:log-group:/app:*",
        )
        logs.put_subscription_filter(logGroupName="/app", filterName="f", filterPattern="", destinationArn=arn)
        # The grant names one group: another group is still refused.
        logs.create_log_group(logGroupName="/other")
        with pytest.raises(ClientError) as e:
            logs.put_subscription_filter(logGroupName="/other", filterName="f", filterPattern="", destinationArn=arn)
        assert error(e)[0] == "InvalidParameterException"


def test_a_functions_own_logs_feed_a_subscription_to_another_function(logs, awslambda, lambda_function, sqs, queue):
    """Lambda's log lines (written through nimbus's LogSink, not PutLogEvents) are matched
    and delivered too: function A prints, its /aws/lambda/A group's filter sends to B."""
    url = queue()
    printer = lambda_function("handler.print_it")
    subscriber = lambda_function("handler.forward_awslogs", Environment={"Variables": {"QUEUE_URL": url}})
    sub_arn = awslambda.get_function(FunctionName=subscriber)["Configuration"]["FunctionArn"]
    group = f"/aws/lambda/{printer}"
    try:
        logs.create_log_group(logGroupName=group)
    except ClientError:
        pass
    logs.put_subscription_filter(logGroupName=group, filterName="alerts", filterPattern="ALERT", destinationArn=sub_arn)
    awslambda.invoke(FunctionName=printer, Payload=json.dumps({"text": "ALERT disk full"}))
    got = []
    for _ in range(10):
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=10)
        got += [json.loads(m["Body"])["decoded"] for m in resp.get("Messages", [])]
        if got:
            break
    assert got, "no delivery"
    d = got[0]
    assert d["logGroup"] == group and d["subscriptionFilters"] == ["alerts"]
    assert "[$LATEST]" in d["logStream"]
    assert all("ALERT disk full" in e["message"] for e in d["logEvents"]) and d["logEvents"]
