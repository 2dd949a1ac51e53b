"""Seed 002's flow, end to end, with the clients a user of it has: a browser-like client
holds a WebSocket to a WebSocket API, POSTs an order to an HTTP API whose route is an
SQS-SendMessage integration answering 202 (no function in front), an SQS event source
mapping's function writes the order to DynamoDB, and the table's stream function tells
the user through the ``@connections`` API — the client receives it on its socket.

Functions: tests/functions/python/seed002.py. AWS's pages for the pieces:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

import asyncio
import json
import uuid

import pytest
import requests
import websockets

from conftest import REGION
from nimbus_helpers import wait_for

ACCOUNT = "000000000000"


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture
def system(make_client, lambda_function, endpoint):
    """Builds the seed's system; yields what the client needs; tears it down."""
    apigw, sqs, ddb, lam = (make_client(s) for s in ("apigatewayv2", "sqs", "dynamodb", "lambda"))
    suffix = uuid.uuid4().hex[:8]
    orders, connections = f"orders-{suffix}", f"connections-{suffix}"
    stream_arn = ddb.create_table(
        TableName=orders,
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    ddb.create_table(
        TableName=connections,
        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(QueueName=f"orders-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    # The way back to the user: a WebSocket API whose $connect remembers the user's connection.
    ws_api = apigw.create_api(Name=f"notify-{suffix}", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
    tables = {"ORDERS_TABLE": orders, "CONNECTIONS_TABLE": connections}
    connect_fn = lambda_function(handler="seed002.connect", Environment={"Variables": tables})
    connect_integration = apigw.create_integration(ApiId=ws_api, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(connect_fn))
    apigw.create_route(ApiId=ws_api, RouteKey="$connect", Target="integrations/" + connect_integration["IntegrationId"])
    apigw.create_stage(ApiId=ws_api, StageName="prod", AutoDeploy=True)

    # The front door: POST /orders → SQS SendMessage, answered 202.
    http_api = apigw.create_api(Name=f"orders-{suffix}", ProtocolType="HTTP")["ApiId"]
    send = apigw.create_integration(
        ApiId=http_api,
        IntegrationType="AWS_PROXY",
        IntegrationSubtype="SQS-SendMessage",
        PayloadFormatVersion="1.0",
        CredentialsArn=f"arn:aws:iam::{ACCOUNT}:role/api-to-sqs",
        RequestParameters={"QueueUrl": queue_url, "MessageBody": "$request.body"},
        ResponseParameters={"200": {"overwrite:statuscode": "202"}},
    )
    apigw.create_route(ApiId=http_api, RouteKey="POST /orders", Target="integrations/" + send["IntegrationId"])
    apigw.create_stage(ApiId=http_api, StageName="$default", AutoDeploy=True)

    # The work, later: queue → function → table; stream → function → the user's socket.
    management = f"{endpoint}/_aws/execute-api/{ws_api}/prod"
    process_fn = lambda_function(handler="seed002.process_order", Environment={"Variables": tables})
    notify_fn = lambda_function(handler="seed002.notify", Environment={"Variables": {**tables, "MANAGEMENT_ENDPOINT": management}})
    mappings = [
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=process_fn, BatchSize=10)["UUID"],
        lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=notify_fn, StartingPosition="LATEST", BatchSize=10)["UUID"],
    ]
    for m in mappings:
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=m)["State"] == "Enabled", timeout=30)

    yield {
        "orders_url": f"{endpoint}/_aws/execute-api/{http_api}/orders",
        "socket_url": endpoint.replace("http://", "ws://") + f"/_aws/execute-api/{ws_api}/prod",
        "orders_table": orders,
    }

    for m in mappings:
        lam.delete_event_source_mapping(UUID=m)
    for api in (http_api, ws_api):
        apigw.delete_api(ApiId=api)
    sqs.delete_queue(QueueUrl=queue_url)
    for t in (orders, connections):
        ddb.delete_table(TableName=t)


def test_order_is_accepted_with_202_processed_later_and_the_user_is_told_over_their_socket(system, make_client):
    order = {"orderId": uuid.uuid4().hex, "user": "alice", "item": "book"}

    async def flow():
        async with websockets.connect(system["socket_url"] + "?user=alice") as sock:
            posted = await asyncio.to_thread(requests.post, system["orders_url"], json=order, timeout=30)
            assert posted.status_code == 202, posted.text
            assert "SendMessageResponse" in posted.json()
            told = await asyncio.wait_for(sock.recv(), timeout=60)
            return json.loads(told)

    assert asyncio.run(flow()) == {"orderId": order["orderId"], "status": "processed"}
    item = make_client("dynamodb").get_item(TableName=system["orders_table"], Key={"orderId": {"S": order["orderId"]}})["Item"]
    assert item["status"] == {"S": "processed"}


def test_a_socket_without_a_user_is_refused_by_the_connect_function(system):
    async def connect():
        async with websockets.connect(system["socket_url"]):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 403
