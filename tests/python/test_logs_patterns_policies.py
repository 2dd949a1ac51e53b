"""CloudWatch Logs: space-delimited and regular-expression filter patterns in
FilterLogEvents, TestMetricFilter (extractedValues) and metric filters ($field values and
dimensions feeding CloudWatch metrics); account resource policies and destinations.
Syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
Regex: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html
API: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html"""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '10.0.0.2 - alice [10/Oct/2000:13:26:00 -0700] "GET /missing HTTP/1.0" 404 209',
    '10.0.0.3 - bob [10/Oct/2000:13:27:00 -0700] "POST /upload HTTP/1.1" 413 5120',
]


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


@pytest.fixture
def group(logs):
    name = f"/test/patterns-{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="access")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=name, logStreamName="access", logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(APACHE)])
    yield name
    logs.delete_log_group(logGroupName=name)


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_space_delimited_patterns_in_filter_log_events(logs, group):
    def matches(pattern):
        return [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]

    assert matches("[ip, user, username, timestamp, request, status_code, bytes]") == APACHE
    assert matches("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]") == [APACHE[2]]
    assert matches("[..., status_code = 404 || status_code = 413, bytes]") == APACHE[1:]
    assert matches("[ip = 10.*, ...]") == APACHE[1:]
    assert matches('[ip, user, username = "alice", ...]') == [APACHE[1]]
    assert matches("[..., request = *upload*, status_code, bytes]") == [APACHE[2]]
    assert matches("[..., status_code != 200, bytes <= 5120]") == APACHE[1:]
    assert matches("[..., status_code = %^4[0-9]{2}$%, bytes]") == APACHE[1:]
    assert matches("[ip, user]") == []  # field count differs and no ellipsis
    for bad in ["[ip user]", "[a = ]", "[a > x]", "[a = 1 || b = 2]", "[]"]:
        code, _ = error_of(logs.filter_log_events, logGroupName=group, filterPattern=bad)
        assert code == "InvalidParameterException", bad


def test_regex_patterns(logs, group):
    def matches(pattern):
        return [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]

    assert matches(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%") == APACHE
    assert matches("%alice|bob%") == APACHE[1:]
    assert matches("%^127%") == [APACHE[0]]
    got = logs.test_metric_filter(filterPattern="{ $.code = %^5[0-9]{2}$% }", logEventMessages=['{"code":"503"}', '{"code":"200"}'])
    assert [m["eventNumber"] for m in got["matches"]] == [1]
    for bad in ["%(a|b)%", "%something!%", "{ $.a = %x% && $.b = %y% && $.c = %z% }"]:
        code, message = error_of(logs.filter_log_events, logGroupName=group, filterPattern=bad)
        assert code == "InvalidParameterException", bad


def test_five_regex_filters_per_group(logs, group):
    t = [{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]
    for i in range(5):
        logs.put_metric_filter(logGroupName=group, filterName=f"re{i}", filterPattern=f"%x{i}%", metricTransformations=t)
    code, _ = error_of(logs.put_metric_filter, logGroupName=group, filterName="re5", filterPattern="[a = %y%, ...]", metricTransformations=t)
    assert code == "LimitExceededException"
    logs.put_metric_filter(logGroupName=group, filterName="plain", filterPattern='{ $.a = "100%" }', metricTransformations=t)
    logs.put_metric_filter(logGroupName=group, filterName="re0", filterPattern="%changed%", metricTransformations=t)  # replacing is allowed


def test_test_metric_filter_extracted_values(logs):
    got = logs.test_metric_filter(filterPattern="[ip, user, username, timestamp, request, status_code, bytes]", logEventMessages=APACHE[:1] + ["too few fields"])
    assert got["matches"] == [{
        "eventNumber": 1,
        "eventMessage": APACHE[0],
        "extractedValues": {"$ip": "127.0.0.1", "$user": "-", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700",
                            "$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "200", "$bytes": "1534"},
    }]
    got = logs.test_metric_filter(filterPattern="{ $.status >= 500 }", logEventMessages=['{"status": 503}'])
    assert got["matches"][0]["extractedValues"] == {"$.status": "503"}


def test_metric_filter_with_space_delimited_fields(logs, group, make_client):
    logs.put_metric_filter(logGroupName=group, filterName="bytes", filterPattern="[ip, user, username, timestamp, request, status_code, bytes]",
                           metricTransformations=[{"metricName": "Bytes", "metricNamespace": f"Patterns-{group[-12:]}", "metricValue": "$bytes",
                                                   "dimensions": {"Status": "$status_code"}}])
    got = logs.describe_metric_filters(logGroupName=group)["metricFilters"][0]
    assert got["metricTransformations"][0]["metricValue"] == "$bytes"
    code, message = error_of(logs.put_metric_filter, logGroupName=group, filterName="bad", filterPattern="[ip, ...]",
                             metricTransformations=[{"metricName": "B", "metricNamespace": "N", "metricValue": "$bytes"}])
    assert code == "InvalidParameterException" and "$bytes" in message
    # New events feed the metric through CloudWatch (when the metrics service is there).
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="access", logEvents=[{"timestamp": now + 10, "message": APACHE[1]}])
    cw = make_client("cloudwatch")
    ns = f"Patterns-{group[-12:]}"
    deadline = time.time() + 10
    while True:
        metrics = cw.list_metrics(Namespace=ns)["Metrics"]
        if metrics:
            break
        assert time.time() < deadline, "metric filter did not put data"
        time.sleep(0.1)
    assert metrics[0]["MetricName"] == "Bytes" and metrics[0]["Dimensions"] == [{"Name": "Status", "Value": "404"}]


def test_resource_policies(logs):
    names = [f"p{i}-{uuid.uuid4().hex[:6]}" for i in range(10)]
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
                                                              "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})
    existing = {p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]}
    for n in existing:
        logs.delete_resource_policy(policyName=n)
    try:
        out = logs.put_resource_policy(policyName=names[0], policyDocument=doc)["resourcePolicy"]
        assert out["policyName"] == names[0] and out["policyDocument"] == doc and isinstance(out["lastUpdatedTime"], int)
        for n in names[1:]:
            logs.put_resource_policy(policyName=n, policyDocument=doc)
        assert error_of(logs.put_resource_policy, policyName="eleventh", policyDocument=doc) == ("LimitExceededException", "Resource limit exceeded.")
        # Replacing one is not a new one.
        logs.put_resource_policy(policyName=names[0], policyDocument=doc.replace("route53", "events"))
        got = logs.describe_resource_policies()["resourcePolicies"]
        assert sorted(p["policyName"] for p in got) == sorted(names)
        assert [p for p in got if p["policyName"] == names[0]][0]["policyDocument"].count("events.amazonaws.com") == 1
        page = logs.describe_resource_policies(limit=3)
        assert len(page["resourcePolicies"]) == 3 and "nextToken" in page
        rest = logs.describe_resource_policies(nextToken=page["nextToken"], limit=50)["resourcePolicies"]
        assert len(rest) == 7
        code, _ = error_of(logs.put_resource_policy, policyName="big", policyDocument=json.dumps({"x": "a" * 5200}))
        assert code == "InvalidParameterException"
        code, _ = error_of(logs.put_resource_policy, policyName="notjson", policyDocument="{nope")
        assert code == "InvalidParameterException"
    finally:
        for n in names:
            try:
                logs.delete_resource_policy(policyName=n)
            except ClientError:
                pass
    code, _ = error_of(logs.delete_resource_policy, policyName=names[0])
    assert code == "ResourceNotFoundException"


def test_destinations(logs):
    name = f"dest-{uuid.uuid4().hex[:8]}"
    target = "arn:aws:kinesis:us-east-1:000000000000:stream/central"
    role = "arn:aws:iam::000000000000:role/CWLtoKinesisRole"
    d = logs.put_destination(destinationName=name, targetArn=target, roleArn=role)["destination"]
    assert d["destinationName"] == name and d["targetArn"] == target and d["roleArn"] == role
    assert d["arn"] == f"arn:aws:logs:us-east-1:000000000000:destination:{name}" and isinstance(d["creationTime"], int)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "logs:PutSubscriptionFilter", "Resource": d["arn"]}]})
    logs.put_destination_policy(destinationName=name, accessPolicy=policy)
    got = logs.describe_destinations(DestinationNamePrefix=name)["destinations"]
    assert len(got) == 1 and got[0]["accessPolicy"] == policy and got[0]["creationTime"] == d["creationTime"]
    # Updating keeps the access policy and creation time.
    logs.put_destination(destinationName=name, targetArn=target.replace("central", "other"), roleArn=role)
    got = logs.describe_destinations(DestinationNamePrefix=name)["destinations"][0]
    assert got["targetArn"].endswith("/other") and got["accessPolicy"] == policy
    code, _ = error_of(logs.put_destination_policy, destinationName=name + "-missing", accessPolicy=policy)
    assert code == "ResourceNotFoundException"
    code, _ = error_of(logs.put_destination, destinationName="a:b", targetArn=target, roleArn=role)
    assert code == "InvalidParameterException"
    logs.delete_destination(destinationName=name)
    assert logs.describe_destinations(DestinationNamePrefix=name)["destinations"] == []
    code, _ = error_of(logs.delete_destination, destinationName=name)
    assert code == "ResourceNotFoundException"


def test_policies_and_destinations_survive_a_restart(tmp_path, make_client):
    import boto3
    from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server

    def client(url):
        return boto3.client("logs", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    with nimbus_server(data_dir=tmp_path) as url:
        c = client(url)
        c.put_resource_policy(policyName="keep", policyDocument='{"Version":"2012-10-17","Statement":[]}')
        c.put_destination(destinationName="keep", targetArn="arn:aws:kinesis:us-east-1:000000000000:stream/s", roleArn="arn:aws:iam::000000000000:role/r")
    with nimbus_server(data_dir=tmp_path) as url:
        c = client(url)
        assert [p["policyName"] for p in c.describe_resource_policies()["resourcePolicies"]] == ["keep"]
        assert [d["destinationName"] for d in c.describe_destinations()["destinations"]] == ["keep"]
