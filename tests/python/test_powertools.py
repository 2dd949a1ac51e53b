"""AWS Lambda Powertools for Python's Parameters utility inside a Python function running
in nimbus (issue 15): get_secret (Secrets Manager), get_parameter with and without
decryption and get_parameters_by_name (SSM Parameter Store), cached across invocations of
one warm environment until force_fetch — how AWS users stop loading secrets on each call.
https://docs.powertools.aws.dev/lambda/python/latest/utilities/parameters/"""

import json
from pathlib import Path

import pytest

from conftest import FUNCTIONS_DIR, python_runtime, unique_name, zip_directory

powertools = pytest.importorskip("aws_lambda_powertools")


def function_zip():
    """The test functions plus Powertools and its dependencies from this environment."""
    import jmespath
    import typing_extensions
    return zip_directory(FUNCTIONS_DIR / "python", [Path(powertools.__file__).parent, Path(jmespath.__file__).parent, typing_extensions.__file__])


def test_powertools_parameters_read_and_cache_secrets_and_parameters(make_client):
    sm, ssm, awslambda = make_client("secretsmanager"), make_client("ssm"), make_client("lambda")
    secret, param, secure = unique_name("app-db"), "/" + unique_name("app") + "/name", "/" + unique_name("app") + "/key"
    sm.create_secret(Name=secret, SecretString="v1")
    ssm.put_parameter(Name=param, Value="n1", Type="String")
    ssm.put_parameter(Name=secure, Value="k1", Type="SecureString")
    name = unique_name("params")
    awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role="arn:aws:iam::000000000000:role/r",
                              Handler="params.handler", Code={"ZipFile": function_zip()}, Timeout=30)
    awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
    event = {"secret": secret, "parameter": param, "secure": secure}

    def invoke(**extra):
        out = awslambda.invoke(FunctionName=name, Payload=json.dumps({**event, **extra}))
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        return body

    first = invoke()
    assert first == {"secret": "v1", "parameter": "n1", "secure": "k1", "by_name": {param: "n1", secure: "k1"}}
    sm.put_secret_value(SecretId=secret, SecretString="v2")
    ssm.put_parameter(Name=param, Value="n2", Type="String", Overwrite=True)
    # The same warm environment answers from Powertools' cache: no new reads.
    assert invoke() == first
    forced = invoke(force=True)
    assert (forced["secret"], forced["parameter"]) == ("v2", "n2")
