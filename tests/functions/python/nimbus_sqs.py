"""What the ESM test functions (esm.py, streams.py, kinesis.py) report through: the SQS
client (boto3, created once per environment, pointed at nimbus by AWS_ENDPOINT_URL),
sending bodies in batches, and the forwarding of a stream batch that streams.py and
kinesis.py share (RAW_URL / TRACE_URL / SLEEP_MS, poison records, PARTIAL=1)."""

import json
import os
import time
import uuid

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


def send(url, bodies):
    """Sends the bodies to the queue, ten at a time. A queue URL ending in ".fifo" gets
    MessageGroupId "g" and a fresh deduplication id per message, so tests see every send,
    in order."""
    fifo = url.endswith(".fifo")
    for i in range(0, len(bodies), 10):
        entries = []
        for j, body in enumerate(bodies[i : i + 10]):
            e = {"Id": str(j), "MessageBody": body}
            if fifo:
                e["MessageGroupId"] = "g"
                e["MessageDeduplicationId"] = uuid.uuid4().hex
            entries.append(e)
        out = client().send_message_batch(QueueUrl=url, Entries=entries)
        if out.get("Failed"):
            raise RuntimeError("send_message_batch failed: %r" % out["Failed"])


def forward_batch(event, records, seq, poison, body):
    """Forwards a stream batch to OUT_URL, one message `body(record)` a record, as the
    streams.py / kinesis.py docstrings describe: RAW_URL gets the event, TRACE_URL the
    batch's sequence numbers (`seq(record)`), SLEEP_MS waits; the first record for which
    `poison(record)` holds makes the invocation raise, or with PARTIAL=1 stops the
    forwarding there and reports that record as the batch item failure."""
    if os.environ.get("RAW_URL"):
        send(os.environ["RAW_URL"], [json.dumps(event)])
    if os.environ.get("TRACE_URL"):
        send(os.environ["TRACE_URL"], [json.dumps({"seqs": [seq(r) for r in records]})])
    sleep_ms = int(os.environ.get("SLEEP_MS", "0"))
    if sleep_ms:
        time.sleep(sleep_ms / 1000.0)
    bad = next((i for i, r in enumerate(records) if poison(r)), None)
    if bad is not None and os.environ.get("PARTIAL") != "1":
        raise RuntimeError("poison record " + seq(records[bad]))
    upto = len(records) if bad is None else bad
    bodies = [json.dumps(body(r)) for r in records[:upto]]
    if bodies:
        send(os.environ["OUT_URL"], bodies)
    if bad is not None:
        return {"batchItemFailures": [{"itemIdentifier": seq(records[bad])}]}
    return {"batchItemFailures": []}
