"""Functions for Step Functions' task integration tests (tests/python/test_stepfunctions_tasks.py).

- ``callback``: a `lambda:invoke.waitForTaskToken` task's function: answers the token in
  ``event["token"]`` with SendTaskSuccess (output ``{"answered": event["value"]}``), or with
  SendTaskFailure (error ``event["fail"]``) when the event names one.
- ``flaky``: fails with ``FlakyError`` until it has been called ``event["failures"]`` times
  for ``event["key"]`` (counted in the table ``event["table"]``), then answers the count.
"""

import json
import os


def _client(name):
    import boto3

    return boto3.client(name, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))


class FlakyError(Exception):
    pass


def callback(event, context):
    sfn = _client("stepfunctions")
    if event.get("fail"):
        sfn.send_task_failure(taskToken=event["token"], error=event["fail"], cause="the callback said no")
    else:
        sfn.send_task_success(taskToken=event["token"], output=json.dumps({"answered": event.get("value")}))
    return {"sent": True}


def flaky(event, context):
    ddb = _client("dynamodb")
    out = ddb.update_item(
        TableName=event["table"],
        Key={"pk": {"S": event["key"]}},
        UpdateExpression="ADD calls :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    calls = int(out["Attributes"]["calls"]["N"])
    if calls <= event.get("failures", 0):
        raise FlakyError(f"call {calls} fails")
    return {"calls": calls}
