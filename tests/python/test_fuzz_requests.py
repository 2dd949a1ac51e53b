"""A bounded black-box fuzz run of every request decoder: valid requests of each
protocol nimbus speaks (SQS JSON and query, DynamoDB JSON, Lambda REST-JSON, Logs
JSON 1.1, STS query, CloudWatch RPC v2 CBOR) are mutated at random — bytes flipped, inserted, cut, repeated,
values swapped for deep nesting, huge numbers, wrong types, invalid UTF-8, wrong
headers — and sent to a durable nimbus of this test's own. No answer may be a 5xx,
the server must stay up, and the data stored before the run (a queue's message, a
table's item, a function) must be intact afterwards and after a restart.

Deterministic: seed from NIMBUS_FUZZ_SEED (default fixed), duration from
NIMBUS_FUZZ_SECONDS (default 15)."""

import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import DEFAULT_BIN, REPO_ROOT, python_runtime, zip_directory

SECONDS = float(os.environ.get("NIMBUS_FUZZ_SECONDS", "15"))
SEED = int(os.environ.get("NIMBUS_FUZZ_SEED", "20261203"))
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261203/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A durable nimbus on a data directory of its own, restartable."""

    def __init__(self):
        self.data = Path(tempfile.mkdtemp(prefix="nimbus-fuzz-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = open(self.data.parent / f"{self.data.name}.log", "wb")

    def start(self):
        binary = Path(os.environ.get("NIMBUS_BIN", str(DEFAULT_BIN)))
        if not binary.is_absolute():
            binary = REPO_ROOT / binary
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"nimbus exited with {self.proc.returncode}"
            try:
                if requests.get(self.url + "/_nimbus/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("nimbus did not start")

    def alive(self):
        return self.proc.poll() is None and requests.get(self.url + "/_nimbus/health", timeout=5).status_code == 200

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server():
    s = Server()
    s.start()
    yield s
    if s.proc.poll() is None:
        s.kill()
    s.log.close()
    shutil.rmtree(s.data, ignore_errors=True)


def client(server, service):
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}),
    )


def stored_state(server, names):
    """What must survive: the queue's one message, the table's one item, the function."""
    sqs, ddb, lam = client(server, "sqs"), client(server, "dynamodb"), client(server, "lambda")
    url = sqs.get_queue_url(QueueName=names["queue"])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    item = ddb.get_item(TableName=names["table"], Key={"pk": {"S": "keep"}}, ConsistentRead=True).get("Item")
    code_sha = lam.get_function(FunctionName=names["function"])["Configuration"]["CodeSha256"]
    return attrs["ApproximateNumberOfMessages"], item, code_sha


class Tag1(float):
    """An epoch-seconds timestamp: CBOR tag 1 around a double."""


def cbor(v):
    """A small CBOR (RFC 8949) writer for the RPC v2 CBOR seeds."""
    import struct

    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | info]) + struct.pack(fmt, n)
    if isinstance(v, Tag1):
        return head(6, 1) + b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(i) for i in v)
    return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())


def seeds(names, url):
    """(method, path, headers, body) of valid requests, one or more per protocol."""
    queue_url = f"{url}/000000000000/{names['queue']}"
    json10 = lambda target, service: {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target, "Authorization": AUTH.format(service=service)}
    json11 = lambda target, service: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target, "Authorization": AUTH.format(service=service)}
    form = lambda service: {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": AUTH.format(service=service)}
    rest = lambda: {"Content-Type": "application/json", "Authorization": AUTH.format(service="lambda")}
    rpc = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor", "Authorization": AUTH.format(service="monitoring")}
    cw = "/service/GraniteServiceVersion20100801/operation/"
    other_queue = f"{url}/000000000000/{names['scratch_queue']}"
    item = {"pk": {"S": "fuzz"}, "doc": {"M": {"l": {"L": [{"N": "1"}, {"SS": ["a", "b"]}, {"M": {"x": {"B": "AQ=="}}}]}}}, "n": {"N": "12.5"}}
    return [
        ("POST", "/", json10("AmazonSQS.SendMessage", "sqs"), json.dumps({
            "QueueUrl": other_queue, "MessageBody": "hello", "DelaySeconds": 0,
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": "AQID"}}})),
        ("POST", "/", json10("AmazonSQS.ReceiveMessage", "sqs"), json.dumps({
            "QueueUrl": other_queue, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0, "MessageAttributeNames": ["All"]})),
        ("POST", "/", json10("AmazonSQS.SendMessageBatch", "sqs"), json.dumps({
            "QueueUrl": other_queue, "Entries": [{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "y", "DelaySeconds": 1}]})),
        ("POST", "/", json10("AmazonSQS.CreateQueue", "sqs"), json.dumps({"QueueName": "fuzz-created", "Attributes": {"VisibilityTimeout": "30"}, "tags": {"k": "v"}})),
        ("POST", "/", form("sqs"), f"Action=SendMessage&Version=2012-11-05&QueueUrl={other_queue}&MessageBody=hi"
            "&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v"),
        ("GET", f"/000000000000/{names['scratch_queue']}?Action=ReceiveMessage&MaxNumberOfMessages=2", {"Authorization": AUTH.format(service="sqs")}, ""),
        ("POST", "/", json10("DynamoDB_20120810.PutItem", "dynamodb"), json.dumps({"TableName": names["scratch_table"], "Item": item})),
        ("POST", "/", json10("DynamoDB_20120810.UpdateItem", "dynamodb"), json.dumps({
            "TableName": names["scratch_table"], "Key": {"pk": {"S": "fuzz"}},
            "UpdateExpression": "SET #d.l[0] = :n, c = if_not_exists(c, :z) + :n REMOVE x",
            "ConditionExpression": "attribute_exists(pk) AND (size(#d) > :z OR NOT begins_with(pk, :p))",
            "ExpressionAttributeNames": {"#d": "doc"}, "ExpressionAttributeValues": {":n": {"N": "1"}, ":z": {"N": "0"}, ":p": {"S": "f"}}})),
        ("POST", "/", json10("DynamoDB_20120810.Query", "dynamodb"), json.dumps({
            "TableName": names["scratch_table"], "KeyConditionExpression": "pk = :p", "FilterExpression": "n BETWEEN :a AND :b",
            "ProjectionExpression": "pk, doc.l[2].x", "ExpressionAttributeValues": {":p": {"S": "fuzz"}, ":a": {"N": "1"}, ":b": {"N": "100"}}})),
        ("POST", "/", json10("DynamoDB_20120810.BatchWriteItem", "dynamodb"), json.dumps({
            "RequestItems": {names["scratch_table"]: [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": {"pk": {"S": "zz"}}}}]}})),
        ("POST", "/", json10("DynamoDB_20120810.TransactWriteItems", "dynamodb"), json.dumps({
            "TransactItems": [{"Put": {"TableName": names["scratch_table"], "Item": {"pk": {"S": "t"}}}},
                              {"ConditionCheck": {"TableName": names["scratch_table"], "Key": {"pk": {"S": "fuzz"}}, "ConditionExpression": "attribute_exists(pk)"}}]})),
        ("POST", "/", json10("DynamoDB_20120810.CreateTable", "dynamodb"), json.dumps({
            "TableName": "fuzz-t", "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]})),
        ("POST", f"/2015-03-31/functions/{names['function']}/invocations", rest(), json.dumps({"hello": [1, 2, {"a": None}]})),
        ("GET", "/2015-03-31/functions/?MaxItems=5&Marker=abc", rest(), ""),
        ("PUT", f"/2015-03-31/functions/{names['scratch_function']}/configuration", rest(), json.dumps({"Timeout": 5, "Environment": {"Variables": {"A": "b"}}})),
        ("POST", "/2015-03-31/event-source-mappings/", rest(), json.dumps({"FunctionName": names["scratch_function"], "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:nope", "BatchSize": 5})),
        ("POST", "/", json11("Logs_20140328.PutLogEvents", "logs"), json.dumps({
            "logGroupName": names["log_group"], "logStreamName": "s", "logEvents": [{"timestamp": 1764720000000, "message": "{\"a\":1}"}]})),
        ("POST", "/", json11("Logs_20140328.FilterLogEvents", "logs"), json.dumps({
            "logGroupName": names["log_group"], "filterPattern": "{ ($.a = 1 || $.b > 2) && $.c NOT EXISTS }", "limit": 5})),
        ("POST", "/", form("sts"), "Action=GetCallerIdentity&Version=2011-06-15"),
        ("POST", cw + "PutMetricData", rpc, cbor({"Namespace": "Fuzz", "MetricData": [
            {"MetricName": "m", "Dimensions": [{"Name": "d", "Value": "v"}], "Values": [1.5, 2.0], "Counts": [1.0, 3.0], "Unit": "Count"},
            {"MetricName": "s", "StatisticValues": {"SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0}}]})),
        ("POST", cw + "GetMetricStatistics", rpc, cbor({"Namespace": "Fuzz", "MetricName": "m", "Period": 60, "Statistics": ["Sum"],
                                                        "StartTime": Tag1(1764720000.0), "EndTime": Tag1(1764723600.0)})),
        ("POST", cw + "GetMetricData", rpc, cbor({"StartTime": Tag1(1764720000.0), "EndTime": Tag1(1764723600.0), "MetricDataQueries": [
            {"Id": "a", "MetricStat": {"Metric": {"Namespace": "Fuzz", "MetricName": "m"}, "Period": 60, "Stat": "p99"}},
            {"Id": "b", "Expression": "SUM(METRICS()) * (a + 2) / -a"}]})),
    ]


DEEP = ["\"" + "(" * 2000 + "a = :z" + ")" * 2000 + "\"", "\"" + "NOT " * 1000 + "pk = :p\"", "\"" + "a" + ".b" * 1500 + "\"", "[" * 3000 + "]" * 3000, "{\"a\":" * 3000 + "1" + "}" * 3000, "1" + "0" * 500, "-1e999999", "\"\\ud800\"", "null", "true", "[]", "{}", "\"\"", "1.5"]


EXPRESSIONS = ["(" * 2000 + "a = :z" + ")" * 2000, "NOT " * 1000 + "pk = :p", "a" + ".b" * 1500, "a" + "[0]" * 1300,
               "size(" * 800 + "a" + ")" * 800, "SET a = " + "list_append(:n," * 300 + ":n" + ")" * 300, "(" * 4000,
               " OR ".join(["a = :z"] * 400), "{ " + "(" * 500 + "$.a = 1" + ")" * 500 + " }"]


def hostile_expression(rng, text):
    """Replaces the text of one expression parameter (DynamoDB's *Expression, Logs'
    filterPattern) with a deeply nested or oversized one."""
    keys = [k for k in ("ConditionExpression", "FilterExpression", "KeyConditionExpression", "ProjectionExpression",
                        "UpdateExpression", "filterPattern") if f'"{k}": "' in text]
    if not keys:
        return text
    key = f'"{rng.choice(keys)}": "'
    start = text.index(key) + len(key)
    end = text.index('"', start)
    return text[:start] + rng.choice(EXPRESSIONS) + text[end:]


def mutate(rng, body):
    data = bytearray(body.encode() if isinstance(body, str) else body)
    if rng.randrange(4) == 0:
        data = bytearray(hostile_expression(rng, data.decode("utf-8", "replace")).encode())
    for _ in range(rng.randint(0 if rng.randrange(3) == 0 else 1, 4)):
        choice = rng.randrange(9)
        if choice == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice == 1:
            data[rng.randrange(len(data) + 1):0] = bytes([rng.randrange(256)]) * rng.randint(1, 3)
        elif choice == 2 and data:
            start = rng.randrange(len(data))
            del data[start:start + rng.randint(1, 20)]
        elif choice == 3 and data:
            del data[rng.randrange(len(data)):]
        elif choice == 4 and data:
            start = rng.randrange(len(data))
            chunk = data[start:start + rng.randint(1, 30)]
            data[start:start] = chunk * rng.randint(2, 50)
        elif choice == 5:
            # Replace a JSON value (after a colon) or a form value (after =) with something hostile.
            text = data.decode("utf-8", "replace")
            marks = [i for i, c in enumerate(text) if c in ":="]
            if marks:
                at = rng.choice(marks) + 1
                end = at
                while end < len(text) and text[end] not in ",}&]":
                    end += 1
                text = text[:at] + rng.choice(DEEP) + text[end:]
                data = bytearray(text.encode())
        elif choice == 6:
            data[rng.randrange(len(data) + 1):0] = rng.choice([b"\xff\xfe", b"\xc3", b"\x00", b"%", b"%zz", b"&=&", b"\\u0000"])
        elif choice == 7:
            text = data.decode("utf-8", "replace")
            text = text.replace("\"S\"", rng.choice(["\"N\"", "\"L\"", "\"M\"", "\"SS\"", "\"BOOL\"", "\"X\""]), 1)
            data = bytearray(text.encode())
        else:
            data = bytearray(data.decode("utf-8", "replace").replace(",", ",\"x\":" + rng.choice(DEEP) + ",", 1).encode())
    return bytes(data)


def mutate_headers(rng, headers):
    h = dict(headers)
    roll = rng.randrange(12)
    if roll == 0 and "X-Amz-Target" in h:
        h["X-Amz-Target"] = h["X-Amz-Target"].replace(".", rng.choice([".Nope", "", "..", ".X."]), 1)
    elif roll == 1:
        h["Content-Type"] = rng.choice(["text/plain", "application/x-amz-json-1.1", "application/xml", "", "application/json; charset=utf-16"])
    elif roll == 2:
        h["Authorization"] = rng.choice(["", "AWS4-HMAC-SHA256", "Bearer x", AUTH.format(service="nope").replace("us-east-1", "xx-" * 100)])
    elif roll == 3:
        h["Content-Encoding"] = rng.choice(["gzip", "deflate", "br", "identity"])
    elif roll == 4:
        h["X-Amzn-Trace-Id"] = rng.choice(["Root=1-", "x" * 5000, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=;Sampled=9"])
    return h


def test_mutated_requests_never_crash_or_corrupt(server):
    rng = random.Random(SEED)
    names = {k: f"fuzz-{k.replace('_', '-')}-{uuid.uuid4().hex[:6]}" for k in
             ("queue", "scratch_queue", "table", "scratch_table", "function", "scratch_function", "log_group")}
    sqs, ddb, lam, logs = (client(server, s) for s in ("sqs", "dynamodb", "lambda", "logs"))
    url = sqs.create_queue(QueueName=names["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="keep me")
    sqs.create_queue(QueueName=names["scratch_queue"])
    for table in (names["table"], names["scratch_table"]):
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.put_item(TableName=names["table"], Item={"pk": {"S": "keep"}, "doc": {"M": {"a": {"L": [{"N": "1"}]}}}})
    code = zip_directory(REPO_ROOT / "tests" / "functions" / "python")
    for fn in (names["function"], names["scratch_function"]):
        lam.create_function(FunctionName=fn, Runtime=python_runtime(), Role="arn:aws:iam::000000000000:role/r", Handler="handler.echo",
                            Code={"ZipFile": code})
    logs.create_log_group(logGroupName=names["log_group"])
    logs.create_log_stream(logGroupName=names["log_group"], logStreamName="s")
    before = stored_state(server, names)

    corpus = seeds(names, server.url)
    # Each seed as sent must be accepted or refused cleanly too.
    failures, sent = [], 0
    started = time.monotonic()
    while time.monotonic() - started < SECONDS:
        method, path, headers, body = rng.choice(corpus)
        if sent >= len(corpus):
            body = mutate(rng, body)
            headers = mutate_headers(rng, headers)
        try:
            resp = requests.request(method, server.url + path, data=body, headers=headers, timeout=30)
        except requests.RequestException as e:
            failures.append((path, headers.get("X-Amz-Target"), body[:200], f"no answer: {e}"))
            assert server.alive(), f"nimbus died on {method} {path} {headers} {body[:300]!r}"
            continue
        if resp.status_code >= 500:
            failures.append((path, headers.get("X-Amz-Target"), body[:200], resp.status_code, resp.text[:300]))
        sent += 1
    assert server.alive()
    assert sent > 100, sent
    assert not failures, f"{len(failures)} of {sent} requests got a 5xx or no answer (seed {SEED}); first: {failures[:3]}"
    assert stored_state(server, names) == before
    # And after kill -9 and a restart on the same data directory.
    server.kill()
    server.start()
    assert stored_state(server, names) == before
