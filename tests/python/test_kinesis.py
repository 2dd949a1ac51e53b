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
