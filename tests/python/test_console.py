"""The web console at /_nimbus/console, in a real browser: Debian's Chromium, driven by
Playwright (its own browser download is never used), against a nimbus with traffic —
queues with messages and a dead-letter queue, functions invoked with and without errors,
a table with items and a stream, a topic with subscriptions, an HTTP API, an EventBridge
rule, an alarm and a trace. Each test loads a page and asserts on what a person sees
there; every page's screenshot is saved under ``${NIMBUS_ARTIFACTS:-target/artifacts}/console/``
and its path printed.

Also: the console's JSON endpoint refuses writes (403), and ``nimbus trace`` prints the
waterfall of a trace with its function's log lines.
"""

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import botocore.config
import pytest
import requests

from conftest import LAMBDA_ROLE, REPO_ROOT, _nimbus_binary, nimbus_server, python_runtime
from nimbus_helpers import wait_for

CHROMIUM = os.environ.get("NIMBUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("NIMBUS_ARTIFACTS", str(REPO_ROOT / "target" / "artifacts"))) / "console"
FUNCTIONS = REPO_ROOT / "tests" / "functions" / "python"

playwright_api = pytest.importorskip("playwright.sync_api")


def _client(url, service):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=60)
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=cfg)


# The traced chain's function: logs a line, then sends to SQS with the SDK, whose
# trace header (from _X_AMZN_TRACE_ID) puts the SendMessage in the invocation's trace.
RELAY = """
import os
import boto3

def handler(event, context):
    print("relaying", event["body"])
    sqs = boto3.client("sqs", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION"))
    return sqs.send_message(QueueUrl=event["queue_url"], MessageBody=event["body"])["MessageId"]
"""


def _zip():
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(FUNCTIONS / "handler.py", "handler.py")
        z.writestr("relay.py", RELAY)
    return buf.getvalue()


def _has(url, service, operation):
    """Whether this nimbus serves `service:operation` (branches land at different times)."""
    r = requests.post(f"{url}/_nimbus/console/api/{service}/{operation}", json={}, timeout=10)
    return r.status_code != 404 and "not supported" not in r.text


class Traffic:
    """What the module's nimbus holds: names the tests look for."""


@pytest.fixture(scope="module")
def world():
    with nimbus_server() as url:
        t = Traffic()
        t.url = url
        sqs, lam, ddb, sns, events, cw = (_client(url, s) for s in ("sqs", "lambda", "dynamodb", "sns", "events", "cloudwatch"))
        # Queues: orders → orders-dlq after 3 receives; 3 visible, 1 in flight, 1 delayed.
        dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        orders = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})["QueueUrl"]
        for i in range(4):
            sqs.send_message(QueueUrl=orders, MessageBody=f"order {i}")
        sqs.send_message(QueueUrl=orders, MessageBody="later", DelaySeconds=900)
        sqs.receive_message(QueueUrl=orders, MaxNumberOfMessages=1, VisibilityTimeout=600)
        sqs.send_message(QueueUrl=dlq, MessageBody="poison")
        t.orders, t.dlq = orders, dlq
        # Functions: `greeter` succeeds twice, `breaker` fails three times.
        code = {"ZipFile": _zip()}
        lam.create_function(FunctionName="greeter", Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.print_it", Code=code)
        lam.create_function(FunctionName="breaker", Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.fail", Code=code)
        for _ in range(2):
            assert "FunctionError" not in lam.invoke(FunctionName="greeter", Payload=b'{"text": "hello from greeter"}')
        for _ in range(3):
            assert lam.invoke(FunctionName="breaker", Payload=b'{"message": "breaker broke"}')["FunctionError"] == "Unhandled"
        # A table with 3 items and a stream.
        ddb.create_table(TableName="carts", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for i in range(3):
            ddb.put_item(TableName="carts", Item={"id": {"S": f"c{i}"}})
        # A topic with an SQS and a Lambda subscription.
        topic = sns.create_topic(Name="order-events")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=dlq_arn)
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:greeter")
        # An HTTP API and an EventBridge rule.
        _client(url, "apigatewayv2").create_api(Name="shop-api", ProtocolType="HTTP", Target="arn:aws:lambda:us-east-1:000000000000:function:greeter")
        events.put_rule(Name="big-orders", EventPattern=json.dumps({"source": ["shop"], "detail-type": ["order"]}))
        events.put_targets(Rule="big-orders", Targets=[{"Id": "q", "Arn": dlq_arn}])
        # An alarm, once this nimbus has alarms.
        t.alarms = _has(url, "monitoring", "DescribeAlarms")
        if t.alarms:
            cw.put_metric_alarm(AlarmName="breaker-errors", Namespace="AWS/Lambda", MetricName="Errors",
                                Dimensions=[{"Name": "FunctionName", "Value": "breaker"}], Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
            cw.set_alarm_state(AlarmName="breaker-errors", StateValue="ALARM", StateReason="3 errors in the test")
        # A trace: an invoke starts one (X-Ray, once this nimbus records traces).
        t.xray = _has(url, "xray", "GetTraceSummaries")
        t.trace_id = None
        if t.xray:
            # A traced chain: Invoke (with the caller's own trace header, as an SDK inside
            # a traced process sends it, so the test knows its trace among those every
            # Invoke starts) → the function → SQS SendMessage.
            out = sqs.create_queue(QueueName="relay-out")["QueueUrl"]
            lam.create_function(FunctionName="relay", Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="relay.handler", Code=code, Timeout=30)
            t.trace_id = "1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24])
            header = f"Root={t.trace_id};Sampled=1"
            lam.meta.events.register("before-sign.lambda.Invoke", lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", header), unique_id="console-trace")
            r = lam.invoke(FunctionName="relay", Payload=json.dumps({"queue_url": out, "body": "traced hello"}).encode())
            lam.meta.events.unregister("before-sign.lambda.Invoke", unique_id="console-trace")
            assert "FunctionError" not in r, r["Payload"].read()

            def stored():
                r = requests.get(f"{url}/_nimbus/console/trace/{t.trace_id}", timeout=10)
                return r.status_code == 200 and any(row["name"] == "SQS" for row in r.json()["Rows"])
            assert wait_for(stored, timeout=20), "the traced chain's trace was not stored"
        yield t


SHOTS = []


@pytest.fixture(scope="module")
def browser(request):
    # The screenshots' paths go to the terminal (not only to captured output) at the end.
    def report():
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if SHOTS and capture:
            with capture.global_and_fixture_disabled():
                print("\nconsole screenshots:\n" + "\n".join(f"  {p}" for p in SHOTS))
    request.addfinalizer(report)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium)", pytrace=False)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, world):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"script errors on the page: {errors}"


def shot(pg, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    if path not in SHOTS:
        SHOTS.append(path)
    return path


def open_page(pg, world, route):
    pg.goto(f"{world.url}/_nimbus/console/#/{route}")


# --------------------------------------------------------------------------- pages


def test_overview_counts_each_service(page, world):
    open_page(page, world, "")
    card = lambda label: page.locator(f'a.card[data-card="{label}"] .n')
    playwright_api.expect(card("Queues")).to_have_text("3" if world.xray else "2")
    playwright_api.expect(card("Functions")).to_have_text("3" if world.xray else "2")
    playwright_api.expect(card("Tables")).to_have_text("1")
    playwright_api.expect(card("Topics")).to_have_text("1")
    playwright_api.expect(card("APIs")).to_have_text("1")
    playwright_api.expect(card("Rules")).to_have_text("1")
    shot(page, "overview")


def test_queues_show_depths_and_dead_letter_queue(page, world):
    open_page(page, world, "queues")
    row = page.locator('tr[data-queue="orders"]')
    playwright_api.expect(row.locator("td.visible")).to_have_text("3")
    playwright_api.expect(row.locator("td.inflight")).to_have_text("1")
    playwright_api.expect(row.locator("td.delayed")).to_have_text("1")
    playwright_api.expect(row.locator("td.dlq")).to_contain_text("orders-dlq after 3 receives")
    playwright_api.expect(page.locator('tr[data-queue="orders-dlq"]')).to_contain_text("dead-letter queue of orders")
    shot(page, "queues")


def test_queue_depth_updates_live(page, world):
    open_page(page, world, "queues")
    cell = page.locator('tr[data-queue="orders-dlq"] td.visible')
    playwright_api.expect(cell).to_have_text("1")
    _client(world.url, "sqs").send_message(QueueUrl=world.dlq, MessageBody="second poison")
    # No reload: the page refreshes itself every 2 s.
    playwright_api.expect(cell).to_have_text("2", timeout=10_000)
    _client(world.url, "sqs").purge_queue(QueueUrl=world.dlq)


def test_functions_show_invocations_and_errors(page, world):
    open_page(page, world, "functions")
    breaker = page.locator('tr[data-function="breaker"]')
    playwright_api.expect(breaker.locator("td.errors")).to_have_text("3", timeout=15_000)
    playwright_api.expect(breaker.locator("td.invocations")).to_have_text("3")
    greeter = page.locator('tr[data-function="greeter"]')
    playwright_api.expect(greeter.locator("td.errors")).to_have_text("0")
    shot(page, "functions")


def test_tables_show_items_and_stream(page, world):
    open_page(page, world, "tables")
    row = page.locator('tr[data-table="carts"]')
    playwright_api.expect(row.locator("td.items")).to_have_text("3")
    playwright_api.expect(row.locator("td.stream")).to_contain_text("ENABLED")
    playwright_api.expect(row.locator("td.stream")).to_contain_text("NEW_AND_OLD_IMAGES")
    shot(page, "tables")


def test_topics_show_subscriptions(page, world):
    open_page(page, world, "topics")
    topic = page.locator('section[data-topic="order-events"]')
    playwright_api.expect(topic).to_contain_text("2 subscriptions")
    playwright_api.expect(topic.locator("tr[data-subscription]")).to_have_count(2)
    playwright_api.expect(topic).to_contain_text("function:greeter")
    shot(page, "topics")


def test_apis_and_rules(page, world):
    open_page(page, world, "apis")
    api = page.locator('section[data-api="shop-api"]')
    playwright_api.expect(api.locator('tr[data-route="$default"]')).to_contain_text("greeter")
    shot(page, "apis")
    open_page(page, world, "rules")
    rule = page.locator('tr[data-rule="big-orders"]')
    playwright_api.expect(rule).to_contain_text("ENABLED")
    playwright_api.expect(rule).to_contain_text("orders-dlq")
    shot(page, "rules")


def test_alarms_show_state(page, world):
    if not world.alarms:
        pytest.skip("this nimbus has no CloudWatch alarms yet (DescribeAlarms)")
    open_page(page, world, "alarms")
    row = page.locator('tr[data-alarm="breaker-errors"]')
    playwright_api.expect(row.locator("td.state")).to_have_text("ALARM")
    playwright_api.expect(row).to_contain_text("3 errors in the test")
    shot(page, "alarms")


def test_metrics_chart(page, world):
    cw = _client(world.url, "cloudwatch")
    now = time.time()
    for ago, v in ((600, 1), (300, 4), (0, 2)):
        cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "Checkouts", "Value": v, "Unit": "Count", "Timestamp": now - ago,
                                                          "Dimensions": [{"Name": "Store", "Value": "north"}]}])
    open_page(page, world, "metrics?ns=Shop&m=Checkouts&stat=Sum")
    playwright_api.expect(page.locator(".panel h2")).to_contain_text("Shop · Checkouts")
    playwright_api.expect(page.locator(".panel h2 small")).to_contain_text("total 7")
    assert page.locator("svg.chart path.line").count() == 1
    playwright_api.expect(page.locator("svg.chart circle")).to_have_count(3)
    shot(page, "metrics")


def test_logs_merged_tail(page, world):
    open_page(page, world, "logs")
    log = page.locator("pre.log")
    playwright_api.expect(log).to_contain_text("hello from greeter", timeout=10_000)
    playwright_api.expect(log).to_contain_text("breaker broke")
    shot(page, "logs")


def test_traces_list_and_waterfall(page, world):
    if not world.xray:
        pytest.skip("this nimbus records no traces yet (X-Ray)")
    open_page(page, world, "traces")
    row = page.locator(f'tr[data-trace="{world.trace_id}"]')
    playwright_api.expect(row).to_be_visible(timeout=10_000)
    shot(page, "traces")
    row.locator("a").click()
    playwright_api.expect(page.locator("#trace-id")).to_have_text(world.trace_id)
    # The waterfall: the Invoke, and under it the function's SendMessage to relay-out.
    rows = page.locator(".wf-row[data-service]")
    playwright_api.expect(rows.first).to_be_visible()
    seen = rows.evaluate_all("rows => rows.map(r => [r.dataset.service, r.dataset.depth, r.innerText])")
    services = [s for s, _, _ in seen]
    assert "Lambda" in services and "SQS" in services, seen
    lam_depth = next(int(d) for s, d, _ in seen if s == "Lambda")
    sqs_row = next((d, text) for s, d, text in seen if s == "SQS")
    assert int(sqs_row[0]) > lam_depth and "SendMessage" in sqs_row[1] and "relay-out" in sqs_row[1], seen
    # The invocation's own log lines, found by its request id.
    log = page.locator('.inv[data-function="relay"] pre.log')
    playwright_api.expect(log).to_contain_text("relaying traced hello")
    playwright_api.expect(log).to_contain_text("REPORT RequestId")
    # A click shows the row's segment document.
    page.locator('.wf-row[data-service="SQS"]').click()
    playwright_api.expect(page.locator("pre.doc")).to_contain_text('"operation": "SendMessage"')
    shot(page, "trace")
    # A failed invocation: "Errors only" lists it; its waterfall marks the faulted rows
    # and a click shows the cause.
    open_page(page, world, "traces")
    page.get_by_role("button", name="Errors only").click()
    first = page.locator("tr[data-trace] a").first
    playwright_api.expect(first).to_be_visible()
    playwright_api.expect(page.locator("tr[data-trace] td.outcome").first).to_have_text("fault")
    first.click()
    faulted = page.locator('.wf-row[data-outcome="fault"]')
    playwright_api.expect(faulted.first).to_be_visible()
    faulted.first.click()
    playwright_api.expect(page.locator(".detail .err-box")).to_contain_text("ValueError: breaker broke")
    playwright_api.expect(page.locator('.inv[data-function="breaker"] pre.log')).to_contain_text("[ERROR] ValueError: breaker broke")
    shot(page, "trace-fault")
    # A filter expression X-Ray refuses shows X-Ray's error in place of the list.
    open_page(page, world, "traces?q=" + requests.utils.quote('service("relay") AND ((('))
    playwright_api.expect(page.locator(".err-box")).to_contain_text("xray:GetTraceSummaries")


# --------------------------------------------------------------------------- endpoint and CLI


def test_endpoint_reads_only(world):
    base = f"{world.url}/_nimbus/console"
    r = requests.post(f"{base}/api/sqs/ListQueues", json={}, timeout=10)
    assert r.status_code == 200 and "orders-dlq" in " ".join(r.json()["QueueUrls"])
    r = requests.post(f"{base}/api/sqs/DeleteQueue", json={"QueueUrl": world.orders}, timeout=10)
    assert r.status_code == 403 and r.json()["__type"] == "AccessDenied"
    r = requests.post(f"{base}/api/sqs/SendMessage", json={"QueueUrl": world.orders, "MessageBody": "x"}, timeout=10)
    assert r.status_code == 403
    r = requests.post(f"{base}/api/nope/ListThings", json={}, timeout=10)
    assert r.status_code == 404
    r = requests.post(f"{base}/api/sqs/ListQueues", data="[1]", timeout=10)
    assert r.status_code == 400
    page = requests.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "nimbus console" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_nimbus_trace_prints_waterfall_and_logs(world):
    if not world.xray:
        pytest.skip("this nimbus records no traces yet (X-Ray)")
    out = subprocess.run([str(_nimbus_binary()), "trace", world.trace_id, "--endpoint", world.url],
                         capture_output=True, text=True, timeout=60)
    print(out.stdout)
    assert out.returncode == 0, out.stderr
    assert world.trace_id in out.stdout
    assert "Lambda · Invoke · relay" in out.stdout
    assert "SQS · SendMessage · relay-out" in out.stdout
    assert "relaying traced hello" in out.stdout
    last = subprocess.run([str(_nimbus_binary()), "trace", "--last", "1", "--endpoint", world.url],
                          capture_output=True, text=True, timeout=60)
    assert last.returncode == 0, last.stderr
    assert "Trace 1-" in last.stdout
    errors = subprocess.run([str(_nimbus_binary()), "trace", "--errors", "--endpoint", world.url, "--no-color"],
                            capture_output=True, text=True, timeout=60)
    print(errors.stdout)
    assert errors.returncode == 0, errors.stderr
    assert "breaker" in errors.stdout and "breaker broke" in errors.stdout
    missing = subprocess.run([str(_nimbus_binary()), "trace", "1-00000000-000000000000000000000000", "--endpoint", world.url],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "1-00000000-000000000000000000000000" in missing.stderr


def test_console_answers_under_sigv4_auth():
    """The console is unauthenticated like the rest of /_nimbus/: it reads under --auth
    sigv4, where the same unsigned call to the service itself is refused."""
    with nimbus_server(extra_args=["--auth", "sigv4"]) as url:
        r = requests.post(f"{url}/_nimbus/console/api/sqs/ListQueues", json={}, timeout=10)
        assert r.status_code == 200, r.text
        unsigned = requests.post(url, data="Action=ListQueues&Version=2012-11-05", headers={"content-type": "application/x-www-form-urlencoded"}, timeout=10)
        assert unsigned.status_code == 403, unsigned.text
        assert requests.get(f"{url}/_nimbus/console/", timeout=10).status_code == 200
