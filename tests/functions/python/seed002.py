"""The seed-002 flow's three functions (tests/python/test_seed002.py), written as a user
would write them for AWS: boto3 clients pointed at nimbus by AWS_ENDPOINT_URL.

- ``connect``: the WebSocket API's ``$connect`` route. Remembers which connection belongs
  to the user named by the ``user`` query parameter (table ``CONNECTIONS_TABLE``);
  refuses a connection without one (403).
- ``process_order``: the SQS event source mapping's function. Each message is an order
  (``{"orderId", "user", "item"}``) put by the API's SQS-SendMessage integration; it is
  written to ``ORDERS_TABLE`` with status ``processed``.
- ``notify``: the orders table's stream function. For each inserted order it finds the
  user's connection and posts ``{"orderId", "status"}`` to it through the
  ``@connections`` API at ``MANAGEMENT_ENDPOINT``.
"""

import json
import os

_clients = {}


def _client(name, **kwargs):
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(
            name,
            endpoint_url=kwargs.get("endpoint_url", os.environ.get("AWS_ENDPOINT_URL")),
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
        )
    return _clients[name]


def connect(event, context):
    user = (event.get("queryStringParameters") or {}).get("user")
    if not user:
        return {"statusCode": 403, "body": "who are you?"}
    _client("dynamodb").put_item(
        TableName=os.environ["CONNECTIONS_TABLE"],
        Item={"user": {"S": user}, "connectionId": {"S": event["requestContext"]["connectionId"]}},
    )
    return {"statusCode": 200}


def process_order(event, context):
    for record in event["Records"]:
        order = json.loads(record["body"])
        _client("dynamodb").put_item(
            TableName=os.environ["ORDERS_TABLE"],
            Item={
                "orderId": {"S": order["orderId"]},
                "user": {"S": order["user"]},
                "item": {"S": order["item"]},
                "status": {"S": "processed"},
            },
        )
    return {}


def notify(event, context):
    management = _client("apigatewaymanagementapi", endpoint_url=os.environ["MANAGEMENT_ENDPOINT"])
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        image = record["dynamodb"]["NewImage"]
        found = _client("dynamodb").get_item(
            TableName=os.environ["CONNECTIONS_TABLE"], Key={"user": {"S": image["user"]["S"]}}
        )
        if "Item" not in found:
            continue
        management.post_to_connection(
            ConnectionId=found["Item"]["connectionId"]["S"],
            Data=json.dumps({"orderId": image["orderId"]["S"], "status": image["status"]["S"]}).encode(),
        )
    return {}
