"""Functions' own X-Ray instrumentation joins nimbus's traces (issue 17): a Python function
instrumented with the AWS X-Ray SDK for Python (PyPI `aws-xray-sdk`, packaged into the
function as users do) sends its subsegments over the X-Ray daemon's UDP protocol to the
address Lambda gives it (`AWS_XRAY_DAEMON_ADDRESS`), and they appear in the invocation's
trace under its function segment; the REPORT line names the trace. AWS's pages: "Using
AWS Lambda with AWS X-Ray", "AWS X-Ray SDK for Python", "Lambda environment variables"."""

import json
import socket
import time
from pathlib import Path

import boto3
import botocore.config
import pytest

from conftest import FUNCTIONS_DIR, nimbus_server, python_runtime, unique_name, zip_directory

xray_sdk = pytest.importorskip("aws_xray_sdk")

CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})


def client(url, service):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", config=CONFIG)


def function_zip():
    """The test functions plus the X-Ray SDK and its dependency (wrapt) from this environment."""
    import wrapt
    return zip_directory(FUNCTIONS_DIR / "python", [Path(xray_sdk.__file__).parent, Path(wrapt.__file__).parent])


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def documents(xray, trace_id, done, secs=20):
    """The trace's segment documents once `done(docs)` holds (segments are written in the background)."""
    deadline = time.monotonic() + secs
    while True:
        traces = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
        docs = [json.loads(s["Document"]) for t in traces for s in t["Segments"]]
        if done(docs) or time.monotonic() > deadline:
            return docs
        time.sleep(0.2)


def subsegments(doc):
    for s in doc.get("subsegments", []):
        yield s
        yield from subsegments(s)


def test_xray_sdk_subsegments_join_the_invocations_trace():
    port = free_udp_port()
    with nimbus_server(extra_args=["--xray-daemon-address", f"127.0.0.1:{port}"]) as url:
        awslambda, xray, sqs, logs = client(url, "lambda"), client(url, "xray"), client(url, "sqs"), client(url, "logs")
        queue_url = sqs.create_queue(QueueName=unique_name("xray-sdk"))["QueueUrl"]
        name = unique_name("xray-sdk")
        awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role="arn:aws:iam::000000000000:role/r",
                                  Handler="xray_sdk.handler", Code={"ZipFile": function_zip()}, Timeout=30,
                                  TracingConfig={"Mode": "Active"})
        assert awslambda.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "Active"}
        out = awslambda.invoke(FunctionName=name, Payload=json.dumps({"order": "o-7", "queue_url": queue_url}))
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        assert body["daemon"] == f"127.0.0.1:{port}"
        trace = dict(p.split("=", 1) for p in body["trace"].split(";"))
        root, parent = trace["Root"], trace["Parent"]
        assert trace["Sampled"] == "1"

        def complete(docs):
            function = [d for d in docs if d.get("origin") == "AWS::Lambda::Function"]
            return function and any(s["name"] == "business-logic" for s in subsegments(function[0]))

        docs = documents(xray, root, complete)
        # The Invoke call's own segment (`Lambda`), then Lambda's two for the invocation.
        [call] = [d for d in docs if d.get("origin") == "AWS::Lambda" and d["name"] == "Lambda"]
        [service] = [d for d in docs if d.get("origin") == "AWS::Lambda" and d["name"] == name]
        [function] = [d for d in docs if d.get("origin") == "AWS::Lambda::Function"]
        assert function["name"] == name and service["parent_id"] == call["id"]
        assert function["id"] == parent and function["parent_id"] == service["id"]
        assert service["aws"]["request_id"] == out["ResponseMetadata"]["RequestId"], service
        names = {s["name"] for s in subsegments(function)}
        assert {"Initialization", "Invocation", "business-logic", "sqs"} <= names, names
        [custom] = [s for s in subsegments(function) if s["name"] == "business-logic"]
        assert custom["annotations"] == {"order": "o-7"}
        # The SDK's SQS subsegment passed the trace on: the message carries it.
        [message] = sqs.receive_message(QueueUrl=queue_url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
        assert message["Attributes"]["AWSTraceHeader"].startswith(f"Root={root};")
        # The REPORT line names the trace, as Lambda writes it.
        deadline = time.monotonic() + 10
        while True:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="REPORT")["events"]
            if events or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert events and f"\nXRAY TraceId: {root}\tSegmentId: {parent}\tSampled: true" in events[0]["message"], events


def test_tracing_mode_is_stored_returned_and_checked():
    with nimbus_server() as url:
        awslambda = client(url, "lambda")
        name = unique_name("passthrough")
        awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role="arn:aws:iam::000000000000:role/r",
                                  Handler="handler.echo", Code={"ZipFile": zip_directory(FUNCTIONS_DIR / "python")})
        assert awslambda.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "PassThrough"}
        awslambda.update_function_configuration(FunctionName=name, TracingConfig={"Mode": "Active"})
        assert awslambda.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "Active"}
        with pytest.raises(awslambda.exceptions.ClientError) as e:
            awslambda.update_function_configuration(FunctionName=name, TracingConfig={"Mode": "Sometimes"})
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert "Value 'Sometimes' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]" in e.value.response["Error"]["Message"]


def test_sns_delivers_the_publishers_trace_to_http_endpoints_and_records_the_delivery():
    """https://docs.aws.amazon.com/xray/latest/devguide/xray-services-sns.html: SNS passes the
    trace header on to its subscribers; nimbus records each delivery attempt as a segment."""
    import requests
    from test_sns import Subscriber

    with nimbus_server() as url:
        sns, xray = client(url, "sns"), client(url, "xray")
        sub = Subscriber()
        try:
            arn = sns.create_topic(Name=unique_name("traced"))["TopicArn"]
            sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=sub.url)
            kind, _, body = sub.next()
            assert kind == "SubscriptionConfirmation"
            assert requests.get(json.loads(body)["SubscribeURL"], timeout=10).status_code == 200
            root = "1-5759e988-bd862e3fe1be46a994272795"

            def add_trace(request, **kwargs):
                request.headers["X-Amzn-Trace-Id"] = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"

            sns.meta.events.register("before-sign.sns.Publish", add_trace)
            sns.publish(TopicArn=arn, Message="traced")
            kind, headers, _ = sub.next()
            assert kind == "Notification"
            header = headers["x-amzn-trace-id"]
            assert header.startswith(f"Root={root};Parent=") and header.endswith(";Sampled=1"), header
            parent = header.split(";")[1].split("=")[1]
            docs = documents(xray, root, lambda d: any(x.get("aws", {}).get("operation") == "Deliver" for x in d))
            [delivery] = [d for d in docs if d.get("aws", {}).get("operation") == "Deliver"]
            [publish] = [d for d in docs if d.get("aws", {}).get("operation") == "Publish"]
            assert (delivery["name"], delivery["origin"], delivery["id"]) == ("SNS", "AWS::SNS::Topic", parent)
            assert delivery["parent_id"] == publish["id"] and publish["parent_id"] == "53995c3f42cd8ad8"
            assert delivery["aws"]["topic_arn"] == arn and delivery["aws"]["protocol"] == "http"
        finally:
            sub.close()
