"""On-demand backups through boto3 on the shared (in-memory) server, where a backup's
items are kept in memory rather than read back from the store; and the AWS CLI's
list-backups. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/BackupRestore.html"""

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(endpoint):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")


def test_backup_and_restore_in_memory(ddb):
    name = f"bk-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for i in range(7):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    arn = ddb.create_backup(TableName=name, BackupName="before-change")["BackupDetails"]["BackupArn"]
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k0"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "k1"}, "n": {"N": "100"}})

    target = f"{name}-restored"
    out = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn, BillingModeOverride="PROVISIONED",
                                        ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    assert out["TableDescription"]["RestoreSummary"]["SourceBackupArn"] == arn
    assert out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    items = ddb.scan(TableName=target, ConsistentRead=True)["Items"]
    assert sorted((i["pk"]["S"], i["n"]["N"]) for i in items) == [(f"k{i}", str(i)) for i in range(7)]

    listed = ddb.list_backups(TableName=name)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == [arn]
    assert listed[0]["BackupType"] == "USER" and listed[0]["BackupStatus"] == "AVAILABLE"
    with pytest.raises(ClientError) as err:
        ddb.list_backups(BackupType="NOPE")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    ddb.delete_backup(BackupArn=arn)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=f"{name}-again", BackupArn=arn)
    assert err.value.response["Error"]["Code"] == "BackupNotFoundException"
    assert err.value.response["Error"]["Message"] == f"Backup not found: {arn}"
