"""A function instrumented with the AWS X-Ray SDK for Python (PyPI `aws-xray-sdk`,
packaged with it by tests/python/test_trace_propagation.py): a custom subsegment with an
annotation, and boto3 patched so its SQS call is an `aws` subsegment. In Lambda the SDK
reads the trace from `_X_AMZN_TRACE_ID` (the function segment is its parent) and sends
subsegments to `AWS_XRAY_DAEMON_ADDRESS` over UDP, as on AWS."""

import os

import boto3
from aws_xray_sdk.core import patch, xray_recorder

patch(["botocore"])
_sqs = boto3.client("sqs", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION"))


def handler(event, context):
    with xray_recorder.in_subsegment("business-logic") as sub:
        sub.put_annotation("order", event.get("order", ""))
        _sqs.send_message(QueueUrl=event["queue_url"], MessageBody=event.get("order", ""))
    return {"trace": os.environ.get("_X_AMZN_TRACE_ID", ""), "daemon": os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "")}
