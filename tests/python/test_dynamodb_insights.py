"""Contributor Insights settings through boto3: stored per table and GSI, reported by
Describe/List with AWS's statuses, modes and rule names, and AWS's errors.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateContributorInsights.html"""

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(endpoint):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")


def test_contributor_insights_settings(ddb):
    name = f"ci-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"
    out = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert out["ContributorInsightsStatus"] == "ENABLING"
    d = ddb.describe_contributor_insights(TableName=name)
    assert d["ContributorInsightsStatus"] == "ENABLED"
    assert d["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    kinds = [r.split("-")[1] for r in d["ContributorInsightsRuleList"]]
    assert kinds == ["PKC", "PKT", "SKC", "SKT"], d["ContributorInsightsRuleList"]
    ddb.update_contributor_insights(TableName=name, IndexName="by-g", ContributorInsightsAction="ENABLE",
                                    ContributorInsightsMode="THROTTLED_KEYS")
    gi = ddb.describe_contributor_insights(TableName=name, IndexName="by-g")
    assert gi["IndexName"] == "by-g" and gi["ContributorInsightsMode"] == "THROTTLED_KEYS"
    assert [r.split("-")[1] for r in gi["ContributorInsightsRuleList"]] == ["PKC", "PKT"]
    listed = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert [(s.get("IndexName"), s["ContributorInsightsStatus"]) for s in listed] == [(None, "ENABLED"), ("by-g", "ENABLED")]
    assert ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")["ContributorInsightsStatus"] == "DISABLING"
    d = ddb.describe_contributor_insights(TableName=name)
    assert d["ContributorInsightsStatus"] == "DISABLED" and "ContributorInsightsRuleList" not in d

    with pytest.raises(ClientError) as err:
        ddb.describe_contributor_insights(TableName=name, IndexName="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        ddb.update_contributor_insights(TableName=f"{name}-missing", ContributorInsightsAction="ENABLE")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
