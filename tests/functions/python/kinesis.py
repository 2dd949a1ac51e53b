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
import time
import uuid

from nimbus_sqs import client as _client


def _send(url, bodies):
    fifo = url.endswith(".fifo")
    for i in range(0, len(bodies), 10):
        entries = []
        for j, body in enumerate(bodies[i : i + 10]):
            e = {"Id": str(j), "MessageBody": body}
            if fifo:
                e["MessageGroupId"] = "g"
                e["MessageDeduplicationId"] = uuid.uuid4().hex
            entries.append(e)
        out = _client().send_message_batch(QueueUrl=url, Entries=entries)
        if out.get("Failed"):
            raise RuntimeError("send_message_batch failed: %r" % out["Failed"])


def _data(record):
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def _seq(record):
    return record["kinesis"]["sequenceNumber"]


def handler(event, context):
    records = event.get("Records", [])
    if os.environ.get("RAW_URL"):
        _send(os.environ["RAW_URL"], [json.dumps(event)])
    if os.environ.get("TRACE_URL"):
        _send(os.environ["TRACE_URL"], [json.dumps({"seqs": [_seq(r) for r in records]})])
    sleep_ms = int(os.environ.get("SLEEP_MS", "0"))
    if sleep_ms:
        time.sleep(sleep_ms / 1000.0)
    bad = next((i for i, r in enumerate(records) if _data(r).get("v") == "poison"), None)
    partial = os.environ.get("PARTIAL") == "1"
    if bad is not None and not partial:
        raise RuntimeError("poison record " + _seq(records[bad]))
    upto = len(records) if bad is None else bad
    bodies = [
        json.dumps(
            {
                "k": _data(r).get("k"),
                "pk": r["kinesis"]["partitionKey"],
                "seq": _seq(r),
                "shard": r["eventID"].split(":")[0],
                "batch": len(records),
                "pid": os.getpid(),
            }
        )
        for r in records[:upto]
    ]
    if bodies:
        _send(os.environ["OUT_URL"], bodies)
    if bad is not None:
        return {"batchItemFailures": [{"itemIdentifier": _seq(records[bad])}]}
    return {"batchItemFailures": []}
