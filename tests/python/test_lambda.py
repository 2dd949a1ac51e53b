"""Lambda through boto3 and the AWS CLI (v1 from PyPI; v2, for `logs tail`, from Debian): a
Python function from tests/functions/python, created, invoked (LogType Tail) and waited on as
real clients do."""

import base64
import json
import os
import time

import pytest
from conftest import LAMBDA_ROLE, python_runtime, unique_name


def test_boto3_create_invoke_with_tail_log(awslambda, lambda_function):
    name = lambda_function("handler.echo", Environment={"Variables": {"MY_VAR": "boto3"}})
    awslambda.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    cfg = awslambda.get_function_configuration(FunctionName=name)
    assert cfg["State"] == "Active"
    assert cfg["Runtime"] == python_runtime()
    assert cfg["Handler"] == "handler.echo"

    resp = awslambda.invoke(FunctionName=name, Payload=json.dumps({"hello": "boto3"}), LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    body = json.loads(resp["Payload"].read())
    assert body["echo"] == {"hello": "boto3"}
    assert body["function_name"] == name
    assert body["env"]["MY_VAR"] == "boto3"
    assert body["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name
    log = base64.b64decode(resp["LogResult"]).decode()
    for marker in ("START RequestId: ", "END RequestId: ", "REPORT RequestId: "):
        assert marker in log, log
    assert body["request_id"] in log


def test_boto3_print_and_error(awslambda, lambda_function):
    name = lambda_function("handler.print_it")
    resp = awslambda.invoke(FunctionName=name, Payload=b'{"text": "printed-by-python-42"}', LogType="Tail")
    assert json.loads(resp["Payload"].read()) == {"ok": True}
    assert "printed-by-python-42" in base64.b64decode(resp["LogResult"]).decode()

    failing = lambda_function("handler.fail")
    resp = awslambda.invoke(FunctionName=failing, Payload=b'{"message": "nope"}')
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    doc = json.loads(resp["Payload"].read())
    assert doc["errorType"] == "ValueError"
    assert doc["errorMessage"] == "nope"

    with pytest.raises(awslambda.exceptions.ResourceNotFoundException):
        awslambda.invoke(FunctionName="does-not-exist", Payload=b"{}")
    with pytest.raises(awslambda.exceptions.InvalidRequestContentException):
        awslambda.invoke(FunctionName=name, Payload=b"not json")


def test_cli_v2_logs_tail_of_a_function(aws_v2, awslambda, lambda_function):
    """`aws logs tail /aws/lambda/<name>` (CLI v2) shows the invocation's output and its
    START / END / REPORT lines."""
    name = lambda_function("handler.print_it")
    resp = awslambda.invoke(FunctionName=name, Payload=b'{"text": "tailed-by-cli-7"}')
    assert json.loads(resp["Payload"].read()) == {"ok": True}
    group = "/aws/lambda/" + name
    out = ""
    for _ in range(50):
        p = aws_v2("logs", "tail", group, "--since", "10m")
        assert p.returncode == 0, p.stderr
        out = p.stdout
        if "REPORT RequestId: " in out:
            break
        time.sleep(0.1)
    for marker in ("START RequestId: ", "tailed-by-cli-7", "END RequestId: ", "REPORT RequestId: "):
        assert marker in out, out
    assert "[$LATEST]" in out, "lines name the function's log stream: " + out


def test_aws_cli_create_wait_invoke(aws_cli, python_function_zip, tmp_path):
    name = unique_name("cli")
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(python_function_zip)
    out = aws_cli(
        "lambda", "create-function",
        "--function-name", name,
        "--runtime", python_runtime(),
        "--role", LAMBDA_ROLE,
        "--handler", "handler.echo",
        "--zip-file", f"fileb://{zip_path}",
        "--environment", "Variables={MY_VAR=cli}",
    )
    try:
        assert out["FunctionName"] == name
        assert out["State"] == "Pending"
        aws_cli("lambda", "wait", "function-active-v2", "--function-name", name)
        cfg = aws_cli("lambda", "get-function-configuration", "--function-name", name)
        assert cfg["State"] == "Active"

        # CLI v1 sends --payload as given (no --cli-binary-format).
        result_file = tmp_path / "out.json"
        meta = aws_cli(
            "lambda", "invoke",
            "--function-name", name,
            "--payload", '{"from": "cli"}',
            "--log-type", "Tail",
            str(result_file),
        )
        assert meta["StatusCode"] == 200
        assert "FunctionError" not in meta
        assert meta["ExecutedVersion"] == "$LATEST"
        body = json.loads(result_file.read_text())
        assert body["echo"] == {"from": "cli"}
        assert body["env"]["MY_VAR"] == "cli"
        log = base64.b64decode(meta["LogResult"]).decode()
        assert "REPORT RequestId" in log, log

        listed = aws_cli("lambda", "list-functions")
        assert name in [f["FunctionName"] for f in listed["Functions"]]

        p = aws_cli("lambda", "get-function", "--function-name", "does-not-exist", expect_ok=False)
        assert p.returncode != 0
        assert "ResourceNotFoundException" in p.stderr
    finally:
        aws_cli("lambda", "delete-function", "--function-name", name)
