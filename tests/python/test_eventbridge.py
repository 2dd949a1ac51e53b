"""EventBridge through boto3 and the AWS CLI: event buses, PutEvents → rules → SQS and
Lambda targets (Input, InputPath, InputTransformer, FIFO MessageGroupId), dead-letter
queues, TestEventPattern, AWS's messages for bad patterns and entries, and scheduled
rules fired by moving nimbus's clock.

AWS references:
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
"""

import json

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server, unique_name


@pytest.fixture(scope="session")
def events(make_client):
    return make_client("events")


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_one(sqs, url, **kw):
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MaxNumberOfMessages=10, **kw).get("Messages", [])
    assert len(msgs) == 1, msgs
    return msgs[0]


def assert_empty(sqs, url):
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def entry(source="app.orders", detail_type="OrderPlaced", detail=None, **kw):
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail if detail is not None else {"total": 42}), **kw}


def test_event_buses(events):
    name = unique_name("bus")
    arn = events.create_event_bus(Name=name, Description="orders")["EventBusArn"]
    assert arn == f"arn:aws:events:{REGION}:000000000000:event-bus/{name}"
    d = events.describe_event_bus(Name=name)
    assert (d["Name"], d["Arn"], d["Description"]) == (name, arn, "orders")
    assert events.describe_event_bus()["Name"] == "default"
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names and name in names
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert e.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == f"Event bus {name} does not exist."


def test_put_events_to_sqs_rule_with_envelope(events, sqs, queue):
    url = queue()
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.orders"], "detail": {"total": [{"numeric": [">", 10]}]}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    out = events.put_events(Entries=[entry(detail={"total": 5}), entry(Resources=["arn:aws:x:::thing"])])
    assert out["FailedEntryCount"] == 0
    matched_id = out["Entries"][1]["EventId"]
    body = json.loads(receive_one(sqs, url)["Body"])
    assert body["id"] == matched_id
    assert body["version"] == "0"
    assert (body["source"], body["detail-type"], body["detail"]) == ("app.orders", "OrderPlaced", {"total": 42})
    assert (body["account"], body["region"], body["resources"]) == ("000000000000", REGION, ["arn:aws:x:::thing"])
    assert body["time"].endswith("Z") and len(body["time"]) == 20
    assert_empty(sqs, url)
    # A disabled rule delivers nothing.
    events.disable_rule(Name=rule)
    assert events.describe_rule(Name=rule)["State"] == "DISABLED"
    events.put_events(Entries=[entry()])
    assert_empty(sqs, url)
    events.remove_targets(Rule=rule, Ids=["q"])
    events.delete_rule(Name=rule)


def test_inputs_on_a_custom_bus(events, sqs, queue):
    bus = unique_name("bus")
    events.create_event_bus(Name=bus)
    q_input, q_path, q_tr = queue(), queue(), queue()
    rule = unique_name("r")
    arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"detail-type": [{"prefix": "Order"}]}))["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:000000000000:rule/{bus}/{rule}"
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[
        {"Id": "a", "Arn": arn_of(sqs, q_input), "Input": '{"constant": true}'},
        {"Id": "b", "Arn": arn_of(sqs, q_path), "InputPath": "$.detail"},
        {"Id": "c", "Arn": arn_of(sqs, q_tr), "InputTransformer": {
            "InputPathsMap": {"total": "$.detail.total", "src": "$.source"},
            "InputTemplate": '{"summary": "<src> sold <total>", "n": <total>, "rule": "<aws.events.rule-name>"}'}},
    ])
    targets = events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
    assert sorted(t["Id"] for t in targets) == ["a", "b", "c"]
    # Events on the default bus do not reach the custom bus's rules.
    events.put_events(Entries=[entry()])
    assert events.put_events(Entries=[entry(EventBusName=bus)])["FailedEntryCount"] == 0
    assert json.loads(receive_one(sqs, q_input)["Body"]) == {"constant": True}
    assert json.loads(receive_one(sqs, q_path)["Body"]) == {"total": 42}
    assert json.loads(receive_one(sqs, q_tr)["Body"]) == {"summary": "app.orders sold 42", "n": 42, "rule": rule}
    for q in (q_input, q_path, q_tr):
        assert_empty(sqs, q)
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=rule, EventBusName=bus)
    assert e.value.response["Error"]["Message"] == "Rule can't be deleted since it has targets."
    events.delete_rule(Name=rule, EventBusName=bus, Force=True)


def test_fifo_target_needs_message_group(events, sqs, queue):
    url = queue(fifo=True)
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.fifo"]}))
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": arn_of(sqs, url)}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == "Parameter(s) SqsParameters must be specified for target: f."
    events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": arn_of(sqs, url), "SqsParameters": {"MessageGroupId": "g1"}}])
    ids = [e["EventId"] for e in events.put_events(Entries=[entry(source="app.fifo", detail={"n": i}) for i in range(3)])["Entries"]]
    got = []
    while len(got) < 3:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]).get("Messages", []):
            assert m["Attributes"]["MessageGroupId"] == "g1"
            got.append(json.loads(m["Body"])["id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(got) == sorted(ids)


def test_lambda_target_gets_the_transformed_event(events, sqs, queue, awslambda, lambda_function):
    url = queue()
    fn = lambda_function(handler="handler.use_sqs")
    fn_arn = awslambda.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.lambda"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn, "InputTransformer": {
        "InputPathsMap": {"dt": "$.detail-type"},
        "InputTemplate": json.dumps({"queue_url": url, "body": "got <dt>"})}}])
    events.put_events(Entries=[entry(source="app.lambda", detail_type="Ping")])
    assert receive_one(sqs, url)["Body"] == "got Ping"


def test_dead_letter_queue_when_the_target_is_gone(events, sqs, queue):
    dlq = queue()
    gone = f"arn:aws:sqs:{REGION}:000000000000:{unique_name('gone')}"
    rule = unique_name("r")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.dlq"]}))["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": gone, "DeadLetterConfig": {"Arn": arn_of(sqs, dlq)},
                                             "RetryPolicy": {"MaximumRetryAttempts": 0}}])
    event_id = events.put_events(Entries=[entry(source="app.dlq")])["Entries"][0]["EventId"]
    m = receive_one(sqs, dlq, MessageAttributeNames=["All"])
    assert json.loads(m["Body"])["id"] == event_id
    attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert attrs["RULE_ARN"] == rule_arn and attrs["TARGET_ARN"] == gone
    assert attrs["ERROR_CODE"] == "NO_RESOURCE" and attrs["ERROR_MESSAGE"]
    # A missing resource is not retried (no retry attributes).
    assert "RETRY_ATTEMPTS" not in attrs


def test_bad_patterns_and_test_event_pattern(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique_name("r"), EventPattern=json.dumps({"source": "aws.ec2"}))
    assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert e.value.response["Error"]["Message"] == 'Event pattern is not valid. Reason: "source" must be an object or an array'
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique_name("r"), EventPattern=json.dumps({"a": [{"regex": "x"}]}))
    assert e.value.response["Error"]["Message"] == "Event pattern is not valid. Reason: Unrecognized match type regex"
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique_name("r"))
    assert e.value.response["Error"]["Message"] == "Parameter(s) EventPattern or ScheduleExpression must be specified."
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=unique_name("r"), ScheduleExpression="rate(1 minutes)")
    assert e.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."
    event = json.dumps({"id": "1", "account": "123456789012", "source": "aws.ec2", "time": "2026-01-01T00:00:00Z",
                        "region": "us-east-1", "detail-type": "x", "resources": [], "detail": {"ip": "10.1.2.3", "state": "Running"}})
    ok = lambda p: events.test_event_pattern(EventPattern=json.dumps(p), Event=event)["Result"]
    assert ok({"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}})
    assert not ok({"detail": {"ip": [{"cidr": "11.0.0.0/8"}]}})
    assert ok({"detail": {"state": [{"equals-ignore-case": "running"}]}, "$or": [{"source": ["x"]}, {"region": ["us-east-1"]}]})
    assert not ok({"detail": {"missing": [{"exists": True}]}})
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern='{"source": ["x"]}', Event='{"source": "x"}')
    assert e.value.response["Error"]["Message"] == "Parameter Event is not valid."


def test_put_events_entry_errors(events):
    out = events.put_events(Entries=[
        {"Source": "s", "DetailType": "d"},
        {"Source": "s", "DetailType": "d", "Detail": "not json"},
        entry(EventBusName="no-such-bus"),
        entry(),
    ])
    assert out["FailedEntryCount"] == 3
    got = [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in out["Entries"][:3]]
    assert got == [
        ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ("MalformedDetail", "Detail is malformed."),
        ("ResourceNotFoundException", "Event bus no-such-bus does not exist."),
    ]
    assert "EventId" in out["Entries"][3]
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[entry() for _ in range(11)])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[entry(detail={"x": "y" * 200_000}), entry(detail={"x": "y" * 70_000})])
    assert e.value.response["Error"]["Message"] == "Total size of the entries in the request is over the limit."


def test_scheduled_rules_fire_when_the_clock_moves(sqs):
    with nimbus_server(["--clock-control"]) as url:
        mk = lambda svc: boto3.session.Session().client(svc, region_name=REGION, endpoint_url=url,
                                                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        ev, q = mk("events"), mk("sqs")
        rate_q = q.create_queue(QueueName="rate")["QueueUrl"]
        cron_q = q.create_queue(QueueName="cron")["QueueUrl"]
        # Start just past an hour boundary, so the first 301 s never cross one and the hour
        # after crosses exactly one, whatever the time of day the test runs at.
        now_s = requests.get(url + "/_nimbus/clock", timeout=10).json()["now_ms"] // 1000
        requests.post(url + f"/_nimbus/clock/advance?seconds={3600 - now_s % 3600 + 1}", timeout=10).raise_for_status()
        rate_arn = ev.put_rule(Name="every5", ScheduleExpression="rate(5 minutes)")["RuleArn"]
        ev.put_rule(Name="hourly", ScheduleExpression="cron(0 * * * ? *)")
        ev.put_targets(Rule="every5", Targets=[{"Id": "q", "Arn": arn_of(q, rate_q)}])
        ev.put_targets(Rule="hourly", Targets=[{"Id": "q", "Arn": arn_of(q, cron_q)}])
        assert_empty(q, rate_q)
        requests.post(url + "/_nimbus/clock/advance?seconds=301", timeout=10).raise_for_status()
        m = receive_one(q, rate_q)
        body = json.loads(m["Body"])
        assert (body["detail-type"], body["source"], body["resources"], body["detail"]) == ("Scheduled Event", "aws.events", [rate_arn], {})
        q.delete_message(QueueUrl=rate_q, ReceiptHandle=m["ReceiptHandle"])
        # An hour later the hourly rule has fired once, and the 5-minute rule once more
        # (a rule that missed several periods fires once).
        requests.post(url + "/_nimbus/clock/advance?seconds=3600", timeout=10).raise_for_status()
        assert json.loads(receive_one(q, cron_q)["Body"])["detail-type"] == "Scheduled Event"
        assert json.loads(receive_one(q, rate_q)["Body"])["detail-type"] == "Scheduled Event"
        with pytest.raises(ClientError) as e:
            ev.create_event_bus(Name="b")
            ev.put_rule(Name="x", EventBusName="b", ScheduleExpression="rate(5 minutes)")
        assert e.value.response["Error"]["Message"] == "ScheduleExpression is supported only on the default event bus."


def test_aws_cli_put_events(aws_cli, events, sqs, queue):
    url = queue()
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["cli.app"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    out = aws_cli("events", "put-events", "--region", REGION, "--entries",
                  json.dumps([{"Source": "cli.app", "DetailType": "FromCli", "Detail": '{"k": 1}'}]))
    assert out["FailedEntryCount"] == 0
    assert json.loads(receive_one(sqs, url)["Body"])["detail-type"] == "FromCli"


def test_event_bus_and_log_group_targets(events, sqs, queue, make_client):
    import time

    logs = make_client("logs")
    bus = unique_name("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    group = "/aws/events/" + unique_name("g")
    logs.create_log_group(logGroupName=group)
    url = queue()
    fwd = unique_name("r")
    events.put_rule(Name=fwd, EventPattern=json.dumps({"source": ["app.fwd"]}))
    events.put_targets(Rule=fwd, Targets=[
        {"Id": "bus", "Arn": bus_arn},
        {"Id": "log", "Arn": f"arn:aws:logs:{REGION}:000000000000:log-group:{group}"},
    ])
    on_bus = unique_name("r")
    events.put_rule(Name=on_bus, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["Fwd"]}))
    events.put_targets(Rule=on_bus, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    event_id = events.put_events(Entries=[entry(source="app.fwd", detail_type="Fwd")])["Entries"][0]["EventId"]
    # The custom bus's rule saw the event as it was sent to the default bus.
    assert json.loads(receive_one(sqs, url)["Body"])["id"] == event_id
    # The log group got the event in a stream named by its id.
    deadline = time.monotonic() + 10
    found = []
    while not found and time.monotonic() < deadline:
        found = logs.filter_log_events(logGroupName=group).get("events", [])
        if not found:
            time.sleep(0.05)
    assert [(e["logStreamName"], json.loads(e["message"])["id"]) for e in found] == [(event_id, event_id)]


def test_archive_and_replay(events, sqs, queue):
    import datetime
    import time

    name = unique_name("arch")[:48]
    bus_arn = events.describe_event_bus()["Arn"]
    arn = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn, EventPattern=json.dumps({"source": ["app.arch"]}), RetentionDays=1)["ArchiveArn"]
    assert arn == f"arn:aws:events:{REGION}:000000000000:archive/{name}"
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn)
    assert e.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    url = queue()
    rule = unique_name("r")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.arch"], "replay-name": [{"exists": True}]}))["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    ids = [e["EventId"] for e in events.put_events(Entries=[entry(source="app.arch", detail={"n": 1}), entry(source="app.arch", detail={"n": 2}), entry(source="app.other")])["Entries"]]
    d = events.describe_archive(ArchiveName=name)
    assert (d["EventCount"], d["State"], d["RetentionDays"], d["EventSourceArn"]) == (2, "ENABLED", 1, bus_arn)
    # Live events lack `replay-name`: the rule does not see them.
    assert_empty(sqs, url)
    now = datetime.datetime.now(datetime.timezone.utc)
    replay = unique_name("rp")
    out = events.start_replay(ReplayName=replay, EventSourceArn=arn, EventStartTime=now - datetime.timedelta(minutes=5),
                              EventEndTime=now + datetime.timedelta(minutes=5), Destination={"Arn": bus_arn, "FilterArns": [rule_arn]})
    assert out["State"] == "STARTING"
    got = []
    while len(got) < 2:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MaxNumberOfMessages=10).get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(g["id"] for g in got) == sorted(ids[:2])
    assert {g["replay-name"] for g in got} == {replay}
    deadline = time.monotonic() + 10
    while events.describe_replay(ReplayName=replay)["State"] != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = events.describe_replay(ReplayName=replay)
    assert (r["EventSourceArn"], r["Destination"]["Arn"]) == (arn, bus_arn)
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName=replay)
    assert e.value.response["Error"]["Code"] == "IllegalStatusException"
    assert replay in [x["ReplayName"] for x in events.list_replays()["Replays"]]
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 2
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName=unique_name("rp"), EventSourceArn=arn, EventStartTime=now, EventEndTime=now - datetime.timedelta(minutes=1),
                            Destination={"Arn": bus_arn})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    events.delete_archive(ArchiveName=name)
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName=name)
    assert e.value.response["Error"]["Message"] == f"Archive {name} does not exist."


def test_sns_targets_publish_and_other_services_say_so(events, sqs, queue, make_client):
    """An SNS target publishes the event (its JSON) to the topic, which delivers it to the
    topic's subscribers; targets of services nimbus lacks are refused at PutTargets."""
    sns = make_client("sns")
    topic = sns.create_topic(Name=unique_name("t"))["TopicArn"]
    url = queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, url), Attributes={"RawMessageDelivery": "true"})
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["to.sns"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": topic}])
    events.put_events(Entries=[{"Source": "to.sns", "DetailType": "T", "Detail": '{"k": 1}'}])
    event = json.loads(receive_one(sqs, url)["Body"])
    assert (event["source"], event["detail"]) == ("to.sns", {"k": 1})
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "s", "Arn": f"arn:aws:states:{REGION}:000000000000:stateMachine:sm"}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"].endswith("is not supported by nimbus yet"), e.value.response["Error"]["Message"]


def test_tags_on_rules_and_buses(events):
    bus = unique_name("bus")
    bus_arn = events.create_event_bus(Name=bus, Tags=[{"Key": "team", "Value": "orders"}])["EventBusArn"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [{"Key": "team", "Value": "orders"}]
    rule = unique_name("r")
    rule_arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["x"]}', Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
    # Tags given when updating a rule are ignored (API_PutRule).
    events.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["y"]}', Tags=[{"Key": "b", "Value": "2"}])
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "a", "Value": "3"}, {"Key": "c", "Value": "4"}])
    events.untag_resource(ResourceARN=rule_arn, TagKeys=["c"])
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "a", "Value": "3"}]
    default_arn = events.describe_event_bus()["Arn"]
    events.tag_resource(ResourceARN=default_arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert events.list_tags_for_resource(ResourceARN=default_arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert [b["Name"] for b in events.list_event_buses(NamePrefix="default")["EventBuses"]] == ["default"]
    with pytest.raises(ClientError) as e:
        events.list_tags_for_resource(ResourceARN=rule_arn + "-nope")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_entry_time_becomes_the_event_time(events, sqs, queue):
    import datetime

    url = queue()
    rule = unique_name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.time"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    events.put_events(Entries=[entry(source="app.time", Time=when)])
    assert json.loads(receive_one(sqs, url)["Body"])["time"] == "2020-01-02T03:04:05Z"


# ---- AWS API Call via CloudTrail (--cloudtrail-events)
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html

def test_write_api_calls_reach_the_default_bus_as_cloudtrail_events():
    with nimbus_server(["--cloudtrail-events"]) as url:
        mk = lambda svc: boto3.session.Session().client(svc, region_name=REGION, endpoint_url=url,
                                                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        ev, q, awslambda = mk("events"), mk("sqs"), mk("lambda")
        audit = q.create_queue(QueueName="audit")["QueueUrl"]
        ev.put_rule(Name="sqs-calls", EventPattern=json.dumps({"source": ["aws.sqs"], "detail-type": ["AWS API Call via CloudTrail"]}))
        ev.put_targets(Rule="sqs-calls", Targets=[{"Id": "audit", "Arn": arn_of(q, audit)}])
        watched = q.create_queue(QueueName="watched", Attributes={"VisibilityTimeout": "7"})["QueueUrl"]
        q.send_message(QueueUrl=watched, MessageBody="a data event")          # not sent
        q.get_queue_attributes(QueueUrl=watched, AttributeNames=["All"])     # read-only: not sent
        with pytest.raises(ClientError):
            q.create_queue(QueueName="bad name!")                            # failed calls are sent
        q.tag_queue(QueueUrl=watched, Tags={"team": "a"})

        seen = []
        while not any(e["detail"]["eventName"] == "TagQueue" for e in seen):
            msgs = q.receive_message(QueueUrl=audit, WaitTimeSeconds=20, MaxNumberOfMessages=10).get("Messages", [])
            assert msgs, seen
            seen += [json.loads(m["Body"]) for m in msgs]
        names = sorted(e["detail"]["eventName"] for e in seen)
        assert names == ["CreateQueue", "CreateQueue", "TagQueue"], names
        created = next(e for e in seen if e["detail"]["eventName"] == "CreateQueue" and "errorCode" not in e["detail"])
        assert (created["source"], created["detail-type"], created["account"], created["region"]) == (
            "aws.sqs", "AWS API Call via CloudTrail", "000000000000", REGION)
        d = created["detail"]
        assert d["eventSource"] == "sqs.amazonaws.com" and d["awsRegion"] == REGION and d["eventType"] == "AwsApiCall"
        assert d["readOnly"] is False and d["managementEvent"] is True and d["recipientAccountId"] == "000000000000"
        assert d["requestParameters"] == {"queueName": "watched", "attributes": {"VisibilityTimeout": "7"}}
        assert d["responseElements"] == {"queueUrl": watched}
        assert d["userIdentity"]["accountId"] == "000000000000" and d["userIdentity"]["accessKeyId"] == ACCESS_KEY
        failed = next(e for e in seen if "errorCode" in e["detail"])
        assert failed["detail"]["errorCode"].startswith("InvalidParameterValue") and failed["detail"]["responseElements"] is None

        # Secrets are hidden, as CloudTrail hides them: function code is not in the event.
        ev.put_rule(Name="lambda-calls", EventPattern=json.dumps({"source": ["aws.lambda"], "detail": {"eventName": ["CreateFunction"]}}))
        ev.put_targets(Rule="lambda-calls", Targets=[{"Id": "audit", "Arn": arn_of(q, audit)}])
        with pytest.raises(ClientError):
            awslambda.create_function(FunctionName="f", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                                      Handler="h.h", Code={"ZipFile": b"not a zip"})
        body = json.loads(receive_one(q, audit)["Body"])
        assert body["detail"]["requestParameters"]["code"] == {"ZipFile": "HIDDEN_DUE_TO_SECURITY_REASONS"}


def test_no_cloudtrail_events_without_the_flag(events, sqs, queue):
    rule = unique_name("all-sqs-calls")
    url = queue()
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.sqs"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
    try:
        sqs.tag_queue(QueueUrl=url, Tags={"k": "v"})
        # A PutEvents event after the call arrives; the call's event would have come first.
        events.put_rule(Name=rule + "-marker", EventPattern=json.dumps({"source": ["marker"]}))
        events.put_targets(Rule=rule + "-marker", Targets=[{"Id": "q", "Arn": arn_of(sqs, url)}])
        events.put_events(Entries=[{"Source": "marker", "DetailType": "m", "Detail": "{}"}])
        assert json.loads(receive_one(sqs, url)["Body"])["source"] == "marker"
    finally:
        for r in (rule, rule + "-marker"):
            events.remove_targets(Rule=r, Ids=["q"])
            events.delete_rule(Name=r)
