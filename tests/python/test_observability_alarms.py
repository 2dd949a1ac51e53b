"""Issue 17's alarm stories end to end, through real clients and nimbus's own metrics:

- an alarm on `AWS/Lambda` `Errors` (the metric nimbus emits for a real function's failed
  invocations) goes to ALARM and publishes AWS's alarm message to an SNS topic whose SQS
  subscriber receives it;
- a CloudWatch Logs metric filter turns log lines into a metric that feeds an alarm
  (seed 001's "alarms based on log filters + metrics").

The clock is moved (`--clock-control`), never slept on: the metrics are flushed and the
alarms evaluated when it moves.

AWS references:
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/MonitoringPolicyExamples.html
"""

import json
import time
import uuid

import pytest
import requests
from test_cloudwatch_alarms import advance, client, fresh_period, next_message, topic_with_queue, wait_state

from conftest import FUNCTIONS_DIR, LAMBDA_ROLE, REGION, nimbus_server, python_runtime, zip_directory


@pytest.fixture(scope="module")
def url():
    with nimbus_server(extra_args=["--clock-control"]) as u:
        yield u


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def alarm_message(sqs, queue_url):
    msg = next_message(sqs, queue_url, wait=30)
    assert msg is not None, "the alarm's SNS message reached the queue"
    envelope = json.loads(msg["Body"])
    return envelope, json.loads(envelope["Message"])


def test_alarm_on_lambda_errors_publishes_to_sns(url):
    awslambda, cw, sns, sqs = (client(url, s) for s in ("lambda", "cloudwatch", "sns", "sqs"))
    fn = unique("failing")
    awslambda.create_function(FunctionName=fn, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.fail",
                              Code={"ZipFile": zip_directory(FUNCTIONS_DIR / "python")})
    topic, queue = topic_with_queue(sns, sqs)
    alarm = unique("lambda-errors")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": fn}],
                        Statistic="Sum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", AlarmActions=[topic])
    fresh_period(url)
    for _ in range(2):
        out = awslambda.invoke(FunctionName=fn, Payload=b"{}")
        assert out["FunctionError"] == "Unhandled"
    # The minute ends (the metrics are flushed, its period evaluated), then the next one.
    advance(url, 60)
    advance(url, 60)
    state = wait_state(cw, alarm, "ALARM")
    assert "1 out of the last 2 datapoints [2.0" in state["StateReason"], state["StateReason"]

    envelope, message = alarm_message(sqs, queue)
    assert envelope["Subject"] == f'ALARM: "{alarm}" in US East (N. Virginia)'
    assert message["AlarmName"] == alarm and message["NewStateValue"] == "ALARM" and message["OldStateValue"] == "OK"
    assert message["Region"] == "US East (N. Virginia)" and message["AWSAccountId"] == "000000000000"
    trigger = message["Trigger"]
    assert (trigger["Namespace"], trigger["MetricName"], trigger["Statistic"]) == ("AWS/Lambda", "Errors", "SUM")
    assert trigger["Dimensions"] == [{"value": fn, "name": "FunctionName"}]
    # Invocations counted the same calls (the metric the alarm did not look at).
    stats = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Dimensions=[{"Name": "FunctionName", "Value": fn}],
                                     StartTime=time.time() - 7200, EndTime=time.time() + 7200, Period=60, Statistics=["Sum"])
    assert sum(d["Sum"] for d in stats["Datapoints"]) == 2


def test_metric_filter_feeds_an_alarm(url):
    logs, cw, sns, sqs = (client(url, s) for s in ("logs", "cloudwatch", "sns", "sqs"))
    group = "/app/" + unique("orders")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="web")
    namespace = unique("App")
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "ErrorLines", "metricNamespace": namespace, "metricValue": "1", "unit": "Count"}])
    topic, queue = topic_with_queue(sns, sqs)
    alarm = unique("log-errors")
    cw.put_metric_alarm(AlarmName=alarm, Namespace=namespace, MetricName="ErrorLines", Statistic="Sum", Period=60, EvaluationPeriods=2,
                        DatapointsToAlarm=1, Threshold=2, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="notBreaching", AlarmActions=[topic])
    start = fresh_period(url)
    lines = ["GET /orders 200", "ERROR payment declined", "GET /orders 200", "ERROR payment declined again", "ERROR timeout"]
    logs.put_log_events(logGroupName=group, logStreamName="web",
                        logEvents=[{"timestamp": start + 2_000 + i, "message": m} for i, m in enumerate(lines)])
    advance(url, 60)
    advance(url, 60)
    state = wait_state(cw, alarm, "ALARM")
    assert "[3.0" in state["StateReason"], state["StateReason"]
    _, message = alarm_message(sqs, queue)
    assert message["NewStateValue"] == "ALARM" and message["Trigger"]["MetricName"] == "ErrorLines"
    assert message["Trigger"]["Namespace"] == namespace
    # The clock's own view: the datapoint is in the minute the lines were written.
    got = requests.get(url + "/_nimbus/clock", timeout=10).json()["now_ms"]
    assert got >= start + 120_000
