"""API Gateway v2 HTTP APIs' integrations with boto3 + requests against a real nimbus:
HTTP_PROXY to an upstream HTTP server run by the test, parameter mapping of requests
(headers, query strings, path; values from the request, `$context`, stage variables,
literals and mixtures) and responses (headers, `overwrite:statuscode`), Lambda proxy
integrations with request parameters, the SQS-SendMessage / ReceiveMessage / DeleteMessage /
PurgeQueue subtypes, integration timeouts, stage access logs (read back with boto3 and the
AWS CLI's `logs filter-log-events`), and the BadRequestExceptions of bad settings.

AWS's references:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-http.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services-reference.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import REGION, unique_name

ACCOUNT = "000000000000"


class Upstream(BaseHTTPRequestHandler):
    """Answers every request with what it received as JSON; `/slow` waits 2 s first,
    `/status/<n>` answers status n; always sets `x-upstream: yes`."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/slow"):
            time.sleep(2)
        status = 201
        if "/status/" in self.path:
            status = int(self.path.split("/status/")[1].split("?")[0])
        payload = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-upstream", "yes")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def apigw(make_client):
    return make_client("apigatewayv2")


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


@pytest.fixture
def api(apigw):
    """api(integration_kwargs, route_key, stage_kwargs) -> api id with one route to one
    integration on an auto-deployed `$default` stage (deleted after)."""
    made = []

    def make(integration, route_key="ANY /{proxy+}", **stage):
        api_id = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP")["ApiId"]
        made.append(api_id)
        integration_id = apigw.create_integration(ApiId=api_id, **integration)["IntegrationId"]
        apigw.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration_id}")
        apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, **stage)
        return api_id

    yield make
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def url(endpoint, api_id, path):
    return f"{endpoint}/_aws/execute-api/{api_id}{path}"


def proxy(upstream, uri_path="/{proxy}", **kwargs):
    return dict(IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", IntegrationUri=upstream + uri_path, PayloadFormatVersion="1.0", **kwargs)


def bad_request(call):
    with pytest.raises(ClientError) as e:
        call()
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return e.value.response["Error"]["Message"]


# --- HTTP_PROXY -----------------------------------------------------------------------


def test_http_proxy_forwards_method_path_query_headers_and_body(api, upstream, endpoint):
    api_id = api(proxy(upstream, "/base/{proxy}"))
    r = requests.put(
        url(endpoint, api_id, "/a/b%20c?x=1&x=2"),
        data="payload",
        headers={"X-Custom": "v", "Connection": "keep-alive"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    seen = r.json()
    assert seen["method"] == "PUT"
    assert seen["path"] == "/base/a/b%20c?x=1&x=2"
    assert seen["body"] == "payload"
    h = seen["headers"]
    assert h["x-custom"] == "v"
    assert h["host"] == upstream.removeprefix("http://")
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert h["x-forwarded-proto"] == "http"
    assert h["x-forwarded-port"] == endpoint.rsplit(":", 1)[1]
    assert "for=127.0.0.1" in h["forwarded"]
    # The upstream's headers come back, with the gateway's request id.
    assert r.headers["x-upstream"] == "yes"
    assert r.headers.get("apigw-requestid")


def test_http_proxy_without_a_uri_path_gets_the_request_path(api, upstream, endpoint):
    api_id = api(proxy(upstream, ""), route_key="GET /pets/{id}")
    r = requests.get(url(endpoint, api_id, "/pets/7"), timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "/pets/7"


def test_quick_create_with_a_url_proxies_every_path(apigw, upstream, endpoint):
    api_id = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP", Target=upstream)["ApiId"]
    try:
        r = requests.post(url(endpoint, api_id, "/any/where?x=1"), data="b", timeout=30)
        assert r.status_code == 201, r.text
        assert (r.json()["method"], r.json()["path"], r.json()["body"]) == ("POST", "/any/where?x=1", "b")
    finally:
        apigw.delete_api(ApiId=api_id)


def test_http_proxy_integration_method_overrides_the_request_method(api, upstream, endpoint):
    api_id = api(dict(proxy(upstream), IntegrationMethod="POST"))
    assert requests.get(url(endpoint, api_id, "/x"), timeout=30).json()["method"] == "POST"


def test_http_proxy_unreachable_upstream_is_500(api, endpoint):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    api_id = api(proxy(f"http://127.0.0.1:{port}"))
    r = requests.get(url(endpoint, api_id, "/x"), timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "Internal Server Error"}


def test_http_proxy_timeout_is_503_service_unavailable(api, upstream, endpoint):
    api_id = api(proxy(upstream, "/slow", TimeoutInMillis=300))
    started = time.monotonic()
    r = requests.get(url(endpoint, api_id, "/x"), timeout=30)
    assert r.status_code == 503
    assert r.json() == {"message": "Service Unavailable"}
    assert time.monotonic() - started < 1.8, "answered at the timeout, not after the upstream"


def test_https_upstreams_are_not_supported_yet(api, endpoint):
    api_id = api(proxy("https://example.com"))
    r = requests.get(url(endpoint, api_id, "/x"), timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "HTTPS integration endpoints are not supported by nimbus yet"}


# --- request parameter mapping --------------------------------------------------------


def test_request_header_mappings(api, upstream, endpoint):
    api_id = api(proxy(upstream, RequestParameters={
        "append:header.x-renamed": "$request.header.x-old",
        "remove:header.x-old": "''",
        "overwrite:header.x-over": "fixed",
        "append:header.x-multi": "added",
        "overwrite:header.x-mixed": "id=${request.path.proxy};rid=$context.requestId",
    }))
    r = requests.get(url(endpoint, api_id, "/thing"), headers={"X-Old": "o", "X-Over": "client", "X-Multi": "m"}, timeout=30)
    h = r.json()["headers"]
    assert h["x-renamed"] == "o"
    assert "x-old" not in h
    assert h["x-over"] == "fixed"
    assert h["x-multi"] == "m,added"
    assert h["x-mixed"] == f"id=thing;rid={r.headers['apigw-requestid']}"


def test_request_querystring_and_path_mappings(apigw, api, upstream, endpoint):
    api_id = api(proxy(upstream, RequestParameters={
        "overwrite:querystring.q": "$request.body.query.text",
        "append:querystring.tag": "$stageVariables.env",
        "remove:querystring.secret": "''",
        "overwrite:path": "/mapped/${request.path.proxy}",
    }), StageVariables={"env": "dev"})
    r = requests.post(
        url(endpoint, api_id, "/orig?q=client&tag=a&secret=s"),
        json={"query": {"text": "from body"}},
        timeout=30,
    )
    seen = r.json()
    path, _, query = seen["path"].partition("?")
    assert path == "/mapped/orig"
    assert sorted(query.split("&")) == ["q=from+body", "tag=a", "tag=dev"]


def test_missing_value_leaves_the_parameter_out(api, upstream, endpoint):
    api_id = api(proxy(upstream, RequestParameters={"overwrite:header.x-copy": "$request.header.x-absent"}))
    h = requests.get(url(endpoint, api_id, "/x"), headers={"X-Copy": "client"}, timeout=30).json()["headers"]
    assert h["x-copy"] == "client"


def test_lambda_proxy_integration_sees_mapped_request(api, lambda_function, endpoint):
    fn = lambda_function(handler="handler.echo_proxy")
    api_id = api(dict(
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}",
        PayloadFormatVersion="2.0",
        RequestParameters={"overwrite:header.x-tenant": "$request.querystring.t", "remove:querystring.t": "''", "append:querystring.src": "apigw"},
        ResponseParameters={"200": {"overwrite:statuscode": "207", "append:header.x-route": "$context.routeKey"}},
    ))
    r = requests.get(url(endpoint, api_id, "/p?t=acme&keep=1"), timeout=60)
    assert r.status_code == 207, r.text
    assert r.headers["x-route"] == "ANY /{proxy+}"
    event = r.json()
    assert event["headers"]["x-tenant"] == "acme"
    assert event["queryStringParameters"] == {"keep": "1", "src": "apigw"}


def test_lambda_integration_timeout_is_503(api, lambda_function, endpoint):
    fn = lambda_function(handler="handler.sleep_proxy", Timeout=10)
    api_id = api(dict(
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}",
        PayloadFormatVersion="2.0",
        TimeoutInMillis=1000,
    ))
    fast = requests.get(url(endpoint, api_id, "/x?ms=0"), timeout=60)
    assert (fast.status_code, fast.text) == (200, "slept 0")
    started = time.monotonic()
    slow = requests.get(url(endpoint, api_id, "/x?ms=4000"), timeout=60)
    assert slow.status_code == 503
    assert slow.json() == {"message": "Service Unavailable"}
    assert time.monotonic() - started < 3.5, "answered at the 1 s timeout, not after the function"
    # The function stays usable after an abandoned invocation.
    again = requests.get(url(endpoint, api_id, "/x?ms=0"), timeout=60)
    assert (again.status_code, again.text) == (200, "slept 0")


# --- response parameter mapping -------------------------------------------------------


def test_response_mappings_by_status_code(api, upstream, endpoint):
    api_id = api(proxy(upstream, ResponseParameters={
        "201": {"overwrite:statuscode": "200", "overwrite:header.x-method": "$response.body.method", "remove:header.x-upstream": "''"},
        "404": {"overwrite:statuscode": "410", "append:header.x-upstream": "$stageVariables.note"},
    }), StageVariables={"note": "gone"})
    r = requests.delete(url(endpoint, api_id, "/x"), timeout=30)
    assert r.status_code == 200
    assert r.headers["x-method"] == "DELETE"
    assert "x-upstream" not in r.headers
    r = requests.get(url(endpoint, api_id, "/status/404"), timeout=30)
    assert r.status_code == 410
    assert r.headers["x-upstream"] == "yes,gone"
    r = requests.get(url(endpoint, api_id, "/status/202"), timeout=30)
    assert r.status_code == 202
    assert r.headers["x-upstream"] == "yes"


# --- SQS service integrations ---------------------------------------------------------


def sqs_integration(subtype, params, **kwargs):
    return dict(IntegrationType="AWS_PROXY", IntegrationSubtype=subtype, PayloadFormatVersion="1.0", RequestParameters=params, **kwargs)


def test_sqs_send_message_answers_202_with_overwrite_statuscode(api, queue, sqs, endpoint):
    q = queue()
    api_id = api(sqs_integration(
        "SQS-SendMessage",
        {"QueueUrl": q, "MessageBody": "$request.body"},
        ResponseParameters={"200": {"overwrite:statuscode": "202"}},
    ), route_key="POST /orders")
    r = requests.post(url(endpoint, api_id, "/orders"), data='{"order": 1}', timeout=30)
    assert r.status_code == 202, r.text
    sent = r.json()["SendMessageResponse"]["SendMessageResult"]
    got = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(sent["MessageId"], '{"order": 1}')]


def test_sqs_receive_then_delete_message(api, queue, sqs, endpoint):
    q = queue()
    sqs.send_message(QueueUrl=q, MessageBody="hello")
    receive = api(sqs_integration("SQS-ReceiveMessage", {"QueueUrl": q, "MaxNumberOfMessages": "$request.querystring.max", "VisibilityTimeout": "30"}), route_key="GET /messages")
    r = requests.get(url(endpoint, receive, "/messages?max=5"), timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()["ReceiveMessageResponse"]
    assert body["ResponseMetadata"]["RequestId"] == r.headers["apigw-requestid"]
    [m] = body["ReceiveMessageResult"]["messages"]
    assert m["Body"] == "hello"
    assert set(m) == {"Attributes", "Body", "MD5OfBody", "MD5OfMessageAttributes", "MessageAttributes", "MessageId", "ReceiptHandle"}
    # Invisible now: an empty receive answers `messages: null`.
    empty = requests.get(url(endpoint, receive, "/messages?max=1"), timeout=30).json()
    assert empty["ReceiveMessageResponse"]["ReceiveMessageResult"] == {"messages": None}

    delete = api(sqs_integration("SQS-DeleteMessage", {"QueueUrl": q, "ReceiptHandle": "$request.header.x-receipt"}), route_key="DELETE /messages")
    r = requests.delete(url(endpoint, delete, "/messages"), headers={"X-Receipt": m["ReceiptHandle"]}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"DeleteMessageResponse": {"ResponseMetadata": {"RequestId": r.headers["apigw-requestid"]}}}
    attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    # A bad receipt handle is SQS's error, passed on.
    r = requests.delete(url(endpoint, delete, "/messages"), headers={"X-Receipt": "nonsense"}, timeout=30)
    assert r.status_code == 404
    assert r.json()["Error"]["Code"] == "ReceiptHandleIsInvalid"


def test_sqs_purge_queue(api, queue, sqs, endpoint):
    q = queue()
    for i in range(3):
        sqs.send_message(QueueUrl=q, MessageBody=str(i))
    api_id = api(sqs_integration("SQS-PurgeQueue", {"QueueUrl": q}), route_key="POST /purge")
    r = requests.post(url(endpoint, api_id, "/purge"), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"PurgeQueueResponse": {"ResponseMetadata": {"RequestId": r.headers["apigw-requestid"]}}}
    assert sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"] == "0"
    # A second purge within 60 s is SQS's PurgeQueueInProgress.
    r = requests.post(url(endpoint, api_id, "/purge"), timeout=30)
    assert r.status_code == 403
    assert r.json()["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_other_subtypes_stay_not_supported(api, endpoint):
    api_id = api(sqs_integration("Kinesis-PutRecord", {"StreamName": "s", "Data": "$request.body", "PartitionKey": "k"}))
    r = requests.post(url(endpoint, api_id, "/x"), data="d", timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "Kinesis-PutRecord integrations are not supported by nimbus yet"}


# --- access logs ----------------------------------------------------------------------


def test_access_log_line_per_request(api, upstream, logs, aws_cli, endpoint):
    group = unique_name("/apigw/access")
    logs.create_log_group(logGroupName=group)
    fmt = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod",'
           '"routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol",'
           '"length":"$context.responseLength","integrationStatus":"$context.integrationStatus",'
           '"integrationError":"$context.integrationErrorMessage","stage":"${context.stage}","path":"$context.path",'
           '"ua":"$context.identity.userAgent","epoch":"$context.requestTimeEpoch","error":"$context.error.message"}')
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    api_id = api(proxy(upstream), route_key="GET /hello/{proxy+}", AccessLogSettings={"DestinationArn": arn, "Format": fmt})
    before = int(time.time() * 1000)
    ok = requests.get(url(endpoint, api_id, "/hello/there"), headers={"User-Agent": "ua-test"}, timeout=30)
    missing = requests.get(url(endpoint, api_id, "/nowhere"), timeout=30)
    assert (ok.status_code, missing.status_code) == (201, 404)
    events = aws_cli("logs", "filter-log-events", "--log-group-name", group)["events"]
    lines = {json.loads(e["message"])["requestId"]: json.loads(e["message"]) for e in events}
    assert len(lines) == 2
    assert {e["logStreamName"] for e in events} == {f"{api_id}_$default"}
    line = lines[ok.headers["apigw-requestid"]]
    assert line["ip"] == "127.0.0.1"
    assert (line["method"], line["routeKey"], line["status"], line["protocol"]) == ("GET", "GET /hello/{proxy+}", "201", "HTTP/1.1")
    assert line["length"] == str(len(ok.content))
    assert line["integrationStatus"] == "201"
    assert (line["integrationError"], line["error"]) == ("-", "-")
    assert (line["stage"], line["path"], line["ua"]) == ("$default", "/hello/there", "ua-test")
    assert int(line["epoch"]) >= before
    gone = lines[missing.headers["apigw-requestid"]]
    assert (gone["status"], gone["routeKey"], gone["error"], gone["integrationStatus"]) == ("404", "-", "Not Found", "-")


def test_access_log_settings_are_checked(apigw, api, upstream):
    api_id = api(proxy(upstream))
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g"
    msg = bad_request(lambda: apigw.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={"DestinationArn": arn, "Format": "$context.status"}))
    assert msg == "The following errors are found in Access Log Format: Access Log format must include either $context.requestId or $context.extendedRequestId : '$context.status'"
    msg = bad_request(lambda: apigw.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={"DestinationArn": arn, "Format": "$context.requestId $context.nope"}))
    assert msg == "The following context variables are not supported: [$context.nope]"
    msg = bad_request(lambda: apigw.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={"DestinationArn": "g", "Format": "$context.requestId"}))
    assert msg == "Invalid ARN specified in the request. ARNs must start with 'arn:': g"
    ok = apigw.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={"DestinationArn": arn, "Format": "$context.extendedRequestId"})
    assert ok["AccessLogSettings"] == {"DestinationArn": arn, "Format": "$context.extendedRequestId"}


# --- bad settings at create / update --------------------------------------------------


def test_bad_mappings_are_refused(apigw, upstream):
    api_id = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP")["ApiId"]
    try:
        create = lambda **kw: apigw.create_integration(ApiId=api_id, **proxy(upstream, **kw))  # noqa: E731
        msg = bad_request(lambda: create(RequestParameters={"rename:header.x": "v"}))
        assert msg.startswith("Invalid mapping expression specified: Validation Result: warnings : [], errors : [")
        assert "rename:header.x" in msg
        assert "Reserved header" in bad_request(lambda: create(RequestParameters={"overwrite:header.Authorization": "v"}))
        assert "Reserved header" in bad_request(lambda: create(ResponseParameters={"200": {"append:header.x-amzn-thing": "v"}}))
        assert "$request.nothing.x" in bad_request(lambda: create(RequestParameters={"overwrite:header.x": "$request.nothing.x"}))
        assert "Invalid status code" in bad_request(lambda: create(ResponseParameters={"200": {"overwrite:statuscode": "two hundred"}}))
        assert "200-599" in bad_request(lambda: create(ResponseParameters={"700": {"overwrite:statuscode": "200"}}))
        assert bad_request(lambda: create(TimeoutInMillis=30001)) == "Timeout should be between 50 ms and 30000 ms"
        msg = bad_request(lambda: apigw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", IntegrationUri="not a url", PayloadFormatVersion="1.0"))
        assert msg == "Invalid HTTP endpoint specified for URI"
    finally:
        apigw.delete_api(ApiId=api_id)


def test_update_integration_merges_and_removes_mappings(apigw, upstream):
    api_id = apigw.create_api(Name=unique_name("api"), ProtocolType="HTTP")["ApiId"]
    try:
        i = apigw.create_integration(ApiId=api_id, **proxy(upstream, RequestParameters={"append:header.a": "1", "append:header.b": "2"}, ResponseParameters={"200": {"overwrite:statuscode": "202"}, "404": {"overwrite:statuscode": "410"}}))
        u = apigw.update_integration(ApiId=api_id, IntegrationId=i["IntegrationId"], RequestParameters={"append:header.a": "", "append:header.c": "3"}, ResponseParameters={"200": {}})
        assert u["RequestParameters"] == {"append:header.b": "2", "append:header.c": "3"}
        assert u["ResponseParameters"] == {"404": {"overwrite:statuscode": "410"}}
        assert apigw.get_integration(ApiId=api_id, IntegrationId=i["IntegrationId"])["RequestParameters"] == u["RequestParameters"]
    finally:
        apigw.delete_api(ApiId=api_id)
