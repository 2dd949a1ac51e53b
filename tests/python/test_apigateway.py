"""API Gateway v2 HTTP APIs with boto3 and raw HTTP: quick create with a Python function,
then the API called by path through nimbus's execute-api endpoint
(`/_aws/execute-api/<api-id>/<path>`): the event's payload format 2.0, route precedence,
404 for no route, 500 for a function error or a malformed answer.

AWS's reference for the event and the response mapping:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

import json
import re

import pytest
import requests

from conftest import REGION

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def apigw(make_client):
    return make_client("apigatewayv2")


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture
def quick_api(apigw, lambda_function):
    """quick_api(handler="handler.echo", **create_kwargs) -> api id (deleted after)."""
    made = []

    def make(handler="handler.echo", **kwargs):
        fn = lambda_function(handler=handler)
        api = apigw.create_api(Name="t", ProtocolType="HTTP", Target=function_arn(fn), **kwargs)
        made.append(api["ApiId"])
        return api["ApiId"]

    yield make
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def url(endpoint, api_id, path):
    return f"{endpoint}/_aws/execute-api/{api_id}{path}"


def test_quick_create_makes_default_route_integration_and_stage(apigw, quick_api, endpoint):
    api_id = quick_api()
    api = apigw.get_api(ApiId=api_id)
    port = endpoint.rsplit(":", 1)[1]
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{port}"
    assert re.fullmatch("[a-z0-9]{10}", api_id)
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    integrations = apigw.get_integrations(ApiId=api_id)["Items"]
    stages = apigw.get_stages(ApiId=api_id)["Items"]
    assert [r["RouteKey"] for r in routes] == ["$default"]
    assert routes[0]["Target"] == "integrations/" + integrations[0]["IntegrationId"]
    assert integrations[0]["IntegrationType"] == "AWS_PROXY"
    assert integrations[0]["PayloadFormatVersion"] == "2.0"
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]


def test_quick_create_event_has_the_2_0_shape(quick_api, endpoint):
    api_id = quick_api()
    r = requests.post(
        url(endpoint, api_id, "/pets/dog?a=1&a=2&b=x"),
        data='{"hello": "world"}',
        headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "X-Custom": "yes"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers.get("apigw-requestid")
    event = r.json()["echo"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/pets/dog"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "yes"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}'
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event
    ctx = event["requestContext"]
    assert ctx["accountId"] == ACCOUNT
    assert ctx["apiId"] == api_id
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "$default"
    assert ctx["http"]["method"] == "POST"
    assert ctx["http"]["path"] == "/pets/dog"
    assert ctx["http"]["protocol"] == "HTTP/1.1"
    assert ctx["http"]["sourceIp"] == "127.0.0.1"
    assert ctx["http"]["userAgent"] == r.request.headers["User-Agent"]
    assert ctx["requestId"] == r.headers["apigw-requestid"]
    assert isinstance(ctx["timeEpoch"], int) and ctx["time"].endswith(" +0000")
    assert ctx["domainName"] and ctx["domainPrefix"]


def test_binary_body_is_base64_encoded(quick_api, endpoint):
    api_id = quick_api()
    r = requests.post(url(endpoint, api_id, "/b"), data=b"\x00\xffbin", headers={"Content-Type": "application/octet-stream"}, timeout=60)
    event = r.json()["echo"]
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AP9iaW4="


def test_route_precedence_exact_then_param_then_greedy_then_default(apigw, quick_api, endpoint):
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
    api_id = quick_api()
    target = apigw.get_routes(ApiId=api_id)["Items"][0]["Target"]
    for key in ["GET /pets/dog", "GET /pets/{name}", "ANY /pets/{proxy+}", "ANY /pets/dog"]:
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=target)

    def route_of(method, path):
        r = requests.request(method, url(endpoint, api_id, path), timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["echo"]

    assert route_of("GET", "/pets/dog")["routeKey"] == "GET /pets/dog"
    assert route_of("POST", "/pets/dog")["routeKey"] == "ANY /pets/dog"
    cat = route_of("GET", "/pets/cat")
    assert (cat["routeKey"], cat["pathParameters"]) == ("GET /pets/{name}", {"name": "cat"})
    deep = route_of("GET", "/pets/cat/toys")
    assert (deep["routeKey"], deep["pathParameters"]) == ("ANY /pets/{proxy+}", {"proxy": "cat/toys"})
    assert route_of("GET", "/other")["routeKey"] == "$default"


def test_no_route_is_404_not_found(apigw, quick_api, endpoint):
    api_id = quick_api(RouteKey="GET /only")
    r = requests.get(url(endpoint, api_id, "/elsewhere"), timeout=60)
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    assert r.headers.get("apigw-requestid")
    r = requests.get(url(endpoint, api_id, "/only"), timeout=60)
    assert r.status_code == 200
    r = requests.get(url(endpoint, "nosuchapi0", "/only"), timeout=60)
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})


def test_named_stage_prefix_and_stage_variables(apigw, quick_api, endpoint):
    api_id = quick_api()
    apigw.create_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "blue"})
    event = requests.get(url(endpoint, api_id, "/dev/x"), timeout=60).json()["echo"]
    assert event["requestContext"]["stage"] == "dev"
    assert event["rawPath"] == "/dev/x"
    assert event["stageVariables"] == {"color": "blue"}


def test_function_error_is_500(quick_api, endpoint):
    api_id = quick_api(handler="handler.fail")
    r = requests.get(url(endpoint, api_id, "/x"), timeout=60)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_structured_response_is_mapped(quick_api, endpoint):
    api_id = quick_api(handler="handler.respond")
    answer = {"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["k=v"], "body": "aGk=", "isBase64Encoded": True}
    r = requests.post(url(endpoint, api_id, "/x"), data=json.dumps(answer), headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 201
    assert r.headers["x-a"] == "1"
    assert r.headers["set-cookie"] == "k=v"
    assert r.content == b"hi"


def test_malformed_response_is_500(quick_api, endpoint):
    api_id = quick_api(handler="handler.respond")
    r = requests.post(url(endpoint, api_id, "/x"), data=json.dumps({"statusCode": "teapot"}), headers={"Content-Type": "application/json"}, timeout=60)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_bare_json_result_is_a_200_json_body(quick_api, endpoint):
    api_id = quick_api(handler="handler.respond")
    r = requests.post(url(endpoint, api_id, "/x"), data=json.dumps([1, 2]), headers={"Content-Type": "application/json"}, timeout=60)
    assert (r.status_code, r.json(), r.headers["content-type"]) == (200, [1, 2], "application/json")


@pytest.fixture
def api_with_integration(apigw, lambda_function):
    """api_with_integration(handler, version, route_key) -> api id with one route to an
    AWS_PROXY integration of that payload format and a `$default` stage (deleted after)."""
    made = []

    def make(handler, version, route_key="ANY /items/{id}"):
        fn = lambda_function(handler=handler)
        api_id = apigw.create_api(Name="v", ProtocolType="HTTP")["ApiId"]
        made.append(api_id)
        integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(fn), PayloadFormatVersion=version)
        apigw.create_route(ApiId=api_id, RouteKey=route_key, Target="integrations/" + integration["IntegrationId"])
        apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        return api_id

    yield make
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def test_payload_format_1_0_event(api_with_integration, endpoint):
    api_id = api_with_integration("handler.echo_proxy", "1.0")
    r = requests.put(url(endpoint, api_id, "/items/7?q=a&q=b"), data="text body", headers={"Content-Type": "text/plain", "X-Twice": "1"}, timeout=60)
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["version"] == "1.0"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/7", "PUT")
    assert event["queryStringParameters"] == {"q": "b"}
    assert event["multiValueQueryStringParameters"] == {"q": ["a", "b"]}
    assert event["headers"]["x-twice"] == "1" and event["multiValueHeaders"]["x-twice"] == ["1"]
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] is None
    assert (event["body"], event["isBase64Encoded"]) == ("text body", False)
    ctx = event["requestContext"]
    assert (ctx["apiId"], ctx["stage"], ctx["resourceId"]) == (api_id, "$default", "ANY /items/{id}")
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"


def test_payload_format_1_0_has_no_inference(api_with_integration, endpoint):
    # 1.0 answers need a statusCode; a bare JSON result is a 500.
    api_id = api_with_integration("handler.echo", "1.0")
    r = requests.get(url(endpoint, api_id, "/items/7"), timeout=60)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})


def test_payload_format_2_0_integration_created_by_hand(api_with_integration, endpoint):
    api_id = api_with_integration("handler.echo_proxy", "2.0")
    event = requests.get(url(endpoint, api_id, "/items/7"), timeout=60).json()
    assert (event["version"], event["routeKey"], event["pathParameters"]) == ("2.0", "ANY /items/{id}", {"id": "7"})
