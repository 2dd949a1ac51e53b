"""The standard metrics nimbus's services emit, read with boto3's CloudWatch client (Smithy
RPC v2 CBOR): AWS/Lambda after a Python function's successes and errors, AWS/SQS after
sends / receives / deletes, AWS/DynamoDB after writes, reads and a failed condition.

https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html

The server runs with --clock-control: the tests move its clock a minute on (which flushes
the in-memory aggregates at once), then wait with a deadline for the expected values.
"""

import datetime
import json

import boto3
import botocore.config
import pytest
import requests

from conftest import ACCESS_KEY, LAMBDA_ROLE, REGION, SECRET_KEY, nimbus_server, python_runtime, unique_name
from nimbus_helpers import wait_for


@pytest.fixture(scope="module")
def server():
    with nimbus_server(["--clock-control"]) as url:
        yield url


def client(server, service):
    config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=40)
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=server,
                                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=config)


def advance(server, seconds=60):
    requests.post(f"{server}/_nimbus/clock/advance?seconds={seconds}", timeout=10).raise_for_status()


def now(server):
    ms = requests.get(f"{server}/_nimbus/clock", timeout=10).json()["now_ms"]
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def stats(server, namespace, name, dims, statistic="Sum"):
    """The metric's datapoints (one-minute periods) over the last two hours and the next."""
    t = now(server)
    out = client(server, "cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dims],
        StartTime=t - datetime.timedelta(hours=2), EndTime=t + datetime.timedelta(hours=1),
        Period=60, Statistics=[statistic, "SampleCount"])
    return out["Datapoints"]


def total(server, namespace, name, dims, want):
    """Waits (10 s) until the metric's Sum reaches ``want``; returns the Sum then."""
    wait_for(lambda: sum(p["Sum"] for p in stats(server, namespace, name, dims)) >= want, timeout=10)
    return sum(p["Sum"] for p in stats(server, namespace, name, dims))


def test_lambda_invocations_and_errors(server, python_function_zip):
    awslambda = client(server, "lambda")
    name = unique_name("metrics-py")
    awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo",
                              Code={"ZipFile": python_function_zip})
    for i in range(3):
        out = awslambda.invoke(FunctionName=name, Payload=json.dumps({"i": i}))
        assert "FunctionError" not in out
    awslambda.update_function_configuration(FunctionName=name, Handler="handler.fail")
    awslambda.get_waiter("function_updated_v2").wait(FunctionName=name)
    out = awslambda.invoke(FunctionName=name, Payload=json.dumps({"message": "py boom"}))
    assert out["FunctionError"] == "Unhandled"
    advance(server)

    fn = [("FunctionName", name)]
    assert total(server, "AWS/Lambda", "Invocations", fn, 4) == 4
    assert total(server, "AWS/Lambda", "Errors", fn, 1) == 1
    duration = stats(server, "AWS/Lambda", "Duration", fn, "Maximum")
    assert sum(p["SampleCount"] for p in duration) == 4
    assert all(p["Unit"] == "Milliseconds" and p["Maximum"] > 0 for p in duration)

    # GetMetricData with metric math: the error rate, as AWS's console computes it.
    t = now(server)
    stat = lambda metric: {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                      "Dimensions": [{"Name": "FunctionName", "Value": name}]},
                           "Period": 3600 * 3, "Stat": "Sum"}
    out = client(server, "cloudwatch").get_metric_data(
        MetricDataQueries=[{"Id": "e", "MetricStat": stat("Errors"), "ReturnData": False},
                           {"Id": "i", "MetricStat": stat("Invocations"), "ReturnData": False},
                           {"Id": "rate", "Expression": "100 * e / i"}],
        StartTime=t - datetime.timedelta(hours=2), EndTime=t + datetime.timedelta(hours=1))
    [rate] = out["MetricDataResults"]
    assert rate["Values"] == [25.0]

    listed = client(server, "cloudwatch").list_metrics(Namespace="AWS/Lambda", MetricName="Errors",
                                                       Dimensions=[{"Name": "FunctionName", "Value": name}])
    assert sorted(sorted(d["Name"] for d in m["Dimensions"]) for m in listed["Metrics"]) == [
        ["FunctionName"], ["FunctionName", "Resource"]]


def test_sqs_sends_receives_deletes(server):
    sqs = client(server, "sqs")
    name = unique_name("metrics-q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * (i + 1)} for i in range(4)])
    got = []
    wait_for(lambda: got.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])) or len(got) >= 4, timeout=10)
    assert len(got) == 4
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    advance(server)

    q = [("QueueName", name)]
    assert total(server, "AWS/SQS", "NumberOfMessagesSent", q, 4) == 4
    assert total(server, "AWS/SQS", "NumberOfMessagesReceived", q, 4) == 4
    assert total(server, "AWS/SQS", "NumberOfMessagesDeleted", q, 4) == 4
    assert total(server, "AWS/SQS", "SentMessageSize", q, 10) == 1 + 2 + 3 + 4
    # The queue is empty now: the sampled depth is 0.
    wait_for(lambda: stats(server, "AWS/SQS", "ApproximateNumberOfMessagesVisible", q), timeout=10)
    assert sum(p["Sum"] for p in stats(server, "AWS/SQS", "ApproximateNumberOfMessagesVisible", q)) == 0


def test_dynamodb_capacity_and_failed_condition(server):
    ddb = client(server, "dynamodb")
    table = unique_name("metrics-t")
    ddb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    for k in "abc":
        out = ddb.put_item(TableName=table, Item={"pk": {"S": k}})
        assert "ConsumedCapacity" not in out
    out = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0,
                                       "Table": {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    scanned = ddb.scan(TableName=table)
    assert scanned["Count"] == 3
    advance(server)

    t = [("TableName", table)]
    assert total(server, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", t, 3) == 3
    assert total(server, "AWS/DynamoDB", "ConsumedReadCapacityUnits", t, 1.5) == 1.5
    assert total(server, "AWS/DynamoDB", "ConditionalCheckFailedRequests", t, 1) == 1
    assert total(server, "AWS/DynamoDB", "ReturnedItemCount", [("TableName", table), ("Operation", "Scan")], 3) == 3
    latency = stats(server, "AWS/DynamoDB", "SuccessfulRequestLatency", [("TableName", table), ("Operation", "PutItem")], "Average")
    assert sum(p["SampleCount"] for p in latency) == 3
