"""SSM Parameter Store through boto3 and the AWS CLI: the calls application code and
shell scripts make (put / get with decryption / by path with boto3's paginator /
history / labels / delete), SecureString through nimbus's KMS, and AWS's modelled
exceptions (`client.exceptions.ParameterNotFound` ...) for bad input.

AWS references:
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
https://docs.aws.amazon.com/cli/latest/reference/ssm/put-parameter.html
"""

import base64
import uuid

import pytest


@pytest.fixture(scope="session")
def ssm(make_client):
    return make_client("ssm")


@pytest.fixture(scope="session")
def kms(make_client):
    return make_client("kms")


@pytest.fixture
def root():
    """A hierarchy of this test's own."""
    return f"/nimbus-test/{uuid.uuid4().hex[:12]}"


def test_put_get_overwrite_and_history(ssm, root):
    name = f"{root}/db/url"
    assert ssm.put_parameter(Name=name, Value="v1", Type="String", Description="the db")["Version"] == 1
    with pytest.raises(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name=name, Value="v2", Type="String")
    assert ssm.put_parameter(Name=name, Value="v2", Overwrite=True)["Version"] == 2
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert (p["Value"], p["Version"], p["Type"], p["DataType"]) == ("v2", 2, "String", "text")
    assert p["ARN"] == f"arn:aws:ssm:us-east-1:000000000000:parameter{name}"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "v1"
    with pytest.raises(ssm.exceptions.ParameterVersionNotFound):
        ssm.get_parameter(Name=f"{name}:3")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=f"{root}/missing")
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"], h["Description"]) for h in history] == [(1, "v1", "the db"), (2, "v2", "the db")]


def test_by_path_with_the_paginator(ssm, root):
    for i in range(7):
        ssm.put_parameter(Name=f"{root}/app/k{i}", Value=str(i), Type="String")
    ssm.put_parameter(Name=f"{root}/app/nested/deep", Value="d", Type="String")
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{root}/app", PaginationConfig={"PageSize": 3})
    names = [p["Name"] for page in pages for p in page["Parameters"]]
    assert names == [f"{root}/app/k{i}" for i in range(7)]
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{root}/app", Recursive=True)
    assert len([p for page in pages for p in page["Parameters"]]) == 8
    described = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}], PaginationConfig={"PageSize": 2}
    )
    assert len([p for page in described for p in page["Parameters"]]) == 8
    with pytest.raises(ssm.exceptions.InvalidFilterKey):
        ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Name", "Values": ["x"]}])


def test_secure_string_with_boto3(ssm, kms, root):
    name = f"{root}/secret"
    ssm.put_parameter(Name=name, Value="p@ss", Type="SecureString")
    raw = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert raw != "p@ss"
    arn = f"arn:aws:ssm:us-east-1:000000000000:parameter{name}"
    plain = kms.decrypt(CiphertextBlob=base64.b64decode(raw), EncryptionContext={"PARAMETER_ARN": arn})["Plaintext"]
    assert plain == b"p@ss"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "p@ss"
    got = ssm.get_parameters(Names=[name, f"{root}/nope"], WithDecryption=True)
    assert [p["Value"] for p in got["Parameters"]] == ["p@ss"]
    assert got["InvalidParameters"] == [f"{root}/nope"]
    with pytest.raises(ssm.exceptions.InvalidKeyId):
        ssm.put_parameter(Name=f"{root}/other", Value="x", Type="SecureString", KeyId="alias/does-not-exist")


def test_labels_tags_and_delete(ssm, root):
    name = f"{root}/labelled"
    for v in ("a", "b"):
        ssm.put_parameter(Name=name, Value=v, Type="String", Overwrite=True)
    out = ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["live", "ssm-bad"])
    assert out["InvalidLabels"] == ["ssm-bad"]
    assert ssm.get_parameter(Name=f"{name}:live")["Parameter"]["Value"] == "a"
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "team", "Value": "x"}])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [{"Key": "team", "Value": "x"}]
    with pytest.raises(ssm.exceptions.ParameterPatternMismatchException):
        ssm.put_parameter(Name=f"{root}/num", Value="abc", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ssm.exceptions.HierarchyLevelLimitExceededException):
        ssm.put_parameter(Name="".join(f"/l{i}" for i in range(16)), Value="v", Type="String")
    with pytest.raises(ssm.exceptions.ClientError) as e:
        ssm.put_parameter(Name="/aws/reserved", Value="v", Type="String")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    out = ssm.delete_parameters(Names=[name, f"{root}/never"])
    assert (out["DeletedParameters"], out["InvalidParameters"]) == ([name], [f"{root}/never"])
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.delete_parameter(Name=name)


def test_unsupported_operation_is_a_clear_error(ssm):
    with pytest.raises(ssm.exceptions.ClientError) as e:
        ssm.describe_instance_information()
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "not supported by nimbus yet" in e.value.response["Error"]["Message"]


def test_aws_cli_put_and_get(aws_cli, root):
    name = f"{root}/cli"
    out = aws_cli("ssm", "put-parameter", "--name", name, "--value", "from-cli", "--type", "String")
    assert out["Version"] == 1
    got = aws_cli("ssm", "get-parameter", "--name", name)
    assert got["Parameter"]["Value"] == "from-cli"
    aws_cli("ssm", "put-parameter", "--name", f"{root}/cli-secret", "--value", "s3", "--type", "SecureString")
    got = aws_cli("ssm", "get-parameter", "--name", f"{root}/cli-secret", "--with-decryption")
    assert got["Parameter"]["Value"] == "s3"
    listed = aws_cli("ssm", "get-parameters-by-path", "--path", root, "--with-decryption")
    assert sorted(p["Value"] for p in listed["Parameters"]) == ["from-cli", "s3"]
    failed = aws_cli("ssm", "put-parameter", "--name", name, "--value", "again", "--type", "String", expect_ok=False)
    assert failed.returncode != 0 and "ParameterAlreadyExists" in failed.stderr
    missing = aws_cli("ssm", "get-parameter", "--name", f"{root}/nothing", expect_ok=False)
    assert missing.returncode != 0 and "ParameterNotFound" in missing.stderr
