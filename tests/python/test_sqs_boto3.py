"""SQS through boto3, which speaks SQS's JSON protocol (awsJson1_0, query-compatible).

The expectations follow AWS's documented behaviour. boto3 reports query-compatible
errors with the *query* error code in ``Error.Code`` (taken from the
``x-amzn-query-error`` header, e.g. ``AWS.SimpleQueueService.NonExistentQueue``) and
the JSON shape name in ``Error.QueryErrorCode``; the modeled exception class
(``sqs.exceptions.QueueDoesNotExist``) is chosen by the shape name.
"""

import hashlib
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from nimbus_helpers import account_of, md5_hex, md5_of_message_attributes, name_of, wait_for

REGION = "us-east-1"


# --------------------------------------------------------------------------- helpers


def expect_error(fn, code, query_error_code=None, status=None, **kwargs):
    """Call fn(**kwargs), require a ClientError with Error.Code == code; return it."""
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    err = info.value.response["Error"]
    assert err["Code"] == code, info.value.response
    if query_error_code is not None:
        assert err.get("QueryErrorCode") == query_error_code, info.value.response
    if status is not None:
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return info.value


def attrs(sqs, url, *names):
    resp = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"])
    return resp.get("Attributes", {})


def arn_of(sqs, url):
    return attrs(sqs, url, "QueueArn")["QueueArn"]


def receive(sqs, url, **kwargs):
    kwargs.setdefault("MaxNumberOfMessages", 10)
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def drain(sqs, url, expected, timeout=10.0, delete=True, **kwargs):
    """Receive until `expected` messages were collected (or timeout)."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        for m in receive(sqs, url, **kwargs):
            got.append(m)
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def counts(sqs, url):
    a = attrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed")
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


# --------------------------------------------------------------------------- queues


def test_create_get_url_and_delete_queue(sqs, queue):
    url = queue()
    name = name_of(url)
    assert url.endswith("/" + name)
    account_of(url)  # /<12-digit account>/<name>
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    sqs.delete_queue(QueueUrl=url)

    # AWS: deletion can take up to 60 s to be visible; poll a little.
    def gone():
        try:
            sqs.get_queue_url(QueueName=name)
            return False
        except sqs.exceptions.QueueDoesNotExist:
            return True

    assert wait_for(gone, timeout=5)
    expect_error(sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue",
                 query_error_code="QueueDoesNotExist", status=400, QueueName=name)


def test_list_queues_by_prefix(sqs, queue):
    prefix = f"lq{int(time.time() * 1000) % 10**9}x"
    mine = {queue(name=f"{prefix}-{i}") for i in range(3)}
    other = queue()
    urls = set(sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
    assert urls == mine
    assert other in set(sqs.list_queues().get("QueueUrls", []))
    assert sqs.list_queues(QueueNamePrefix=prefix + "-nothing").get("QueueUrls", []) == []


def test_list_queues_pagination(sqs, queue):
    prefix = f"pg{int(time.time() * 1000) % 10**9}x"
    mine = {queue(name=f"{prefix}-{i}") for i in range(5)}
    seen = []
    token = None
    pages = 0
    while True:
        kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        pages += 1
        assert len(page.get("QueueUrls", [])) <= 2
        seen.extend(page.get("QueueUrls", []))
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == mine
    assert pages == 3


def test_list_queues_max_results_out_of_range(sqs, queue):
    queue()
    # AWS: MaxResults must be 1..1000.
    expect_error(sqs.list_queues, "InvalidParameterValue", MaxResults=1001)


def test_create_queue_is_idempotent_with_same_attributes(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "7", "DelaySeconds": "1"})
    name = name_of(url)
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7", "DelaySeconds": "1"})
    assert again["QueueUrl"] == url
    # No attributes given: also fine for an existing queue.
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url


def test_create_queue_with_different_attributes_fails(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "7"})
    e = expect_error(sqs.create_queue, "QueueAlreadyExists", query_error_code="QueueNameExists",
                     status=400, QueueName=name_of(url), Attributes={"VisibilityTimeout": "8"})
    assert isinstance(e, sqs.exceptions.QueueNameExists)
    assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "7"


@pytest.mark.parametrize("name", ["has space", "bad!char", "x" * 81])
def test_create_queue_invalid_name(sqs, name):
    expect_error(sqs.create_queue, "InvalidParameterValue", status=400, QueueName=name)


def test_queue_name_max_length_ok(sqs, queue):
    url = queue(name="n" + ("x" * 63) + "-" + str(int(time.time() * 1e6))[-15:])
    assert len(name_of(url)) == 80


def test_fifo_name_rules(sqs, queue):
    base = f"fifo{int(time.time() * 1e6)}"
    # FifoQueue=true requires the .fifo suffix ...
    expect_error(sqs.create_queue, "InvalidParameterValue", QueueName=base,
                 Attributes={"FifoQueue": "true"})
    # ... and the .fifo suffix is only for FIFO queues.
    expect_error(sqs.create_queue, "InvalidParameterValue", QueueName=base + "-std.fifo")
    url = queue(name=base + ".fifo", fifo=True)
    a = attrs(sqs, url)
    assert a["FifoQueue"] == "true"
    assert a["ContentBasedDeduplication"] == "false"
    assert a["QueueArn"].endswith(":" + base + ".fifo")


def test_default_attributes(sqs, queue):
    before = int(time.time())
    url = queue()
    a = attrs(sqs, url)
    assert a["VisibilityTimeout"] == "30"
    # 262144 was the default for years; since Aug 2025 AWS also documents 1 MiB.
    assert a["MaximumMessageSize"] in ("262144", "1048576")
    assert a["MessageRetentionPeriod"] == "345600"
    assert a["DelaySeconds"] == "0"
    assert a["ReceiveMessageWaitTimeSeconds"] == "0"
    assert a["ApproximateNumberOfMessages"] == "0"
    assert a["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert a["ApproximateNumberOfMessagesDelayed"] == "0"
    assert a["QueueArn"] == f"arn:aws:sqs:{REGION}:{account_of(url)}:{name_of(url)}"
    created = int(a["CreatedTimestamp"])
    assert before - 5 <= created <= int(time.time()) + 5  # epoch *seconds*
    assert abs(int(a["LastModifiedTimestamp"]) - created) <= 5
    assert "FifoQueue" not in a  # only FIFO queues report FifoQueue
    assert "RedrivePolicy" not in a


def test_get_selected_attributes_only(sqs, queue):
    url = queue()
    a = attrs(sqs, url, "VisibilityTimeout", "DelaySeconds")
    assert set(a) == {"VisibilityTimeout", "DelaySeconds"}
    # No AttributeNames at all: no attributes returned.
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_set_queue_attributes_round_trip(sqs, queue):
    url = queue()
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "s1", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                       "Resource": arn_of(sqs, url)}],
    }
    new = {
        "VisibilityTimeout": "5",
        "DelaySeconds": "3",
        "MaximumMessageSize": "2048",
        "MessageRetentionPeriod": "120",
        "ReceiveMessageWaitTimeSeconds": "2",
        "Policy": json.dumps(policy),
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes=new)
    a = attrs(sqs, url)
    for k, v in new.items():
        if k == "Policy":
            assert json.loads(a[k]) == policy
        else:
            assert a[k] == v, k


def test_create_queue_with_attributes(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "12", "DelaySeconds": "4", "MaximumMessageSize": "1024"})
    a = attrs(sqs, url)
    assert (a["VisibilityTimeout"], a["DelaySeconds"], a["MaximumMessageSize"]) == ("12", "4", "1024")


INVALID_VALUES = [
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "-1"),
    ("VisibilityTimeout", "abc"),
    ("DelaySeconds", "901"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
]


@pytest.mark.parametrize("name,value", INVALID_VALUES)
def test_set_attribute_out_of_range(sqs, queue, name, value):
    url = queue()
    expect_error(sqs.set_queue_attributes, "InvalidAttributeValue", status=400,
                 QueueUrl=url, Attributes={name: value})


def test_set_redrive_policy_not_json(sqs, queue):
    # AWS reports a malformed RedrivePolicy as InvalidParameterValue ("Value ... for
    # parameter RedrivePolicy is invalid. Reason: ..."), as recorded against real SQS.
    url = queue()
    expect_error(sqs.set_queue_attributes, "InvalidParameterValue", status=400,
                 QueueUrl=url, Attributes={"RedrivePolicy": "not json"})


@pytest.mark.parametrize("name,value", INVALID_VALUES[:3])
def test_create_queue_attribute_out_of_range(sqs, name, value):
    expect_error(sqs.create_queue, "InvalidAttributeValue", status=400,
                 QueueName=f"bad-{int(time.time() * 1e6)}", Attributes={name: value})


def test_attribute_limits_inclusive(sqs, queue):
    url = queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "VisibilityTimeout": "43200", "DelaySeconds": "900", "MessageRetentionPeriod": "1209600",
        "ReceiveMessageWaitTimeSeconds": "20", "MaximumMessageSize": "1024"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "VisibilityTimeout": "0", "MessageRetentionPeriod": "60", "MaximumMessageSize": "1048576"})
    a = attrs(sqs, url)
    assert a["VisibilityTimeout"] == "0"
    assert a["MessageRetentionPeriod"] == "60"


def test_unknown_attribute_name(sqs, queue):
    url = queue()
    expect_error(sqs.set_queue_attributes, "InvalidAttributeName", status=400,
                 QueueUrl=url, Attributes={"NoSuchAttribute": "1"})
    expect_error(sqs.get_queue_attributes, "InvalidAttributeName", status=400,
                 QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    expect_error(sqs.create_queue, "InvalidAttributeName", status=400,
                 QueueName=f"bad-{int(time.time() * 1e6)}", Attributes={"NoSuchAttribute": "1"})


def test_read_only_attribute_cannot_be_set(sqs, queue):
    url = queue()
    expect_error(sqs.set_queue_attributes, "InvalidAttributeName",
                 QueueUrl=url, Attributes={"QueueArn": "arn:aws:sqs:us-east-1:000000000000:x"})


def test_computed_message_counts(sqs, queue):
    url = queue()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(sqs, url) == (3, 0, 1)
    msgs = receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    assert len(msgs) == 1
    assert counts(sqs, url) == (2, 1, 1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
    assert counts(sqs, url) == (2, 0, 1)


# --------------------------------------------------------------------------- tags & permissions


def test_tags(sqs, queue):
    url = queue(tags={"team": "core", "env": "test"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "test"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "42"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "prod", "cost": "42"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_tags_on_missing_queue(sqs, queue):
    url = queue()
    sqs.delete_queue(QueueUrl=url)
    wait_for(lambda: name_of(url) not in " ".join(sqs.list_queues().get("QueueUrls", [])), timeout=5)
    expect_error(sqs.list_queue_tags, "AWS.SimpleQueueService.NonExistentQueue", QueueUrl=url)
    expect_error(sqs.tag_queue, "AWS.SimpleQueueService.NonExistentQueue", QueueUrl=url, Tags={"a": "b"})


def test_add_and_remove_permission(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="lbl1", AWSAccountIds=["111122223333"],
                       Actions=["SendMessage", "ReceiveMessage"])
    policy = json.loads(attrs(sqs, url, "Policy")["Policy"])
    stmts = [s for s in policy["Statement"] if s["Sid"] == "lbl1"]
    assert len(stmts) == 1
    st = stmts[0]
    assert st["Effect"] == "Allow"
    principal = st["Principal"]["AWS"]
    principal = principal if isinstance(principal, list) else [principal]
    assert principal == ["arn:aws:iam::111122223333:root"]
    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
    assert sorted(a.lower() for a in actions) == ["sqs:receivemessage", "sqs:sendmessage"]
    assert st["Resource"] == arn_of(sqs, url)

    sqs.add_permission(QueueUrl=url, Label="lbl2", AWSAccountIds=["444455556666"], Actions=["*"])
    policy = json.loads(attrs(sqs, url, "Policy")["Policy"])
    assert sorted(s["Sid"] for s in policy["Statement"]) == ["lbl1", "lbl2"]

    sqs.remove_permission(QueueUrl=url, Label="lbl1")
    policy = json.loads(attrs(sqs, url, "Policy")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["lbl2"]
    sqs.remove_permission(QueueUrl=url, Label="lbl2")
    remaining = attrs(sqs, url, "Policy").get("Policy")
    assert not remaining or json.loads(remaining).get("Statement") in ([], None)


def test_add_permission_duplicate_label(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    # AWS: "Value dup for parameter Label is invalid. Reason: Already exists."
    expect_error(sqs.add_permission, "InvalidParameterValue", QueueUrl=url, Label="dup",
                 AWSAccountIds=["111122223333"], Actions=["DeleteMessage"])


def test_remove_unknown_permission_label(sqs, queue):
    url = queue()
    # AWS: "Value nope for parameter Label is invalid. Reason: can't find label."
    expect_error(sqs.remove_permission, "InvalidParameterValue", QueueUrl=url, Label="nope")


# --------------------------------------------------------------------------- messages


def test_send_receive_delete(sqs, queue):
    url = queue()
    body = "hello wörld \U0001f600 <&>"
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert sent["MessageId"]
    assert "MD5OfMessageAttributes" not in sent

    msgs = receive(sqs, url)
    assert len(msgs) == 1
    m = msgs[0]
    assert m["Body"] == body
    assert m["MessageId"] == sent["MessageId"]
    assert m["MD5OfBody"] == md5_hex(body)
    assert m["ReceiptHandle"]
    assert "MessageAttributes" not in m

    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)
    assert receive(sqs, url) == []


def test_receive_empty_queue(sqs, queue):
    url = queue()
    resp = sqs.receive_message(QueueUrl=url)
    assert resp.get("Messages", []) == []


MESSAGE_ATTRIBUTES = {
    "str": {"DataType": "String", "StringValue": "héllo"},
    "num": {"DataType": "Number", "StringValue": "-12.5e3"},
    "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "cstr": {"DataType": "String.custom", "StringValue": "custom value"},
    "cnum": {"DataType": "Number.float", "StringValue": "3.14"},
    "cbin": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a"},
}


def test_message_attributes_and_md5(sqs, queue):
    url = queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="with attributes", MessageAttributes=MESSAGE_ATTRIBUTES)
    expected_md5 = md5_of_message_attributes(MESSAGE_ATTRIBUTES)
    assert sent["MD5OfMessageAttributes"] == expected_md5
    assert sent["MD5OfMessageBody"] == md5_hex("with attributes")

    m = receive(sqs, url, MessageAttributeNames=["All"])[0]
    assert m["MD5OfMessageAttributes"] == expected_md5
    got = m["MessageAttributes"]
    assert set(got) == set(MESSAGE_ATTRIBUTES)
    for name, want in MESSAGE_ATTRIBUTES.items():
        assert got[name]["DataType"] == want["DataType"], name
        if "BinaryValue" in want:
            assert got[name]["BinaryValue"] == want["BinaryValue"], name
            assert "StringValue" not in got[name]
        else:
            assert got[name]["StringValue"] == want["StringValue"], name
            assert "BinaryValue" not in got[name]
    # The receive-side MD5 verifies against our own computation over what came back.
    assert md5_of_message_attributes(got) == expected_md5


def test_message_attribute_md5_known_value(sqs, queue):
    # Independent check of the algorithm: a single String attribute, computed by hand.
    url = queue()
    one = {"a": {"DataType": "String", "StringValue": "b"}}
    raw = (b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01b")
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=one)
    assert sent["MD5OfMessageAttributes"] == md5_hex(raw) == md5_of_message_attributes(one)


def test_receive_selected_message_attributes(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "foo.a": {"DataType": "String", "StringValue": "1"},
        "foo.b": {"DataType": "String", "StringValue": "2"},
        "bar": {"DataType": "Number", "StringValue": "3"},
    })
    m = receive(sqs, url, MessageAttributeNames=["bar"], VisibilityTimeout=0)[0]
    assert set(m["MessageAttributes"]) == {"bar"}
    m = receive(sqs, url, MessageAttributeNames=["foo.*"], VisibilityTimeout=0)[0]
    assert set(m["MessageAttributes"]) == {"foo.a", "foo.b"}
    m = receive(sqs, url, MessageAttributeNames=[".*"], VisibilityTimeout=0)[0]
    assert set(m["MessageAttributes"]) == {"foo.a", "foo.b", "bar"}
    m = receive(sqs, url, VisibilityTimeout=0)[0]
    assert "MessageAttributes" not in m


def test_message_attribute_validation(sqs, queue):
    url = queue()
    # Number attribute with a non-numeric value.
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                 MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
    # Unknown data type.
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                 MessageAttributes={"n": {"DataType": "Blob", "StringValue": "abc"}})
    # Names starting with AWS. / Amazon. are reserved.
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                 MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "abc"}})
    assert counts(sqs, url) == (0, 0, 0)


def test_system_attributes(sqs, queue):
    url = queue()
    t0 = int(time.time() * 1000)
    sqs.send_message(QueueUrl=url, MessageBody="sys")
    t1 = int(time.time() * 1000)

    m1 = receive(sqs, url, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)[0]
    a1 = m1["Attributes"]
    sent_ts = int(a1["SentTimestamp"])
    assert t0 - 2000 <= sent_ts <= t1 + 2000  # epoch milliseconds
    assert a1["ApproximateReceiveCount"] == "1"
    first = int(a1["ApproximateFirstReceiveTimestamp"])
    assert first >= sent_ts
    assert a1["SenderId"]
    assert "SequenceNumber" not in a1  # FIFO only

    time.sleep(0.05)
    # The legacy AttributeNames parameter selects system attributes too.
    m2 = receive(sqs, url, AttributeNames=["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"])[0]
    a2 = m2["Attributes"]
    assert set(a2) == {"ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
    assert a2["ApproximateReceiveCount"] == "2"
    assert int(a2["ApproximateFirstReceiveTimestamp"]) == first
    assert m2["ReceiptHandle"] != m1["ReceiptHandle"]
    assert m2["MessageId"] == m1["MessageId"]

    # Without attribute names, no attributes.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=0)
    m3 = receive(sqs, url)[0]
    assert "Attributes" not in m3


def test_receipt_handle_changes_and_latest_deletes(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="rh")
    handles = []
    for _ in range(3):
        msgs = receive(sqs, url, VisibilityTimeout=0)
        assert len(msgs) == 1
        handles.append(msgs[0]["ReceiptHandle"])
    assert len(set(handles)) == 3
    m = receive(sqs, url, VisibilityTimeout=30)[0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_visibility_timeout(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="vt")
    assert len(receive(sqs, url)) == 1
    assert receive(sqs, url) == []  # in flight
    time.sleep(1.3)
    again = receive(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert len(again) == 1
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_receive_visibility_timeout_override(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "30"})
    sqs.send_message(QueueUrl=url, MessageBody="vt")
    assert len(receive(sqs, url, VisibilityTimeout=1)) == 1
    assert receive(sqs, url) == []
    time.sleep(1.3)
    assert len(receive(sqs, url)) == 1


def test_change_message_visibility(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "30"})
    sqs.send_message(QueueUrl=url, MessageBody="cmv")
    m = receive(sqs, url)[0]
    assert receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m2 = receive(sqs, url, VisibilityTimeout=1)
    assert len(m2) == 1
    # Extend: the message stays invisible past the original 1 s.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m2[0]["ReceiptHandle"], VisibilityTimeout=3)
    time.sleep(1.3)
    assert receive(sqs, url) == []


def test_change_message_visibility_out_of_range(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="cmv")
    m = receive(sqs, url)[0]
    expect_error(sqs.change_message_visibility, "InvalidParameterValue",
                 QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=43201)


def test_garbage_receipt_handle(sqs, queue):
    url = queue()
    e = expect_error(sqs.delete_message, "ReceiptHandleIsInvalid", QueueUrl=url, ReceiptHandle="garbage")
    assert isinstance(e, sqs.exceptions.ReceiptHandleIsInvalid)
    expect_error(sqs.change_message_visibility, "ReceiptHandleIsInvalid", QueueUrl=url,
                 ReceiptHandle="garbage", VisibilityTimeout=5)


def test_queue_delay_seconds(sqs, queue):
    url = queue(attributes={"DelaySeconds": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="delayed")
    assert receive(sqs, url) == []
    assert counts(sqs, url) == (0, 0, 1)
    time.sleep(1.3)
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in receive(sqs, url)] == ["delayed"]


def test_message_delay_seconds(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=1)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert [m["Body"] for m in receive(sqs, url)] == ["now"]
    time.sleep(1.3)
    assert [m["Body"] for m in receive(sqs, url)] == ["late"]


def test_message_delay_out_of_range(sqs, queue):
    url = queue()
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x", DelaySeconds=901)


def test_long_poll_returns_early_when_message_arrives(sqs, make_client, queue):
    url = queue()
    other = make_client("sqs")  # clients are thread-safe; use it from the sender thread

    def sender():
        time.sleep(0.7)
        other.send_message(QueueUrl=url, MessageBody="wake up")

    t = threading.Thread(target=sender)
    start = time.monotonic()
    t.start()
    msgs = receive(sqs, url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - start
    t.join()
    assert [m["Body"] for m in msgs] == ["wake up"]
    assert 0.5 <= elapsed < 4, elapsed


def test_long_poll_times_out_empty(sqs, queue):
    url = queue()
    start = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=1) == []
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 3, elapsed


def test_queue_receive_wait_time_attribute(sqs, queue):
    url = queue(attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    start = time.monotonic()
    assert receive(sqs, url) == []
    assert time.monotonic() - start >= 0.9
    # An explicit WaitTimeSeconds=0 overrides the queue default: short poll.
    start = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=0) == []
    assert time.monotonic() - start < 0.8


def test_receive_parameter_validation(sqs, queue):
    url = queue()
    expect_error(sqs.receive_message, "InvalidParameterValue", QueueUrl=url, MaxNumberOfMessages=11)
    expect_error(sqs.receive_message, "InvalidParameterValue", QueueUrl=url, MaxNumberOfMessages=0)
    expect_error(sqs.receive_message, "InvalidParameterValue", QueueUrl=url, WaitTimeSeconds=21)


def test_receive_max_number_and_no_duplicates(sqs, queue):
    url = queue()
    bodies = {f"msg-{i}" for i in range(15)}
    for b in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=b)
    first = receive(sqs, url, MaxNumberOfMessages=10)
    assert 1 <= len(first) <= 10
    one = receive(sqs, url, MaxNumberOfMessages=1)
    assert len(one) <= 1
    rest = drain(sqs, url, 15 - len(first) - len(one), MaxNumberOfMessages=10)
    all_bodies = [m["Body"] for m in first + one + rest]
    # Every message exactly once while the earlier ones are in flight.
    assert len(all_bodies) == 15
    assert set(all_bodies) == bodies
    assert receive(sqs, url) == []


@pytest.mark.parametrize("body", ["\u0000", "bad \u0008 char", "\ufffe", "\ud7ff\uffff"])
def test_invalid_message_contents(sqs, queue, body):
    url = queue()
    e = expect_error(sqs.send_message, "InvalidMessageContents", status=400, QueueUrl=url, MessageBody=body)
    assert isinstance(e, sqs.exceptions.InvalidMessageContents)


def test_allowed_unusual_characters(sqs, queue):
    url = queue()
    body = "tab\there\nnewline\rcr \u00e9 \ud7ff \ue000 \U00010000"
    sqs.send_message(QueueUrl=url, MessageBody=body)
    assert receive(sqs, url)[0]["Body"] == body


def test_message_too_large(sqs, queue):
    url = queue(attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    # AWS: "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    expect_error(sqs.send_message, "InvalidParameterValue", status=400, QueueUrl=url, MessageBody="x" * 1025)
    # Message attributes count towards the size.
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x" * 1000,
                 MessageAttributes={"a": {"DataType": "String", "StringValue": "y" * 100}})
    assert counts(sqs, url) == (1, 0, 0)


def test_empty_message_body_rejected(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert info.value.response["Error"]["Code"] in ("MissingParameter", "InvalidParameterValue")


# --------------------------------------------------------------------------- FIFO


def test_fifo_ordering_per_group(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
        if i < 3:
            sqs.send_message(QueueUrl=url, MessageBody=f"b{i}", MessageGroupId="B")
    got = drain(sqs, url, 8, MessageSystemAttributeNames=["MessageGroupId"])
    a = [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "A"]
    b = [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "B"]
    assert a == [f"a{i}" for i in range(5)]
    assert b == [f"b{i}" for i in range(3)]


def test_fifo_group_locked_while_in_flight(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true", "VisibilityTimeout": "30"})
    sqs.send_message(QueueUrl=url, MessageBody="g1-first", MessageGroupId="g1")
    sqs.send_message(QueueUrl=url, MessageBody="g1-second", MessageGroupId="g1")
    first = receive(sqs, url, MaxNumberOfMessages=1)
    assert [m["Body"] for m in first] == ["g1-first"]
    # Group g1 is locked while its message is in flight.
    assert receive(sqs, url) == []
    # Other groups are not blocked.
    sqs.send_message(QueueUrl=url, MessageBody="g2-only", MessageGroupId="g2")
    assert [m["Body"] for m in receive(sqs, url)] == ["g2-only"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert [m["Body"] for m in receive(sqs, url)] == ["g1-second"]


def test_fifo_visibility_return_keeps_order(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    m = receive(sqs, url, MaxNumberOfMessages=1)[0]
    assert m["Body"] == "m0"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    got = drain(sqs, url, 3)
    assert [x["Body"] for x in got] == ["m0", "m1", "m2"]


def test_fifo_dedup_by_id(sqs, queue):
    url = queue(fifo=True)
    r1 = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    r2 = sqs.send_message(QueueUrl=url, MessageBody="one again", MessageGroupId="g", MessageDeduplicationId="d1")
    # A deduplicated send succeeds and answers with the original message's id (as AWS
    # does; moto mints a fresh id here).
    assert r2["MessageId"] == r1["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d2")
    got = drain(sqs, url, 3, timeout=1)
    assert [m["Body"] for m in got] == ["one", "two"]
    # Still deduplicated after the original was deleted (5-minute window).
    sqs.send_message(QueueUrl=url, MessageBody="one yet again", MessageGroupId="g", MessageDeduplicationId="d1")
    assert receive(sqs, url) == []


def test_fifo_content_based_dedup(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g")
    got = drain(sqs, url, 3, timeout=1, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert [m["Body"] for m in got] == ["same", "different"]
    # Content-based dedup id is the SHA-256 of the body.
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_fifo_requires_dedup_id_without_content_based(sqs, queue):
    url = queue(fifo=True)
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x", MessageGroupId="g")


def test_fifo_sequence_numbers(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    seqs = []
    for i in range(3):
        r = sqs.send_message(QueueUrl=url, MessageBody=f"s{i}", MessageGroupId="g")
        assert r["SequenceNumber"].isdigit()
        seqs.append(int(r["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    got = drain(sqs, url, 3, MessageSystemAttributeNames=["All"])
    assert [int(m["Attributes"]["SequenceNumber"]) for m in got] == seqs
    assert all(m["Attributes"]["MessageGroupId"] == "g" for m in got)


def test_fifo_message_group_id_required(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    expect_error(sqs.send_message, "MissingParameter", status=400, QueueUrl=url, MessageBody="x")


def test_fifo_per_message_delay_rejected(sqs, queue):
    url = queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    expect_error(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x",
                 MessageGroupId="g", DelaySeconds=5)


def test_fifo_batch_send(sqs, queue):
    url = queue(fifo=True)
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": f"e{i}", "MessageBody": f"b{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"d{i}"}
        for i in range(4)
    ])
    assert len(r["Successful"]) == 4 and not r.get("Failed")
    seqs = [int(e["SequenceNumber"]) for e in sorted(r["Successful"], key=lambda e: e["Id"])]
    assert seqs == sorted(seqs)
    assert [m["Body"] for m in drain(sqs, url, 4)] == ["b0", "b1", "b2", "b3"]


# --------------------------------------------------------------------------- batches


def test_send_message_batch(sqs, queue):
    url = queue()
    entries = [
        {"Id": "a", "MessageBody": "body-a"},
        {"Id": "b", "MessageBody": "body-b", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "c_3-x", "MessageBody": "body-c", "DelaySeconds": 0},
    ]
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert not r.get("Failed")
    ok = {e["Id"]: e for e in r["Successful"]}
    assert set(ok) == {"a", "b", "c_3-x"}
    for e in entries:
        assert ok[e["Id"]]["MD5OfMessageBody"] == md5_hex(e["MessageBody"])
        assert ok[e["Id"]]["MessageId"]
    assert ok["b"]["MD5OfMessageAttributes"] == md5_of_message_attributes(entries[1]["MessageAttributes"])
    got = drain(sqs, url, 3)
    assert sorted(m["Body"] for m in got) == ["body-a", "body-b", "body-c"]
    assert {m["MessageId"] for m in got} == {e["MessageId"] for e in ok.values()}


def test_batch_too_many_entries(sqs, queue):
    url = queue()
    e = expect_error(sqs.send_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                     query_error_code="TooManyEntriesInBatchRequest", status=400, QueueUrl=url,
                     Entries=[{"Id": f"i{i}", "MessageBody": "x"} for i in range(11)])
    assert isinstance(e, sqs.exceptions.TooManyEntriesInBatchRequest)
    expect_error(sqs.delete_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", QueueUrl=url,
                 Entries=[{"Id": f"i{i}", "ReceiptHandle": "x"} for i in range(11)])
    assert counts(sqs, url) == (0, 0, 0)
    # Exactly 10 is fine.
    r = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"i{i}", "MessageBody": "x"} for i in range(10)])
    assert len(r["Successful"]) == 10


def test_batch_ids_not_distinct(sqs, queue):
    url = queue()
    e = expect_error(sqs.send_message_batch, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                     query_error_code="BatchEntryIdsNotDistinct", status=400, QueueUrl=url,
                     Entries=[{"Id": "same", "MessageBody": "1"}, {"Id": "same", "MessageBody": "2"}])
    assert isinstance(e, sqs.exceptions.BatchEntryIdsNotDistinct)
    assert counts(sqs, url) == (0, 0, 0)


def test_batch_empty(sqs, queue):
    url = queue()
    e = expect_error(sqs.send_message_batch, "AWS.SimpleQueueService.EmptyBatchRequest",
                     query_error_code="EmptyBatchRequest", status=400, QueueUrl=url, Entries=[])
    assert isinstance(e, sqs.exceptions.EmptyBatchRequest)
    expect_error(sqs.delete_message_batch, "AWS.SimpleQueueService.EmptyBatchRequest", QueueUrl=url, Entries=[])
    expect_error(sqs.change_message_visibility_batch, "AWS.SimpleQueueService.EmptyBatchRequest",
                 QueueUrl=url, Entries=[])


@pytest.mark.parametrize("bad_id", ["has space", "dot.id", "x" * 81])
def test_batch_invalid_entry_id(sqs, queue, bad_id):
    url = queue()
    e = expect_error(sqs.send_message_batch, "AWS.SimpleQueueService.InvalidBatchEntryId",
                     query_error_code="InvalidBatchEntryId", status=400, QueueUrl=url,
                     Entries=[{"Id": bad_id, "MessageBody": "x"}])
    assert isinstance(e, sqs.exceptions.InvalidBatchEntryId)


def test_delete_message_batch_partial_failure(sqs, queue):
    url = queue()
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"d{i}")
    msgs = drain(sqs, url, 2, delete=False)
    assert len(msgs) == 2
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok0", "ReceiptHandle": msgs[0]["ReceiptHandle"]},
        {"Id": "bad", "ReceiptHandle": "garbage-handle"},
        {"Id": "ok1", "ReceiptHandle": msgs[1]["ReceiptHandle"]},
    ])
    assert sorted(e["Id"] for e in r["Successful"]) == ["ok0", "ok1"]
    assert len(r["Failed"]) == 1
    f = r["Failed"][0]
    assert f["Id"] == "bad"
    assert f["SenderFault"] is True
    assert f["Code"] == "ReceiptHandleIsInvalid"
    assert counts(sqs, url) == (0, 0, 0)


def test_change_message_visibility_batch(sqs, queue):
    url = queue(attributes={"VisibilityTimeout": "30"})
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"c{i}")
    msgs = drain(sqs, url, 2, delete=False)
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "m0", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "m1", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bad", "ReceiptHandle": "garbage-handle", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in r["Successful"]) == ["m0", "m1"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in r["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)]
    assert len(drain(sqs, url, 2, timeout=3)) == 2


def test_send_message_batch_partial_failure(sqs, queue):
    url = queue()
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "good", "MessageBody": "fine"},
        {"Id": "bad", "MessageBody": "nul \u0000 inside"},
    ])
    assert [e["Id"] for e in r["Successful"]] == ["good"]
    assert [(f["Id"], f["SenderFault"]) for f in r["Failed"]] == [("bad", True)]
    assert r["Failed"][0]["Code"] == "InvalidMessageContents"
    assert [m["Body"] for m in drain(sqs, url, 1)] == ["fine"]


# --------------------------------------------------------------------------- dead-letter queues


def make_redrive(sqs, queue, max_receive_count=1, dlq_attributes=None):
    dlq = queue(attributes=dlq_attributes)
    dlq_arn = arn_of(sqs, dlq)
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})})
    return src, dlq, dlq_arn


def redrive_all(sqs, src, dlq, n, max_receive_count):
    """Receive every message max_receive_count times (visible again at once), then
    once more so that SQS moves them to the DLQ."""
    for _ in range(max_receive_count):
        got = drain(sqs, src, n, delete=False, VisibilityTimeout=0)
        assert len(got) >= n
    assert receive(sqs, src) == []
    return wait_for(lambda: counts(sqs, dlq)[0] == n, timeout=5)


def test_redrive_policy_attribute(sqs, queue):
    src, dlq, dlq_arn = make_redrive(sqs, queue, max_receive_count=3)
    policy = json.loads(attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == dlq_arn
    assert int(policy["maxReceiveCount"]) == 3


def test_dead_letter_after_max_receive_count(sqs, queue):
    src, dlq, dlq_arn = make_redrive(sqs, queue, max_receive_count=2)
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    for expected_count in ("1", "2"):
        m = receive(sqs, src, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])
        assert len(m) == 1
        assert m[0]["Attributes"]["ApproximateReceiveCount"] == expected_count
    # Third receive: the message exceeded maxReceiveCount and moves to the DLQ.
    assert receive(sqs, src) == []
    dead = drain(sqs, dlq, 1, MessageSystemAttributeNames=["All"])
    assert len(dead) == 1
    assert dead[0]["Body"] == "poison"
    assert dead[0]["MessageId"] == sent["MessageId"]
    assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, src)
    assert counts(sqs, src) == (0, 0, 0)


def test_redrive_policy_target_must_exist(sqs, queue):
    url = queue()
    missing = arn_of(sqs, url).rsplit(":", 1)[0] + ":does-not-exist-" + str(int(time.time() * 1e6))
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": missing, "maxReceiveCount": "1"})})
    assert info.value.response["Error"]["Code"] in (
        "AWS.SimpleQueueService.NonExistentQueue", "InvalidParameterValue", "InvalidAttributeValue")


def test_list_dead_letter_source_queues(sqs, queue):
    dlq = queue()
    dlq_arn = arn_of(sqs, dlq)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    sources = {queue(attributes={"RedrivePolicy": policy}) for _ in range(3)}
    queue()  # unrelated
    r = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert set(r["queueUrls"]) == sources
    # Pagination.
    seen, token = [], None
    while True:
        kwargs = {"QueueUrl": dlq, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_dead_letter_source_queues(**kwargs)
        assert len(page["queueUrls"]) <= 2
        seen += page["queueUrls"]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(sources)
    # A queue nobody redrives to.
    lonely = queue()
    assert sqs.list_dead_letter_source_queues(QueueUrl=lonely)["queueUrls"] == []


def test_message_move_task_back_to_source(sqs, queue):
    src, dlq, dlq_arn = make_redrive(sqs, queue, max_receive_count=1)
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=f"moved-{i}")
    assert redrive_all(sqs, src, dlq, 3, 1)

    started = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert started["TaskHandle"]
    assert wait_for(lambda: counts(sqs, src)[0] == 3, timeout=10)
    assert counts(sqs, dlq)[0] == 0

    def done():
        results = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        return results if results and results[0]["Status"] == "COMPLETED" else None

    results = wait_for(done, timeout=10)
    assert results, sqs.list_message_move_tasks(SourceArn=dlq_arn)
    task = results[0]
    assert task["SourceArn"] == dlq_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 3
    assert task["StartedTimestamp"] > 0
    assert "TaskHandle" not in task  # only running tasks carry a handle
    bodies = sorted(m["Body"] for m in drain(sqs, src, 3))
    assert bodies == ["moved-0", "moved-1", "moved-2"]


def test_message_move_task_to_explicit_destination_and_cancel(sqs, queue):
    src, dlq, dlq_arn = make_redrive(sqs, queue, max_receive_count=1)
    dest = queue()
    dest_arn = arn_of(sqs, dest)
    for i in range(8):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"d{i}")
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn,
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING"
    assert running["TaskHandle"] == handle
    assert running["DestinationArn"] == dest_arn
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    # A second task on the same source while one runs is rejected.
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn)

    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    assert 0 <= cancelled["ApproximateNumberOfMessagesMoved"] < 8
    status = wait_for(lambda: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"]
                      == "CANCELLED", timeout=5)
    assert status
    moved = counts(sqs, dest)[0]
    assert moved < 8
    assert moved + counts(sqs, dlq)[0] == 8


def test_message_move_task_errors(sqs, queue):
    plain = queue()
    # Source must be a dead-letter queue.
    with pytest.raises(ClientError) as info:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, plain))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 400
    with pytest.raises(ClientError) as info:
        sqs.cancel_message_move_task(TaskHandle="not-a-task-handle")
    # AWS: an unknown task is ResourceNotFoundException; a handle that does not even
    # decode may be reported as an invalid parameter instead.
    assert info.value.response["Error"]["Code"] in ("ResourceNotFoundException", "InvalidParameterValue")


# --------------------------------------------------------------------------- purge & missing queues


def test_purge_queue(sqs, queue):
    url = queue()
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"p{i}")
    receive(sqs, url, MaxNumberOfMessages=1)  # one in flight too
    sqs.purge_queue(QueueUrl=url)
    assert wait_for(lambda: counts(sqs, url) == (0, 0, 0), timeout=5)
    assert receive(sqs, url) == []
    e = expect_error(sqs.purge_queue, "AWS.SimpleQueueService.PurgeQueueInProgress",
                     query_error_code="PurgeQueueInProgress", QueueUrl=url)
    assert isinstance(e, sqs.exceptions.PurgeQueueInProgress)
    # New messages after the purge are kept.
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert wait_for(lambda: [m["Body"] for m in receive(sqs, url)] == ["after"], timeout=3)


@pytest.mark.parametrize("op", [
    "send_message", "receive_message", "get_queue_attributes", "set_queue_attributes",
    "delete_queue", "purge_queue", "delete_message", "change_message_visibility",
    "list_queue_tags", "send_message_batch",
])
def test_nonexistent_queue(sqs, endpoint, op):
    url = f"{endpoint}/{account_of_default(sqs)}/no-such-queue-{int(time.time() * 1e6)}"
    args = {
        "send_message": {"MessageBody": "x"},
        "receive_message": {},
        "get_queue_attributes": {"AttributeNames": ["All"]},
        "set_queue_attributes": {"Attributes": {"VisibilityTimeout": "1"}},
        "delete_queue": {},
        "purge_queue": {},
        "delete_message": {"ReceiptHandle": "x"},
        "change_message_visibility": {"ReceiptHandle": "x", "VisibilityTimeout": 1},
        "list_queue_tags": {},
        "send_message_batch": {"Entries": [{"Id": "a", "MessageBody": "x"}]},
    }[op]
    e = expect_error(getattr(sqs, op), "AWS.SimpleQueueService.NonExistentQueue",
                     query_error_code="QueueDoesNotExist", status=400, QueueUrl=url, **args)
    assert isinstance(e, sqs.exceptions.QueueDoesNotExist)
    assert e.response["Error"]["Type"] == "Sender"


_DEFAULT_ACCOUNT = {}


def account_of_default(sqs):
    if "id" not in _DEFAULT_ACCOUNT:
        name = f"acct-probe-{int(time.time() * 1e6)}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        _DEFAULT_ACCOUNT["id"] = account_of(url)
        sqs.delete_queue(QueueUrl=url)
    return _DEFAULT_ACCOUNT["id"]


def test_binary_attribute_base64_on_the_wire(sqs, queue):
    # boto3 base64-encodes Binary values in JSON; bytes with every value survive.
    url = queue()
    blob = bytes(range(256))
    sqs.send_message(QueueUrl=url, MessageBody="bin", MessageAttributes={
        "blob": {"DataType": "Binary", "BinaryValue": blob}})
    m = receive(sqs, url, MessageAttributeNames=["All"])[0]
    assert m["MessageAttributes"]["blob"]["BinaryValue"] == blob
