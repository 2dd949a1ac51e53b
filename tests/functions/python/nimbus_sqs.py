"""The SQS client the ESM test functions (esm.py, streams.py) report through: boto3,
created once per environment, pointed at nimbus by AWS_ENDPOINT_URL."""

import os

_sqs = None


def client():
    global _sqs
    if _sqs is None:
        import boto3

        _sqs = boto3.client(
            "sqs",
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
        )
    return _sqs
