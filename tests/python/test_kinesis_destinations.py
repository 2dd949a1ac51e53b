"""Kinesis data streams as a destination, through boto3: DynamoDB's Kinesis streaming
destination (Enable/Describe/Update/DisableKinesisStreamingDestination and AWS's JSON change
records), CloudWatch Logs subscription filters to a stream (the CONTROL_MESSAGE, then
gzipped DATA_MESSAGE records) and EventBridge rules with a stream target
(KinesisParameters.PartitionKeyPath). The records are read back with GetRecords.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#DestinationKinesisExample
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_KinesisParameters.html"""

import gzip
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from nimbus_helpers import wait_for


@pytest.fixture(scope="module")
def kinesis(make_client):
    return make_client("kinesis")


@pytest.fixture(scope="module")
def ddb(make_client):
    return make_client("dynamodb")


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


@pytest.fixture(scope="module")
def events(make_client):
    return make_client("events")


def new_stream(kinesis, shards=1):
    name = f"dest-{uuid.uuid4().hex[:10]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    assert wait_for(lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    return name, kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def read_all(kinesis, name):
    """Every record of every shard: [(partition key, data bytes, shard id)]."""
    out = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = kinesis.get_records(ShardIterator=it)
            out += [(rec["PartitionKey"], rec["Data"], shard["ShardId"]) for rec in r["Records"]]
            if not r["Records"] or r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    return out


def wait_records(kinesis, name, n, timeout=15.0):
    """The stream's records once there are `n`, read at most twice a second (Kinesis
    allows 5 GetRecords a second per shard; a throttled read counts as not yet)."""
    def enough():
        try:
            recs = read_all(kinesis, name)
        except kinesis.exceptions.ProvisionedThroughputExceededException:
            return None
        return recs if len(recs) >= n else None
    return wait_for(enough, timeout=timeout, interval=0.5) or read_all(kinesis, name)


def new_table(ddb):
    name = f"kdest-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return name


# ------------------------------------------------------------------ DynamoDB


def test_dynamodb_changes_reach_the_stream_in_aws_record_format(ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis)
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == []
    out = ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert (out["TableName"], out["StreamArn"], out["DestinationStatus"]) == (table, arn, "ENABLING")
    assert out["EnableKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MILLISECOND"}
    d = ddb.describe_kinesis_streaming_destination(TableName=table)
    assert d["TableName"] == table
    assert d["KinesisDataStreamDestinations"] == [{"StreamArn": arn, "DestinationStatus": "ACTIVE",
                                                   "ApproximateCreationDateTimePrecision": "MILLISECOND"}]

    before = int(time.time() * 1000)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    recs = wait_records(kinesis, stream, 3)
    assert len(recs) == 3, recs
    docs = [json.loads(data) for _, data, _ in recs]
    assert [d["eventName"] for d in docs] == ["INSERT", "MODIFY", "REMOVE"]
    assert len({pk for pk, _, _ in recs}) == 1, "one item's changes share a partition key"
    for doc in docs:
        assert doc["awsRegion"] == "us-east-1"
        assert doc["eventSource"] == "aws:dynamodb"
        assert doc["recordFormat"] == "application/json"
        assert doc["tableName"] == table
        assert doc["userIdentity"] is None
        assert doc["eventID"]
        assert doc["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        at = doc["dynamodb"]["ApproximateCreationDateTime"]
        assert before - 5000 <= at <= int(time.time() * 1000) + 5000, at
        assert doc["dynamodb"]["SizeBytes"] > 0
    assert docs[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in docs[0]["dynamodb"]
    assert docs[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"} and docs[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert docs[2]["dynamodb"]["OldImage"]["v"] == {"N": "2"} and "NewImage" not in docs[2]["dynamodb"]

    # Microsecond precision from now on.
    up = ddb.update_kinesis_streaming_destination(TableName=table, StreamArn=arn,
                                                  UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert up["DestinationStatus"] == "UPDATING"
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    recs = wait_records(kinesis, stream, 4)
    micro = json.loads(recs[-1][1])["dynamodb"]["ApproximateCreationDateTime"]
    assert micro > 10 ** 15, micro

    off = ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert off["DestinationStatus"] == "DISABLING"
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"][0]["DestinationStatus"] == "DISABLED"
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}})
    # Enabled again, the next change follows directly: "c" (made while disabled) never came.
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}})
    recs = wait_records(kinesis, stream, 5)
    assert [json.loads(data)["dynamodb"]["Keys"]["pk"]["S"] for _, data, _ in recs] == ["a", "a", "a", "b", "d"]


def test_dynamodb_destination_errors(ddb, kinesis):
    table = new_table(ddb)
    _, arn = new_stream(kinesis)
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn + "-gone")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName="no-such-table", StreamArn=arn)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "must be DISABLED or ENABLE_FAILED" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn,
                                                 EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"})
    assert e.value.response["Error"]["Code"] == "ValidationException"


# ------------------------------------------------------------------ CloudWatch Logs


def test_logs_subscription_filter_to_a_stream(logs, kinesis):
    stream, arn = new_stream(kinesis)
    group = f"/kdest/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="app-1")
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=arn,
                                 roleArn="arn:aws:iam::000000000000:role/cwl-to-kinesis")
    f = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"][0]
    assert (f["destinationArn"], f["distribution"]) == (arn, "ByLogStream")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="app-1", logEvents=[
        {"timestamp": now, "message": "ERROR one"}, {"timestamp": now + 1, "message": "fine"}, {"timestamp": now + 2, "message": "ERROR two"}])
    recs = wait_records(kinesis, stream, 2)
    assert len(recs) == 2, recs
    control = json.loads(gzip.decompress(recs[0][1]))
    assert control["messageType"] == "CONTROL_MESSAGE", control
    assert control["logEvents"][0]["message"] == "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
    pk, data, _ = recs[1]
    assert pk == "app-1", "ByLogStream: the log stream is the partition key"
    msg = json.loads(gzip.decompress(data))
    assert msg["messageType"] == "DATA_MESSAGE"
    assert (msg["owner"], msg["logGroup"], msg["logStream"], msg["subscriptionFilters"]) == ("000000000000", group, "app-1", ["errors"])
    assert [e["message"] for e in msg["logEvents"]] == ["ERROR one", "ERROR two"]
    assert all(e["id"] and e["timestamp"] >= now for e in msg["logEvents"])

    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="gone", filterPattern="", destinationArn=arn + "-gone")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "Kinesis stream" in e.value.response["Error"]["Message"]


# ------------------------------------------------------------------ EventBridge


def test_eventbridge_rule_with_a_stream_target(events, kinesis):
    stream, arn = new_stream(kinesis, shards=2)
    rule = f"to-kinesis-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.orders"]}))
    events.put_targets(Rule=rule, Targets=[
        {"Id": "by-customer", "Arn": arn, "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"}},
        {"Id": "by-id", "Arn": arn, "InputPath": "$.detail"},
    ])
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert {t["Id"] for t in targets} == {"by-customer", "by-id"}
    out = events.put_events(Entries=[{"Source": "app.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"customer": "c-42", "total": 7})}])
    assert out["FailedEntryCount"] == 0
    event_id = out["Entries"][0]["EventId"]
    recs = wait_records(kinesis, stream, 2)
    assert len(recs) == 2, recs
    by_pk = {pk: json.loads(data) for pk, data, _ in recs}
    assert by_pk["c-42"]["id"] == event_id and by_pk["c-42"]["detail"] == {"customer": "c-42", "total": 7}
    assert by_pk[event_id] == {"customer": "c-42", "total": 7}, "without PartitionKeyPath the event id is the key"

    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "bad", "Arn": arn, "KinesisParameters": {"PartitionKeyPath": "detail.customer"}}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
