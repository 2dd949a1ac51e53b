"""Python test function for nimbus's Lambda integration tests (runtime python3.x).

Handlers: handler.echo, handler.respond, handler.echo_proxy, handler.fail, handler.sleep, handler.sleep_proxy,
handler.print_it, handler.use_sqs, handler.whoami, handler.put_item, handler.forward_awslogs.
"""

import os
import sys
import time

ECHO_ENV = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "_X_AMZN_TRACE_ID",
    "AWS_ENDPOINT_URL",
    "MY_VAR",
]


def echo(event, context):
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in ECHO_ENV},
        "pid": os.getpid(),
    }


def respond(event, context):
    """Answers with the JSON document an API Gateway request sent as its body (tests of
    the proxy integration's response mapping choose the answer this way)."""
    import json

    return json.loads(event["body"])


def echo_proxy(event, context):
    """The event back as an API Gateway proxy response (both payload formats)."""
    import json

    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


def fail(event, context):
    raise ValueError(event.get("message", "failed on purpose"))


def sleep(event, context):
    ms = event.get("ms", 0)
    time.sleep(ms / 1000.0)
    return {"slept": ms, "pid": os.getpid()}


def sleep_proxy(event, context):
    """API Gateway proxy event: sleeps `?ms=N` milliseconds, then answers 200."""
    ms = int((event.get("queryStringParameters") or {}).get("ms", "0"))
    time.sleep(ms / 1000.0)
    return {"statusCode": 200, "body": f"slept {ms}"}


def print_it(event, context):
    text = event.get("text", "")
    print(text)
    print(text, file=sys.stderr)
    return {"ok": True}


def use_sqs(event, context):
    """Sends event["body"] to event["queue_url"] through AWS_ENDPOINT_URL; returns the MessageId."""
    import boto3  # lazily: only this handler needs it

    sqs = boto3.client(
        "sqs",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )
    resp = sqs.send_message(QueueUrl=event["queue_url"], MessageBody=event["body"])
    return resp["MessageId"]


def whoami(event, context):
    """STS GetCallerIdentity with the credentials Lambda put in the environment (the
    execution role's), plus whether a session token was there."""
    import boto3

    sts = boto3.client("sts", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))
    ident = sts.get_caller_identity()
    return {
        "Arn": ident["Arn"],
        "Account": ident["Account"],
        "UserId": ident["UserId"],
        "key_prefix": os.environ.get("AWS_ACCESS_KEY_ID", "")[:4],
        "has_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
    }


def put_item(event, context):
    """PutItem into event["table"] with the execution role's credentials; returns the
    error code when refused (AccessDeniedException when the role lacks the permission)."""
    import boto3
    from botocore.exceptions import ClientError

    ddb = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))
    try:
        ddb.put_item(TableName=event["table"], Item={"pk": {"S": "from-lambda"}})
        return {"ok": True}
    except ClientError as e:
        return {"ok": False, "code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}


def forward_awslogs(event, context):
    """A CloudWatch Logs subscriber: decodes event["awslogs"]["data"] (base64 of gzip of
    JSON) and sends {"raw": event, "decoded": <the JSON>} to the queue at env QUEUE_URL."""
    import base64
    import gzip
    import json

    import boto3  # lazily: only the SQS handlers need it

    decoded = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    sqs = boto3.client(
        "sqs",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps({"raw": event, "decoded": decoded}))
    return len(decoded["logEvents"])
