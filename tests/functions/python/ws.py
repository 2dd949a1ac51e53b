"""WebSocket API test function (handler ws.handler) for nimbus's API Gateway WebSocket tests.

Every event is sent as JSON to the queue in REPORT_QUEUE_URL when that is set (so tests can
wait for $connect / $disconnect events by long-polling SQS). Then:

* CONNECT: `?reject=<status>` answers that statusCode (the connection is refused),
  `?fail=1` raises, `?protocol=<p>` accepts with `Sec-WebSocket-Protocol: <p>`;
  anything else accepts (statusCode 200).
* MESSAGE: a body of `fail` raises; `post:<text>` posts <text> back to the caller through
  the @connections API (MANAGEMENT_ENDPOINT) before answering; otherwise answers
  {"statusCode": 200, "body": <JSON of {"routeKey", "body", "event"}>}.
* DISCONNECT: statusCode 200.
"""

import json
import os

from nimbus_sqs import client as sqs_client


def _report(event):
    queue = os.environ.get("REPORT_QUEUE_URL")
    if queue:
        sqs_client().send_message(QueueUrl=queue, MessageBody=json.dumps(event))


def handler(event, context):
    _report(event)
    rc = event["requestContext"]
    kind = rc["eventType"]
    if kind == "CONNECT":
        query = event.get("queryStringParameters") or {}
        if "reject" in query:
            return {"statusCode": int(query["reject"]), "body": "rejected by $connect"}
        if "fail" in query:
            raise RuntimeError("failing $connect on purpose")
        if "protocol" in query:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": query["protocol"]}}
        return {"statusCode": 200}
    if kind == "MESSAGE":
        body = event.get("body") or ""
        if body == "fail":
            raise RuntimeError("failing a message on purpose")
        if body.startswith("post:"):
            import boto3

            api = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=os.environ["MANAGEMENT_ENDPOINT"],
                region_name=os.environ.get("AWS_REGION", "us-east-1"),
            )
            api.post_to_connection(ConnectionId=rc["connectionId"], Data=body[len("post:"):].encode())
        return {"statusCode": 200, "body": json.dumps({"routeKey": rc["routeKey"], "body": body, "event": event})}
    return {"statusCode": 200}
