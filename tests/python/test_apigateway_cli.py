"""API Gateway with the AWS CLI, as the developer guide's HTTP API tutorial does it:
`aws lambda add-permission` for `apigateway.amazonaws.com`, `aws apigatewayv2 create-api
--name x --protocol-type HTTP --target <function-arn>`, then a plain HTTP call to the API,
and the control plane read back and torn down with the CLI.
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-dev-console.html
https://docs.aws.amazon.com/cli/latest/reference/apigatewayv2/create-api.html
"""

import uuid

import requests

from conftest import REGION

ACCOUNT = "000000000000"


def test_cli_quick_create_then_curl_then_delete(aws_cli, lambda_function, endpoint):
    fn = lambda_function(handler="handler.echo")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    perm = aws_cli(
        "lambda", "add-permission", "--function-name", fn, "--statement-id", f"apigw-{uuid.uuid4().hex[:8]}",
        "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
        "--source-arn", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/*",
    )
    assert "apigateway.amazonaws.com" in perm["Statement"]

    api = aws_cli("apigatewayv2", "create-api", "--name", "cli-api", "--protocol-type", "HTTP", "--target", arn)
    api_id = api["ApiId"]
    assert api["ProtocolType"] == "HTTP"
    assert api["ApiEndpoint"].startswith(f"http://{api_id}.execute-api.localhost:")

    r = requests.get(f"{endpoint}/_aws/execute-api/{api_id}/hello?who=cli", timeout=60)
    assert r.status_code == 200, r.text
    event = r.json()["echo"]
    assert event["rawPath"] == "/hello"
    assert event["queryStringParameters"] == {"who": "cli"}

    routes = aws_cli("apigatewayv2", "get-routes", "--api-id", api_id)["Items"]
    assert [x["RouteKey"] for x in routes] == ["$default"]
    stages = aws_cli("apigatewayv2", "get-stages", "--api-id", api_id)["Items"]
    assert [s["StageName"] for s in stages] == ["$default"]

    aws_cli("apigatewayv2", "delete-api", "--api-id", api_id)
    gone = aws_cli("apigatewayv2", "get-api", "--api-id", api_id, expect_ok=False)
    assert gone.returncode != 0
    assert "NotFoundException" in gone.stderr
    assert requests.get(f"{endpoint}/_aws/execute-api/{api_id}/hello", timeout=30).status_code == 404
