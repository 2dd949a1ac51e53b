"""Kinesis event source mapping test function (runtime python3.x, handler
kinesis.handler).

Each record's data is JSON {"k": <key>, "v": <value>}. Per invocation, one SQS message per
record goes to the queue named by the OUT_URL environment variable (through
AWS_ENDPOINT_URL, i.e. nimbus), with the JSON body
{"k": <data.k>, "pk": <partitionKey>, "seq": <sequenceNumber>, "shard": <the eventID's
shard id>, "batch": <number of records in the event>, "pid": <the process id>} — unless
some record's data has v == "poison":
- by default the invocation then raises (a function error) and forwards nothing;
- with PARTIAL=1 it forwards only the records before the poison and returns
  {"batchItemFailures": [{"itemIdentifier": <the poison record's sequenceNumber>}]}.

Optional:
- RAW_URL: the whole event (json.dumps(event)) is sent there first, once per invocation;
- TRACE_URL: one message per invocation, {"seqs": [the batch's sequence numbers]};
- SLEEP_MS: sleep that long after the RAW_URL / TRACE_URL messages, before the rest.
A queue URL ending in ".fifo" gets MessageGroupId "g" and a fresh deduplication id per
message, so the tests see every send, in order.
"""

import base64
import json
import os

from nimbus_sqs import forward_batch


def _data(record):
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def _seq(record):
    return record["kinesis"]["sequenceNumber"]


def _body(r, n):
    return {
        "k": _data(r).get("k"),
        "pk": r["kinesis"]["partitionKey"],
        "seq": _seq(r),
        "shard": r["eventID"].split(":")[0],
        "batch": n,
        "pid": os.getpid(),
    }


def handler(event, context):
    records = event.get("Records", [])
    poison = lambda r: _data(r).get("v") == "poison"
    return forward_batch(event, records, _seq, poison, lambda r: _body(r, len(records)))
