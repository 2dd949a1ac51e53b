"""SQS on the wire, byte for byte where it matters (issue 11): the query protocol over GET
on a queue URL and on ``/``, the empty ``<ReceiveMessageResult/>``, SQS's wording for an
unknown action, JSON answers to query requests that send ``Accept: application/json``,
``Failed`` left out of JSON batch results when empty, and AWSTraceHeader taken from the
``X-Amzn-Trace-Id`` header.

AWS references: "Making query API requests" (Amazon SQS Developer Guide: GET and POST
query requests, the queue URL as the endpoint), and the SendMessageBatch /
DeleteMessageBatch / ChangeMessageVisibilityBatch API references.
"""

import json
import urllib.parse

import requests

from conftest import ACCESS_KEY, REGION, SECRET_KEY, sign_request
from nimbus_helpers import md5_hex


def signed_get(url, params, headers=None):
    encoded = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="-_.~")
    full = url + ("&" if "?" in url else "?") + encoded
    signed = sign_request("GET", full, b"", dict(headers or {}), "sqs", REGION, ACCESS_KEY, SECRET_KEY)
    return requests.get(full, headers=signed, timeout=30)


def json_call(endpoint, operation, payload, headers=None):
    """One SQS JSON-protocol request; returns the raw response."""
    h = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{operation}"}
    h.update(headers or {})
    body = json.dumps(payload).encode()
    signed = sign_request("POST", endpoint + "/", body, h, "sqs", REGION, ACCESS_KEY, SECRET_KEY)
    return requests.post(endpoint + "/", data=body, headers=signed, timeout=30)


def test_get_on_queue_url_and_empty_receive_result(endpoint, queue):
    url = queue()
    # The queue URL is the endpoint; no QueueUrl parameter.
    r = signed_get(url, {"Action": "ReceiveMessage", "Version": "2012-11-05"})
    assert r.status_code == 200, r.text
    assert "<ReceiveMessageResult/>" in r.text, r.text
    r = signed_get(url, {"Action": "SendMessage", "MessageBody": "over GET"})
    assert r.status_code == 200 and md5_hex("over GET") in r.text, r.text
    # The region-less path form (/<account>/<name>) names the queue too.
    path = urllib.parse.urlparse(url).path.split("/")[-2:]
    r = signed_get(f"{endpoint}/{path[0]}/{path[1]}", {"Action": "ReceiveMessage"})
    assert "<Body>over GET</Body>" in r.text, r.text
    # GET on / with QueueUrl as a parameter.
    r = signed_get(endpoint + "/", {"Action": "ReceiveMessage", "QueueUrl": url})
    assert "<ReceiveMessageResult/>" in r.text, r.text


def test_unknown_action_is_worded_as_sqs_words_it(endpoint, queue):
    url = queue()
    for target in (endpoint + "/", url):
        r = signed_get(target, {"Action": "FooBar", "Version": "2012-11-05"})
        assert r.status_code == 400, r.text
        assert "<Code>InvalidAction</Code>" in r.text, r.text
        assert "<Message>The action FooBar is not valid for this endpoint.</Message>" in r.text, r.text
        assert "<Type>Sender</Type>" in r.text, r.text


def test_unknown_json_operation_is_unknown_operation_exception(endpoint):
    r = json_call(endpoint, "FooBar", {})
    assert r.status_code == 400, r.text
    assert r.json()["__type"].endswith("#UnknownOperationException"), r.text


def test_query_request_with_accept_json_gets_json(endpoint, queue):
    url = queue()
    accept = {"Accept": "application/json"}
    r = signed_get(url, {"Action": "SendMessage", "MessageBody": "json please"}, accept)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), r.text
    sent = r.json()["SendMessageResponse"]
    assert sent["SendMessageResult"]["MD5OfMessageBody"] == md5_hex("json please")
    assert sent["ResponseMetadata"]["RequestId"] == r.headers["x-amzn-RequestId"]
    got = signed_get(url, {"Action": "ReceiveMessage"}, accept).json()
    messages = got["ReceiveMessageResponse"]["ReceiveMessageResult"]["Messages"]
    assert [m["Body"] for m in messages] == ["json please"]
    missing = signed_get(url + "-missing", {"Action": "ReceiveMessage"}, accept)
    assert missing.status_code == 400
    assert missing.json()["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue", missing.text


def test_batch_results_leave_out_an_empty_failed_list(endpoint, queue):
    url = queue()
    r = json_call(endpoint, "SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "x"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "Failed" not in body and len(body["Successful"]) == 1, body
    # With a failure, Failed is there.
    r = json_call(endpoint, "DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": "garbage"}]})
    body = r.json()
    assert [f["Id"] for f in body["Failed"]] == ["a"], body


def test_aws_trace_header_from_x_amzn_trace_id(endpoint, sqs, queue):
    url = queue()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    r = json_call(endpoint, "SendMessage", {"QueueUrl": url, "MessageBody": "t"}, {"X-Amzn-Trace-Id": trace})
    assert r.status_code == 200, r.text
    # The message system attribute, when sent, wins over the header.
    r = json_call(endpoint, "SendMessage", {
        "QueueUrl": url, "MessageBody": "u",
        "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=explicit"}},
    }, {"X-Amzn-Trace-Id": trace})
    assert r.status_code == 200, r.text
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["AWSTraceHeader"])
    by_body = {m["Body"]: m["Attributes"]["AWSTraceHeader"] for m in got["Messages"]}
    assert by_body == {"t": trace, "u": "Root=explicit"}
