"""Secrets Manager through boto3 and the AWS CLI, and rotation through a real Python
Lambda function (tests/functions/python/rotation.py, written like AWS's rotation
template): the four steps staging AWSPENDING -> AWSCURRENT -> AWSPREVIOUS over several
rotations, a failing step leaving AWSCURRENT alone and AWSPENDING behind, and a
scheduled rotation firing on nimbus's clock.

AWS references:
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html
"""

import json

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, LAMBDA_ROLE, REGION, SECRET_KEY, nimbus_server, python_runtime, unique_name


@pytest.fixture(scope="session")
def sm(make_client):
    return make_client("secretsmanager")


def stages(sm, secret):
    return sm.describe_secret(SecretId=secret)["VersionIdsToStages"]


def version_with(sm, secret, stage):
    found = [v for v, st in stages(sm, secret).items() if stage in st]
    assert len(found) <= 1, f"{stage} on several versions: {found}"
    return found[0] if found else None


def test_cli_create_get_and_describe(aws_cli):
    name = unique_name("cli-secret")
    created = aws_cli("secretsmanager", "create-secret", "--name", name, "--secret-string", '{"user":"app","password":"p1"}')
    assert created["Name"] == name and created["ARN"].split(":secret:")[1].startswith(name + "-")
    got = aws_cli("secretsmanager", "get-secret-value", "--secret-id", name)
    assert got["SecretString"] == '{"user":"app","password":"p1"}'
    assert got["VersionStages"] == ["AWSCURRENT"]
    aws_cli("secretsmanager", "put-secret-value", "--secret-id", created["ARN"], "--secret-string", "p2")
    prev = aws_cli("secretsmanager", "get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS")
    assert prev["SecretString"] == '{"user":"app","password":"p1"}'
    missing = aws_cli("secretsmanager", "get-secret-value", "--secret-id", "no-such-secret", expect_ok=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_boto3_errors_have_aws_codes(sm):
    name = unique_name("errs")
    sm.create_secret(Name=name, SecretString="v")
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="v")
    assert e.value.response["Error"]["Code"] == "ResourceExistsException"
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=3)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name + "-nope")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Secrets Manager can't find the specified secret."


@pytest.fixture
def rotation_function(lambda_function, awslambda):
    """rotation_function(**env) -> the ARN of a rotation function with those variables."""

    def make(**env):
        name = lambda_function("rotation.handler", Timeout=30, Environment={"Variables": env})
        return awslambda.get_function(FunctionName=name)["Configuration"]["FunctionArn"]

    return make


def test_rotation_stages_over_several_rotations(sm, rotation_function):
    fn = rotation_function()
    name = unique_name("rotated")
    first = sm.create_secret(Name=name, SecretString="initial")["VersionId"]
    seen = [first]
    values = ["initial"]
    for i in range(3):
        out = sm.rotate_secret(SecretId=name, RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 30})
        new = out["VersionId"]
        seen.append(new)
        assert version_with(sm, name, "AWSCURRENT") == new, f"rotation {i}"
        assert version_with(sm, name, "AWSPREVIOUS") == seen[-2]
        assert version_with(sm, name, "AWSPENDING") is None, "AWSPENDING is removed once the rotation finishes"
        value = sm.get_secret_value(SecretId=name)["SecretString"]
        assert value not in values and len(value) == 24
        values.append(value)
        assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == values[-2]
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == fn
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "LastRotatedDate" in d and "NextRotationDate" in d
    assert len(sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]) == 4


def test_a_failing_step_leaves_awscurrent_and_awspending(sm, rotation_function):
    fn = rotation_function(FAIL_STEP="testSecret")
    name = unique_name("broken")
    current = sm.create_secret(Name=name, SecretString="keep me")["VersionId"]
    out = sm.rotate_secret(SecretId=name, RotationLambdaARN=fn)
    assert version_with(sm, name, "AWSCURRENT") == current
    assert version_with(sm, name, "AWSPENDING") == out["VersionId"], "createSecret ran, testSecret failed"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "keep me"
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name)
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    cancelled = sm.cancel_rotate_secret(SecretId=name)
    assert cancelled["VersionId"] == out["VersionId"]
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False


def test_scheduled_rotation_fires_on_the_clock():
    with nimbus_server(extra_args=["--clock-control"]) as url:
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        sm, awslambda, sqs = boto3.client("secretsmanager", **kw), boto3.client("lambda", **kw), boto3.client("sqs", **kw)
        from conftest import FUNCTIONS_DIR, zip_directory

        queue = sqs.create_queue(QueueName=unique_name("rotated"))["QueueUrl"]
        fn = awslambda.create_function(
            FunctionName=unique_name("rot"),
            Runtime=python_runtime(),
            Role=LAMBDA_ROLE,
            Handler="rotation.handler",
            Timeout=30,
            Code={"ZipFile": zip_directory(FUNCTIONS_DIR / "python")},
            Environment={"Variables": {"NOTIFY_QUEUE_URL": queue}},
        )["FunctionArn"]
        name = unique_name("scheduled")
        first = sm.create_secret(Name=name, SecretString="v0")["VersionId"]
        sm.rotate_secret(SecretId=name, RotationLambdaARN=fn, RotationRules={"ScheduleExpression": "rate(2 days)"}, RotateImmediately=False)
        assert version_with(sm, name, "AWSCURRENT") == first, "not rotated yet"
        assert requests.post(url + "/_nimbus/clock/advance?seconds=%d" % (2 * 86400 + 1)).status_code == 200
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20).get("Messages", [])
        assert got, "the scheduled rotation ran and finished"
        new = got[0]["Body"]
        assert new != first
        assert version_with(sm, name, "AWSCURRENT") == new
        assert version_with(sm, name, "AWSPREVIOUS") == first


def test_raw_requests_with_a_value_need_a_client_request_token(endpoint, sm):
    """SDKs and the CLI fill ClientRequestToken in; a raw request carrying a secret value
    without one is refused, as AWS refuses it (API reference, CreateSecret /
    PutSecretValue: "If you don't use the SDK ... you must generate a ClientRequestToken")."""
    name = unique_name("raw")

    def raw(op, body):
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"secretsmanager.{op}",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20261203/{REGION}/secretsmanager/aws4_request, "
                                    "SignedHeaders=host, Signature=0000"}
        return requests.post(endpoint + "/", data=json.dumps(body), headers=headers, timeout=10)

    r = raw("CreateSecret", {"Name": name, "SecretString": "v"})
    assert r.status_code == 400 and r.json()["__type"].endswith("InvalidRequestException"), r.text
    assert r.json()["message" if "message" in r.json() else "Message"] == "You must provide a ClientRequestToken value. We recommend a UUID-type value."
    # Without a value (metadata only) no token is needed; PutSecretValue always carries one.
    assert raw("CreateSecret", {"Name": name}).status_code == 200
    assert raw("PutSecretValue", {"SecretId": name, "SecretString": "v"}).status_code == 400
    ok = raw("PutSecretValue", {"SecretId": name, "SecretString": "v", "ClientRequestToken": "a" * 32})
    assert ok.status_code == 200, ok.text
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
