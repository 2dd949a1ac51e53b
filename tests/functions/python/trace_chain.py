"""The trace-chain test's first function (tests/tests/it/trace_chain.rs): behind an HTTP
API, it logs the trace it runs in (`TRACE <_X_AMZN_TRACE_ID>`) and sends the request's
body to CHAIN_QUEUE_URL with boto3. Nothing here passes the trace on: botocore adds
`X-Amzn-Trace-Id` from `_X_AMZN_TRACE_ID` by itself inside a Lambda function, as on AWS."""

import json
import os

import boto3

_sqs = None


def handler(event, context):
    global _sqs
    trace = os.environ.get("_X_AMZN_TRACE_ID", "")
    print("TRACE " + trace)
    if _sqs is None:
        _sqs = boto3.client("sqs", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION"))
    _sqs.send_message(QueueUrl=os.environ["CHAIN_QUEUE_URL"], MessageBody=event.get("body") or "{}")
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"trace": trace})}
