"""DynamoDB through boto3's high-level Table resource (Key / Attr conditions, batch
writer, pagination) and the AWS CLI (put-item, query)."""

import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from test_awscli import aws  # noqa: F401  (the CLI fixture)

REGION = "us-east-1"


@pytest.fixture(scope="module")
def ddb(endpoint):
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )


def make_table(ddb):
    name = f"py-{uuid.uuid4().hex[:10]}"
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    return table


def test_table_resource_conditions_and_queries(ddb):
    table = make_table(ddb)
    with table.batch_writer() as batch:
        for i in range(30):
            batch.put_item(Item={"pk": "user#1", "sk": i, "score": Decimal(i) / 2, "tags": {"a", "b"}})
    got = table.get_item(Key={"pk": "user#1", "sk": 3})["Item"]
    assert got["score"] == Decimal("1.5")
    assert got["tags"] == {"a", "b"}

    res = table.query(KeyConditionExpression=Key("pk").eq("user#1") & Key("sk").between(5, 9), ScanIndexForward=False)
    assert [int(i["sk"]) for i in res["Items"]] == [9, 8, 7, 6, 5]

    res = table.query(KeyConditionExpression=Key("pk").eq("user#1"), FilterExpression=Attr("score").gte(10))
    assert res["Count"] == 10 and res["ScannedCount"] == 30

    table.update_item(
        Key={"pk": "user#1", "sk": 0},
        UpdateExpression="SET #c = if_not_exists(#c, :z) + :one REMOVE tags",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":z": 0, ":one": 1},
    )
    item = table.get_item(Key={"pk": "user#1", "sk": 0})["Item"]
    assert item["count"] == 1 and "tags" not in item

    with pytest.raises(ClientError) as e:
        table.put_item(Item={"pk": "user#1", "sk": 0}, ConditionExpression=Attr("pk").not_exists())
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert e.value.response["Error"]["Message"] == "The conditional request failed"

    # Pagination by LastEvaluatedKey.
    seen, kwargs = 0, {"Limit": 7}
    while True:
        page = table.scan(**kwargs)
        seen += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == 30

    table.delete()
    table.wait_until_not_exists()


def test_multi_attribute_gsi_key_through_boto3(ddb):
    """A GSI keyed by two HASH and two RANGE attributes
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys):
    boto3's Key conditions on every HASH attribute and a RANGE prefix."""
    name = f"py-{uuid.uuid4().hex[:10]}"
    attrs = [("pk", "S"), ("tenant", "S"), ("site", "S"), ("stage", "N"), ("slot", "S")]
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attrs],
        GlobalSecondaryIndexes=[{
            "IndexName": "multi",
            "KeySchema": [
                {"AttributeName": "tenant", "KeyType": "HASH"},
                {"AttributeName": "site", "KeyType": "HASH"},
                {"AttributeName": "stage", "KeyType": "RANGE"},
                {"AttributeName": "slot", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    rows = [("a", 10, "x"), ("b", 2, "y"), ("c", 2, "x"), ("d", 2, None)]
    for pk, stage, slot in rows:
        item = {"pk": pk, "tenant": "t", "site": "s", "stage": stage}
        if slot:
            item["slot"] = slot
        table.put_item(Item=item)
    ks = table.meta.client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert [(k["AttributeName"], k["KeyType"]) for k in ks] == [("tenant", "HASH"), ("site", "HASH"), ("stage", "RANGE"), ("slot", "RANGE")]
    both = Key("tenant").eq("t") & Key("site").eq("s")
    res = table.query(IndexName="multi", KeyConditionExpression=both)
    assert [i["pk"] for i in res["Items"]] == ["c", "b", "a"]  # d lacks slot: not indexed
    res = table.query(IndexName="multi", KeyConditionExpression=both & Key("stage").eq(2) & Key("slot").gt("x"))
    assert [i["pk"] for i in res["Items"]] == ["b"]
    with pytest.raises(ClientError) as e:
        table.query(IndexName="multi", KeyConditionExpression=both & Key("slot").eq("x"))
    assert e.value.response["Error"]["Message"] == (
        "RANGE key attributes stage must have equality conditions specified in the query "
        "because a condition is present on key attribute slot"
    )


def test_cli_put_item_and_query(aws, ddb):  # noqa: F811
    table = make_table(ddb)
    aws("dynamodb", "put-item", "--table-name", table.name, "--item", '{"pk": {"S": "cli"}, "sk": {"N": "1"}, "v": {"S": "hello"}}')
    aws("dynamodb", "put-item", "--table-name", table.name, "--item", '{"pk": {"S": "cli"}, "sk": {"N": "2"}, "v": {"S": "world"}}')
    out = aws(
        "dynamodb", "query", "--table-name", table.name,
        "--key-condition-expression", "pk = :p",
        "--expression-attribute-values", '{":p": {"S": "cli"}}',
    )
    assert out["Count"] == 2
    assert [i["v"]["S"] for i in out["Items"]] == ["hello", "world"]
    p = aws("dynamodb", "describe-table", "--table-name", "no-such-table", expect_ok=False)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


# ---- the wire, as raw HTTP (issue 11) ----

import gzip  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import urllib.parse  # noqa: E402
import zlib  # noqa: E402

import requests  # noqa: E402

JSON_10 = "application/x-amz-json-1.0"


def ddb_call(endpoint, op, body, headers=None, raw=None):
    """One DynamoDB JSON 1.0 call; `raw` replaces the JSON-encoded body."""
    h = {"X-Amz-Target": f"DynamoDB_20120810.{op}", "Content-Type": JSON_10}
    h.update(headers or {})
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(endpoint + "/", data=data, headers=h, stream=True)


def raw_table(endpoint):
    name = f"raw-{uuid.uuid4().hex[:10]}"
    r = ddb_call(endpoint, "CreateTable", {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    assert r.status_code == 200, r.text
    return name


@pytest.mark.parametrize("item, message", [
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html:
    # N is a string on the wire; AWS's front end refuses a JSON number.
    ({"pk": {"S": "a"}, "n": {"N": 5}}, "NUMBER_VALUE cannot be converted to String"),
    ({"pk": {"S": 5}}, "NUMBER_VALUE cannot be converted to String"),
    ({"pk": {"S": "a"}, "b": {"B": "abc"}}, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
    ({"pk": {"S": "a"}, "f": {"BOOL": "yes"}}, "STRING_VALUE cannot be converted to Boolean"),
    ({"pk": {"S": "a"}, "l": {"L": {"S": "x"}}}, "Start of structure or map found where not expected."),
    ({"pk": {"S": "a"}, "s": {"S": ["x"]}}, "Start of list found where not expected"),
])
def test_wrong_json_types_are_serialization_exceptions(endpoint, item, message):
    name = raw_table(endpoint)
    r = ddb_call(endpoint, "PutItem", {"TableName": name, "Item": item})
    assert r.status_code == 400
    body = r.json()
    assert body["__type"] == "com.amazon.coral.service#SerializationException", body
    assert body["message"] == message


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_request_bodies_are_accepted(endpoint, encoding):
    """https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html"""
    name = raw_table(endpoint)
    payload = json.dumps({"TableName": name, "Item": {"pk": {"S": "z"}, "v": {"S": "zipped"}}}).encode()
    packed = gzip.compress(payload) if encoding == "gzip" else zlib.compress(payload)
    r = ddb_call(endpoint, "PutItem", None, headers={"Content-Encoding": encoding}, raw=packed)
    assert r.status_code == 200, r.text
    got = ddb_call(endpoint, "GetItem", {"TableName": name, "Key": {"pk": {"S": "z"}}}).json()
    assert got["Item"]["v"] == {"S": "zipped"}
    bad = ddb_call(endpoint, "PutItem", None, headers={"Content-Encoding": encoding}, raw=b"not compressed")
    assert bad.status_code == 400


def test_large_responses_are_compressed_when_asked(endpoint):
    """DynamoDB compresses responses of 4 KB and more when Accept-Encoding allows gzip or
    deflate (observed behaviour recorded by ScyllaDB's Alternator tests), and the
    x-amz-crc32 covers the bytes sent."""
    name = raw_table(endpoint)
    big = "x" * 5000
    ddb_call(endpoint, "PutItem", {"TableName": name, "Item": {"pk": {"S": "big"}, "v": {"S": big}}})
    ddb_call(endpoint, "PutItem", {"TableName": name, "Item": {"pk": {"S": "small"}, "v": {"S": "x"}}})
    get = {"TableName": name, "Key": {"pk": {"S": "big"}}}
    for accept, want in [("gzip", "gzip"), ("deflate", "deflate"), ("br, deflate, gzip", "deflate"), ("identity", None), ("gzip;q=0", None)]:
        r = ddb_call(endpoint, "GetItem", get, headers={"Accept-Encoding": accept})
        raw = r.raw.read(decode_content=False)
        assert r.headers.get("Content-Encoding") == want, accept
        assert int(r.headers["x-amz-crc32"]) == zlib.crc32(raw)
        text = {"gzip": gzip.decompress, "deflate": zlib.decompress, None: lambda b: b}[want](raw)
        assert json.loads(text)["Item"]["v"]["S"] == big
    r = ddb_call(endpoint, "GetItem", {"TableName": name, "Key": {"pk": {"S": "small"}}}, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in r.headers


def test_get_root_answers_the_health_line(endpoint):
    r = requests.get(endpoint + "/")
    assert r.status_code == 200
    assert r.text == "healthy: dynamodb.us-east-1.amazonaws.com "
    head = requests.head(endpoint + "/")
    assert head.status_code == 200 and head.content == b""


def test_cors_headers_and_preflight(endpoint):
    pre = requests.options(endpoint + "/", headers={
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,authorization",
    })
    assert pre.status_code == 200 and pre.content == b""
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Headers"] == "content-type,x-amz-target,authorization"
    r = ddb_call(endpoint, "ListTables", {}, headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-RequestId" in r.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in ddb_call(endpoint, "ListTables", {}).headers


def test_oversized_headers_are_refused_and_the_server_lives(endpoint):
    u = urllib.parse.urlparse(endpoint)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\n\r\n"
        try:
            sock.sendall(head)
        except OSError:
            pass  # the server may close before reading everything
        status = sock.recv(64)
    assert status.startswith(b"HTTP/1.1 431"), status
    assert requests.get(endpoint + "/").status_code == 200
