"""DynamoDB PartiQL through boto3's client: ExecuteStatement (parameters, pagination,
INSERT / UPDATE / DELETE), BatchExecuteStatement and ExecuteTransaction, and the
errors AWS documents (DuplicateItemException, ValidationException texts)."""

import uuid

import boto3
import pytest
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
    )


@pytest.fixture
def table(client):
    name = f"pql-{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_insert_select_paginate_update_delete(client, table):
    for i in range(7):
        client.execute_statement(
            Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': ?, 'n': ?}}",
            Parameters=[{"S": "p"}, {"N": str(i)}, {"N": str(i * i)}],
        )
    got = client.execute_statement(Statement=f'SELECT n FROM "{table}" WHERE pk = ? AND sk = ?', Parameters=[{"S": "p"}, {"N": "3"}])
    assert got["Items"] == [{"n": {"N": "9"}}]
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = client.execute_statement(Statement=f"SELECT sk FROM \"{table}\" WHERE pk = 'p' AND n >= 4", Limit=3, **kw)
        seen += [int(i["sk"]["N"]) for i in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [2, 3, 4, 5, 6]
    client.execute_statement(Statement=f"UPDATE \"{table}\" SET n = n + 1 REMOVE gone WHERE pk = 'p' AND sk = 0")
    assert client.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"N": "0"}})["Item"]["n"] == {"N": "1"}
    client.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'p' AND sk = 0")
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"N": "0"}})


def test_errors(client, table):
    stmt = f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1}}"
    client.execute_statement(Statement=stmt)
    with pytest.raises(ClientError) as e:
        client.execute_statement(Statement=stmt)
    assert e.value.response["Error"] == {"Code": "DuplicateItemException", "Message": "Duplicate primary key exists in table"}
    with pytest.raises(ClientError) as e:
        client.execute_statement(Statement="DROP TABLE x")
    assert e.value.response["Error"]["Message"] == "Statement wasn't well formed, can't be processed: Expected data manipulation"
    with pytest.raises(ClientError) as e:
        client.execute_statement(Statement=f"UPDATE \"{table}\" SET x = 1 WHERE pk = 'a' AND sk = 1 AND x = 5")
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_batch_and_transaction(client, table):
    ins = f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': 1}}"
    out = client.batch_execute_statement(Statements=[{"Statement": ins, "Parameters": [{"S": k}]} for k in ["a", "a", "b"]])
    errors = [r.get("Error", {}).get("Code") for r in out["Responses"]]
    assert errors == [None, "DuplicateItem", None]
    sel = f'SELECT * FROM "{table}" WHERE pk = ? AND sk = 1'
    out = client.batch_execute_statement(Statements=[{"Statement": sel, "Parameters": [{"S": k}]} for k in ["a", "zz"]])
    assert out["Responses"][0]["Item"]["pk"] == {"S": "a"} and "Item" not in out["Responses"][1]
    with pytest.raises(ClientError) as e:
        client.execute_transaction(
            TransactStatements=[
                {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'b' AND sk = 1"},
                {"Statement": ins, "Parameters": [{"S": "a"}]},
            ]
        )
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "DuplicateItem"]
    out = client.batch_execute_statement(Statements=[{"Statement": sel, "Parameters": [{"S": "b"}]}])
    assert "Item" in out["Responses"][0], "the cancelled DELETE did not apply"
