"""DynamoDB Streams event source mapping test function (runtime python3.x, handler
streams.handler).

Per invocation, one SQS message per record goes to the queue named by the OUT_URL
environment variable (through AWS_ENDPOINT_URL, i.e. nimbus), with the JSON body
{"pk": <Keys.pk.S>, "seq": <dynamodb.SequenceNumber>, "event": <eventName>,
 "batch": <number of records in the event>, "pid": <the process id>} — unless some record's NewImage has
v.S == "poison":
- by default the invocation then raises (a function error) and forwards nothing;
- with PARTIAL=1 it forwards only the records before the poison and returns
  {"batchItemFailures": [{"itemIdentifier": <the poison record's SequenceNumber>}]}.

Optional:
- RAW_URL: the whole event (json.dumps(event)) is sent there first, once per invocation;
- TRACE_URL: one message per invocation, {"seqs": [the batch's sequence numbers]};
- SLEEP_MS: sleep that long after the RAW_URL / TRACE_URL messages, before the rest;
- WINDOW=1 (tumbling windows): instead of the above, one message per invocation,
  {"window", "final", "early", "shard", "arn", "state_in", "pks", "n"}, and the answer
  {"state": state_in with "count" increased by the number of records} — or, with
  NO_STATE=1 as well, an answer without a state (which AWS counts as a failure).
A queue URL ending in ".fifo" gets MessageGroupId "g" and a fresh deduplication id per
message, so the tests see every send, in order.
"""

import json
import os

from nimbus_sqs import forward_batch, send as _send


def _seq(record):
    return record["dynamodb"]["SequenceNumber"]


def _poison(record):
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return (image.get("v") or {}).get("S") == "poison"


def _windowed(event, records):
    state = dict(event.get("state") or {})
    report = {
        "window": event.get("window"),
        "final": event.get("isFinalInvokeForWindow"),
        "early": event.get("isWindowTerminatedEarly"),
        "shard": event.get("shardId"),
        "arn": event.get("eventSourceARN"),
        "state_in": state,
        "pks": [r["dynamodb"]["Keys"]["pk"]["S"] for r in records],
        "n": len(records),
    }
    _send(os.environ["OUT_URL"], [json.dumps(report)])
    if os.environ.get("NO_STATE") == "1":
        return {"batchItemFailures": []}
    state["count"] = state.get("count", 0) + len(records)
    return {"state": state}


def _body(r, n):
    return {
        "pk": r["dynamodb"]["Keys"]["pk"]["S"],
        "seq": _seq(r),
        "event": r["eventName"],
        "batch": n,
        "pid": os.getpid(),
    }


def handler(event, context):
    records = event.get("Records", [])
    if os.environ.get("WINDOW") == "1":
        return _windowed(event, records)
    return forward_batch(event, records, _seq, _poison, lambda r: _body(r, len(records)))
