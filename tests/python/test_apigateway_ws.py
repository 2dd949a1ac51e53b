"""API Gateway v2 WebSocket APIs with the `websockets` client and boto3: a WebSocket API
whose routes run a Python function (tests/functions/python/ws.py), connected by path
(`ws://127.0.0.1:PORT/_aws/execute-api/<api-id>/<stage>`) and by host
(`ws://<api-id>.execute-api.localhost:PORT/<stage>`), a two-way `$default` route echoing
through the function, and boto3's `apigatewaymanagementapi` client (PostToConnection,
GetConnection, DeleteConnection, GoneException) on the API's endpoint.

AWS's references: "Working with WebSocket APIs" and "Use @connections commands in your
backend service":
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

import asyncio
import json

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import ACCESS_KEY, REGION, SECRET_KEY

ACCOUNT = "000000000000"
WAIT = 60  # seconds: a bound on each receive, never a sleep


@pytest.fixture(scope="module")
def apigw(make_client):
    return make_client("apigatewayv2")


@pytest.fixture
def ws_api(apigw, lambda_function):
    """ws_api() -> api id: a WebSocket API, stage `prod`, `$default` (two-way) and
    `$connect` routes on ws.handler (deleted after)."""
    made = []

    def make():
        fn = lambda_function(handler="ws.handler", Timeout=30)
        api = apigw.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
        api_id = api["ApiId"]
        made.append(api_id)
        integration = apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
        )
        target = "integrations/" + integration["IntegrationId"]
        default = apigw.create_route(ApiId=api_id, RouteKey="$default", Target=target)
        apigw.create_route_response(ApiId=api_id, RouteId=default["RouteId"], RouteResponseKey="$default")
        apigw.create_route(ApiId=api_id, RouteKey="$connect", Target=target)
        apigw.create_stage(ApiId=api_id, StageName="prod")
        return api_id

    yield make
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def ws_url(endpoint, api_id):
    return endpoint.replace("http://", "ws://") + f"/_aws/execute-api/{api_id}/prod"


async def echo(ws, text):
    """Sends `text` to the two-way $default route; returns the function's answer."""
    await ws.send(text)
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


def test_connect_and_echo_through_default_route(ws_api, endpoint):
    api_id = ws_api()

    async def run():
        async with connect(ws_url(endpoint, api_id)) as ws:
            reply = await echo(ws, "hello")
            assert reply["routeKey"] == "$default"
            assert reply["body"] == "hello"
            context = reply["event"]["requestContext"]
            assert context["eventType"] == "MESSAGE"
            assert context["apiId"] == api_id and context["stage"] == "prod"
            assert context["connectionId"].endswith("=")
        # The host form: the Host header names the API; the socket goes to nimbus's port.
        port = int(endpoint.rsplit(":", 1)[1])
        async with connect(f"ws://{api_id}.execute-api.localhost:{port}/prod", host="127.0.0.1", port=port) as ws:
            reply = await echo(ws, '{"action": "unknown"}')
            assert reply["routeKey"] == "$default"

    asyncio.run(run())


def test_connect_refused_by_the_function(ws_api, endpoint):
    api_id = ws_api()

    async def run():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(endpoint, api_id) + "?reject=403"):
                pass
        assert refused.value.response.status_code == 403

    asyncio.run(run())


def test_post_get_delete_connection_with_boto3(ws_api, endpoint):
    api_id = ws_api()
    # The management API's endpoint is the API's own, with the stage.
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{endpoint}/_aws/execute-api/{api_id}/prod",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )

    async def run():
        async with connect(ws_url(endpoint, api_id), user_agent_header="nimbus-py-test") as ws:
            connection_id = (await echo(ws, "who am i"))["event"]["requestContext"]["connectionId"]
            await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"pushed by boto3")
            assert await asyncio.wait_for(ws.recv(), WAIT) == "pushed by boto3"

            got = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            assert got["Identity"]["SourceIp"] == "127.0.0.1"
            assert got["Identity"]["UserAgent"] == "nimbus-py-test"
            assert got["LastActiveAt"] >= got["ConnectedAt"]

            await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert closed.value.rcvd.code == 1000
        return connection_id

    connection_id = asyncio.run(run())
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId=connection_id, Data=b"too late")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_other_upgrade_requests_are_plain_requests(apigw, lambda_function, endpoint):
    """curl's `--http2` over http:// asks `Upgrade: h2c` on an ordinary request: nimbus
    answers it as HTTP/1.1 with its body intact (HTTP API), and a WebSocket API's
    @connections answers it too."""
    fn = lambda_function(handler="handler.echo_proxy")
    api = apigw.create_api(Name="h2c", ProtocolType="HTTP", Target=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}")
    try:
        h2c = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
        r = requests.post(f"{endpoint}/_aws/execute-api/{api['ApiId']}/x", data="the body", headers=h2c, timeout=WAIT)
        assert r.status_code == 200, r.text
        assert r.json()["body"] == "the body"
    finally:
        apigw.delete_api(ApiId=api["ApiId"])


def test_connect_runs_the_routes_lambda_authorizer_first(apigw, ws_api, lambda_function, endpoint):
    """`$connect` with a REQUEST authorizer (identity source `route.request.querystring.token`):
    no token is 401 and a denying policy 403, both before the `$connect` function runs; an
    allowing policy connects, and the messages' function sees the connection. AWS: "Control
    access to WebSocket APIs with AWS Lambda REQUEST authorizers"."""
    api_id = ws_api()
    authorizer_fn = lambda_function(handler="authorizers.policy")
    authorizer = apigw.create_authorizer(
        ApiId=api_id, Name="tokens", AuthorizerType="REQUEST",
        AuthorizerUri=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{authorizer_fn}",
        IdentitySource=["route.request.querystring.token"],
    )
    connect_route = next(r for r in apigw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    apigw.update_route(ApiId=api_id, RouteId=connect_route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"])

    async def refused(query):
        with pytest.raises(InvalidStatus) as no:
            async with connect(ws_url(endpoint, api_id) + query):
                pass
        return no.value.response.status_code

    async def run():
        assert await refused("") == 401
        assert await refused("?token=deny") == 403
        async with connect(ws_url(endpoint, api_id) + "?token=allow-me") as ws:
            reply = await echo(ws, "hello")
            assert reply["body"] == "hello"

    asyncio.run(run())
