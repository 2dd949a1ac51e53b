"""The AWS CLI (v1, from pip) against the server: create-queue, send-message,
receive-message, delete-message, with --output json."""

import uuid

import pytest

from nimbus_helpers import md5_hex, name_of


@pytest.fixture(scope="module")
def aws(aws_cli):
    """aws(*args, expect_ok=True): the AWS CLI against the server (conftest's aws_cli)."""
    return aws_cli


def test_cli_queue_and_message_round_trip(aws, sqs):
    name = f"cli-{uuid.uuid4().hex[:12]}"
    url = aws("sqs", "create-queue", "--queue-name", name,
              "--attributes", "VisibilityTimeout=20")["QueueUrl"]
    try:
        assert name_of(url) == name
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
            "Attributes"]["VisibilityTimeout"] == "20"

        sent = aws("sqs", "send-message", "--queue-url", url, "--message-body", "hello from the cli",
                   "--message-attributes", '{"color":{"DataType":"String","StringValue":"blue"}}')
        assert sent["MessageId"]
        assert sent["MD5OfMessageBody"] == md5_hex("hello from the cli")
        assert sent["MD5OfMessageAttributes"]

        got = aws("sqs", "receive-message", "--queue-url", url, "--message-attribute-names", "All",
                  "--attribute-names", "All", "--max-number-of-messages", "10")
        msgs = got["Messages"]
        assert len(msgs) == 1
        m = msgs[0]
        assert m["Body"] == "hello from the cli"
        assert m["MessageId"] == sent["MessageId"]
        assert m["MessageAttributes"]["color"] == {"DataType": "String", "StringValue": "blue"}
        assert m["Attributes"]["ApproximateReceiveCount"] == "1"

        out = aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        assert out is None  # delete-message prints nothing on success
        after = aws("sqs", "receive-message", "--queue-url", url)
        assert not after or not after.get("Messages")
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["ApproximateNumberOfMessages"] == "0"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"

        listed = aws("sqs", "list-queues", "--queue-name-prefix", name)
        assert listed["QueueUrls"] == [url]
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_cli_error_exit_code(aws):
    p = aws("sqs", "get-queue-url", "--queue-name", f"missing-{uuid.uuid4().hex[:8]}", expect_ok=False)
    assert p.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in p.stderr or "QueueDoesNotExist" in p.stderr, p.stderr
