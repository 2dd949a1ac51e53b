"""API Gateway v2 HTTP APIs with boto3 and raw HTTP: quick create with a Python function,
then the API called by path through nimbus's execute-api endpoint
(`/_aws/execute-api/<api-id>/<path>`): the event's payload format 2.0, route precedence,
404 for no route, 500 for a function error or a malformed answer; the host form
(`Host: <api-id>.execute-api.localhost`), CORS configuration, stage throttling and
SQS-SendMessage service integrations.

AWS's reference for the event and the response mapping:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

import json
import uuid
import re

import pytest
import requests

import boto3

from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server

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


# Host-based routing: ApiEndpoint's host form, `<api-id>.execute-api.localhost[:port]`,
# sent to 127.0.0.1 with a Host header (the same stage resolution as the path form).
def host_headers(api_id, port="4566"):
    return {"Host": f"{api_id}.execute-api.localhost:{port}"}


def test_host_form_default_stage(quick_api, endpoint):
    api_id = quick_api()
    r = requests.get(endpoint + "/pets/dog?a=1", headers=host_headers(api_id), timeout=60)
    assert r.status_code == 200, r.text
    event = r.json()["echo"]
    assert (event["rawPath"], event["rawQueryString"]) == ("/pets/dog", "a=1")
    assert event["requestContext"]["domainName"] == f"{api_id}.execute-api.localhost:4566"


def test_host_form_any_port_and_no_port(quick_api, endpoint):
    api_id = quick_api()
    for host in (f"{api_id}.execute-api.localhost", f"{api_id}.execute-api.localhost:9"):
        r = requests.get(endpoint + "/", headers={"Host": host}, timeout=60)
        assert r.status_code == 200, (host, r.text)
        assert r.json()["echo"]["rawPath"] == "/"


def test_host_form_named_stage(apigw, quick_api, endpoint):
    api_id = quick_api()
    apigw.create_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "blue"})
    event = requests.get(endpoint + "/dev/x", headers=host_headers(api_id), timeout=60).json()["echo"]
    assert (event["requestContext"]["stage"], event["rawPath"], event["stageVariables"]) == ("dev", "/dev/x", {"color": "blue"})


def test_host_form_unknown_api_is_404(endpoint):
    r = requests.get(endpoint + "/x", headers=host_headers("nosuchapi0"), timeout=60)
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})


def test_host_form_does_not_catch_aws_calls(apigw):
    # An ordinary Host (boto3's 127.0.0.1:<port>) still reaches the control plane.
    assert "Items" in apigw.get_apis()


# CORS, as "Configure CORS for HTTP APIs in API Gateway" describes it
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
CORS = {
    "AllowOrigins": ["https://app.example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["content-type", "x-custom"],
    "ExposeHeaders": ["x-a"],
    "MaxAge": 300,
    "AllowCredentials": True,
}


def preflight(endpoint, api_id, origin="https://app.example.com", method="POST"):
    headers = {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type"}
    return requests.options(url(endpoint, api_id, "/anything"), headers=headers, timeout=60)


def test_cors_preflight_is_answered_by_the_gateway(quick_api, endpoint):
    # handler.fail would make any integration call a 500: a 204 shows it did not run.
    api_id = quick_api(handler="handler.fail", CorsConfiguration=CORS)
    r = preflight(endpoint, api_id)
    assert (r.status_code, r.content) == (204, b"")
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert r.headers["access-control-allow-headers"] == "content-type,x-custom"
    assert r.headers["access-control-max-age"] == "300"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers.get("apigw-requestid")


def test_cors_preflight_from_another_origin_has_no_cors_headers(quick_api, endpoint):
    api_id = quick_api(handler="handler.fail", CorsConfiguration=CORS)
    for r in (preflight(endpoint, api_id, origin="https://evil.example.com"), preflight(endpoint, api_id, method="DELETE")):
        assert r.status_code == 204
        assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_cors_wildcard_origin(quick_api, endpoint):
    api_id = quick_api(handler="handler.fail", CorsConfiguration={"AllowOrigins": ["*"], "AllowMethods": ["*"]})
    r = preflight(endpoint, api_id, origin="https://any.example.com", method="PATCH")
    assert (r.status_code, r.headers["access-control-allow-origin"], r.headers["access-control-allow-methods"]) == (204, "*", "*")


def test_cors_headers_on_responses_replace_the_integrations(quick_api, endpoint):
    api_id = quick_api(handler="handler.respond", CorsConfiguration=CORS)
    answer = {"statusCode": 200, "headers": {"X-A": "1", "Access-Control-Allow-Origin": "https://backend.example.com"}, "body": "ok"}
    r = requests.post(url(endpoint, api_id, "/x"), data=json.dumps(answer), headers={"Origin": "https://app.example.com", "Content-Type": "application/json"}, timeout=60)
    assert (r.status_code, r.text) == (200, "ok")
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-expose-headers"] == "x-a"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = requests.post(url(endpoint, api_id, "/x"), data=json.dumps(answer), headers={"Origin": "https://evil.example.com"}, timeout=60)
    assert "access-control-allow-origin" not in r.headers


def test_without_cors_configuration_options_reaches_the_integration(quick_api, endpoint):
    # No CorsConfiguration: the preflight is an ordinary request for the $default route.
    api_id = quick_api()
    r = preflight(endpoint, api_id)
    assert r.status_code == 200, r.text
    assert r.json()["echo"]["requestContext"]["http"]["method"] == "OPTIONS"
    assert "access-control-allow-origin" not in r.headers


# Throttling: the stage's DefaultRouteSettings / RouteSettings ThrottlingBurstLimit and
# ThrottlingRateLimit (a token bucket per route), 429 {"message":"Too Many Requests"}.
# The route has no integration (404) so requests are fast and need no function.
@pytest.fixture(scope="module")
def clock_server():
    with nimbus_server(["--clock-control"]) as server_url:
        yield server_url


def clock_client(server_url):
    return boto3.session.Session().client("apigatewayv2", region_name=REGION, endpoint_url=server_url,
                                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def throttled_api(apigw, default=None, route_settings=None):
    api_id = apigw.create_api(Name="th", ProtocolType="HTTP")["ApiId"]
    apigw.create_route(ApiId=api_id, RouteKey="GET /a")
    apigw.create_route(ApiId=api_id, RouteKey="GET /b")
    kwargs = {"DefaultRouteSettings": default or {}}
    if route_settings:
        kwargs["RouteSettings"] = route_settings
    apigw.create_stage(ApiId=api_id, StageName="$default", **kwargs)
    return api_id


def statuses(base, api_id, path, n):
    return [requests.get(url(base, api_id, path), timeout=60).status_code for _ in range(n)]


def test_throttling_burst_then_refill(clock_server):
    apigw = clock_client(clock_server)
    api_id = throttled_api(apigw, default={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 1.0})
    stage = apigw.get_stage(ApiId=api_id, StageName="$default")
    assert (stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], stage["DefaultRouteSettings"]["ThrottlingRateLimit"]) == (2, 1.0)
    assert statuses(clock_server, api_id, "/a", 3) == [404, 404, 429]
    r = requests.get(url(clock_server, api_id, "/a"), timeout=60)
    assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
    # Each route has its own bucket.
    assert statuses(clock_server, api_id, "/b", 1) == [404]
    requests.post(clock_server + "/_nimbus/clock/advance?seconds=1", timeout=60).raise_for_status()
    assert statuses(clock_server, api_id, "/a", 2) == [404, 429]


def test_throttling_route_settings_override_defaults(clock_server):
    apigw = clock_client(clock_server)
    api_id = throttled_api(apigw, default={"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0.0},
                           route_settings={"GET /b": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 5.0}})
    assert statuses(clock_server, api_id, "/a", 1) == [429]
    assert statuses(clock_server, api_id, "/b", 3) == [404, 404, 404]
    apigw.update_stage(ApiId=api_id, StageName="$default", RouteSettings={"GET /b": {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0.0}})
    assert apigw.get_stage(ApiId=api_id, StageName="$default")["RouteSettings"]["GET /b"]["ThrottlingBurstLimit"] == 0
    assert statuses(clock_server, api_id, "/b", 1) == [429]


def test_without_throttling_settings_nothing_is_throttled(apigw, endpoint):
    api_id = throttled_api(apigw)
    try:
        assert statuses(endpoint, api_id, "/a", 5) == [404] * 5
    finally:
        apigw.delete_api(ApiId=api_id)


# AWS service integrations, SQS-SendMessage ("Integration subtype reference",
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services-reference.html).
@pytest.fixture
def sqs_api(apigw):
    """sqs_api(request_parameters, subtype="SQS-SendMessage") -> api id with `POST /send/{id}`
    to that integration and a `$default` stage with a stage variable (deleted after)."""
    made = []

    def make(request_parameters, subtype="SQS-SendMessage"):
        api_id = apigw.create_api(Name="q", ProtocolType="HTTP")["ApiId"]
        made.append(api_id)
        integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationSubtype=subtype, PayloadFormatVersion="1.0",
                                               CredentialsArn=f"arn:aws:iam::{ACCOUNT}:role/apigw-sqs", RequestParameters=request_parameters)
        apigw.create_route(ApiId=api_id, RouteKey="POST /send/{id}", Target="integrations/" + integration["IntegrationId"])
        apigw.create_stage(ApiId=api_id, StageName="$default", StageVariables={"env": "test"})
        return api_id

    yield make
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def test_sqs_send_message_integration(sqs_api, queue, sqs, endpoint):
    queue_url = queue()
    api_id = sqs_api({
        "QueueUrl": queue_url,
        "MessageBody": "$request.body.message",
        "MessageAttributes": "$request.body.attributes",
        "DelaySeconds": "$request.querystring.delay",
    })
    attributes = {"who": {"DataType": "String", "StringValue": "alice"}}
    r = requests.post(url(endpoint, api_id, "/send/7?delay=0"), json={"message": "hello", "attributes": attributes}, timeout=60)
    assert r.status_code == 200, r.text
    result = r.json()["SendMessageResponse"]["SendMessageResult"]
    assert result["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"  # md5("hello")
    assert result["SequenceNumber"] is None
    got = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(result["MessageId"], "hello")]
    assert got[0]["MessageAttributes"]["who"]["StringValue"] == "alice"


def test_sqs_send_message_maps_header_path_context_and_stage_variables(sqs_api, queue, sqs, endpoint):
    queue_url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    api_id = sqs_api({"QueueUrl": queue_url, "MessageBody": "$request.body", "MessageGroupId": "$request.path.id",
                      "MessageDeduplicationId": "$context.requestId"})
    r = requests.post(url(endpoint, api_id, "/send/g1"), data="raw body", timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["SendMessageResponse"]["SendMessageResult"]["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"]
    assert (got[0]["Body"], got[0]["Attributes"]["MessageGroupId"]) == ("raw body", "g1")
    # Literal values and $stageVariables / $request.header.
    api_id = sqs_api({"QueueUrl": queue_url, "MessageBody": "$request.header.x-note", "MessageGroupId": "$stageVariables.env"})
    r = requests.post(url(endpoint, api_id, "/send/x"), data="ignored", headers={"X-Note": "from header"}, timeout=60)
    assert r.status_code == 200, r.text


def test_sqs_send_message_errors_are_sqs_errors(sqs_api, queue, endpoint):
    api_id = sqs_api({"QueueUrl": queue(fifo=True), "MessageBody": "$request.body"})
    r = requests.post(url(endpoint, api_id, "/send/1"), data="no group", timeout=60)
    assert r.status_code == 400, r.text
    assert r.json()["Error"]["Code"] == "MissingParameter"
    api_id = sqs_api({"QueueUrl": f"http://localhost:4566/{ACCOUNT}/no-such-queue-xyz", "MessageBody": "$request.body"})
    r = requests.post(url(endpoint, api_id, "/send/1"), data="x", timeout=60)
    assert r.status_code == 400, r.text
    assert r.json()["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_eventbridge_put_events_integration_puts_the_event_on_the_bus(sqs_api, queue, sqs, make_client, endpoint):
    """EventBridge-PutEvents: the mapped entry goes to the bus and its rules; the answer is
    PutEvents' (`Entries` with the `EventId`, `FailedEntryCount`)."""
    events = make_client("events")
    queue_url = queue()
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"from-api-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["shop.api"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    try:
        api_id = sqs_api({"Source": "shop.api", "DetailType": "$request.header.x-kind", "Detail": "$request.body",
                          "Resources": "arn:aws:shop:::order/$request.path.id"}, subtype="EventBridge-PutEvents")
        r = requests.post(url(endpoint, api_id, "/send/42"), json={"order": 42}, headers={"X-Kind": "OrderPlaced"}, timeout=60)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]
        got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)["Messages"]
        event = json.loads(got[0]["Body"])
        assert (event["id"], event["source"], event["detail-type"], event["detail"], event["resources"]) == (
            answer["Entries"][0]["EventId"], "shop.api", "OrderPlaced", {"order": 42}, ["arn:aws:shop:::order/42"])
        # A Detail that is not a JSON object is PutEvents' per-entry error, passed on.
        r = requests.post(url(endpoint, api_id, "/send/1"), data="not json", headers={"X-Kind": "k"}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["FailedEntryCount"] == 1 and r.json()["Entries"][0]["ErrorCode"] == "MalformedDetail"
    finally:
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)


def test_other_subtypes_are_stored_but_not_supported_when_called(sqs_api, endpoint):
    api_id = sqs_api({"StreamName": "s", "Data": "$request.body", "PartitionKey": "k"}, subtype="Kinesis-PutRecord")
    r = requests.post(url(endpoint, api_id, "/send/1"), data="{}", timeout=60)
    assert (r.status_code, r.json()) == (500, {"message": "Kinesis-PutRecord integrations are not supported by nimbus yet"})


def test_service_integration_create_checks(apigw):
    api_id = apigw.create_api(Name="bad", ProtocolType="HTTP")["ApiId"]
    try:
        base = {"ApiId": api_id, "IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "1.0"}
        for extra in ({"IntegrationSubtype": "SQS-Teleport", "RequestParameters": {"QueueUrl": "q"}},
                      {"IntegrationSubtype": "SQS-SendMessage", "RequestParameters": {"QueueUrl": "q"}},
                      {"IntegrationSubtype": "SQS-SendMessage", "RequestParameters": {"QueueUrl": "q", "MessageBody": "b"}, "PayloadFormatVersion": "2.0"}):
            with pytest.raises(apigw.exceptions.BadRequestException):
                apigw.create_integration(**{**base, **extra})
    finally:
        apigw.delete_api(ApiId=api_id)
