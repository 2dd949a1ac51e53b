"""`nimbus logs tail` against a running nimbus: every group's events merged in time
order (`<time> <group> <stream> <message>`), narrowed by --group, --function, --filter
and --trace (the trace id's lines plus the other lines of the same Lambda invocations),
and --follow printing events that arrive later."""

import os
import select
import subprocess
import time
import uuid

import pytest
from conftest import ACCESS_KEY, SECRET_KEY, _nimbus_binary

TRACE = "1-6751a0b2-0123456789abcdef01234567"
RID = "8f3a1c2e-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def logs(make_client):
    return make_client("logs")


def tail(endpoint, *args, timeout=30):
    out = subprocess.run([str(_nimbus_binary()), "logs", "tail", "--endpoint", endpoint, *args], capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


@pytest.fixture(scope="module")
def world(logs):
    tag = uuid.uuid4().hex[:8]
    fn = f"tailfn-{tag}"
    app, lam = f"/tail-{tag}/app", f"/aws/lambda/{fn}"
    now = int(time.time() * 1000) - 60_000
    for g, s in ((app, "web"), (lam, "2026/12/04/[$LATEST]abc")):
        logs.create_log_group(logGroupName=g)
        logs.create_log_stream(logGroupName=g, logStreamName=s)
    logs.put_log_events(logGroupName=app, logStreamName="web", logEvents=[
        {"timestamp": now + 1, "message": "app started"},
        {"timestamp": now + 4, "message": f"handling request trace={TRACE}"},
        {"timestamp": now + 7, "message": "ERROR app failed"},
    ])
    logs.put_log_events(logGroupName=lam, logStreamName="2026/12/04/[$LATEST]abc", logEvents=[
        {"timestamp": now + 2, "message": f"START RequestId: {RID} Version: $LATEST\n"},
        {"timestamp": now + 3, "message": f"2026-12-04T17:00:00.000Z\t{RID}\tINFO\tworking\n"},
        {"timestamp": now + 5, "message": f"END RequestId: {RID}\n"},
        {"timestamp": now + 6, "message": f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\nXRAY TraceId: {TRACE}\tSegmentId: 0a1b\tSampled: true\n"},
        {"timestamp": now + 8, "message": "START RequestId: other-request Version: $LATEST\n"},
    ])
    yield {"tag": tag, "fn": fn, "app": app, "lambda": lam, "now": now}
    logs.delete_log_group(logGroupName=app)
    logs.delete_log_group(logGroupName=lam)


def test_merged_in_time_order(endpoint, world):
    lines = tail(endpoint, "--since", "1h", "--group", f"/tail-{world['tag']}/")
    assert lines == [f"{iso(world['now'] + 1)} {world['app']} web app started",
                     f"{iso(world['now'] + 4)} {world['app']} web handling request trace={TRACE}",
                     f"{iso(world['now'] + 7)} {world['app']} web ERROR app failed"]
    everything = [l for l in tail(endpoint, "--since", "1h") if world["tag"] in l.split(" ")[1]]
    assert [l.split(" ", 3)[3].split("\t")[0] for l in everything] == [
        "app started", f"START RequestId: {RID} Version: $LATEST", "2026-12-04T17:00:00.000Z", f"handling request trace={TRACE}",
        f"END RequestId: {RID}", f"REPORT RequestId: {RID}", "ERROR app failed", "START RequestId: other-request Version: $LATEST"]
    times = [l.split(" ")[0] for l in everything]
    assert times == sorted(times)


def test_function_filter_and_trace(endpoint, world):
    lines = [l for l in tail(endpoint, "--since", "1h", "--function", world["fn"]) if not l.startswith("XRAY")]
    assert len(lines) == 5 and all(l.split(" ")[1] == world["lambda"] for l in lines)
    assert tail(endpoint, "--since", "1h", "--group", f"/tail-{world['tag']}/", "--filter", "ERROR") == [f"{iso(world['now'] + 7)} {world['app']} web ERROR app failed"]
    traced = tail(endpoint, "--since", "1h", "--trace", f"Root={TRACE};Parent=53995c3f42cd8ad8;Sampled=1")
    traced = [l for l in traced if world["tag"] in l.split(" ")[1]]
    # The app line naming the trace, and every line of the invocation whose REPORT carries it.
    assert [l.split(" ")[1] for l in traced] == [world["lambda"], world["lambda"], world["app"], world["lambda"], world["lambda"]]
    assert not any("other-request" in l for l in traced)
    assert tail(endpoint, "--since", "1h", "--trace", "1-00000000-000000000000000000000000", "--group", f"/tail-{world['tag']}/") == []


def test_follow_prints_new_events(endpoint, logs, world):
    proc = subprocess.Popen([str(_nimbus_binary()), "logs", "tail", "--endpoint", endpoint, "--since", "1h", "--follow", "--group", world["app"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    try:
        seen = []
        buf = b""

        def read_until(text, deadline):
            nonlocal buf
            while time.time() < deadline:
                ready, _, _ = select.select([proc.stdout], [], [], 0.2)
                if ready:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    assert chunk, proc.stderr.read()
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    seen.extend(l.decode() for l in lines)
                if any(text in l for l in seen):
                    return
            raise AssertionError(f"{text!r} not printed; got {seen}")

        read_until("ERROR app failed", time.time() + 15)
        logs.put_log_events(logGroupName=world["app"], logStreamName="web", logEvents=[{"timestamp": int(time.time() * 1000), "message": "late arrival"}])
        read_until("late arrival", time.time() + 15)
        assert sum("ERROR app failed" in l for l in seen) == 1, "an event was printed twice"
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_unreachable_endpoint_fails_clearly():
    out = subprocess.run([str(_nimbus_binary()), "logs", "tail", "--endpoint", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "cannot reach nimbus" in out.stderr


def test_trace_of_a_real_invocation(endpoint, awslambda, lambda_function):
    """A traced Invoke (the caller's X-Amzn-Trace-Id, as an SDK in a traced process sends
    it) and an untraced one: `--trace` shows the traced invocation's lines — START, what
    the function printed, END, REPORT with its XRAY TraceId — and nothing of the other."""
    fn = lambda_function(handler="handler.print_it")
    trace = "1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24])
    header = f"Root={trace};Parent=53995c3f42cd8ad8;Sampled=1"
    awslambda.meta.events.register("before-sign.lambda.Invoke", lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", header), unique_id="tail-trace")
    try:
        r = awslambda.invoke(FunctionName=fn, Payload=b'{"text": "traced hello"}')
    finally:
        awslambda.meta.events.unregister("before-sign.lambda.Invoke", unique_id="tail-trace")
    assert "FunctionError" not in r
    r = awslambda.invoke(FunctionName=fn, Payload=b'{"text": "untraced hello"}')
    assert "FunctionError" not in r
    deadline = time.time() + 20
    while True:
        lines = tail(endpoint, "--since", "10m", "--function", fn, "--trace", trace)
        text = "\n".join(lines)
        if "XRAY TraceId: " + trace in text:
            break
        assert time.time() < deadline, f"the traced REPORT line did not appear: {lines}"
        time.sleep(0.2)
    messages = [l.split(" ", 3)[3] for l in lines if l.startswith("20")]
    assert messages[0].startswith("START RequestId: ")
    assert "traced hello" in messages
    assert any(m.startswith("END RequestId: ") for m in messages)
    assert any(m.startswith("REPORT RequestId: ") for m in messages)
    assert "untraced hello" not in text
