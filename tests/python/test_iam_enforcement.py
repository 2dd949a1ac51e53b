"""``--auth iam`` with boto3: a Lambda function runs as its execution role, and what
the role's policies do not allow is refused from inside the function, as on AWS
(Lambda developer guide, "Defining Lambda function permissions with an execution role")."""

import json

import boto3
import botocore.config
import pytest

from conftest import REGION, nimbus_server, python_runtime

ROOT_KEY = "AKIAPYIAMROOTEXAMPLE"
ROOT_SECRET = "py/iam/root+secret/EXAMPLE"
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def iam_endpoint():
    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}) as url:
        yield url


def client(url, service):
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET, config=CONFIG)


def test_function_role_without_put_item_is_denied_from_inside(iam_endpoint, python_function_zip):
    iam, awslambda, ddb = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda"), client(iam_endpoint, "dynamodb")
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    role = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="writer", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    awslambda.create_function(FunctionName="writer", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.put_item",
                              Code={"ZipFile": python_function_zip}, Timeout=30)
    awslambda.get_waiter("function_active_v2").wait(FunctionName="writer")
    body = json.loads(awslambda.invoke(FunctionName="writer", Payload=json.dumps({"table": "orders"}))["Payload"].read())
    assert body["ok"] is False and body["code"] == "AccessDeniedException", body
    assert body["message"].startswith("User: arn:aws:sts::000000000000:assumed-role/writer/writer is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/orders")
    # Granting the permission lets the same function write (a new environment is not needed:
    # decisions follow IAM changes at once).
    iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/orders"}]}))
    body = json.loads(awslambda.invoke(FunctionName="writer", Payload=json.dumps({"table": "orders"}))["Payload"].read())
    assert body == {"ok": True}
    assert ddb.get_item(TableName="orders", Key={"pk": {"S": "from-lambda"}})["Item"]["pk"]["S"] == "from-lambda"


def test_create_function_with_a_role_lambda_cannot_assume_is_refused(iam_endpoint, python_function_zip):
    iam, awslambda = client(iam_endpoint, "iam"), client(iam_endpoint, "lambda")
    other = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="not-for-lambda", AssumeRolePolicyDocument=other)["Role"]
    for arn in (role["Arn"], "arn:aws:iam::000000000000:role/does-not-exist"):
        with pytest.raises(awslambda.exceptions.InvalidParameterValueException) as e:
            awslambda.create_function(FunctionName="nope", Runtime=python_runtime(), Role=arn, Handler="handler.echo", Code={"ZipFile": python_function_zip})
        assert e.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."
