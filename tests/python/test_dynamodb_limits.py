"""Inputs that once crashed nimbus: expressions nested thousands of levels deep and
values nested past DynamoDB's 32 levels. Each is answered with AWS's
ValidationException, and afterwards the server still answers and the table still
holds exactly what it held.

AWS's limits: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
(expression parameters: 4 KB per expression, 300 operators or functions, nested
attribute depth 32)."""

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"


@pytest.fixture(scope="module")
def client(endpoint):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def table(client):
    name = f"limits-{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for i in range(3):
        client.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": f"s{i}"}, "a": {"S": "x"}, "n": {"N": str(i)}})
    return name


def snapshot(client, table):
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: i["sk"]["S"])


def validation_message(call):
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == "ValidationException", err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err.value.response["Error"]["Message"]


KEY = {"pk": {"S": "p"}, "sk": {"S": "s0"}}
V = {":v": {"S": "x"}}


def deep_cases(table):
    """(name, call) pairs, one per expression kind, each nested far past any limit
    while staying within 4 KB."""
    parens = "(" * 2000 + "a = :v" + ")" * 2000
    nots = "NOT " * 1000 + "a = :v"
    return [
        ("condition parens", lambda c: c.put_item(TableName=table, Item=dict(KEY, a={"S": "y"}), ConditionExpression=parens, ExpressionAttributeValues=V)),
        ("condition NOT chain", lambda c: c.delete_item(TableName=table, Key=KEY, ConditionExpression=nots, ExpressionAttributeValues=V)),
        ("filter parens", lambda c: c.scan(TableName=table, FilterExpression=parens, ExpressionAttributeValues=V)),
        ("key condition parens", lambda c: c.query(TableName=table, KeyConditionExpression="(" * 2000 + "pk = :v" + ")" * 2000, ExpressionAttributeValues=V)),
        ("projection path", lambda c: c.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 2000)),
        ("projection indexes", lambda c: c.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + "[0]" * 1300)),
        ("update path", lambda c: c.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE a" + ".b" * 2000)),
        ("update functions", lambda c: c.update_item(TableName=table, Key=KEY, UpdateExpression="SET a = " + "list_append(:v," * 400 + ":v" + ")" * 400, ExpressionAttributeValues=V)),
        ("unbalanced", lambda c: c.scan(TableName=table, FilterExpression="(" * 4000, ExpressionAttributeValues=V)),
    ]


@pytest.mark.parametrize("case", range(9))
def test_deep_expressions_are_refused_and_nothing_changes(client, table, case):
    before = snapshot(client, table)
    name, call = deep_cases(table)[case]
    message = validation_message(lambda: call(client))
    assert any(
        text in message
        for text in ("too many operators", "too many nesting levels", "Expression size has exceeded the maximum allowed size")
    ), (name, message)
    # The server is alive and the table unchanged.
    assert snapshot(client, table) == before
    assert client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_expression_limits_word_for_word(client, table):
    # 4,097 bytes: pynamodb issue #979 quotes AWS's message with the size.
    long_filter = "a = :v" + " " * (4097 - 6)
    assert validation_message(lambda: client.scan(TableName=table, FilterExpression=long_filter, ExpressionAttributeValues=V)) == (
        "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"
    )
    # 4,096 bytes are fine.
    ok_filter = "a = :v" + " " * (4096 - 6)
    assert client.scan(TableName=table, FilterExpression=ok_filter, ExpressionAttributeValues=V)["Count"] == 3
    # 151 comparisons joined by 150 ORs: the 301st operator.
    many = " OR ".join(f"a{i} = :v" for i in range(151))
    assert validation_message(lambda: client.scan(TableName=table, FilterExpression=many, ExpressionAttributeValues=V)) == (
        "Invalid FilterExpression: The expression contains too many operators; operator count: 301"
    )
    # 33 levels of document path.
    assert validation_message(lambda: client.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 32)) == (
        "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33"
    )
    assert "Item" in client.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 31)


def nested(wraps):
    value = {"S": "leaf"}
    for i in range(wraps):
        value = {"M": {"n": value}} if i % 2 else {"L": [value]}
    return value


def test_values_nested_past_32_levels_are_refused(client, table):
    before = snapshot(client, table)
    message = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    item = dict(KEY, doc=nested(32))
    assert validation_message(lambda: client.put_item(TableName=table, Item=item)) == message
    # An expression attribute value carries the same message inside the envelope every
    # invalid value gets ("ExpressionAttributeValues contains invalid value: … for key :d").
    assert message in validation_message(
        lambda: client.update_item(TableName=table, Key=KEY, UpdateExpression="SET doc = :d", ExpressionAttributeValues={":d": nested(32)})
    )
    # Far deeper than the JSON parser's own nesting limit: still a clean 400.
    with pytest.raises(ClientError) as err:
        client.put_item(TableName=table, Item=dict(KEY, doc=nested(100)))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert snapshot(client, table) == before
    # 31 wraps (the leaf at level 32) are stored and read back whole.
    client.put_item(TableName=table, Item={"pk": {"S": "deep"}, "sk": {"S": "ok"}, "doc": nested(31)})
    got = client.get_item(TableName=table, Key={"pk": {"S": "deep"}, "sk": {"S": "ok"}}, ConsistentRead=True)["Item"]
    assert got["doc"] == nested(31)
    client.delete_item(TableName=table, Key={"pk": {"S": "deep"}, "sk": {"S": "ok"}})
