"""CloudWatch alarms through boto3 (Smithy RPC v2 CBOR) against a nimbus whose clock the
tests move (`--clock-control`): AWS's validation errors, an alarm on a custom metric going
to ALARM and publishing AWS's alarm message to an SNS topic whose SQS subscriber receives
it, the OK transition, TreatMissingData, M of N, metric math, SetAlarmState, composite
alarms, a Lambda action, DescribeAlarms / DescribeAlarmHistory, tags, and restart
durability.

AWS references:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
"""

import datetime
import json
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest
import requests
from conftest import ACCESS_KEY, LAMBDA_ROLE, REGION, SECRET_KEY, nimbus_server, python_runtime

_CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=40)


@pytest.fixture(scope="module")
def url():
    with nimbus_server(extra_args=["--clock-control"]) as u:
        yield u


def client(url, service):
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=ACCESS_KEY,
                                          aws_secret_access_key=SECRET_KEY, config=_CONFIG)


@pytest.fixture(scope="module")
def cw(url):
    return client(url, "cloudwatch")


@pytest.fixture(scope="module")
def sqs(url):
    return client(url, "sqs")


@pytest.fixture(scope="module")
def sns(url):
    return client(url, "sns")


def name(prefix="alarm"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_ms(url):
    return requests.get(url + "/_nimbus/clock", timeout=10).json()["now_ms"]


def advance(url, seconds):
    requests.post(url + f"/_nimbus/clock/advance?seconds={seconds}", timeout=30).raise_for_status()


def fresh_period(url):
    """Moves the clock to one second past the next minute boundary and returns that
    boundary (ms): the test then has most of a minute of real time before the next
    evaluation it does not cause itself."""
    t = now_ms(url)
    boundary = (t // 60_000 + 1) * 60_000
    advance(url, -(-(boundary + 1_000 - t) // 1000))
    return boundary


def at(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def put(cw, ns, metric, value, ts_ms, dims=None):
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": metric, "Value": value, "Timestamp": at(ts_ms), "Unit": "Count",
                                                  "Dimensions": dims or []}])


def alarm(cw, alarm_name, types=("MetricAlarm",)):
    got = cw.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=list(types))
    found = got["MetricAlarms"] + got["CompositeAlarms"]
    assert len(found) == 1, got
    return found[0]


def wait_state(cw, alarm_name, state, types=("MetricAlarm",), timeout=15):
    """The alarm once it is in `state` (the evaluation runs right after the clock moves)."""
    deadline = time.monotonic() + timeout
    while True:
        a = alarm(cw, alarm_name, types)
        if a["StateValue"] == state or time.monotonic() > deadline:
            assert a["StateValue"] == state, a
            return a
        time.sleep(0.05)


def next_message(sqs, queue_url, wait=15):
    """The next message on the queue (deleted), long-polling up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=2).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=got[0]["ReceiptHandle"])
            return got[0]
    return None


def topic_with_queue(sns, sqs):
    topic = sns.create_topic(Name=name("topic"))["TopicArn"]
    q = sqs.create_queue(QueueName=name("q"))["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    return topic, q


def error(exc_info):
    e = exc_info.value.response["Error"]
    return e["Code"], e["Message"]


BASE = dict(Namespace="App", MetricName="Errors", Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold")


@pytest.mark.parametrize("override, drop, code, message", [
    ({"DatapointsToAlarm": 3, "EvaluationPeriods": 2}, [], "ValidationError", "DatapointsToAlarm must be less than or equal to EvaluationPeriods"),
    ({"Period": 45}, [], "InvalidParameterValue", "The parameter Period must be 10, 20, 30 or a multiple of 60."),
    ({"EvaluationPeriods": 1441}, [], "ValidationError", "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)"),
    ({"Period": 3600, "EvaluationPeriods": 169}, [], "ValidationError", "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800)"),
    ({}, ["MetricName"], "ValidationError", "MetricName must not be null"),
    ({"ExtendedStatistic": "p99"}, [], "InvalidParameterCombination", "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both."),
    ({"TreatMissingData": "sometimes"}, [], "ValidationError", "Option unknown for TreatMissingData: sometimes"),
    ({"Metrics": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "E"}, "Period": 60, "Stat": "Sum"}}]}, [],
     "ValidationError", "MetricName should not be set if list of Metrics is set."),
    ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, [], "UnsupportedOperation", "not supported by nimbus"),
    ({"AlarmActions": ["arn:aws:sns:us-east-1:000000000000:t"] * 6}, [], "InvalidParameterValue", "The collection AlarmActions must not have a size greater than 5."),
])
def test_put_metric_alarm_validation(cw, override, drop, code, message):
    params = {**BASE, "AlarmName": name(), **override}
    for k in drop:
        params.pop(k)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_alarm(**params)
    got_code, got_message = error(e)
    assert message in got_message
    if code != "UnsupportedOperation":
        assert got_code == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_metric_math_needs_exactly_one_returned_query(cw):
    queries = [
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "A"}, "Period": 60, "Stat": "Sum"}},
        {"Id": "m2", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "B"}, "Period": 60, "Stat": "Sum"}},
    ]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName=name(), Metrics=queries, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    assert error(e) == ("ValidationError", "Exactly one element of the metrics list should return data.")


def test_alarm_goes_to_alarm_publishes_to_sns_and_back_to_ok(url, cw, sns, sqs):
    topic, q = topic_with_queue(sns, sqs)
    ns, n = f"Test/{uuid.uuid4().hex[:8]}", name()
    dims = [{"Name": "FunctionName", "Value": "orders"}]
    cw.put_metric_alarm(AlarmName=n, AlarmDescription="too many errors", Namespace=ns, MetricName="Errors", Dimensions=dims, Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[topic], OKActions=[topic], Unit="Count")
    a = alarm(cw, n)
    assert a["StateValue"] == "INSUFFICIENT_DATA" and a["StateReason"] == "Unchecked: Initial alarm creation"
    assert a["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{n}"
    assert a["Dimensions"] == dims and a["ActionsEnabled"] is True and a["InsufficientDataActions"] == []

    b = fresh_period(url)
    put(cw, ns, "Errors", 2.0, b + 5_000, dims)
    put(cw, ns, "Errors", 3.0, b + 6_000, dims)
    advance(url, 60)
    a = wait_state(cw, n, "ALARM")
    stamp = at(b).strftime("%d/%m/%y %H:%M:%S")
    assert a["StateReason"] == f"Threshold Crossed: 1 datapoint [5.0 ({stamp})] was greater than or equal to the threshold (1.0)."
    data = json.loads(a["StateReasonData"])
    assert data["version"] == "1.0" and data["statistic"] == "Sum" and data["period"] == 60 and data["threshold"] == 1.0
    assert data["recentDatapoints"] == [5.0]
    assert data["evaluatedDatapoints"] == [{"timestamp": at(b).strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "sampleCount": 2.0, "value": 5.0}]
    assert a["StateTransitionedTimestamp"] == a["StateUpdatedTimestamp"]

    msg = next_message(sqs, q)
    assert msg is not None, "the alarm notification reached the topic's queue"
    envelope = json.loads(msg["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"] == f'ALARM: "{n}" in US East (N. Virginia)'
    m = json.loads(envelope["Message"])
    assert list(m)[:13] == ["AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp", "NewStateValue", "NewStateReason",
                            "StateChangeTime", "Region", "AlarmArn", "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions"]
    assert m["AlarmName"] == n and m["AlarmDescription"] == "too many errors" and m["AWSAccountId"] == "000000000000"
    assert m["NewStateValue"] == "ALARM" and m["OldStateValue"] == "INSUFFICIENT_DATA" and m["NewStateReason"] == a["StateReason"]
    assert m["Region"] == "US East (N. Virginia)" and m["AlarmArn"] == a["AlarmArn"]
    assert m["AlarmActions"] == [topic] and m["OKActions"] == [topic] and m["InsufficientDataActions"] == []
    assert m["StateChangeTime"].endswith("+0000")
    assert m["Trigger"] == {
        "MetricName": "Errors", "Namespace": ns, "StatisticType": "Statistic", "Statistic": "SUM", "Unit": "Count",
        "Dimensions": [{"value": "orders", "name": "FunctionName"}], "Period": 60, "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0, "TreatMissingData": "- TreatMissingData: missing",
        "EvaluateLowSampleCountPercentile": "",
    }

    # The next period is below the threshold: OK, with the OK action.
    put(cw, ns, "Errors", 0.0, b + 65_000, dims)
    advance(url, 60)
    a = wait_state(cw, n, "OK")
    assert "was not greater than or equal to the threshold (1.0)." in a["StateReason"]
    m = json.loads(json.loads(next_message(sqs, q)["Body"])["Message"])
    assert (m["OldStateValue"], m["NewStateValue"]) == ("ALARM", "OK")

    hist = cw.describe_alarm_history(AlarmName=n, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in hist] == ["Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    data = json.loads(hist[1]["HistoryData"])
    assert data["oldState"] == {"stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation"}
    assert data["newState"]["stateValue"] == "ALARM" and data["newState"]["stateReasonData"]["recentDatapoints"] == [5.0]
    actions = cw.describe_alarm_history(AlarmName=n, HistoryItemType="Action")["AlarmHistoryItems"]
    assert len(actions) == 2 and all(h["HistorySummary"] == f"Successfully executed action {topic}" for h in actions)
    created = cw.describe_alarm_history(AlarmName=n, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert created[0]["HistorySummary"] == f'Alarm "{n}" created'
    assert json.loads(created[0]["HistoryData"])["createdAlarm"]["alarmName"] == n


def test_failed_action_is_an_action_history_item(url, cw):
    n = name()
    missing_topic = "arn:aws:sns:us-east-1:000000000000:no-such-topic"
    cw.put_metric_alarm(AlarmName=n, **BASE, AlarmActions=[missing_topic])
    cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="testing")
    deadline = time.monotonic() + 10
    while True:
        items = cw.describe_alarm_history(AlarmName=n, HistoryItemType="Action")["AlarmHistoryItems"]
        if items or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(items) == 1, items
    assert items[0]["HistorySummary"].startswith(f"Failed to execute action {missing_topic}")
    assert json.loads(items[0]["HistoryData"])["actionState"] == "Failed"


def test_treat_missing_data(url, cw):
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    names = {t: name(t.lower()) for t in ("missing", "ignore", "breaching", "notBreaching")}
    for treat, n in names.items():
        cw.put_metric_alarm(AlarmName=n, **{**BASE, "Namespace": ns}, TreatMissingData=treat)
    # No data at all: breaching → ALARM, notBreaching → OK, missing and ignore stay put.
    fresh_period(url)
    advance(url, 60)
    a = wait_state(cw, names["breaching"], "ALARM")
    assert a["StateReason"] == "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]."
    a = wait_state(cw, names["notBreaching"], "OK")
    assert a["StateReason"] == "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    assert alarm(cw, names["missing"])["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm(cw, names["ignore"])["StateValue"] == "INSUFFICIENT_DATA"

    # A good datapoint: every alarm OK.
    b = fresh_period(url)
    put(cw, ns, "Errors", 0.0, b + 1_000)
    advance(url, 60)
    for n in names.values():
        wait_state(cw, n, "OK")
    # Then nothing: missing → INSUFFICIENT_DATA, ignore stays OK, breaching → ALARM.
    advance(url, 60)
    a = wait_state(cw, names["missing"], "INSUFFICIENT_DATA")
    assert a["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
    wait_state(cw, names["breaching"], "ALARM")
    assert alarm(cw, names["ignore"])["StateValue"] == "OK"
    assert alarm(cw, names["notBreaching"])["StateValue"] == "OK"


def test_m_of_n(url, cw):
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    two_of_three, three_of_three = name("m2n3"), name("m3n3")
    common = {**BASE, "Namespace": ns, "EvaluationPeriods": 3}
    b = fresh_period(url)
    put(cw, ns, "Errors", 5.0, b - 120_000)
    put(cw, ns, "Errors", 0.0, b - 60_000)
    put(cw, ns, "Errors", 4.0, b + 1_000)
    # Created after the data (and after the clock moved): their first evaluation is at the
    # end of this period, over the three periods with data.
    cw.put_metric_alarm(AlarmName=two_of_three, **common, DatapointsToAlarm=2)
    cw.put_metric_alarm(AlarmName=three_of_three, **common)
    advance(url, 60)
    a = wait_state(cw, two_of_three, "ALARM")
    first, newest = at(b - 120_000).strftime("%d/%m/%y %H:%M:%S"), at(b).strftime("%d/%m/%y %H:%M:%S")
    assert a["StateReason"] == (f"Threshold Crossed: 2 out of the last 3 datapoints [4.0 ({newest}), 5.0 ({first})] were greater than or equal to "
                                "the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).")
    assert a["DatapointsToAlarm"] == 2
    a = wait_state(cw, three_of_three, "OK")
    assert a["StateReason"].startswith("Threshold Crossed: 1 out of the last 3 datapoints [")
    assert a["StateReason"].endswith("(minimum 1 datapoint for ALARM -> OK transition).")


def test_metric_math_alarm(url, cw):
    ns = f"Test/{uuid.uuid4().hex[:8]}"
    n = name("math")
    cw.put_metric_alarm(AlarmName=n, EvaluationPeriods=1, Threshold=10.0, ComparisonOperator="GreaterThanThreshold", Metrics=[
        {"Id": "a", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "A"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "b", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "B"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "e", "Expression": "a + b", "Label": "total"},
    ])
    got = alarm(cw, n)
    assert [q["Id"] for q in got["Metrics"]] == ["a", "b", "e"] and "MetricName" not in got
    b = fresh_period(url)
    put(cw, ns, "A", 6.0, b + 1_000)
    put(cw, ns, "B", 7.0, b + 2_000)
    advance(url, 60)
    a = wait_state(cw, n, "ALARM")
    assert "[13.0 (" in a["StateReason"]
    data = json.loads(a["StateReasonData"])
    assert "statistic" not in data and data["evaluatedDatapoints"][0]["value"] == 13.0


def test_set_alarm_state_and_its_errors(cw):
    n = name()
    cw.put_metric_alarm(AlarmName=n, **BASE)
    cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="manual", StateReasonData='{"why": "test"}')
    a = alarm(cw, n)
    assert (a["StateValue"], a["StateReason"], a["StateReasonData"]) == ("ALARM", "manual", '{"why": "test"}')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="x", StateReasonData="{not json")
    assert error(e)[0] == "InvalidFormat"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.set_alarm_state(AlarmName=name("nope"), StateValue="OK", StateReason="x")
    assert error(e)[0] == "ResourceNotFound" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    hist = cw.describe_alarm_history(AlarmName=n, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert hist[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"


def test_composite_alarm(cw, sns, sqs):
    a, b, c = name("child-a"), name("child-b"), name("composite")
    cw.put_metric_alarm(AlarmName=a, **BASE)
    cw.put_metric_alarm(AlarmName=b, **BASE)
    topic, q = topic_with_queue(sns, sqs)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_composite_alarm(AlarmName=c, AlarmRule=f'ALARM("{a}") AND ALARM(missing-{a})')
    assert error(e) == ("ValidationError", f"Could not save the composite alarm as alarms [missing-{a}] in the alarm rule do not exist")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_composite_alarm(AlarmName=c, AlarmRule=f"ALARM({a}) AND")
    assert error(e)[0] == "ValidationError"

    arn_b = f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{b}"
    cw.put_composite_alarm(AlarmName=c, AlarmRule=f'ALARM("{a}") AND NOT (ALARM({arn_b}) OR FALSE)', AlarmActions=[topic],
                           Tags=[{"Key": "team", "Value": "core"}])
    comp = wait_state(cw, c, "OK", types=("CompositeAlarm",))
    assert comp["ActionsSuppressedBy"] == "None"
    # Only metric alarms unless AlarmTypes asks for composite ones.
    assert cw.describe_alarms(AlarmNames=[c])["CompositeAlarms"] == []

    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="child broke")
    comp = wait_state(cw, c, "ALARM", types=("CompositeAlarm",))
    assert comp["StateReason"].startswith(f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{a} transitioned to ALARM at ")
    assert json.loads(comp["StateReasonData"])["triggeringAlarms"][0]["state"]["value"] == "ALARM"
    m = json.loads(json.loads(next_message(sqs, q)["Body"])["Message"])
    assert m["AlarmName"] == c and m["NewStateValue"] == "ALARM" and "AlarmRule" in m

    cw.set_alarm_state(AlarmName=b, StateValue="ALARM", StateReason="other child broke")
    wait_state(cw, c, "OK", types=("CompositeAlarm",))

    children = cw.describe_alarms(ChildrenOfAlarmName=c)
    assert sorted(x["AlarmName"] for x in children["MetricAlarms"]) == sorted([a, b])
    parents = cw.describe_alarms(ParentsOfAlarmName=a)
    assert [x["AlarmName"] for x in parents["CompositeAlarms"]] == [c]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.describe_alarms(ChildrenOfAlarmName=c, StateValue="OK")
    assert error(e)[0] == "ValidationError"
    hist = cw.describe_alarm_history(AlarmName=c, AlarmTypes=["CompositeAlarm"], HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert all(h["AlarmType"] == "CompositeAlarm" for h in hist) and len(hist) == 3


def test_describe_tags_actions_and_delete(url, cw):
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    made = [f"{prefix}{i}" for i in range(5)]
    for n in made:
        cw.put_metric_alarm(AlarmName=n, **BASE, Dimensions=[{"Name": "Q", "Value": n}], AlarmActions=["arn:aws:sns:us-east-1:000000000000:t"])
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2, **kw)
        seen += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == made
    assert len(cw.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix="arn:aws:sns:us-east-1:000000000000:")["MetricAlarms"]) == 5
    assert cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"] == []
    for_metric = cw.describe_alarms_for_metric(Namespace="App", MetricName="Errors", Dimensions=[{"Name": "Q", "Value": made[0]}])
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == [made[0]]

    cw.disable_alarm_actions(AlarmNames=made[:2])
    assert [alarm(cw, n)["ActionsEnabled"] for n in made[:3]] == [False, False, True]
    cw.enable_alarm_actions(AlarmNames=[made[0]])
    assert alarm(cw, made[0])["ActionsEnabled"] is True

    arn = alarm(cw, made[0])["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.list_tags_for_resource(ResourceARN=arn + "-gone")
    assert error(e)[0] == "ResourceNotFoundException"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.delete_alarms(AlarmNames=[made[0], prefix + "missing"])
    assert error(e)[0] == "ResourceNotFound"
    cw.delete_alarms(AlarmNames=made)
    assert cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"] == []
    hist = cw.describe_alarm_history(AlarmName=made[0], HistoryItemType="ConfigurationUpdate", ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in hist] == [f'Alarm "{made[0]}" created', f'Alarm "{made[0]}" deleted']
    page = cw.describe_alarm_history(AlarmName=made[0], HistoryItemType="ConfigurationUpdate", MaxRecords=1)
    assert page["AlarmHistoryItems"][0]["HistorySummary"].endswith("deleted") and "NextToken" in page
    rest = cw.describe_alarm_history(AlarmName=made[0], HistoryItemType="ConfigurationUpdate", MaxRecords=1, NextToken=page["NextToken"])
    assert rest["AlarmHistoryItems"][0]["HistorySummary"].endswith("created") and "NextToken" not in rest
    future = at(now_ms(url) + 3_600_000)
    assert cw.describe_alarm_history(AlarmName=made[0], StartDate=future)["AlarmHistoryItems"] == []


def test_lambda_action_receives_the_alarm_event(url, cw, sqs, python_function_zip):
    awslambda = client(url, "lambda")
    fn = name("fn")
    fn_arn = awslambda.create_function(FunctionName=fn, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo",
                                       Code={"ZipFile": python_function_zip})["FunctionArn"]
    results = sqs.create_queue(QueueName=name("results"))["QueueUrl"]
    results_arn = sqs.get_queue_attributes(QueueUrl=results, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    awslambda.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": results_arn}})
    n = name()
    cw.put_metric_alarm(AlarmName=n, **BASE, AlarmDescription="to a function", AlarmActions=[fn_arn])
    cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="for the function")
    msg = next_message(sqs, results, wait=60)
    assert msg is not None, "the function ran and its destination got the record"
    event = json.loads(msg["Body"])["requestPayload"]
    assert event["source"] == "aws.cloudwatch" and event["accountId"] == "000000000000" and event["region"] == REGION
    assert event["alarmArn"] == f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{n}"
    data = event["alarmData"]
    assert data["alarmName"] == n
    assert data["state"]["value"] == "ALARM" and data["state"]["reason"] == "for the function"
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert data["configuration"]["description"] == "to a function"
    metric = data["configuration"]["metrics"][0]
    assert metric["metricStat"] == {"metric": {"namespace": "App", "name": "Errors", "dimensions": {}}, "period": 60, "stat": "Sum"}
    assert metric["returnData"] is True


@pytest.fixture(scope="module")
def python_function_zip():
    from conftest import FUNCTIONS_DIR, zip_directory
    return zip_directory(FUNCTIONS_DIR / "python")


def test_alarms_survive_a_restart(tmp_path):
    n = name("durable")
    with nimbus_server(data_dir=tmp_path) as u:
        cw = client(u, "cloudwatch")
        cw.put_metric_alarm(AlarmName=n, **BASE, Tags=[{"Key": "k", "Value": "v"}])
        cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="before the restart")
        before = alarm(cw, n)
    with nimbus_server(data_dir=tmp_path) as u:
        cw = client(u, "cloudwatch")
        after = alarm(cw, n)
        assert after == before
        assert cw.list_tags_for_resource(ResourceARN=after["AlarmArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
        hist = cw.describe_alarm_history(AlarmName=n)["AlarmHistoryItems"]
        assert [h["HistoryItemType"] for h in hist] == ["StateUpdate", "ConfigurationUpdate"]


def test_query_protocol_answers_alarms_in_xml(url, cw):
    """The query protocol (form POST, XML answers), which older SDKs and the AWS CLI v1 speak."""
    import urllib.parse
    import xml.etree.ElementTree as ET

    from conftest import sign_request, strip_namespaces

    n = name("query")
    form = {"Action": "PutMetricAlarm", "Version": "2010-08-01", "AlarmName": n, "Namespace": "App", "MetricName": "Errors",
            "Statistic": "Sum", "Period": "60", "EvaluationPeriods": "2", "DatapointsToAlarm": "1", "Threshold": "1.5",
            "ComparisonOperator": "GreaterThanThreshold", "Dimensions.member.1.Name": "Q", "Dimensions.member.1.Value": "v",
            "AlarmActions.member.1": "arn:aws:sns:us-east-1:000000000000:t", "ActionsEnabled": "false"}

    def call(params):
        body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="-_.~").encode()
        headers = sign_request("POST", url + "/", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                               "monitoring", REGION, ACCESS_KEY, SECRET_KEY)
        r = requests.post(url + "/", data=body, headers=headers, timeout=30)
        return r.status_code, strip_namespaces(ET.fromstring(r.content))

    status, _ = call(form)
    assert status == 200
    status, root = call({"Action": "DescribeAlarms", "Version": "2010-08-01", "AlarmNames.member.1": n})
    assert status == 200
    member = root.find("DescribeAlarmsResult/MetricAlarms/member")
    assert member.findtext("AlarmName") == n and member.findtext("StateValue") == "INSUFFICIENT_DATA"
    assert member.findtext("Threshold") == "1.5" and member.findtext("DatapointsToAlarm") == "1"
    assert member.findtext("ActionsEnabled") == "false"
    assert member.findtext("Dimensions/member/Value") == "v"
    assert member.findtext("StateUpdatedTimestamp").endswith("Z")
    # The same alarm through boto3 (CBOR).
    assert alarm(cw, n)["EvaluationPeriods"] == 2
    status, root = call({"Action": "DescribeAlarms", "Version": "2010-08-01", "StateValue": "SOMETIMES"})
    assert status == 400 and root.findtext("Error/Code") == "InvalidParameterValue"


def test_state_changes_reach_the_default_event_bus(url, cw, sqs):
    """AWS sends every alarm state change to the default bus as "CloudWatch Alarm State Change".
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"""
    events = client(url, "events")
    n = name("to-bus")
    q = sqs.create_queue(QueueName=name("bus"))["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = name("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                                                        "detail": {"alarmName": [n]}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": q_arn}])
    cw.put_metric_alarm(AlarmName=n, **BASE)
    cw.set_alarm_state(AlarmName=n, StateValue="ALARM", StateReason="to the bus")
    msg = next_message(sqs, q)
    assert msg is not None, "the state change event reached the rule's queue"
    event = json.loads(msg["Body"])
    assert event["source"] == "aws.cloudwatch" and event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["resources"] == [f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{n}"]
    detail = event["detail"]
    assert detail["alarmName"] == n and detail["state"]["value"] == "ALARM" and detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert detail["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == "Errors"


def test_a_clock_jump_evaluates_every_period_it_passes(url, cw):
    """Three periods at once: ALARM at the end of the period with the datapoint, then
    INSUFFICIENT_DATA when it leaves the evaluation range — as time passing would do."""
    ns, n = f"Test/{uuid.uuid4().hex[:8]}", name("jump")
    b = fresh_period(url)
    put(cw, ns, "Errors", 9.0, b + 1_000)
    cw.put_metric_alarm(AlarmName=n, **{**BASE, "Namespace": ns})
    advance(url, 180)
    deadline = time.monotonic() + 15
    while True:
        hist = cw.describe_alarm_history(AlarmName=n, HistoryItemType="StateUpdate", ScanBy="TimestampAscending")["AlarmHistoryItems"]
        if len(hist) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [h["HistorySummary"] for h in hist] == ["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to INSUFFICIENT_DATA"]
    assert alarm(cw, n)["StateReason"] == "Insufficient Data: 1 datapoint was unknown."


def test_metric_math_alarm_expressions_are_checked(cw):
    queries = [
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "A"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "e1", "Expression": "m1 + nope"},
    ]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName=name(), Metrics=queries, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    code, message = error(e)
    assert code == "ValidationError" and "nope" in message


def test_alarm_on_lambda_errors(url, cw, sns, sqs, python_function_zip):
    """An alarm on nimbus's own AWS/Lambda Errors metric (FunctionName dimension): a failing
    invocation, the period's end, ALARM and AWS's message on the topic's queue."""
    awslambda = client(url, "lambda")
    fn = name("failing")
    awslambda.create_function(FunctionName=fn, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.fail",
                              Code={"ZipFile": python_function_zip})
    topic, q = topic_with_queue(sns, sqs)
    n = name("lambda-errors")
    b = fresh_period(url)
    cw.put_metric_alarm(AlarmName=n, Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": fn}],
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[topic])
    out = awslambda.invoke(FunctionName=fn, Payload=b"{}")
    assert out.get("FunctionError") == "Unhandled"
    assert now_ms(url) < b + 60_000, "the invocation fell in the period the alarm evaluates next"
    advance(url, 60)
    msg = next_message(sqs, q, wait=20)
    assert msg is not None, "the alarm notification reached the topic's queue"
    m = json.loads(json.loads(msg["Body"])["Message"])
    assert m["AlarmName"] == n and m["NewStateValue"] == "ALARM"
    assert m["Trigger"]["Namespace"] == "AWS/Lambda" and m["Trigger"]["Dimensions"] == [{"value": fn, "name": "FunctionName"}]
    assert m["NewStateReason"].startswith("Threshold Crossed: 1 datapoint [1.0 (")
