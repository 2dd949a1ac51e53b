"""CloudWatch Logs Insights through boto3: StartQuery / GetQueryResults / StopQuery /
DescribeQueries over one and many log groups, the query language (fields, filter,
stats … by bin(), sort, limit, parse, dedup, display, functions, discovered JSON and
Lambda fields), and AWS's errors (MalformedQueryException with its location,
InvalidParameterException, ResourceNotFoundException).
API: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html
Syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html"""

import datetime
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

# An hour boundary two hours ago (PutLogEvents refuses events older than 14 days), so
# bins are predictable.
BASE = (int(time.time() * 1000) // 3_600_000 - 2) * 3_600_000
MINUTE = 60_000


def ts(ms):
    """A timestamp as Insights prints it."""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


@pytest.fixture(scope="module")
def app(logs):
    """A group of JSON and text events over 12 minutes, and a Lambda group."""
    name = f"/app/insights-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=name)
    for s in ("web-1", "web-2"):
        logs.create_log_stream(logGroupName=name, logStreamName=s)
    events1 = [
        {"timestamp": BASE + 0 * MINUTE, "message": json.dumps({"level": "INFO", "latency": 10, "svc": "api", "req": {"path": "/a"}})},
        {"timestamp": BASE + 1 * MINUTE, "message": json.dumps({"level": "ERROR", "latency": 250, "svc": "api", "req": {"path": "/b"}})},
        {"timestamp": BASE + 6 * MINUTE, "message": json.dumps({"level": "INFO", "latency": 30, "svc": "auth", "req": {"path": "/a"}})},
        {"timestamp": BASE + 7 * MINUTE, "message": "user=alice action=login took=12ms"},
    ]
    events2 = [
        {"timestamp": BASE + 2 * MINUTE, "message": json.dumps({"level": "WARN", "latency": 90, "svc": "api", "req": {"path": "/c"}})},
        {"timestamp": BASE + 8 * MINUTE, "message": json.dumps({"level": "ERROR", "latency": 500, "svc": "auth", "req": {"path": "/a"}})},
        {"timestamp": BASE + 11 * MINUTE, "message": "user=bob action=logout took=3ms"},
    ]
    logs.put_log_events(logGroupName=name, logStreamName="web-1", logEvents=events1)
    logs.put_log_events(logGroupName=name, logStreamName="web-2", logEvents=events2)
    lam = f"/aws/lambda/insights-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=lam)
    logs.create_log_stream(logGroupName=lam, logStreamName="2026/12/04/[$LATEST]abc")
    logs.put_log_events(logGroupName=lam, logStreamName="2026/12/04/[$LATEST]abc", logEvents=[
        {"timestamp": BASE, "message": "START RequestId: r-1 Version: $LATEST\n"},
        {"timestamp": BASE + 1, "message": "hello from r-1\n"},
        {"timestamp": BASE + 2, "message": "END RequestId: r-1\n"},
        {"timestamp": BASE + 3, "message": "REPORT RequestId: r-1\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\t\n"},
        {"timestamp": BASE + 5000, "message": "REPORT RequestId: r-2\tDuration: 7.50 ms\tBilled Duration: 8 ms\tMemory Size: 128 MB\tMax Memory Used: 72 MB\t\n"},
    ])
    yield {"group": name, "lambda": lam}
    logs.delete_log_group(logGroupName=name)
    logs.delete_log_group(logGroupName=lam)


def run(logs, query, groups, start=BASE // 1000 - 60, end=BASE // 1000 + 3600, **kw):
    qid = logs.start_query(logGroupNames=groups, startTime=start, endTime=end, queryString=query, **kw)["queryId"]
    deadline = time.time() + 20
    while True:
        out = logs.get_query_results(queryId=qid)
        if out["status"] not in ("Scheduled", "Running"):
            break
        assert time.time() < deadline, "query did not finish"
        time.sleep(0.05)
    assert out["status"] == "Complete", out
    rows = [{f["field"]: f["value"] for f in row} for row in out["results"]]
    return rows, out


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Code"], err["Message"], info.value.response


def test_fields_filter_sort_limit(logs, app):
    rows, out = run(logs, "fields @timestamp, level, latency | filter level = 'ERROR' | sort latency desc", [app["group"]])
    assert [r["latency"] for r in rows] == ["500", "250"]
    assert rows[0]["@timestamp"] == ts(BASE + 8 * MINUTE)
    assert all("@ptr" in r for r in rows)
    assert set(rows[0]) == {"@timestamp", "level", "latency", "@ptr"}
    stats = out["statistics"]
    assert stats["recordsScanned"] == 7 and stats["recordsMatched"] == 2 and stats["bytesScanned"] > 0

    rows, _ = run(logs, "fields latency | sort latency asc | limit 3", [app["group"]])
    assert [r["latency"] for r in rows] == ["10", "30", "90"]

    # No sort: newest first; the `limit` parameter caps the results.
    rows, _ = run(logs, "fields @message", [app["group"]], limit=2)
    assert [r["@message"] for r in rows] == ["user=bob action=logout took=3ms", json.dumps({"level": "ERROR", "latency": 500, "svc": "auth", "req": {"path": "/a"}})]


def test_filter_operators_and_functions(logs, app):
    g = [app["group"]]
    rows, _ = run(logs, "filter req.path in ['/a', '/c'] and not (level = 'ERROR') | fields req.path, toupper(svc) as s | sort @timestamp asc", g)
    assert [(r["req.path"], r["s"]) for r in rows] == [("/a", "API"), ("/c", "API"), ("/a", "AUTH")]
    rows, _ = run(logs, "filter @message like /action=log(in|out)/ | fields strlen(@message) as n, substr(@message, 0, 4) as head | sort n desc", g)
    assert [(r["n"], r["head"]) for r in rows] == [("33", "user"), ("31", "user")]
    rows, _ = run(logs, "filter latency >= 90 and latency < 500 or level =~ /WARN/ | fields latency * 2 + 1 as x, concat(svc, '-', level) as c, abs(-latency) as a | sort x asc", g)
    assert [(r["x"], r["c"], r["a"]) for r in rows] == [("181", "api-WARN", "90"), ("501", "api-ERROR", "250")]
    rows, _ = run(logs, "filter ispresent(level) and not ispresent(missing) | fields coalesce(missing, svc) as c, datefloor(@timestamp, 5m) as f, toMillis(@timestamp) as ms | sort ms asc | limit 1", g)
    assert rows[0]["c"] == "api" and rows[0]["f"] == ts(BASE) and rows[0]["ms"] == str(BASE - 0)
    rows, _ = run(logs, "filter @message not like 'level' | fields @logStream, @log | sort @timestamp desc", g)
    assert [r["@logStream"] for r in rows] == ["web-2", "web-1"]
    assert rows[0]["@log"] == f"000000000000:{app['group']}"


def test_stats_by_bin_and_fields(logs, app):
    g = [app["group"]]
    rows, _ = run(logs, "filter ispresent(latency) | stats count(*) as n, avg(latency) as avg, max(latency), min(latency) by bin(5m) | sort n desc", g)
    assert rows == [
        {"bin(5m)": ts(BASE), "n": "3", "avg": "116.66666666666667", "max(latency)": "250", "min(latency)": "10"},
        {"bin(5m)": ts(BASE + 5 * MINUTE), "n": "2", "avg": "265", "max(latency)": "500", "min(latency)": "30"},
    ]
    rows, out = run(logs, "stats count(*) as n, sum(latency) as total, count_distinct(req.path) as paths, pct(latency, 50) as p50 by svc | sort svc", g)
    # Events without svc form their own group (no svc value), sorted last.
    assert rows == [{"svc": "api", "n": "3", "total": "350", "paths": "3", "p50": "90"}, {"svc": "auth", "n": "2", "total": "530", "paths": "1", "p50": "30"},
                    {"n": "2", "paths": "0"}]
    assert out["statistics"]["recordsMatched"] == 7  # every event reaches stats (two have no svc)
    rows, _ = run(logs, "stats earliest(level) as first, latest(level) as last, sortsFirst(svc) as a, sortsLast(svc) as z, stddev(latency) as sd", g)
    assert (rows[0]["first"], rows[0]["last"], rows[0]["a"], rows[0]["z"]) == ("INFO", "ERROR", "api", "auth")
    assert rows[0]["sd"].startswith("204.1")  # sample standard deviation
    rows, _ = run(logs, "filter level = 'nothing' | stats count(*)", g)
    assert rows == [{"count(*)": "0"}]


def test_parse_dedup_display(logs, app):
    g = [app["group"]]
    rows, _ = run(logs, "parse @message 'user=* action=* took=*ms' as user, action, took | filter ispresent(user) | sort took desc | display user, action, took", g)
    assert [(r["user"], r["action"], r["took"]) for r in rows] == [("alice", "login", "12"), ("bob", "logout", "3")]
    assert set(rows[0]) == {"user", "action", "took", "@ptr"}
    rows, _ = run(logs, r"parse @message /user=(?<who>\w+)/ | filter ispresent(who) | stats count(*) as n by who | sort who", g)
    assert rows == [{"who": "alice", "n": "1"}, {"who": "bob", "n": "1"}]
    rows, _ = run(logs, "filter ispresent(svc) | sort @timestamp desc | dedup svc | fields svc, level", g)
    assert [(r["svc"], r["level"]) for r in rows] == [("auth", "ERROR"), ("api", "WARN")]


def test_many_groups_and_identifiers(logs, app):
    rows, _ = run(logs, "stats count(*) as n by @log | sort n desc", [app["group"], app["lambda"]])
    assert [r["n"] for r in rows] == ["7", "5"]
    qid = logs.start_query(logGroupIdentifiers=[f"arn:aws:logs:us-east-1:000000000000:log-group:{app['lambda']}"],
                           startTime=BASE // 1000 - 60, endTime=BASE // 1000 + 60, queryString="stats count(*) as n")["queryId"]
    deadline = time.time() + 20
    while (out := logs.get_query_results(queryId=qid))["status"] != "Complete":
        assert time.time() < deadline
        time.sleep(0.05)
    assert out["results"] == [[{"field": "n", "value": "5"}]]
    # The time range is inclusive and in seconds: only the first minute's event.
    rows, _ = run(logs, "fields latency", [app["group"]], start=BASE // 1000, end=BASE // 1000 + 59)
    assert [r["latency"] for r in rows] == ["10"]


def test_lambda_report_fields(logs, app):
    rows, _ = run(logs, "filter @type = 'REPORT' | fields @requestId, @duration, @billedDuration, @memorySize, @maxMemoryUsed | sort @duration desc", [app["lambda"]])
    assert rows[0]["@requestId"] == "r-1" and rows[0]["@duration"] == "102.25" and rows[0]["@billedDuration"] == "103"
    assert rows[0]["@memorySize"] == "128000000" and rows[0]["@maxMemoryUsed"] == "71000000"
    rows, _ = run(logs, "filter @type = 'REPORT' | stats max(@duration) as worst, avg(@billedDuration) as billed, count(*) as n", [app["lambda"]])
    assert rows == [{"worst": "102.25", "billed": "55.5", "n": "2"}]
    rows, _ = run(logs, "filter @requestId = 'r-1' | stats count(*) as n by @type | sort @type", [app["lambda"]])
    assert rows == [{"@type": "END", "n": "1"}, {"@type": "REPORT", "n": "1"}, {"@type": "START", "n": "1"}]


def test_describe_and_stop_queries(logs, app):
    rows, _ = run(logs, "fields @message | limit 1", [app["group"]])
    queries = logs.describe_queries(logGroupName=app["group"], status="Complete")["queries"]
    assert queries and queries[0]["queryString"] == "fields @message | limit 1"
    assert queries[0]["logGroupName"] == app["group"] and queries[0]["status"] == "Complete"
    assert isinstance(queries[0]["createTime"], int)
    page = logs.describe_queries(maxResults=1)
    assert len(page["queries"]) == 1 and "nextToken" in page
    qid = queries[0]["queryId"]
    code, msg, _ = error_of(logs.stop_query, queryId=qid)
    assert code == "InvalidParameterException" and "not running" in msg
    code, _, _ = error_of(logs.get_query_results, queryId="00000000-0000-0000-0000-000000000000")
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.describe_queries, status="Done")
    assert code in ("InvalidParameterException", "ValidationException")


def test_errors(logs, app):
    code, msg, resp = error_of(logs.start_query, logGroupName=app["group"], startTime=0, endTime=10, queryString="fields a | filtr b = 1")
    assert code == "MalformedQueryException"
    loc = resp["queryCompileError"]["location"]
    assert (loc["startCharOffset"], loc["endCharOffset"]) == (11, 16)
    code, _, resp = error_of(logs.start_query, logGroupName=app["group"], startTime=0, endTime=10, queryString="stats nocount(*)")
    assert code == "MalformedQueryException" and resp["queryCompileError"]["location"]["startCharOffset"] == 6
    code, msg, _ = error_of(logs.start_query, logGroupName=app["group"], logGroupNames=[app["group"]], startTime=0, endTime=10, queryString="fields a")
    assert code == "InvalidParameterException"
    code, _, _ = error_of(logs.start_query, startTime=0, endTime=10, queryString="fields a")
    assert code == "InvalidParameterException"
    code, _, _ = error_of(logs.start_query, logGroupName=app["group"], startTime=10, endTime=0, queryString="fields a")
    assert code == "InvalidParameterException"
    code, msg, _ = error_of(logs.start_query, logGroupName=app["group"] + "-missing", startTime=0, endTime=10, queryString="fields a")
    assert code == "ResourceNotFoundException" and "does not exist" in msg
    code, _, _ = error_of(logs.start_query, logGroupName=app["group"], startTime=0, endTime=10, queryString="fields a", limit=100_001)
    assert code == "InvalidParameterException"


def test_results_survive_a_restart(tmp_path):
    """AWS keeps query results for 7 days; nimbus stores them in logs.db."""
    import boto3
    from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server

    def client(url):
        return boto3.client("logs", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    with nimbus_server(data_dir=tmp_path) as url:
        c = client(url)
        c.create_log_group(logGroupName="/keep")
        c.create_log_stream(logGroupName="/keep", logStreamName="s")
        c.put_log_events(logGroupName="/keep", logStreamName="s", logEvents=[{"timestamp": BASE + i, "message": f"line {i}"} for i in range(3)])
        rows, _ = run(c, "fields @message | sort @timestamp asc", ["/keep"])
        assert [r["@message"] for r in rows] == ["line 0", "line 1", "line 2"]
        qid = c.describe_queries()["queries"][0]["queryId"]
    with nimbus_server(data_dir=tmp_path) as url:
        c = client(url)
        out = c.get_query_results(queryId=qid)
        assert out["status"] == "Complete" and out["statistics"]["recordsScanned"] == 3
        assert [{f["field"]: f["value"] for f in r}["@message"] for r in out["results"]] == ["line 0", "line 1", "line 2"]
        page = c.get_query_results(queryId=qid, maxItems=2)
        assert len(page["results"]) == 2 and "nextToken" in page
        assert len(c.get_query_results(queryId=qid, nextToken=page["nextToken"])["results"]) == 1
        assert [q["queryId"] for q in c.describe_queries()["queries"]] == [qid]
