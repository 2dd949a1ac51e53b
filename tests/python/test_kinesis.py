"""Kinesis Data Streams through boto3 and the AWS CLI: the calls producers and consumers
make (create and wait for the stream, put_record / put_records, shard iterators and
get_records, boto3's paginators over ListShards / ListStreams / DescribeStream), resharding
as a consumer sees it, and AWS's modelled exceptions for bad input.

AWS references:
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html
https://docs.aws.amazon.com/cli/latest/reference/kinesis/index.html
"""

import uuid

import pytest

MAX_HASH = str(2**128 - 1)


@pytest.fixture(scope="session")
def kinesis(make_client):
    return make_client("kinesis")


@pytest.fixture
def stream(kinesis):
    """A fresh stream of two shards, ACTIVE (boto3's waiter)."""
    name = f"nimbus-test-{uuid.uuid4().hex[:12]}"
    kinesis.create_stream(StreamName=name, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    yield name
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def read_shard(kinesis, stream, shard, kind="TRIM_HORIZON"):
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=kind)["ShardIterator"]
    out = kinesis.get_records(ShardIterator=it)
    return out


def test_put_and_get_records(kinesis, stream):
    one = kinesis.put_record(StreamName=stream, Data=b"hello", PartitionKey="a")
    assert one["ShardId"] == "shardId-000000000000"  # md5("a") is in the lower half
    assert len(one["SequenceNumber"]) == 56
    batch = kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": f"r{i}".encode(), "PartitionKey": "a"} for i in range(5)] + [{"Data": b"top", "PartitionKey": "z", "ExplicitHashKey": MAX_HASH}],
    )
    assert batch["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in batch["Records"]] == ["shardId-000000000000"] * 5 + ["shardId-000000000001"]
    out = read_shard(kinesis, stream, "shardId-000000000000")
    assert [r["Data"] for r in out["Records"]] == [b"hello", b"r0", b"r1", b"r2", b"r3", b"r4"]
    assert out["MillisBehindLatest"] == 0
    assert out["Records"][0]["PartitionKey"] == "a"
    assert out["Records"][0]["ApproximateArrivalTimestamp"].year >= 2024
    assert "NextShardIterator" in out
    top = read_shard(kinesis, stream, "shardId-000000000001")
    assert [r["Data"] for r in top["Records"]] == [b"top"]


def test_paginators_and_summaries(kinesis, stream):
    # ListShards' NextToken names the stream alone: boto3's paginator re-sends StreamName and
    # fails, on AWS as here (https://github.com/boto/botocore/issues/2009).
    with pytest.raises(kinesis.exceptions.InvalidArgumentException) as e:
        list(kinesis.get_paginator("list_shards").paginate(StreamName=stream, PaginationConfig={"PageSize": 1}))
    assert e.value.response["Error"]["Message"] == "NextToken and StreamName cannot be provided together."
    first = kinesis.list_shards(StreamName=stream, MaxResults=1)
    shards = first["Shards"] + kinesis.list_shards(NextToken=first["NextToken"])["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
    assert shards[1]["HashKeyRange"]["EndingHashKey"] == MAX_HASH
    names = [n for page in kinesis.get_paginator("list_streams").paginate() for n in page["StreamNames"]]
    assert stream in names
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"], summary["EncryptionType"]) == (2, 24, "NONE")
    described = [s for page in kinesis.get_paginator("describe_stream").paginate(StreamName=stream) for s in page["StreamDescription"]["Shards"]]
    assert len(described) == 2


def test_split_then_read_parent_to_its_children(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"before", PartitionKey="p", ExplicitHashKey="0")
    kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="p", ExplicitHashKey="0")
    parent = read_shard(kinesis, stream, "shardId-000000000000")
    assert [r["Data"] for r in parent["Records"]] == [b"before"]
    assert "NextShardIterator" not in parent
    assert [c["ShardId"] for c in parent["ChildShards"]] == ["shardId-000000000002", "shardId-000000000003"]
    assert parent["ChildShards"][0]["ParentShards"] == ["shardId-000000000000"]
    child = read_shard(kinesis, stream, "shardId-000000000002")
    assert [r["Data"] for r in child["Records"]] == [b"after"]


def test_modelled_errors(kinesis, stream):
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as e:
        kinesis.describe_stream(StreamName="nimbus-no-such-stream")
    assert e.value.response["Error"]["Message"] == "Stream nimbus-no-such-stream under account 000000000000 not found."
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=stream, ShardCount=1)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_records(ShardIterator="bogus")
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=10_000)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000042", ShardIteratorType="LATEST")


def test_aws_cli(aws_cli):
    name = f"nimbus-cli-{uuid.uuid4().hex[:12]}"
    aws_cli("kinesis", "create-stream", "--stream-name", name, "--shard-count", "1")
    described = aws_cli("kinesis", "describe-stream", "--stream-name", name)
    assert described["StreamDescription"]["StreamStatus"] == "ACTIVE"
    assert described["StreamDescription"]["Shards"][0]["ShardId"] == "shardId-000000000000"
    shards = aws_cli("kinesis", "list-shards", "--stream-name", name)
    assert len(shards["Shards"]) == 1
    aws_cli("kinesis", "add-tags-to-stream", "--stream-name", name, "--tags", "team=data")
    assert aws_cli("kinesis", "list-tags-for-stream", "--stream-name", name)["Tags"] == [{"Key": "team", "Value": "data"}]
    aws_cli("kinesis", "delete-stream", "--stream-name", name)
    missing = aws_cli("kinesis", "describe-stream-summary", "--stream-name", name, expect_ok=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


# --- AWS CBOR (application/x-amz-cbor-1.1), the AWS SDK for Java's default for Kinesis ---
# A minimal CBOR writer and reader (RFC 8949) for the test's requests and nimbus's answers.


def _cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | code]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor_encode(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return _cbor_head(0, v) if v >= 0 else _cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return _cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return _cbor_head(4, len(v)) + b"".join(cbor_encode(i) for i in v)
    if isinstance(v, dict):
        return _cbor_head(5, len(v)) + b"".join(cbor_encode(k) + cbor_encode(x) for k, x in v.items())
    if isinstance(v, tuple) and v[0] == "tag":
        return _cbor_head(6, v[1]) + cbor_encode(v[2])
    raise TypeError(v)


def cbor_decode(data):
    import struct

    def item(i):
        ib = data[i]
        major, info = ib >> 5, ib & 31
        i += 1
        if major == 7:
            if info == 20:
                return False, i
            if info == 21:
                return True, i
            if info == 22:
                return None, i
            if info == 27:
                return struct.unpack(">d", data[i : i + 8])[0], i + 8
            if info == 26:
                return struct.unpack(">f", data[i : i + 4])[0], i + 4
            raise ValueError(info)
        if info < 24:
            n = info
        else:
            size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
            n = int.from_bytes(data[i : i + size], "big")
            i += size
        if major == 0:
            return n, i
        if major == 1:
            return -1 - n, i
        if major == 2:
            return data[i : i + n], i + n
        if major == 3:
            return data[i : i + n].decode(), i + n
        if major == 4:
            out = []
            for _ in range(n):
                v, i = item(i)
                out.append(v)
            return out, i
        if major == 5:
            out = {}
            for _ in range(n):
                k, i = item(i)
                v, i = item(i)
                out[k] = v
            return out, i
        if major == 6:
            v, i = item(i)
            return ("tag", n, v), i
        raise ValueError(major)

    return item(0)[0]


def cbor_call(endpoint, op, body):
    import requests

    r = requests.post(
        endpoint + "/",
        data=cbor_encode(body),
        headers={"X-Amz-Target": f"Kinesis_20131202.{op}", "Content-Type": "application/x-amz-cbor-1.1"},
        timeout=30,
    )
    assert r.headers["Content-Type"] == "application/x-amz-cbor-1.1", r.headers
    return r.status_code, r.headers, cbor_decode(r.content)


def test_aws_cbor_as_the_java_sdk_speaks_it(endpoint, kinesis, stream):
    status, _, out = cbor_call(endpoint, "PutRecord", {"StreamName": stream, "Data": b"\x00\x01binary", "PartitionKey": "a"})
    assert status == 200, out
    assert out["ShardId"] == "shardId-000000000000" and len(out["SequenceNumber"]) == 56
    status, _, it = cbor_call(endpoint, "GetShardIterator", {"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
    status, _, got = cbor_call(endpoint, "GetRecords", {"ShardIterator": it["ShardIterator"]})
    assert status == 200, got
    record = got["Records"][0]
    assert record["Data"] == b"\x00\x01binary"  # a CBOR byte string, not base64
    tag, number, millis = record["ApproximateArrivalTimestamp"]
    assert (tag, number) == ("tag", 1) and isinstance(millis, int) and millis > 1e12  # epoch milliseconds
    # A timestamp sent as the Java SDK writes it (tag 1, milliseconds) is read as such.
    status, _, at = cbor_call(endpoint, "GetShardIterator", {"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ("tag", 1, millis)})
    assert status == 200, at
    assert cbor_call(endpoint, "GetRecords", {"ShardIterator": at["ShardIterator"]})[2]["Records"][0]["Data"] == b"\x00\x01binary"
    status, headers, err = cbor_call(endpoint, "DescribeStream", {"StreamName": "nimbus-no-such-stream"})
    assert status == 400
    assert err["__type"] == "ResourceNotFoundException" and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert err["message"] == "Stream nimbus-no-such-stream under account 000000000000 not found."


def test_large_records_through_boto3(kinesis, stream):
    """UpdateMaxRecordSize (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateMaxRecordSize.html):
    a 1.5 MiB record is refused at the default 1 MiB and taken once the stream allows 2 MiB."""
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    big = b"x" * (3 << 19)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.put_record(StreamName=stream, Data=big, PartitionKey="a")
    # (boto3 checks the 1024..10240 range itself; the Rust SDK test sends 1023 to nimbus.)
    kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=2048)
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 2048
    shard = kinesis.put_record(StreamName=stream, Data=big, PartitionKey="a")["ShardId"]
    assert [r["Data"] for r in read_shard(kinesis, stream, shard)["Records"]] == [big]
    # The account's commitment: never enabled in this account.
    settings = kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
    assert settings["Status"] in ("DISABLED", "ENABLED")
