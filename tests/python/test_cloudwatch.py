"""CloudWatch metrics through boto3, which speaks Smithy RPC v2 CBOR to CloudWatch (botocore
lists `smithy-rpc-v2-cbor` first), and the AWS CLI v1: PutMetricData with values, values
with counts and statistic sets read back as statistics and percentiles, ListMetrics
filters and paging, GetMetricData, and AWS's errors for bad input.

AWS references:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
"""

import datetime
import json
import uuid

import boto3
import botocore.exceptions
import pytest
import requests
from conftest import nimbus_server


@pytest.fixture(scope="session")
def cw(make_client):
    return make_client("cloudwatch")


@pytest.fixture
def ns():
    return f"Test/{uuid.uuid4().hex[:10]}"


@pytest.fixture
def now(endpoint):
    """The hour before nimbus's clock's current hour, as a datetime (periods up to an hour
    start on it)."""
    ms = requests.get(endpoint + "/_nimbus/clock", timeout=10).json()["now_ms"]
    hour = (ms // 3_600_000) * 3600
    return datetime.datetime.fromtimestamp(hour - 3600, tz=datetime.timezone.utc)


def stats(cw, ns, name, start, **kw):
    return cw.get_metric_statistics(
        Namespace=ns, MetricName=name, StartTime=start, EndTime=start + datetime.timedelta(minutes=10), Period=60, **kw
    )["Datapoints"]


def error_code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def test_boto3_speaks_cbor_to_cloudwatch(cw):
    assert cw.meta.service_model.protocol == "smithy-rpc-v2-cbor"


def test_put_values_and_read_statistics(cw, ns, now):
    t = now + datetime.timedelta(seconds=5)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Value": 10.0, "Unit": "Milliseconds", "Timestamp": t},
        {"MetricName": "Latency", "Values": [20.0, 30.0], "Counts": [2.0, 1.0], "Unit": "Milliseconds", "Timestamp": t},
        {"MetricName": "Latency", "Value": 99.5, "Unit": "Milliseconds", "Timestamp": t + datetime.timedelta(minutes=1)},
    ])
    points = sorted(stats(cw, ns, "Latency", now, Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"]), key=lambda d: d["Timestamp"])
    assert len(points) == 2
    first, second = points
    assert first["Timestamp"] == now
    assert first["SampleCount"] == 4.0
    assert first["Sum"] == 80.0
    assert first["Average"] == 20.0
    assert first["Minimum"] == 10.0 and first["Maximum"] == 30.0
    assert first["Unit"] == "Milliseconds"
    assert second["SampleCount"] == 1.0 and second["Maximum"] == 99.5


def test_percentiles(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Size", "Values": [float(i) for i in range(1, 101)], "Timestamp": now}
    ])
    [point] = stats(cw, ns, "Size", now, ExtendedStatistics=["p50", "p90", "p99.9"])
    assert point["ExtendedStatistics"] == {"p50": 50.0, "p90": 90.0, "p99.9": 100.0}


def test_statistic_sets_and_units_filter(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Req", "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}, "Unit": "Count", "Timestamp": now},
        {"MetricName": "Req", "Value": 100, "Unit": "Seconds", "Timestamp": now},
    ])
    [point] = stats(cw, ns, "Req", now, Statistics=["Sum", "SampleCount"], Unit="Count")
    assert point["Sum"] == 10.0 and point["SampleCount"] == 4.0 and point["Unit"] == "Count"
    assert stats(cw, ns, "Req", now, Statistics=["Sum"], Unit="Bytes") == []


def test_dimensions_make_separate_metrics(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Hits", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Az", "Value": "1"}], "Value": 1, "Timestamp": now},
        {"MetricName": "Hits", "Dimensions": [{"Name": "Az", "Value": "1"}, {"Name": "Host", "Value": "a"}], "Value": 2, "Timestamp": now},
        {"MetricName": "Hits", "Dimensions": [{"Name": "Host", "Value": "b"}], "Value": 5, "Timestamp": now},
        {"MetricName": "Misses", "Value": 7, "Timestamp": now},
    ])
    [point] = stats(cw, ns, "Hits", now, Statistics=["Sum"], Dimensions=[{"Name": "Host", "Value": "a"}, {"Name": "Az", "Value": "1"}])
    assert point["Sum"] == 3.0
    assert stats(cw, ns, "Hits", now, Statistics=["Sum"]) == []

    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    assert len(listed) == 3
    assert {m["MetricName"] for m in listed} == {"Hits", "Misses"}
    by_name = cw.list_metrics(Namespace=ns, MetricName="Hits")["Metrics"]
    assert len(by_name) == 2
    host_b = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Host", "Value": "b"}])["Metrics"]
    assert host_b == [{"Namespace": ns, "MetricName": "Hits", "Dimensions": [{"Name": "Host", "Value": "b"}]}]
    with_az = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Az"}])["Metrics"]
    assert len(with_az) == 1


def test_list_metrics_pages_by_500(cw, ns, now):
    data = [{"MetricName": f"M{i:04d}", "Value": 1, "Timestamp": now} for i in range(600)]
    cw.put_metric_data(Namespace=ns, MetricData=data[:500])
    cw.put_metric_data(Namespace=ns, MetricData=data[500:])
    first = cw.list_metrics(Namespace=ns)
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cw.list_metrics(Namespace=ns, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 100 and "NextToken" not in second
    names = {m["MetricName"] for m in first["Metrics"] + second["Metrics"]}
    assert len(names) == 600
    pages = cw.get_paginator("list_metrics").paginate(Namespace=ns)
    assert sum(len(p["Metrics"]) for p in pages) == 600


def test_get_metric_data(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Q", "Value": v, "Timestamp": now + datetime.timedelta(minutes=m)} for m, v in [(0, 1), (0, 3), (2, 10)]
    ])
    metric = {"Namespace": ns, "MetricName": "Q"}
    out = cw.get_metric_data(
        StartTime=now, EndTime=now + datetime.timedelta(minutes=5),
        MetricDataQueries=[
            {"Id": "avg", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Average"}},
            {"Id": "total", "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Sum"}, "Label": "all"},
            {"Id": "hidden", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        ],
    )
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"avg", "total"}
    assert results["avg"]["Values"] == [10.0, 2.0]
    assert results["avg"]["Timestamps"] == [now + datetime.timedelta(minutes=2), now]
    assert results["avg"]["StatusCode"] == "Complete"
    assert results["total"]["Values"] == [14.0] and results["total"]["Label"] == "all"
    asc = cw.get_metric_data(StartTime=now, EndTime=now + datetime.timedelta(minutes=5), ScanBy="TimestampAscending",
                             MetricDataQueries=[{"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"}}])
    assert asc["MetricDataResults"][0]["Values"] == [3.0, 10.0]


def test_metric_math(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Errors", "Value": 2, "Timestamp": now},
        {"MetricName": "Calls", "Value": 8, "Timestamp": now},
        {"MetricName": "Calls", "Value": 4, "Timestamp": now + datetime.timedelta(minutes=1)},
    ])

    def stat(name):
        return {"Metric": {"Namespace": ns, "MetricName": name}, "Period": 60, "Stat": "Sum"}

    out = cw.get_metric_data(
        StartTime=now, EndTime=now + datetime.timedelta(minutes=5), ScanBy="TimestampAscending",
        MetricDataQueries=[
            {"Id": "rate", "Expression": "100 * e / c", "Label": "Error rate"},
            {"Id": "e", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "c", "MetricStat": stat("Calls"), "ReturnData": False},
            {"Id": "filled", "Expression": "FILL(e, 0) + c"},
            {"Id": "total", "Expression": "SUM(METRICS())"},
        ],
    )
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"rate", "filled", "total"}
    assert results["rate"]["Values"] == [25.0] and results["rate"]["Label"] == "Error rate"
    assert results["filled"]["Values"] == [10.0, 4.0]
    assert results["total"]["Values"] == [10.0, 4.0]
    assert results["total"]["Timestamps"] == [now, now + datetime.timedelta(minutes=1)]


@pytest.mark.parametrize("expression,fragment", [
    ("ANOMALY_DETECTION_BAND(m, 2)", "not supported by nimbus"),
    ("m +", "Error in expression bad"),
    ("nope * 2", "Unknown metric id nope"),
])
def test_metric_math_errors(cw, ns, now, expression, fragment):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_data(StartTime=now, EndTime=now + datetime.timedelta(minutes=5), MetricDataQueries=[
            {"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "x"}, "Period": 60, "Stat": "Sum"}},
            {"Id": "bad", "Expression": expression}])
    assert error_code(e) == "InvalidParameterValue"
    assert fragment in e.value.response["Error"]["Message"]


@pytest.mark.parametrize("datum,code,fragment", [
    ({"MetricName": "x", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}, "InvalidParameterCombination", "mutually exclusive"),
    ({"MetricName": "x", "Values": [1.0, 2.0], "Counts": [1.0]}, "InvalidParameterValue", "same size"),
    ({"MetricName": "x", "Values": [1.0] * 151}, "InvalidParameterValue", "150"),
    ({"MetricName": "x", "Value": 1, "StorageResolution": 30}, "InvalidParameterValue", "StorageResolution"),
    ({"MetricName": "x", "Value": 1, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}, "InvalidParameterValue", "30"),
    ({"MetricName": "x", "Value": 1, "Timestamp": datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)}, "InvalidParameterValue", "two weeks"),
    ({"MetricName": "x"}, "MissingParameter", "MetricData.member.1.Value"),
])
def test_put_metric_data_bad_input(cw, ns, datum, code, fragment):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace=ns, MetricData=[datum])
    assert error_code(e) == code
    assert fragment in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_reserved_namespace_and_too_many_datums(cw, ns):
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "x", "Value": 1}] * 1001)


def test_get_metric_statistics_bad_input(cw, ns, now):
    later = now + datetime.timedelta(minutes=10)
    base = dict(Namespace=ns, MetricName="x", StartTime=now, EndTime=later)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Period=45, Statistics=["Sum"], **base)
    assert error_code(e) == "InvalidParameterValue" and "multiple of 60" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Period=60, **base)
    assert error_code(e) == "InvalidParameterCombination"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Period=60, ExtendedStatistics=["p101"], **base)
    assert error_code(e) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Namespace=ns, MetricName="x", StartTime=later, EndTime=now, Period=60, Statistics=["Sum"])
    assert error_code(e) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Namespace=ns, MetricName="x", StartTime=now, EndTime=now + datetime.timedelta(days=2), Period=60, Statistics=["Sum"])
    assert error_code(e) == "InvalidParameterCombination" and "1,440" in e.value.response["Error"]["Message"]


def test_unsupported_operation_answers_clearly(cw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.list_dashboards()
    assert "is not supported by nimbus" in e.value.response["Error"]["Message"]


def test_malformed_cbor_is_a_serialization_error(endpoint):
    resp = requests.post(
        endpoint + "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        data=b"\xbf\x61",  # an indefinite map cut short
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor",
                 "Authorization": AUTH},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert resp.headers["Content-Type"] == "application/cbor"
    assert b"SerializationException" in resp.content


def test_aws_cli_v1(aws_cli, ns, now):
    """The AWS CLI v1 from PyPI (today's botocore: RPC v2 CBOR)."""
    aws_cli("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "Cli", "--value", "4",
            "--timestamp", now.isoformat())
    out = aws_cli("cloudwatch", "list-metrics", "--namespace", ns)
    assert [m["MetricName"] for m in out["Metrics"]] == ["Cli"]
    out = aws_cli("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "Cli",
                  "--start-time", now.isoformat(), "--end-time", (now + datetime.timedelta(minutes=5)).isoformat(),
                  "--period", "60", "--statistics", "Sum")
    assert out["Datapoints"][0]["Sum"] == 4.0


def test_query_protocol(query, now):
    """The query protocol (older SDKs, hand-written clients): XML answers, ISO 8601 times."""
    iso = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    ns = f"Query/{uuid.uuid4().hex[:8]}"
    kw = dict(service="monitoring", version="2010-08-01")
    r = query("PutMetricData", {"Namespace": ns, "MetricData.member.1.MetricName": "M", "MetricData.member.1.Value": "3",
                                "MetricData.member.1.Timestamp": iso, "MetricData.member.1.Dimensions.member.1.Name": "D",
                                "MetricData.member.1.Dimensions.member.1.Value": "v"}, **kw)
    assert r.status == 200
    r = query("GetMetricStatistics", {"Namespace": ns, "MetricName": "M", "StartTime": iso,
                                      "EndTime": (now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      "Period": "60", "Statistics.member.1": "Sum",
                                      "Dimensions.member.1.Name": "D", "Dimensions.member.1.Value": "v"}, **kw)
    assert r.status == 200
    point = r.root.find("GetMetricStatisticsResult/Datapoints/member")
    assert point.findtext("Sum") == "3.0"
    assert point.findtext("Timestamp") == iso
    r = query("PutMetricData", {"Namespace": "AWS/X", "MetricData.member.1.MetricName": "M", "MetricData.member.1.Value": "3"}, **kw)
    assert r.status == 400
    assert r.root.findtext("Error/Code") == "InvalidParameterValue"


AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0"


def test_json_protocol(endpoint, now):
    """JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`), which other SDKs use."""
    ns = f"Json/{uuid.uuid4().hex[:8]}"

    def call(op, body):
        return requests.post(endpoint + "/", json=body, timeout=10, headers={
            "X-Amz-Target": f"GraniteServiceVersion20100801.{op}", "Content-Type": "application/x-amz-json-1.0", "Authorization": AUTH})

    t = now.timestamp()
    r = call("PutMetricData", {"Namespace": ns, "MetricData": [{"MetricName": "J", "Value": 2, "Timestamp": t}]})
    assert r.status_code == 200, r.text
    r = call("GetMetricStatistics", {"Namespace": ns, "MetricName": "J", "StartTime": t, "EndTime": t + 300, "Period": 60, "Statistics": ["Maximum"]})
    assert r.status_code == 200
    assert r.json()["Datapoints"] == [{"Timestamp": int(t), "Unit": "None", "Maximum": 2.0}]
    r = call("PutMetricData", {"Namespace": ns, "MetricData": [{"MetricName": "J", "Value": 1, "Values": [1.0]}]})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazonaws.monitoring#InvalidParameterCombinationException"
    assert r.headers["x-amzn-query-error"] == "InvalidParameterCombination;Sender"


def _client(url):
    return boto3.session.Session().client("cloudwatch", region_name="us-east-1", endpoint_url=url,
                                          aws_access_key_id="test", aws_secret_access_key="test")


def test_datapoints_survive_a_restart(tmp_path):
    with nimbus_server(data_dir=tmp_path) as url:
        cw = _client(url)
        cw.put_metric_data(Namespace="Durable", MetricData=[{"MetricName": "D", "Value": 7, "Dimensions": [{"Name": "K", "Value": "v"}]}])
    assert (tmp_path / "cloudwatch.db").exists()
    with nimbus_server(data_dir=tmp_path) as url:
        cw = _client(url)
        assert cw.list_metrics(Namespace="Durable")["Metrics"] == [
            {"Namespace": "Durable", "MetricName": "D", "Dimensions": [{"Name": "K", "Value": "v"}]}]


def test_default_timestamp_is_nimbus_clock_and_old_data_is_refused_after_two_weeks():
    with nimbus_server(["--clock-control"]) as url:
        cw = _client(url)
        start_ms = requests.get(url + "/_nimbus/clock", timeout=10).json()["now_ms"]
        cw.put_metric_data(Namespace="Clock", MetricData=[{"MetricName": "C", "Value": 1}])
        requests.post(url + "/_nimbus/clock/advance?seconds=86400", timeout=10).raise_for_status()
        cw.put_metric_data(Namespace="Clock", MetricData=[{"MetricName": "C", "Value": 2}])
        t0 = datetime.datetime.fromtimestamp(start_ms // 1000 - 60, tz=datetime.timezone.utc)
        points = cw.get_metric_statistics(Namespace="Clock", MetricName="C", StartTime=t0,
                                          EndTime=t0 + datetime.timedelta(days=2), Period=3600, Statistics=["Sum"])["Datapoints"]
        by_time = sorted(points, key=lambda d: d["Timestamp"])
        assert [d["Sum"] for d in by_time] == [1.0, 2.0]
        assert (by_time[1]["Timestamp"] - by_time[0]["Timestamp"]).total_seconds() >= 86400 - 3600
        requests.post(url + "/_nimbus/clock/advance?seconds=1209600", timeout=10).raise_for_status()
        with pytest.raises(cw.exceptions.InvalidParameterValueException):
            cw.put_metric_data(Namespace="Clock", MetricData=[{"MetricName": "C", "Value": 3, "Timestamp": t0 + datetime.timedelta(days=1)}])


def test_get_metric_data_pages_by_max_datapoints(cw, ns, now):
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "P", "Value": float(m), "Timestamp": now + datetime.timedelta(minutes=m)} for m in range(5)
    ])
    queries = [{"Id": q, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "P"}, "Period": 60, "Stat": "Sum"}} for q in ("a", "b")]
    kw = dict(StartTime=now, EndTime=now + datetime.timedelta(minutes=10), MetricDataQueries=queries,
              MaxDatapoints=3, ScanBy="TimestampAscending")
    first = cw.get_metric_data(**kw)
    assert [(r["Id"], r["Values"], r["StatusCode"]) for r in first["MetricDataResults"]] == [("a", [0.0, 1.0, 2.0], "PartialData"), ("b", [], "PartialData")]
    second = cw.get_metric_data(NextToken=first["NextToken"], **kw)
    assert [(r["Id"], r["Values"]) for r in second["MetricDataResults"]] == [("a", [3.0, 4.0]), ("b", [0.0])]
    pages = cw.get_paginator("get_metric_data").paginate(**kw)
    values = {}
    for page in pages:
        for r in page["MetricDataResults"]:
            values.setdefault(r["Id"], []).extend(r["Values"])
    assert values == {"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 2.0, 3.0, 4.0]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_data(NextToken="bogus", **kw)
    assert error_code(e) == "InvalidNextToken"


def test_aws_cli_v2_query_protocol(aws_v2, ns, now):
    """Debian's AWS CLI v2 (2.9) predates CBOR: it speaks query to CloudWatch and parses
    the XML answers, ISO 8601 timestamps included."""
    def cli(*args):
        p = aws_v2(*args, "--output", "json")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    cli("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-data",
           f'[{{"MetricName":"V2","Value":6,"Unit":"Count","Timestamp":"{now.isoformat()}","Dimensions":[{{"Name":"Env","Value":"dev"}}]}}]')
    out = cli("cloudwatch", "list-metrics", "--namespace", ns)
    assert out["Metrics"] == [{"Namespace": ns, "MetricName": "V2", "Dimensions": [{"Name": "Env", "Value": "dev"}]}]
    out = cli("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "V2",
                 "--dimensions", "Name=Env,Value=dev",
                 "--start-time", now.isoformat(), "--end-time", (now + datetime.timedelta(minutes=5)).isoformat(),
                 "--period", "60", "--statistics", "Sum", "Maximum")
    [point] = out["Datapoints"]
    assert point["Sum"] == 6.0 and point["Maximum"] == 6.0 and point["Unit"] == "Count"
    assert datetime.datetime.fromisoformat(point["Timestamp"].replace("Z", "+00:00")) == now


def test_log_metric_filter_feeds_cloudwatch(make_client, cw, ns, endpoint):
    """A CloudWatch Logs metric filter puts its datapoints into CloudWatch metrics."""
    logs = make_client("logs")
    group = f"/test/cw-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_metric_filter(logGroupName=group, filterName="lat", filterPattern='{ $.level = "info" }', metricTransformations=[
        {"metricName": "Latency", "metricNamespace": ns, "metricValue": "$.ms", "unit": "Milliseconds", "dimensions": {"Service": "$.svc"}}])
    ms = requests.get(endpoint + "/_nimbus/clock", timeout=10).json()["now_ms"]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": ms, "message": json.dumps({"level": "info", "ms": 40, "svc": "api"})},
        {"timestamp": ms, "message": json.dumps({"level": "info", "ms": 60, "svc": "api"})},
        {"timestamp": ms, "message": json.dumps({"level": "debug", "ms": 999, "svc": "api"})},
    ])
    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    assert listed == [{"Namespace": ns, "MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}]}]
    start = datetime.datetime.fromtimestamp(ms // 60000 * 60, tz=datetime.timezone.utc)
    [point] = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "api"}],
                                       StartTime=start, EndTime=start + datetime.timedelta(minutes=1), Period=60,
                                       Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert point["Sum"] == 100.0 and point["SampleCount"] == 2.0 and point["Unit"] == "Milliseconds"
