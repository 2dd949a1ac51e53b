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
