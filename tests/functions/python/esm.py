"""Event source mapping test function (runtime python3.x, handler esm.handler).

Every invocation first reports itself to the SQS queue named by the OUT_QUEUE_URL
environment variable (through AWS_ENDPOINT_URL, i.e. nimbus): one message whose body is
JSON {"request_id", "pid", "start_ns", "end_ns", "records": [the event's records]}.
Then, per record body (when it is a JSON object):
- {"fail": true}       → reported in batchItemFailures (with ReportBatchItemFailures)
- {"fail_once": true}  → the same, but only on the first receive (ApproximateReceiveCount 1)
- {"raise": true}      → the whole invocation raises (a function error)
- {"raise_once": true} → the same, but only on the first receive
- {"respond": X}       → the invocation returns X as is (on the first receive only)
SLEEP_MS in the environment makes every invocation sleep that long first.
"""

import json
import os
import time

from nimbus_sqs import client as _client


def _flags(record):
    try:
        body = json.loads(record.get("body", ""))
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def handler(event, context):
    start_ns = time.time_ns()
    sleep_ms = int(os.environ.get("SLEEP_MS", "0"))
    if sleep_ms:
        time.sleep(sleep_ms / 1000.0)
    records = event.get("Records", [])
    report = {
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
        "start_ns": start_ns,
        "end_ns": time.time_ns(),
        "records": records,
    }
    _client().send_message(QueueUrl=os.environ["OUT_QUEUE_URL"], MessageBody=json.dumps(report))
    failures = []
    for r in records:
        f = _flags(r)
        first = r.get("attributes", {}).get("ApproximateReceiveCount") == "1"
        if "respond" in f and first:
            return f["respond"]
        if f.get("raise") or (f.get("raise_once") and first):
            raise RuntimeError("raising on purpose for " + r["messageId"])
        if f.get("fail") or (f.get("fail_once") and first):
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
