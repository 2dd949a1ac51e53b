"""CloudWatch Logs through boto3 (the `logs` client) and the AWS CLI: groups, streams,
events, filter patterns, retention and errors, plus the calls `aws logs tail` makes."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
from botocore.exceptions import ClientError
from conftest import _aws_cli_command, cli_runner

HOUR = 3_600_000
DAY = 24 * HOUR


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def group(logs):
    """A fresh /aws/lambda/<name> group with one stream, "s"; deleted afterwards."""
    name = f"/aws/lambda/py-{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Code"], err["Message"]


def test_groups_streams_and_errors(logs, group):
    assert error_of(logs.create_log_group, logGroupName=group) == (
        "ResourceAlreadyExistsException", "The specified log group already exists")
    assert error_of(logs.describe_log_streams, logGroupName=group + "-missing") == (
        "ResourceNotFoundException", "The specified log group does not exist.")
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="nope") == (
        "ResourceNotFoundException", "The specified log stream does not exist.")
    code, _ = error_of(logs.put_retention_policy, logGroupName=group, retentionInDays=2)
    assert code == "InvalidParameterException"

    g = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert g["logGroupName"] == group
    assert g["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert "retentionInDays" not in g
    logs.put_retention_policy(logGroupName=group, retentionInDays=14)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 14
    logs.delete_retention_policy(logGroupName=group)

    for s in ("b", "a"):
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    assert names == ["a", "b", "s"]
    paged = [s["logStreamName"]
             for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group, PaginationConfig={"PageSize": 1})
             for s in page["logStreams"]]
    assert paged == ["a", "b", "s"]
    logs.delete_log_stream(logGroupName=group, logStreamName="a")
    assert error_of(logs.delete_log_stream, logGroupName=group, logStreamName="a") == (
        "ResourceNotFoundException", "The specified log stream does not exist.")


def test_events_tokens_and_filters(logs, group):
    t = now_ms() - 60_000
    msgs = ["START RequestId: r1", "ERROR boom", json.dumps({"level": "error", "ms": 12}),
            json.dumps({"level": "info", "ms": 3}), "END RequestId: r1"]
    out = logs.put_log_events(logGroupName=group, logStreamName="s",
                              logEvents=[{"timestamp": t + i, "message": m} for i, m in enumerate(msgs)])
    assert "nextSequenceToken" in out and "rejectedLogEventsInfo" not in out

    first = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=2)
    assert [e["message"] for e in first["events"]] == msgs[:2]
    assert first["nextForwardToken"].startswith("f/") and first["nextBackwardToken"].startswith("b/")
    token, seen = first["nextForwardToken"], []
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=2, nextToken=token)
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == msgs[2:]

    def matches(pattern):
        return [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]

    assert matches("ERROR") == ["ERROR boom"]
    assert matches('"RequestId: r1"') == [msgs[0], msgs[4]]
    assert matches("?START ?END") == [msgs[0], msgs[4]]
    assert matches("RequestId -START") == [msgs[4]]
    assert matches('{ $.level = "error" }') == [msgs[2]]
    assert matches("{ $.ms > 5 || $.level = inf* }") == [msgs[2], msgs[3]]
    # Space-delimited and regular-expression patterns.
    assert matches("[kind, label = RequestId*, rid = r1]") == [msgs[0], msgs[4]]
    assert matches("[kind = ERROR, ...]") == [msgs[1]]
    assert matches("%^[SE][TN][AD]%") == [msgs[0], msgs[4]]
    code, message = error_of(logs.filter_log_events, logGroupName=group, filterPattern="%(a|b)%")
    assert code == "InvalidParameterException" and "( )" in message

    events = [e for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 2})
              for e in page["events"]]
    assert [e["message"] for e in events] == msgs
    assert all(e["logStreamName"] == "s" and e["eventId"] for e in events)


def test_rejected_and_retention(logs, group):
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t - 30 * HOUR, "message": "day old"}])
    out = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": t, "message": "now"},
        {"timestamp": t + 3 * HOUR, "message": "future"},
    ])
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    code, _ = error_of(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": t - 25 * HOUR, "message": "a"}, {"timestamp": t, "message": "b"}])
    assert code == "InvalidParameterException"
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    got = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["now"]
    logs.delete_retention_policy(logGroupName=group)
    got = logs.filter_log_events(logGroupName=group)["events"]
    assert [e["message"] for e in got] == ["day old", "now"]


def test_what_cli_v2_logs_tail_calls(logs, group):
    """`aws logs tail` (CLI v2) pages FilterLogEvents with startTime and interleaved, then
    (with --follow) repeats it from the newest timestamp, dropping eventIds it has seen."""
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": t - 1000, "message": "one"}, {"timestamp": t, "message": "two"}])
    kwargs = {"logGroupIdentifier": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*",
              "interleaved": True, "startTime": t - 10 * 60_000}
    events = [e for page in logs.get_paginator("filter_log_events").paginate(**kwargs) for e in page["events"]]
    assert [e["message"] for e in events] == ["one", "two"]
    seen = {e["eventId"] for e in events}
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t, "message": "three"}])
    again = logs.filter_log_events(**dict(kwargs, startTime=t))["events"]
    assert [e["message"] for e in again if e["eventId"] not in seen] == ["three"]



def test_many_events_page_by_the_response_size_cap(logs, group):
    """Events are read from the store in pages: 12,000 events of ~200 bytes in two
    streams (about 2.7 MB, over the 1 MB a response carries) come back complete and in
    time order through FilterLogEvents' paginator (as `aws logs tail` pages it) and
    through GetLogEvents' forward tokens until the token repeats (how SDKs stop)."""
    t = now_ms() - HOUR
    logs.create_log_stream(logGroupName=group, logStreamName="b")
    pad = "x" * 190
    expected = []
    for stream, offset in (("s", 0), ("b", 1)):
        for batch in range(2):
            evs = [{"timestamp": t + 2 * (batch * 3000 + i) + offset, "message": f"{stream} {batch * 3000 + i:05d} {pad}"} for i in range(3000)]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=evs)
            expected += [(e["timestamp"], e["message"]) for e in evs]
    expected.sort()
    pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=t, interleaved=True))
    got = [(e["timestamp"], e["message"]) for page in pages for e in page["events"]]
    assert got == expected
    assert len(pages) >= 3, "each response stays within 1 MB"
    assert len({e["eventId"] for page in pages for e in page["events"]}) == len(expected)
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        out = logs.get_log_events(logGroupName=group, logStreamName="s", **kwargs)
        seen += [e["message"] for e in out["events"]]
        if out["nextForwardToken"] == token:
            break
        token = out["nextForwardToken"]
    assert seen == [m for _, m in expected if m.startswith("s ")]
    streams = {s["logStreamName"]: s for s in logs.describe_log_streams(logGroupName=group)["logStreams"]}
    assert streams["b"]["firstEventTimestamp"] == t + 1 and streams["b"]["lastEventTimestamp"] == t + 2 * 5999 + 1
    assert streams["s"]["storedBytes"] == sum(len(m) for _, m in expected if m.startswith("s "))

# --------------------------------------------------------------------------- AWS CLI


@pytest.fixture(scope="module")
def aws(endpoint):
    run, home = cli_runner(_aws_cli_command(), endpoint)
    yield run
    shutil.rmtree(home, ignore_errors=True)


def test_cli_describe_log_groups_and_filter(aws, logs, group):
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "hello cli"}])
    p = aws("logs", "describe-log-groups", "--log-group-name-prefix", group, "--output", "json")
    assert p.returncode == 0, p.stderr
    assert [g["logGroupName"] for g in json.loads(p.stdout)["logGroups"]] == [group]
    p = aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "cli", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert [e["message"] for e in json.loads(p.stdout)["events"]] == ["hello cli"]


def test_cli_v2_logs_tail(aws_v2, logs, group):
    """`aws logs tail` (CLI v2 only) prints the group's recent events, each with its stream."""
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "tail me"}])
    logs.create_log_stream(logGroupName=group, logStreamName="other")
    logs.put_log_events(logGroupName=group, logStreamName="other", logEvents=[{"timestamp": now_ms(), "message": "and me"}])
    p = aws_v2("logs", "tail", group, "--since", "1h", "--format", "short")
    assert p.returncode == 0, p.stderr
    assert "tail me" in p.stdout and "and me" in p.stdout, p.stdout
    p = aws_v2("logs", "tail", group, "--since", "1h", "--filter-pattern", "tail")
    assert p.returncode == 0, p.stderr
    assert "tail me" in p.stdout and "and me" not in p.stdout, p.stdout
    assert " s " in p.stdout, "the detailed format names the stream: " + p.stdout
    p = aws_v2("logs", "tail", group + "-missing")
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr, (p.returncode, p.stderr)


def test_log_group_tags(logs):
    """CreateLogGroup's tags, TagResource / UntagResource / ListTagsForResource on the log
    group's ARN and the older TagLogGroup / UntagLogGroup / ListTagsLogGroup (CloudWatch
    Logs API reference), with their errors."""
    name = f"/app/tagged-{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name, tags={"team": "blue"})
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:" + name
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "blue"}
    logs.tag_resource(resourceArn=arn, tags={"env": "dev", "team": "red"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev", "team": "red"}
    logs.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"team": "red"}
    logs.tag_log_group(logGroupName=name, tags={"owner": "ops"})
    logs.untag_log_group(logGroupName=name, tags=["team"])
    assert logs.list_tags_for_resource(resourceArn=arn + ":*")["tags"] == {"owner": "ops"}
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert e.value.response["Error"]["Code"] == "TooManyTagsException"
    with pytest.raises(ClientError) as e:
        logs.tag_resource(resourceArn=arn, tags={"aws:reserved": "v"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.list_tags_log_group(logGroupName=name + "-missing")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=name + "-bad", tags={"bad key!": "v"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_log_group(logGroupName=name)
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=arn)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
