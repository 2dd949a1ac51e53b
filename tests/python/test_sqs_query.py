"""SQS through the AWS query protocol (form-encoded requests, XML responses), every
one of the 23 operations, plus STS GetCallerIdentity and account / region isolation.

Response shapes follow the SQS query API reference: ``<Action>Response`` holding
``<Action>Result`` (when the action returns data) and ``ResponseMetadata/RequestId``;
lists are flattened (repeated ``QueueUrl``, ``Attribute``, ``Message`` ... elements);
errors are ``ErrorResponse/Error/{Type,Code,Message}`` plus ``ErrorResponse/RequestId``.
"""

import base64
import hashlib
import json
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from nimbus_helpers import account_of, md5_hex, md5_of_message_attributes, name_of, wait_for

SQS_NS = "http://queue.amazonaws.com/doc/2012-11-05/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


# --------------------------------------------------------------------------- helpers


def request_id_header(resp):
    # requests' headers are case-insensitive.
    return resp.headers.get("x-amzn-RequestId")


def ok(resp, action):
    """Assert a successful query response for `action`; return the root element."""
    status, root = resp
    assert status == 200, resp.text
    assert root is not None, resp.text
    assert root.tag == f"{action}Response", resp.text
    rid = root.findtext("ResponseMetadata/RequestId")
    assert rid, resp.text
    assert request_id_header(resp), dict(resp.headers)
    assert request_id_header(resp) == rid
    assert resp.headers.get("Content-Type", "").startswith(("text/xml", "application/xml"))
    return root


def result(resp, action):
    root = ok(resp, action)
    res = root.find(f"{action}Result")
    assert res is not None, resp.text
    return res


def err(resp, code, status=400, type_="Sender"):
    """Assert a query-protocol error response; return the Error element."""
    st, root = resp
    if status is not None:
        assert st == status, resp.text
    else:
        assert 400 <= st < 500, resp.text
    assert root is not None and root.tag == "ErrorResponse", resp.text
    error = root.find("Error")
    assert error is not None, resp.text
    assert error.findtext("Type") == type_, resp.text
    assert error.findtext("Code") == code, resp.text
    assert error.findtext("Message"), resp.text
    rid = root.findtext("RequestId")
    assert rid, resp.text
    assert request_id_header(resp) == rid, dict(resp.headers)
    return error


def pairs(elem, tag="Attribute", key="Name", value="Value"):
    out = {}
    for a in elem.findall(tag):
        out[a.findtext(key)] = a.findtext(value)
    return out


def uniq(prefix="q"):
    return f"{prefix}-{time.time_ns() % 10**14}"


@pytest.fixture
def cleanup(sqs):
    urls = []
    yield urls.append
    for u in urls:
        try:
            sqs.delete_queue(QueueUrl=u)
        except Exception:
            pass


@pytest.fixture
def qqueue(query, cleanup):
    """Create a queue through the query protocol; returns its URL."""

    def make(name=None, attributes=None):
        name = name or uniq()
        params = {"QueueName": name}
        for i, (k, v) in enumerate((attributes or {}).items(), 1):
            params[f"Attribute.{i}.Name"] = k
            params[f"Attribute.{i}.Value"] = v
        url = result(query("CreateQueue", params), "CreateQueue").findtext("QueueUrl")
        assert url and url.endswith("/" + name)
        cleanup(url)
        return url

    return make


def send(query, url, body, **params):
    p = {"QueueUrl": url, "MessageBody": body}
    p.update(params)
    return result(query("SendMessage", p), "SendMessage")


def receive(query, url, **params):
    p = {"QueueUrl": url, "MaxNumberOfMessages": 10}
    p.update(params)
    return result(query("ReceiveMessage", p), "ReceiveMessage").findall("Message")


def queue_arn(query, url):
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "QueueArn"}),
                 "GetQueueAttributes")
    return pairs(res)["QueueArn"]


# --------------------------------------------------------------------------- queue operations


def test_create_queue(query, sqs, cleanup):
    name = uniq("create")
    r = query("CreateQueue", {
        "QueueName": name,
        "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "5",
        "Attribute.2.Name": "DelaySeconds", "Attribute.2.Value": "2",
        "Tag.1.Key": "team", "Tag.1.Value": "core",
    })
    url = result(r, "CreateQueue").findtext("QueueUrl")
    cleanup(url)
    assert url.endswith("/" + name)
    account_of(url)
    # Shared state with the JSON protocol.
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds"])
    assert got["Attributes"] == {"VisibilityTimeout": "5", "DelaySeconds": "2"}
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    # Idempotent with identical attributes, conflict with different ones.
    again = query("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                  "Attribute.1.Value": "5", "Attribute.2.Name": "DelaySeconds",
                                  "Attribute.2.Value": "2"})
    assert result(again, "CreateQueue").findtext("QueueUrl") == url
    conflict = query("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                     "Attribute.1.Value": "6"})
    err(conflict, "QueueAlreadyExists")


def test_create_queue_errors(query):
    err(query("CreateQueue", {}), "MissingParameter")
    err(query("CreateQueue", {"QueueName": "bad name!"}), "InvalidParameterValue")
    err(query("CreateQueue", {"QueueName": uniq(), "Attribute.1.Name": "VisibilityTimeout",
                              "Attribute.1.Value": "99999"}), "InvalidAttributeValue")
    err(query("CreateQueue", {"QueueName": uniq(), "Attribute.1.Name": "Bogus",
                              "Attribute.1.Value": "1"}), "InvalidAttributeName")


def test_get_queue_url(query, qqueue):
    url = qqueue()
    res = result(query("GetQueueUrl", {"QueueName": name_of(url)}), "GetQueueUrl")
    assert res.findtext("QueueUrl") == url


def test_list_queues(query, qqueue):
    prefix = uniq("lst")
    urls = {qqueue(name=f"{prefix}-{i}") for i in range(3)}
    res = result(query("ListQueues", {"QueueNamePrefix": prefix}), "ListQueues")
    assert {e.text for e in res.findall("QueueUrl")} == urls
    assert res.find("NextToken") is None

    page = result(query("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": 2}), "ListQueues")
    first = [e.text for e in page.findall("QueueUrl")]
    token = page.findtext("NextToken")
    assert len(first) == 2 and token
    page2 = result(query("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": 2, "NextToken": token}),
                   "ListQueues")
    rest = [e.text for e in page2.findall("QueueUrl")]
    assert set(first + rest) == urls and len(first + rest) == 3


def test_list_queues_empty(query):
    res = result(query("ListQueues", {"QueueNamePrefix": uniq("none")}), "ListQueues")
    assert res.findall("QueueUrl") == []


def test_get_queue_attributes(query, qqueue):
    url = qqueue(attributes={"VisibilityTimeout": "9"})
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}), "GetQueueAttributes")
    a = pairs(res)
    assert a["VisibilityTimeout"] == "9"
    assert a["QueueArn"].endswith(":" + name_of(url))
    assert a["ApproximateNumberOfMessages"] == "0"
    assert a["CreatedTimestamp"].isdigit()
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout",
                                              "AttributeName.2": "DelaySeconds"}), "GetQueueAttributes")
    assert pairs(res) == {"VisibilityTimeout": "9", "DelaySeconds": "0"}
    err(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Bogus"}), "InvalidAttributeName")


def test_set_queue_attributes(query, qqueue):
    url = qqueue()
    ok(query("SetQueueAttributes", {"QueueUrl": url,
                                    "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "17",
                                    "Attribute.2.Name": "MaximumMessageSize", "Attribute.2.Value": "4096"}),
       "SetQueueAttributes")
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}), "GetQueueAttributes")
    a = pairs(res)
    assert (a["VisibilityTimeout"], a["MaximumMessageSize"]) == ("17", "4096")
    err(query("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "VisibilityTimeout",
                                     "Attribute.1.Value": "-5"}), "InvalidAttributeValue")


def test_delete_queue(query, qqueue):
    url = qqueue()
    ok(query("DeleteQueue", {"QueueUrl": url}), "DeleteQueue")

    def gone():
        st, root = query("GetQueueUrl", {"QueueName": name_of(url)})
        return st == 400
    assert wait_for(gone, timeout=5)
    err(query("GetQueueUrl", {"QueueName": name_of(url)}), "AWS.SimpleQueueService.NonExistentQueue")


def test_purge_queue(query, qqueue):
    url = qqueue()
    send(query, url, "a")
    send(query, url, "b")
    ok(query("PurgeQueue", {"QueueUrl": url}), "PurgeQueue")
    assert wait_for(lambda: receive(query, url) == [], timeout=5)
    # A second purge within 60 s. PurgeQueueInProgress is modeled with HTTP 403.
    err(query("PurgeQueue", {"QueueUrl": url}), "AWS.SimpleQueueService.PurgeQueueInProgress", status=403)


def test_tag_list_untag_queue(query, qqueue):
    url = qqueue()
    ok(query("TagQueue", {"QueueUrl": url, "Tag.1.Key": "a", "Tag.1.Value": "1",
                          "Tag.2.Key": "b", "Tag.2.Value": "2"}), "TagQueue")
    res = result(query("ListQueueTags", {"QueueUrl": url}), "ListQueueTags")
    assert pairs(res, "Tag", "Key", "Value") == {"a": "1", "b": "2"}
    ok(query("UntagQueue", {"QueueUrl": url, "TagKey.1": "a"}), "UntagQueue")
    res = result(query("ListQueueTags", {"QueueUrl": url}), "ListQueueTags")
    assert pairs(res, "Tag", "Key", "Value") == {"b": "2"}


def test_add_remove_permission(query, qqueue):
    url = qqueue()
    ok(query("AddPermission", {"QueueUrl": url, "Label": "perm1", "AWSAccountId.1": "111122223333",
                               "AWSAccountId.2": "444455556666", "ActionName.1": "SendMessage"}),
       "AddPermission")
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Policy"}), "GetQueueAttributes")
    policy = json.loads(pairs(res)["Policy"])
    st = [s for s in policy["Statement"] if s["Sid"] == "perm1"][0]
    principals = st["Principal"]["AWS"]
    principals = principals if isinstance(principals, list) else [principals]
    assert sorted(principals) == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    ok(query("RemovePermission", {"QueueUrl": url, "Label": "perm1"}), "RemovePermission")
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Policy"}), "GetQueueAttributes")
    remaining = pairs(res).get("Policy")
    assert not remaining or not [s for s in json.loads(remaining).get("Statement", []) if s.get("Sid") == "perm1"]


# --------------------------------------------------------------------------- message operations


def test_send_message(query, qqueue):
    url = qqueue()
    body = "query <body> & \"quotes\" — ünïcode"
    res = send(query, url, body, **{
        "MessageAttribute.1.Name": "s", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "v",
        "MessageAttribute.2.Name": "b", "MessageAttribute.2.Value.DataType": "Binary",
        "MessageAttribute.2.Value.BinaryValue": base64.b64encode(b"\x00\x01\x02").decode(),
    })
    assert res.findtext("MessageId")
    assert res.findtext("MD5OfMessageBody") == md5_hex(body)
    assert res.findtext("MD5OfMessageAttributes") == md5_of_message_attributes({
        "s": {"DataType": "String", "StringValue": "v"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02"},
    })


def test_send_message_xml_namespace(query, qqueue):
    url = qqueue()
    r = query("SendMessage", {"QueueUrl": url, "MessageBody": "ns"})
    raw = ET.fromstring(r.response.content)
    assert raw.tag == "{%s}SendMessageResponse" % SQS_NS
    assert raw.find("{%s}SendMessageResult/{%s}MessageId" % (SQS_NS, SQS_NS)) is not None


def test_receive_message(query, qqueue):
    url = qqueue()
    attrs = {
        "str": {"DataType": "String", "StringValue": "hello"},
        "num": {"DataType": "Number", "StringValue": "42"},
        "bin": {"DataType": "Binary", "BinaryValue": b"\xde\xad\xbe\xef"},
        "cus": {"DataType": "String.custom", "StringValue": "c"},
    }
    params = {}
    for i, (name, a) in enumerate(attrs.items(), 1):
        params[f"MessageAttribute.{i}.Name"] = name
        params[f"MessageAttribute.{i}.Value.DataType"] = a["DataType"]
        if "BinaryValue" in a:
            params[f"MessageAttribute.{i}.Value.BinaryValue"] = base64.b64encode(a["BinaryValue"]).decode()
        else:
            params[f"MessageAttribute.{i}.Value.StringValue"] = a["StringValue"]
    body = "line1\r\nline2 <tag/> & 'x'"
    sent = send(query, url, body, **params)

    msgs = receive(query, url, **{"AttributeName.1": "All", "MessageAttributeName.1": "All"})
    assert len(msgs) == 1
    m = msgs[0]
    assert m.findtext("MessageId") == sent.findtext("MessageId")
    assert m.findtext("ReceiptHandle")
    assert m.findtext("MD5OfBody") == md5_hex(body)
    # \r must survive XML (AWS escapes it as &#xD;).
    assert m.findtext("Body") == body
    sys_attrs = pairs(m)
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount",
            "ApproximateFirstReceiveTimestamp"} <= set(sys_attrs)
    assert sys_attrs["ApproximateReceiveCount"] == "1"

    got = {}
    for ma in m.findall("MessageAttribute"):
        value = ma.find("Value")
        entry = {"DataType": value.findtext("DataType")}
        if value.find("BinaryValue") is not None:
            entry["BinaryValue"] = base64.b64decode(value.findtext("BinaryValue"))
        else:
            entry["StringValue"] = value.findtext("StringValue")
        got[ma.findtext("Name")] = entry
    assert got == attrs
    assert m.findtext("MD5OfMessageAttributes") == md5_of_message_attributes(attrs)


def test_receive_message_empty(query, qqueue):
    url = qqueue()
    res = result(query("ReceiveMessage", {"QueueUrl": url}), "ReceiveMessage")
    assert res.findall("Message") == []


def test_delete_message(query, qqueue):
    url = qqueue()
    send(query, url, "to delete")
    m = receive(query, url)[0]
    ok(query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": m.findtext("ReceiptHandle")}), "DeleteMessage")
    res = result(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}), "GetQueueAttributes")
    a = pairs(res)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    err(query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"}), "ReceiptHandleIsInvalid",
        status=None)


def test_change_message_visibility(query, qqueue):
    url = qqueue(attributes={"VisibilityTimeout": "30"})
    send(query, url, "cmv")
    m = receive(query, url)[0]
    assert receive(query, url) == []
    ok(query("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": m.findtext("ReceiptHandle"),
                                         "VisibilityTimeout": 0}), "ChangeMessageVisibility")
    again = receive(query, url, **{"AttributeName.1": "ApproximateReceiveCount"})
    assert len(again) == 1
    assert pairs(again[0]) == {"ApproximateReceiveCount": "2"}


def test_send_message_batch(query, qqueue):
    url = qqueue()
    res = result(query("SendMessageBatch", {
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "one", "SendMessageBatchRequestEntry.1.MessageBody": "b1",
        "SendMessageBatchRequestEntry.2.Id": "two", "SendMessageBatchRequestEntry.2.MessageBody": "b\u0000 bad",
        "SendMessageBatchRequestEntry.3.Id": "three", "SendMessageBatchRequestEntry.3.MessageBody": "b3",
        "SendMessageBatchRequestEntry.3.DelaySeconds": "0",
    }), "SendMessageBatch")
    entries = {e.findtext("Id"): e for e in res.findall("SendMessageBatchResultEntry")}
    assert set(entries) == {"one", "three"}
    assert entries["one"].findtext("MD5OfMessageBody") == md5_hex("b1")
    assert entries["one"].findtext("MessageId")
    failed = res.findall("BatchResultErrorEntry")
    assert len(failed) == 1
    assert failed[0].findtext("Id") == "two"
    assert failed[0].findtext("SenderFault") == "true"
    assert failed[0].findtext("Code") == "InvalidMessageContents"

    err(query("SendMessageBatch", {"QueueUrl": url}), "AWS.SimpleQueueService.EmptyBatchRequest")
    many = {"QueueUrl": url}
    for i in range(1, 12):
        many[f"SendMessageBatchRequestEntry.{i}.Id"] = f"i{i}"
        many[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = "x"
    err(query("SendMessageBatch", many), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    err(query("SendMessageBatch", {
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "dup", "SendMessageBatchRequestEntry.1.MessageBody": "1",
        "SendMessageBatchRequestEntry.2.Id": "dup", "SendMessageBatchRequestEntry.2.MessageBody": "2",
    }), "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    err(query("SendMessageBatch", {
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "bad id", "SendMessageBatchRequestEntry.1.MessageBody": "1",
    }), "AWS.SimpleQueueService.InvalidBatchEntryId")


def _receive_two(query, url):
    send(query, url, "m1")
    send(query, url, "m2")
    msgs = []
    deadline = time.monotonic() + 5
    while len(msgs) < 2 and time.monotonic() < deadline:
        msgs += receive(query, url)
    assert len(msgs) == 2
    return [m.findtext("ReceiptHandle") for m in msgs]


def test_delete_message_batch(query, qqueue):
    url = qqueue()
    h1, h2 = _receive_two(query, url)
    res = result(query("DeleteMessageBatch", {
        "QueueUrl": url,
        "DeleteMessageBatchRequestEntry.1.Id": "a", "DeleteMessageBatchRequestEntry.1.ReceiptHandle": h1,
        "DeleteMessageBatchRequestEntry.2.Id": "b", "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "garbage",
        "DeleteMessageBatchRequestEntry.3.Id": "c", "DeleteMessageBatchRequestEntry.3.ReceiptHandle": h2,
    }), "DeleteMessageBatch")
    assert sorted(e.findtext("Id") for e in res.findall("DeleteMessageBatchResultEntry")) == ["a", "c"]
    failed = res.findall("BatchResultErrorEntry")
    assert [(f.findtext("Id"), f.findtext("Code"), f.findtext("SenderFault")) for f in failed] == [
        ("b", "ReceiptHandleIsInvalid", "true")]


def test_change_message_visibility_batch(query, qqueue):
    url = qqueue(attributes={"VisibilityTimeout": "30"})
    h1, h2 = _receive_two(query, url)
    res = result(query("ChangeMessageVisibilityBatch", {
        "QueueUrl": url,
        "ChangeMessageVisibilityBatchRequestEntry.1.Id": "a",
        "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": h1,
        "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "0",
        "ChangeMessageVisibilityBatchRequestEntry.2.Id": "b",
        "ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle": h2,
        "ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout": "0",
    }), "ChangeMessageVisibilityBatch")
    assert sorted(e.findtext("Id") for e in res.findall("ChangeMessageVisibilityBatchResultEntry")) == ["a", "b"]
    assert res.findall("BatchResultErrorEntry") == []
    msgs = []
    deadline = time.monotonic() + 5
    while len(msgs) < 2 and time.monotonic() < deadline:
        msgs += receive(query, url)
    assert len(msgs) == 2


# --------------------------------------------------------------------------- DLQ & message move tasks


def _redrive_setup(query, qqueue, max_receive_count=1):
    dlq = qqueue()
    dlq_arn = queue_arn(query, dlq)
    src = qqueue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})})
    return src, dlq, dlq_arn


def test_list_dead_letter_source_queues(query, qqueue):
    src, dlq, dlq_arn = _redrive_setup(query, qqueue)
    res = result(query("ListDeadLetterSourceQueues", {"QueueUrl": dlq}), "ListDeadLetterSourceQueues")
    assert [e.text for e in res.findall("QueueUrl")] == [src]
    res = result(query("ListDeadLetterSourceQueues", {"QueueUrl": src}), "ListDeadLetterSourceQueues")
    assert res.findall("QueueUrl") == []


def test_message_move_tasks(query, qqueue):
    src, dlq, dlq_arn = _redrive_setup(query, qqueue)
    dest = qqueue()
    dest_arn = queue_arn(query, dest)
    for i in range(6):
        send(query, dlq, f"dead-{i}")

    res = result(query("StartMessageMoveTask", {"SourceArn": dlq_arn, "DestinationArn": dest_arn,
                                                "MaxNumberOfMessagesPerSecond": "1"}), "StartMessageMoveTask")
    handle = res.findtext("TaskHandle")
    assert handle

    res = result(query("ListMessageMoveTasks", {"SourceArn": dlq_arn}), "ListMessageMoveTasks")
    entries = res.findall("ListMessageMoveTasksResultEntry")
    assert len(entries) == 1
    e = entries[0]
    assert e.findtext("Status") == "RUNNING"
    assert e.findtext("TaskHandle") == handle
    assert e.findtext("SourceArn") == dlq_arn
    assert e.findtext("DestinationArn") == dest_arn
    assert e.findtext("MaxNumberOfMessagesPerSecond") == "1"
    assert int(e.findtext("StartedTimestamp")) > 0

    res = result(query("CancelMessageMoveTask", {"TaskHandle": handle}), "CancelMessageMoveTask")
    moved = int(res.findtext("ApproximateNumberOfMessagesMoved"))
    assert 0 <= moved < 6

    def cancelled():
        r = result(query("ListMessageMoveTasks", {"SourceArn": dlq_arn}), "ListMessageMoveTasks")
        return r.findtext("ListMessageMoveTasksResultEntry/Status") == "CANCELLED"
    assert wait_for(cancelled, timeout=5)

    st, root = query("CancelMessageMoveTask", {"TaskHandle": "nonsense"})
    assert 400 <= st < 500 and root is not None and root.tag == "ErrorResponse"
    assert root.findtext("Error/Code") in ("ResourceNotFoundException", "InvalidParameterValue")


# --------------------------------------------------------------------------- errors & transport


def test_nonexistent_queue_error(query, endpoint, qqueue):
    account = account_of(qqueue())
    e = err(query("GetQueueUrl", {"QueueName": uniq("missing")}), "AWS.SimpleQueueService.NonExistentQueue")
    assert "does not exist" in e.findtext("Message")
    missing_url = f"{endpoint}/{account}/{uniq('missing')}"
    err(query("SendMessage", {"QueueUrl": missing_url, "MessageBody": "x"}),
        "AWS.SimpleQueueService.NonExistentQueue")
    err(query("ReceiveMessage", {"QueueUrl": missing_url}), "AWS.SimpleQueueService.NonExistentQueue")


def test_missing_parameter(query, qqueue):
    url = qqueue()
    e = err(query("SendMessage", {"QueueUrl": url}), "MissingParameter")
    assert "MessageBody" in e.findtext("Message")
    err(query("GetQueueUrl", {}), "MissingParameter")


def test_invalid_action(query):
    err(query("NoSuchAction", {}), "InvalidAction")


def test_invalid_parameter_values(query, qqueue):
    url = qqueue()
    err(query("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "11"}), "InvalidParameterValue")
    err(query("SendMessage", {"QueueUrl": url, "MessageBody": "x", "DelaySeconds": "901"}), "InvalidParameterValue")
    err(query("SendMessage", {"QueueUrl": url, "MessageBody": "\u0000"}), "InvalidMessageContents")


def test_get_requests_work(query, qqueue):
    url = qqueue()
    r = query("SendMessage", {"QueueUrl": url, "MessageBody": "via GET"}, method="GET")
    assert result(r, "SendMessage").findtext("MD5OfMessageBody") == md5_hex("via GET")
    r = query("ReceiveMessage", {"QueueUrl": url}, method="GET")
    msgs = result(r, "ReceiveMessage").findall("Message")
    assert [m.findtext("Body") for m in msgs] == ["via GET"]
    r = query("ListQueues", {"QueueNamePrefix": name_of(url)}, method="GET")
    assert [e.text for e in result(r, "ListQueues").findall("QueueUrl")] == [url]
    err(query("GetQueueUrl", {"QueueName": uniq("nope")}, method="GET"), "AWS.SimpleQueueService.NonExistentQueue")


def test_request_to_queue_url_path(query, qqueue):
    # The queue URL itself is an endpoint: the queue is taken from the path.
    url = qqueue()
    r = query("SendMessage", {"MessageBody": "by path"}, url=url)
    assert result(r, "SendMessage").findtext("MessageId")
    r = query("ReceiveMessage", {}, url=url)
    assert [m.findtext("Body") for m in result(r, "ReceiveMessage").findall("Message")] == ["by path"]


def test_request_id_header_on_every_response(query, qqueue, endpoint, sqs):
    url = qqueue()
    responses = [
        query("ListQueues", {}),
        query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}),
        query("GetQueueUrl", {"QueueName": uniq("missing")}),
        query("NoSuchAction", {}),
    ]
    ids = [request_id_header(r) for r in responses]
    assert all(ids), [dict(r.headers) for r in responses]
    assert len(set(ids)) == len(ids)
    # JSON protocol too (boto3 reads the header into ResponseMetadata.RequestId).
    meta = sqs.list_queues()["ResponseMetadata"]
    assert meta["HTTPHeaders"].get("x-amzn-requestid")
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]
    try:
        sqs.get_queue_url(QueueName=uniq("missing"))
    except sqs.exceptions.QueueDoesNotExist as e:
        assert e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")
    else:
        pytest.fail("expected QueueDoesNotExist")


def test_unsigned_garbage_body_is_rejected(endpoint):
    # A request that is neither JSON-protocol nor form-encoded query is an error, not a crash.
    r = requests.post(endpoint + "/", data=b"\xff\xfe garbage", headers={"Content-Type": "application/octet-stream"},
                      timeout=10)
    assert 400 <= r.status_code < 500
    assert r.headers.get("x-amzn-RequestId")


# --------------------------------------------------------------------------- STS


def sts_identity(query, key):
    r = query("GetCallerIdentity", {}, account_key=key, service="sts", version="2011-06-15")
    res = result(r, "GetCallerIdentity")
    return {k: res.findtext(k) for k in ("Account", "Arn", "UserId")}, r


def test_sts_get_caller_identity_query(query):
    ident, r = sts_identity(query, "AKIAIOSFODNN7EXAMPLE")
    assert ident["Account"] == "000000000000"
    assert ident["Arn"].startswith("arn:aws:") and ":000000000000:" in ident["Arn"]
    assert ident["UserId"]
    raw = ET.fromstring(r.response.content)
    assert raw.tag == "{%s}GetCallerIdentityResponse" % STS_NS

    ident, _ = sts_identity(query, "123456789012")
    assert ident["Account"] == "123456789012"


def test_sts_get_caller_identity_boto3(make_client):
    ident = make_client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ":000000000000:" in ident["Arn"]
    ident = make_client("sts", access_key="111111111111").get_caller_identity()
    assert ident["Account"] == "111111111111"
    assert ":111111111111:" in ident["Arn"]


def test_queue_url_account_matches_caller_identity(make_client, queue):
    for key in ("AKIAIOSFODNN7EXAMPLE", "333333333333"):
        sqs = make_client("sqs", access_key=key)
        url = queue(client=sqs)
        assert account_of(url) == make_client("sts", access_key=key).get_caller_identity()["Account"]


# --------------------------------------------------------------------------- isolation


def test_account_isolation(query, make_client, queue):
    name = uniq("acct")
    r = query("CreateQueue", {"QueueName": name}, account_key="111111111111")
    url1 = result(r, "CreateQueue").findtext("QueueUrl")
    sqs1 = make_client("sqs", access_key="111111111111")
    sqs2 = make_client("sqs", access_key="222222222222")
    try:
        assert account_of(url1) == "111111111111"
        # Visible to its own account ...
        res = result(query("ListQueues", {"QueueNamePrefix": name}, account_key="111111111111"), "ListQueues")
        assert [e.text for e in res.findall("QueueUrl")] == [url1]
        # ... not to another.
        res = result(query("ListQueues", {"QueueNamePrefix": name}, account_key="222222222222"), "ListQueues")
        assert res.findall("QueueUrl") == []
        err(query("GetQueueUrl", {"QueueName": name}, account_key="222222222222"),
            "AWS.SimpleQueueService.NonExistentQueue")
        assert sqs2.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
        with pytest.raises(sqs2.exceptions.QueueDoesNotExist):
            sqs2.get_queue_url(QueueName=name)
        # The same name in the other account is a different queue.
        url2 = queue(name=name, client=sqs2)
        assert account_of(url2) == "222222222222" and url2 != url1
        sqs1.send_message(QueueUrl=url1, MessageBody="for account 1")
        assert sqs2.receive_message(QueueUrl=url2).get("Messages", []) == []
        assert [m["Body"] for m in sqs1.receive_message(QueueUrl=url1).get("Messages", [])] == ["for account 1"]
    finally:
        sqs1.delete_queue(QueueUrl=url1)


def test_region_isolation(make_client, queue, query):
    east = make_client("sqs", region="us-east-1")
    west = make_client("sqs", region="eu-west-1")
    name = uniq("region")
    url_w = queue(name=name, client=west)
    arn = west.get_queue_attributes(QueueUrl=url_w, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn.startswith("arn:aws:sqs:eu-west-1:")
    assert url_w in west.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert east.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    with pytest.raises(east.exceptions.QueueDoesNotExist):
        east.get_queue_url(QueueName=name)
    # Query protocol: the region comes from the SigV4 credential scope.
    res = result(query("ListQueues", {"QueueNamePrefix": name}, region="eu-west-1"), "ListQueues")
    assert [e.text for e in res.findall("QueueUrl")] == [url_w]
    res = result(query("ListQueues", {"QueueNamePrefix": name}, region="us-east-1"), "ListQueues")
    assert res.findall("QueueUrl") == []
    # Same name in us-east-1 is a separate queue.
    url_e = queue(name=name, client=east)
    arn_e = east.get_queue_attributes(QueueUrl=url_e, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn_e.startswith("arn:aws:sqs:us-east-1:")


def test_content_based_dedup_query(query, qqueue):
    url = qqueue(name=uniq("cbd") + ".fifo", attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    r1 = send(query, url, "dup", MessageGroupId="g")
    assert r1.findtext("SequenceNumber")
    send(query, url, "dup", MessageGroupId="g")
    msgs = receive(query, url, **{"AttributeName.1": "All"})
    assert len(msgs) == 1
    a = pairs(msgs[0])
    assert a["MessageDeduplicationId"] == hashlib.sha256(b"dup").hexdigest()
    assert a["MessageGroupId"] == "g"
    assert a["SequenceNumber"] == r1.findtext("SequenceNumber")
