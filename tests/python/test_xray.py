"""AWS X-Ray through boto3 (REST-JSON): segments put and read back with AWS's checks,
trace summaries with filter expressions and boto3's paginator, the segment nimbus records
for a traced SQS SendMessage, the X-Ray daemon's UDP protocol, the unsigned sampling calls
the X-Ray SDKs make to the daemon's TCP address, OTLP/HTTP export, and durability.

AWS references:
https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html
https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html
https://docs.aws.amazon.com/xray/latest/api/API_BatchGetTraces.html
https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html
https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html
"""

import http.server
import json
import os
import queue as queue_mod
import socket
import threading
import time

import boto3
import botocore.exceptions
import pytest
import requests
from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server


def client(url, service="xray"):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


@pytest.fixture(scope="session")
def xray(make_client):
    return make_client("xray")


_counter = [int.from_bytes(os.urandom(4), "big")]


def new_trace():
    _counter[0] += 1
    return "1-%08x-%024x" % (int(time.time()), _counter[0])


def seg(trace, sid, name, parent=None, start=None, end=None, **extra):
    now = time.time()
    d = {"name": name, "id": "%016x" % sid, "trace_id": trace, "start_time": start if start is not None else now - 1,
         "end_time": end if end is not None else now}
    if parent is not None:
        d["parent_id"] = "%016x" % parent
    d.update(extra)
    return json.dumps(d)


def docs_of(xray, trace):
    traces = xray.batch_get_traces(TraceIds=[trace])["Traces"]
    return [json.loads(s["Document"]) for s in traces[0]["Segments"]] if traces else []


def wait_docs(xray, trace, pred, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        docs = docs_of(xray, trace)
        if any(pred(d) for d in docs):
            return docs
        assert time.monotonic() < deadline, f"no matching document in {trace}: {docs}"
        time.sleep(0.05)


def test_put_and_batch_get_round_trip(xray):
    t = new_trace()
    out = xray.put_trace_segments(TraceSegmentDocuments=[
        seg(t, 0xA1, "web", http={"request": {"method": "GET", "url": "http://x/"}, "response": {"status": 200}}),
        seg(t, 0xA2, "call", parent=0xA1, type="subsegment", namespace="remote"),
        json.dumps({"name": "web", "id": "%016x" % 0xA3, "trace_id": t, "start_time": time.time(), "in_progress": True}),
    ])
    assert out["UnprocessedTraceSegments"] == []
    got = xray.batch_get_traces(TraceIds=[t])
    [trace] = got["Traces"]
    assert trace["Id"] == t and trace["LimitExceeded"] is False
    docs = {json.loads(s["Document"])["id"]: json.loads(s["Document"]) for s in trace["Segments"]}
    assert set(docs) == {"%016x" % 0xA1, "%016x" % 0xA3}
    assert docs["%016x" % 0xA1]["subsegments"][0]["name"] == "call"
    # The finished segment replaces the in-progress one; an in-progress one never replaces a finished one.
    xray.put_trace_segments(TraceSegmentDocuments=[seg(t, 0xA3, "web", annotations={"done": True})])
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({"name": "web", "id": "%016x" % 0xA3, "trace_id": t, "start_time": time.time(), "in_progress": True})])
    docs = {d["id"]: d for d in docs_of(xray, t)}
    assert docs["%016x" % 0xA3]["annotations"] == {"done": True}


def test_bad_documents_come_back_unprocessed(xray):
    t = new_trace()
    out = xray.put_trace_segments(TraceSegmentDocuments=[
        "[1, 2",
        json.dumps({"id": "%016x" % 1, "trace_id": t, "start_time": 1, "end_time": 2}),
        json.dumps({"name": "n", "id": "%016x" % 2, "trace_id": t, "start_time": 2, "end_time": 1}),
        json.dumps({"name": "bad<name>", "id": "%016x" % 3, "trace_id": t, "start_time": 1, "end_time": 2}),
        json.dumps({"name": "n", "id": "%016x" % 4, "trace_id": t, "start_time": 1, "end_time": 2, "type": "subsegment"}),
    ])
    codes = [(u.get("Id"), u["ErrorCode"]) for u in out["UnprocessedTraceSegments"]]
    assert codes == [(None, "InvalidSegment"), ("%016x" % 1, "MissingName"), ("%016x" % 2, "InvalidEndTime"),
                     ("%016x" % 3, "InvalidName"), ("%016x" % 4, "MissingParentId")]
    assert all(u["Message"] for u in out["UnprocessedTraceSegments"])
    assert xray.batch_get_traces(TraceIds=[t])["UnprocessedTraceIds"] == [t]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        xray.batch_get_traces(TraceIds=[new_trace() for _ in range(6)])
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_summaries_filter_and_paginate(xray):
    now = time.time()
    marker = "m%d" % _counter[0]
    docs = []
    for i in range(150):
        t = new_trace()
        extra = {"annotations": {"run": marker, "i": i}}
        if i % 5 == 0:
            extra["error"] = True
            extra["http"] = {"response": {"status": 404}}
        docs.append(seg(t, 0x500 + i, "pyfn" if i % 2 else "pyapi", start=now - (2 if i % 4 == 0 else 0.2), end=now, **extra))
    for k in range(0, len(docs), 50):
        assert xray.put_trace_segments(TraceSegmentDocuments=docs[k:k + 50])["UnprocessedTraceSegments"] == []

    def ids(expr):
        pages = xray.get_paginator("get_trace_summaries").paginate(
            StartTime=now - 600, EndTime=now + 600, FilterExpression=expr)
        return [s["Id"] for p in pages for s in p["TraceSummaries"]]

    assert len(ids(f'annotation.run = "{marker}"')) == 150
    assert len(ids(f'annotation.run = "{marker}" AND error')) == 30
    assert len(ids(f'annotation.run = "{marker}" AND http.status = 404')) == 30
    assert len(ids(f'annotation.run = "{marker}" AND duration > 1')) == 38
    assert len(ids(f'annotation.run = "{marker}" AND service("pyfn") AND !error')) == 75 - 15
    assert len(ids(f'annotation.run = "{marker}" AND (annotation.i < 10 OR annotation.i >= 140)')) == 20
    page = xray.get_trace_summaries(StartTime=now - 600, EndTime=now + 600, FilterExpression=f'annotation.run = "{marker}"')
    assert len(page["TraceSummaries"]) == 100 and "NextToken" in page
    s = page["TraceSummaries"][0]
    assert {"Id", "Duration", "ResponseTime", "HasFault", "HasError", "HasThrottle", "IsPartial", "ServiceIds", "Annotations"} <= set(s)
    for bad, says in [('rootcause.fault.entity { name = "x" }', "not supported by nimbus"), ("duration >", "Invalid filter expression")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            xray.get_trace_summaries(StartTime=now - 600, EndTime=now, FilterExpression=bad)
        assert e.value.response["Error"]["Code"] == "InvalidRequestException"
        assert says in e.value.response["Error"]["Message"]


def test_traced_send_message_shows_an_sqs_segment(xray, sqs):
    q = sqs.create_queue(QueueName="xray-traced-%d" % _counter[0])["QueueUrl"]
    t = new_trace()

    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = f"Root={t};Parent=53995c3f42cd8ad8;Sampled=1"

    sqs.meta.events.register("before-sign.sqs.SendMessage", add_header)
    try:
        sqs.send_message(QueueUrl=q, MessageBody="traced")
    finally:
        sqs.meta.events.unregister("before-sign.sqs.SendMessage", add_header)
    docs = wait_docs(xray, t, lambda d: d["name"] == "SQS")
    [s] = [d for d in docs if d["name"] == "SQS"]
    assert s["parent_id"] == "53995c3f42cd8ad8"
    assert s["origin"] == "AWS::SQS::Queue"
    assert s["aws"]["operation"] == "SendMessage"
    assert s["aws"]["queue_url"] == q
    assert s["http"]["response"]["status"] == 200


def test_sdk_sampling_calls_work_unsigned(endpoint):
    """The X-Ray SDKs POST unsigned to the daemon's TCP address."""
    rules = requests.post(endpoint + "/GetSamplingRules", json={}, timeout=10)
    assert rules.status_code == 200, rules.text
    [d] = [r["SamplingRule"] for r in rules.json()["SamplingRuleRecords"] if r["SamplingRule"]["RuleName"] == "Default"]
    assert (d["FixedRate"], d["ReservoirSize"], d["Priority"], d["ServiceName"], d["Version"]) == (0.05, 1, 10000, "*", 1)
    targets = requests.post(endpoint + "/SamplingTargets", json={"SamplingStatisticsDocuments": [
        {"RuleName": "Default", "ClientID": "a" * 24, "Timestamp": time.time(), "RequestCount": 4, "SampledCount": 1, "BorrowCount": 0}]}, timeout=10)
    assert targets.status_code == 200, targets.text
    [t] = targets.json()["SamplingTargetDocuments"]
    assert t["RuleName"] == "Default" and t["FixedRate"] == 0.05 and t["Interval"] == 10


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_daemon_udp_datagrams_join_the_trace():
    port = free_udp_port()
    with nimbus_server(extra_args=["--xray-daemon-address", f"127.0.0.1:{port}"]) as url:
        xray = client(url)
        t = new_trace()
        xray.put_trace_segments(TraceSegmentDocuments=[seg(t, 0xB1, "handler")])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            sub = seg(t, 0xB2, "Dynamo", parent=0xB1, type="subsegment", namespace="aws", fault=True)
            s.sendto(b'{"format": "json", "version": 1}\n' + sub.encode(), ("127.0.0.1", port))
        docs = wait_docs(xray, t, lambda d: any(x["name"] == "Dynamo" for x in d.get("subsegments", [])))
        assert len(docs) == 1
        now = time.time()
        [summary] = xray.get_trace_summaries(StartTime=now - 60, EndTime=now + 60, FilterExpression="fault")["TraceSummaries"]
        assert summary["Id"] == t and summary["HasFault"] is True


def test_traces_are_exported_over_otlp():
    posts = queue_mod.Queue()

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.put((self.path, self.headers["Content-Type"], json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with nimbus_server(extra_args=["--otlp-endpoint", f"http://127.0.0.1:{server.server_port}"]) as url:
            t = new_trace()
            client(url).put_trace_segments(TraceSegmentDocuments=[seg(t, 0xC1, "otlp-svc", error=True, aws={"operation": "Query"})])
            path, ctype, body = posts.get(timeout=10)
            assert path == "/v1/traces" and ctype == "application/json"
            [rs] = body["resourceSpans"]
            assert {"key": "service.name", "value": {"stringValue": "otlp-svc"}} in rs["resource"]["attributes"]
            [span] = rs["scopeSpans"][0]["spans"]
            assert span["traceId"] == t[2:].replace("-", "") and len(span["traceId"]) == 32
            assert span["spanId"] == "%016x" % 0xC1
            assert span["status"]["code"] == 2
            assert int(span["endTimeUnixNano"]) > int(span["startTimeUnixNano"])
            assert {"key": "aws.operation", "value": {"stringValue": "Query"}} in span["attributes"]
    finally:
        server.shutdown()


def test_traces_survive_a_restart(tmp_path):
    t = new_trace()
    with nimbus_server(data_dir=tmp_path) as url:
        client(url).put_trace_segments(TraceSegmentDocuments=[seg(t, 0xD1, "kept")])
    with nimbus_server(data_dir=tmp_path) as url:
        [doc] = docs_of(client(url), t)
        assert doc["name"] == "kept"
