#!/usr/bin/env python3
"""The web console's trace list with many stored traces (issue target: <= 100 ms with
100,000 traces).

Starts `nimbus serve --data-dir <tmp>` (the binary from NIMBUS_BIN, else
target/release/nimbus, else target/debug/nimbus) on a free 127.0.0.1 port, stores
--traces traces through X-Ray's PutTraceSegments (a segment with two subsegments each,
start times spread over the last hour, 1 in 10 with an error, 1 in 50 with a fault;
batches of 250 documents over 4 connections), then times what the console's pages ask
(`POST /_nimbus/console/api/xray/GetTraceSummaries`, as the Traces page does):

  first page   the last hour, newest first (the Traces page on load, and each live refresh)
  next page    the page after it (NextToken)
  filtered     `error` over the last hour (the "Errors only" button)
  service      `service("orders")` over the last hour
  trace view   GET /_nimbus/console/trace/<id> (the trace page: BatchGetTraces + logs)

Each is run --runs times; prints p50 / p95 / max in milliseconds and exits 1 when the
first page's p95 is over --target-ms. Every request is bounded (timeouts), loopback only.

    python3 bench/console_traces.py                 # 100,000 traces
    python3 bench/console_traces.py --traces 10000 --runs 20
"""

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def binary():
    given = os.environ.get("NIMBUS_BIN")
    if given:
        return Path(given)
    for p in (REPO / "target" / "release" / "nimbus", REPO / "target" / "debug" / "nimbus"):
        if p.exists():
            return p
    sys.exit("no nimbus binary: cargo build --release -p nimbus (or set NIMBUS_BIN)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, timeout=60):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def documents(i, now):
    """One trace's segment documents: an API-like segment with two subsegments."""
    start = now - 3590 + (i * 3580.0 / ARGS.traces) + random.random() * 0.5
    trace = "1-%08x-%024x" % (int(start), random.getrandbits(96))
    fn = ("orders", "payments", "emails", "stock")[i % 4]
    seg = {
        "name": fn, "id": "%016x" % random.getrandbits(64), "trace_id": trace, "origin": "AWS::Lambda::Function",
        "start_time": start, "end_time": start + 0.02 + random.random() * 0.2,
        "http": {"request": {"method": "POST", "url": f"http://shop/{fn}"}, "response": {"status": 200}},
        "aws": {"function_name": fn, "request_id": "%032x" % random.getrandbits(128)},
        "subsegments": [
            {"name": "DynamoDB", "id": "%016x" % random.getrandbits(64), "namespace": "aws", "start_time": start + 0.002, "end_time": start + 0.01,
             "aws": {"operation": "PutItem", "table_name": "carts"}},
            {"name": "SQS", "id": "%016x" % random.getrandbits(64), "namespace": "aws", "start_time": start + 0.011, "end_time": start + 0.015,
             "aws": {"operation": "SendMessage", "queue_url": "http://127.0.0.1/000000000000/orders"}},
        ],
    }
    if i % 10 == 0:
        seg["error"] = True
        seg["http"]["response"]["status"] = 400
    if i % 50 == 0:
        seg["fault"] = True
        seg["http"]["response"]["status"] = 500
    return trace, json.dumps(seg)


def put_batch(xray_url, docs):
    # X-Ray's REST-JSON PutTraceSegments, unsigned (nimbus's default --auth open).
    out = post(xray_url, {"TraceSegmentDocuments": docs})
    if out.get("UnprocessedTraceSegments"):
        raise SystemExit(f"unprocessed: {out['UnprocessedTraceSegments'][:2]}")


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--traces", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--target-ms", type=float, default=100.0)
    ARGS = p.parse_args()
    data = tempfile.mkdtemp(prefix="nimbus-bench-console-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(data, "nimbus.log"), "w")
    proc = subprocess.Popen([str(binary()), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(data, "d"), "--xray-daemon-address", "off"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(base + "/_nimbus/health", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("nimbus did not start")
                time.sleep(0.1)
        print(f"nimbus {binary()} on {base}, data in {data}")
        now = time.time()
        t0 = time.perf_counter()
        ids = []
        batches = []
        batch = []
        for i in range(ARGS.traces):
            trace, doc = documents(i, now)
            ids.append(trace)
            batch.append(doc)
            if len(batch) == 250:
                batches.append(batch)
                batch = []
        if batch:
            batches.append(batch)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda b: put_batch(base + "/TraceSegments", b), batches))
        print(f"stored {ARGS.traces:,} traces in {time.perf_counter() - t0:.1f} s")
        api = base + "/_nimbus/console/api/xray/GetTraceSummaries"
        end = time.time() + 5
        window = {"StartTime": end - 3600, "EndTime": end, "Sampling": False}
        first = post(api, window)
        assert len(first["TraceSummaries"]) > 0, first
        token = first.get("NextToken")
        rows = [
            ("first page (last hour)", lambda: post(api, window)),
            ("next page", lambda: post(api, {**window, "NextToken": token})),
            ("filtered: error", lambda: post(api, {**window, "FilterExpression": "error"})),
            ('filtered: service("orders")', lambda: post(api, {**window, "FilterExpression": 'service("orders")'})),
            ("trace view", lambda: get(f"{base}/_nimbus/console/trace/{random.choice(ids)}")),
        ]
        print(f"\n{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   ({ARGS.runs} runs, {len(first['TraceSummaries'])} traces a page)")
        verdict = 0
        for name, fn in rows:
            s = timed(fn, ARGS.runs)
            p95 = s[min(len(s) - 1, int(len(s) * 0.95))]
            print(f"{name:32} {statistics.median(s):8.1f} {p95:8.1f} {s[-1]:8.1f}")
            if name.startswith("first page") and p95 > ARGS.target_ms:
                verdict = 1
        print(f"\ntarget: first page p95 <= {ARGS.target_ms:.0f} ms: {'met' if verdict == 0 else 'NOT met'}")
        return verdict
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
