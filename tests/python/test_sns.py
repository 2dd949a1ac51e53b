"""Amazon SNS with boto3, raw query-protocol requests and the AWS CLI: topics and their
attributes, email subscriptions confirmed with the token of their recorded
SubscriptionConfirmation, fan-out to SQS with filter policies, pagination, and AWS's
error documents.
https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html
https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html
"""

import json

import botocore.exceptions
import pytest
import requests

from conftest import REGION, unique_name

SNS_VERSION = "2010-03-31"


@pytest.fixture(scope="module")
def sns(make_client):
    return make_client("sns")


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_all(sqs, url, want, rounds=10):
    got = []
    for _ in range(rounds):
        if len(got) >= want:
            break
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"])
        for m in r.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(m)
    return got


def test_topic_attributes_and_idempotent_create(sns):
    name = unique_name("attrs")
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Shown", "SignatureVersion": "2"})["TopicArn"]
    assert arn.endswith(f":{name}") and arn.startswith(f"arn:aws:sns:{REGION}:")
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Shown"})["TopicArn"] == arn
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.create_topic(Name=name, Attributes={"DisplayName": "Other"})
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Shown"
    assert attrs["SignatureVersion"] == "2"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    assert "http" in json.loads(attrs["EffectiveDeliveryPolicy"])
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Bogus", AttributeValue="x")
    err = e.value.response["Error"]
    assert (err["Type"], err["Code"], err["Message"]) == ("Sender", "InvalidParameter", "Invalid parameter: AttributeName")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.create_topic(Name="bad name!")
    assert e.value.response["Error"]["Message"] == "Invalid parameter: Topic Name"


def test_list_topics_pages(sns):
    arns = {sns.create_topic(Name=unique_name("page"))["TopicArn"] for _ in range(105)}
    seen, token, pages = [], None, 0
    while True:
        r = sns.list_topics(**({"NextToken": token} if token else {}))
        pages += 1
        seen += [t["TopicArn"] for t in r["Topics"]]
        token = r.get("NextToken")
        if not token:
            break
    assert pages >= 2
    assert arns <= set(seen)
    assert len(seen) == len(set(seen))


def test_email_subscription_is_pending_until_confirmed_with_the_recorded_token(sns, endpoint):
    arn = sns.create_topic(Name=unique_name("mail"))["TopicArn"]
    address = f"{unique_name('u')}@example.com"
    r = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    assert r["SubscriptionArn"] == "pending confirmation"
    again = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert again.startswith(arn + ":"), "ReturnSubscriptionArn names even a pending subscription"
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "1"
    recorded = requests.get(f"{endpoint}/_aws/sns/messages", params={"endpoint": address}, timeout=10).json()
    confirmation = [m for m in recorded if m["Type"] == "SubscriptionConfirmation"]
    assert len(confirmation) == 1
    token = confirmation[0]["Message"]["Token"]
    assert "Action=ConfirmSubscription" in confirmation[0]["Message"]["SubscribeURL"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.confirm_subscription(TopicArn=arn, Token="not-the-token")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    sub_arn = sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=arn, Message="to the inbox", Subject="Hi")
    recorded = requests.get(f"{endpoint}/_aws/sns/messages", params={"endpoint": address}, timeout=10).json()
    notes = [m for m in recorded if m["Type"] == "Notification"]
    assert [m["Message"] for m in notes] == ["to the inbox"]
    sns.unsubscribe(SubscriptionArn=sub_arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.get_subscription_attributes(SubscriptionArn=sub_arn)
    assert e.value.response["Error"]["Code"] == "NotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_fan_out_with_a_filter_policy_and_string_array_attributes(sns, sqs, queue):
    arn = sns.create_topic(Name=unique_name("boto-fan"))["TopicArn"]
    all_url, picky_url = queue(), queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, all_url))
    policy = {"tags": ["urgent"], "price": [{"numeric": ["<", 5]}]}
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, picky_url),
                  Attributes={"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "true"})
    for msg, tags, price in [("yes", '["low", "urgent"]', "4.5"), ("no-tag", '["low"]', "1"), ("no-price", '["urgent"]', "9")]:
        sns.publish(TopicArn=arn, Message=msg, MessageAttributes={
            "tags": {"DataType": "String.Array", "StringValue": tags},
            "price": {"DataType": "Number", "StringValue": price},
        })
    everything = receive_all(sqs, all_url, 3)
    assert sorted(json.loads(m["Body"])["Message"] for m in everything) == ["no-price", "no-tag", "yes"]
    picked = receive_all(sqs, picky_url, 1)
    assert [m["Body"] for m in picked] == ["yes"]
    assert picked[0]["MessageAttributes"]["tags"]["DataType"] == "String.Array"
    assert receive_all(sqs, picky_url, 1, rounds=1) == []


def test_raw_query_requests(query):
    name = unique_name("query")
    r = query("CreateTopic", {"Name": name, "Attributes.entry.1.key": "DisplayName", "Attributes.entry.1.value": "Q",
                              "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"},
              service="sns", version=SNS_VERSION)
    assert r.status == 200, r.response.text
    arn = r.root.find("CreateTopicResult/TopicArn").text
    assert r.root.find("ResponseMetadata/RequestId").text
    r = query("GetTopicAttributes", {"TopicArn": arn}, service="sns", version=SNS_VERSION)
    entries = {e.find("key").text: e.find("value").text for e in r.root.findall("GetTopicAttributesResult/Attributes/entry")}
    assert entries["DisplayName"] == "Q"
    r = query("ListTagsForResource", {"ResourceArn": arn}, service="sns", version=SNS_VERSION)
    assert [m.find("Key").text for m in r.root.findall("ListTagsForResourceResult/Tags/member")] == ["k"]
    r = query("Publish", {"TopicArn": arn, "Message": "m", "MessageAttributes.entry.1.Name": "a",
                          "MessageAttributes.entry.1.Value.DataType": "Binary"}, service="sns", version=SNS_VERSION)
    assert r.status == 400
    assert r.root.find("Error/Code").text == "InvalidParameterValue"
    assert r.root.find("Error/Type").text == "Sender"
    r = query("Publish", {"TopicArn": arn + "x", "Message": "m"}, service="sns", version=SNS_VERSION)
    assert r.status == 404
    assert r.root.find("Error/Code").text == "NotFound"
    assert r.root.find("Error/Message").text == "Topic does not exist"
    r = query("CreatePlatformApplication", {"Name": "p", "Platform": "GCM"}, service="sns", version=SNS_VERSION)
    assert r.status == 400
    assert "not supported by nimbus" in r.root.find("Error/Message").text


def test_aws_cli_publish(aws_cli, sqs, queue):
    arn = aws_cli("sns", "create-topic", "--name", unique_name("cli"))["TopicArn"]
    url = queue()
    aws_cli("sns", "subscribe", "--topic-arn", arn, "--protocol", "sqs", "--notification-endpoint", queue_arn(sqs, url),
            "--attributes", "RawMessageDelivery=true")
    out = aws_cli("sns", "publish", "--topic-arn", arn, "--message", "from the cli")
    assert out["MessageId"]
    assert [m["Body"] for m in receive_all(sqs, url, 1)] == ["from the cli"]


# --------------------------------------------------------------------------- signatures
# https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html: the
# canonical string of the signed fields, the certificate from SigningCertURL, then
# SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2) — checked here by openssl.

NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def verify_sns_signature(doc, tmp_path):
    import base64
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not installed")
    fields = NOTIFICATION_FIELDS if doc["Type"] == "Notification" else CONFIRMATION_FIELDS
    text = "".join(f"{k}\n{doc[k]}\n" for k in fields if k in doc)
    cert = requests.get(doc["SigningCertURL"], timeout=10)
    assert cert.status_code == 200, cert.text
    (tmp_path / "cert.pem").write_text(cert.text)
    pub = subprocess.run([openssl, "x509", "-in", str(tmp_path / "cert.pem"), "-pubkey", "-noout"], capture_output=True, text=True, check=True).stdout
    (tmp_path / "pub.pem").write_text(pub)
    (tmp_path / "data").write_text(text)
    (tmp_path / "sig").write_bytes(base64.b64decode(doc["Signature"]))
    digest = "-sha256" if doc["SignatureVersion"] == "2" else "-sha1"
    p = subprocess.run([openssl, "dgst", digest, "-verify", str(tmp_path / "pub.pem"), "-signature", str(tmp_path / "sig"), str(tmp_path / "data")],
                       capture_output=True, text=True)
    return p.returncode == 0


@pytest.mark.parametrize("version", ["1", "2"])
def test_notifications_and_confirmations_verify_against_the_served_certificate(sns, sqs, queue, endpoint, tmp_path, version):
    arn = sns.create_topic(Name=unique_name("signed"), Attributes={"SignatureVersion": version})["TopicArn"]
    url = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url))
    sns.publish(TopicArn=arn, Message="signed message\nwith two lines", Subject="Sig")
    doc = json.loads(receive_all(sqs, url, 1)[0]["Body"])
    assert doc["SignatureVersion"] == version
    assert verify_sns_signature(doc, tmp_path)
    tampered = dict(doc, Message="something else")
    assert not verify_sns_signature(tampered, tmp_path)
    address = f"{unique_name('sig')}@example.com"
    sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint=address)
    recorded = requests.get(f"{endpoint}/_aws/sns/messages", params={"endpoint": address}, timeout=10).json()
    confirmation = recorded[0]["Message"]
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert verify_sns_signature(confirmation, tmp_path)


# --------------------------------------------------------------------------- HTTP subscribers
# https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html: the endpoint
# gets a SubscriptionConfirmation POST, confirms by visiting SubscribeURL, then gets
# Notification POSTs with the x-amz-sns-* headers; failures are retried per the delivery
# policy and end in the subscription's dead-letter queue.

import http.server
import queue as queue_mod
import threading


class Subscriber:
    """An HTTP endpoint served by the test: every POST lands in `received`; `status(kind)`
    decides the answer by x-amz-sns-message-type."""

    def __init__(self, status=lambda kind: 200):
        self.received = queue_mod.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                kind = self.headers.get("x-amz-sns-message-type")
                outer.received.put((kind, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status(kind))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout=10):
        return self.received.get(timeout=timeout)

    def close(self):
        self.server.shutdown()


def test_http_endpoint_confirms_and_receives_signed_notifications(sns, tmp_path):
    sub = Subscriber()
    try:
        arn = sns.create_topic(Name=unique_name("http"))["TopicArn"]
        assert sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=sub.url)["SubscriptionArn"] == "pending confirmation"
        kind, headers, body = sub.next()
        assert kind == "SubscriptionConfirmation"
        doc = json.loads(body)
        assert headers["x-amz-sns-topic-arn"] == arn
        assert headers["x-amz-sns-message-id"] == doc["MessageId"]
        assert verify_sns_signature(doc, tmp_path)
        # Visiting SubscribeURL confirms, as a subscriber's code does.
        r = requests.get(doc["SubscribeURL"], timeout=10)
        assert r.status_code == 200, r.text
        assert "<SubscriptionArn>" in r.text
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert subs[0]["SubscriptionArn"].startswith(arn + ":")
        sns.publish(TopicArn=arn, Message="over http", Subject="S")
        kind, headers, body = sub.next()
        note = json.loads(body)
        assert kind == "Notification"
        assert headers["x-amz-sns-subscription-arn"] == subs[0]["SubscriptionArn"]
        assert headers["content-type"].startswith("text/plain")
        assert note["Message"] == "over http" and note["Subject"] == "S"
        assert verify_sns_signature(note, tmp_path)
        # Raw delivery: the message itself, flagged by x-amz-sns-rawdelivery.
        sns.set_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="true")
        sns.publish(TopicArn=arn, Message="raw over http")
        kind, headers, body = sub.next()
        assert body == "raw over http"
        assert headers["x-amz-sns-rawdelivery"] == "true"
        # Visiting UnsubscribeURL unsubscribes.
        r = requests.get(note["UnsubscribeURL"], timeout=10)
        assert r.status_code == 200, r.text
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    finally:
        sub.close()


@pytest.fixture(scope="module")
def clock_server():
    from conftest import nimbus_server
    with nimbus_server(["--clock-control"]) as server_url:
        yield server_url


def publish_to_failing_http(server, sub, name, policy, message):
    """On `server`: a topic with `sub` subscribed over HTTP under the DeliveryPolicy `policy`
    and a RedrivePolicy queue, confirmed; `message` published and its first attempt
    received. Answers the SQS client and the dead-letter queue's URL."""
    import boto3
    from conftest import ACCESS_KEY, SECRET_KEY

    sns_c, sqs_c = (boto3.session.Session().client(service, region_name=REGION, endpoint_url=server, aws_access_key_id=ACCESS_KEY,
                                                   aws_secret_access_key=SECRET_KEY) for service in ("sns", "sqs"))
    arn = sns_c.create_topic(Name=unique_name(name))["TopicArn"]
    dlq = sqs_c.create_queue(QueueName=unique_name("dlq"))["QueueUrl"]
    sns_c.subscribe(TopicArn=arn, Protocol="http", Endpoint=sub.url, Attributes={
        "DeliveryPolicy": json.dumps(policy),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs_c, dlq)}),
    })
    token = json.loads(sub.next()[2])["Token"]
    sns_c.confirm_subscription(TopicArn=arn, Token=token)
    sns_c.publish(TopicArn=arn, Message=message)
    assert sub.next()[0] == "Notification"
    return sqs_c, dlq


def test_failing_http_endpoint_is_retried_per_policy_then_dead_lettered(clock_server):
    sub = Subscriber(status=lambda kind: 200 if kind == "SubscriptionConfirmation" else 503)
    try:
        policy = {"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 0, "minDelayTarget": 5, "maxDelayTarget": 5}}
        sqs_c, dlq = publish_to_failing_http(clock_server, sub, "failing", policy, "keeps failing")
        with pytest.raises(queue_mod.Empty):
            sub.next(timeout=0.5)  # the retry waits for the clock
        for attempt in range(2):
            requests.post(f"{clock_server}/_nimbus/clock/advance?seconds=5", timeout=10)
            assert sub.next()[0] == "Notification", f"retry {attempt + 1}"
        requests.post(f"{clock_server}/_nimbus/clock/advance?seconds=5", timeout=10)
        got = sqs_c.receive_message(QueueUrl=dlq, WaitTimeSeconds=5).get("Messages", [])
        assert len(got) == 1
        assert json.loads(got[0]["Body"])["Message"] == "keeps failing"
        assert sub.received.empty(), "no attempts beyond numRetries"
    finally:
        sub.close()


def test_exponential_delivery_policy_spaces_retries_on_the_clock(clock_server):
    """healthyRetryPolicy with backoffFunction=exponential: 4 backoff retries from
    minDelayTarget 10 s doubling to maxDelayTarget 80 s (10, 20, 40, 80), each only once
    the clock reaches it, then the dead-letter queue.
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html#creating-delivery-policy"""

    def advance(seconds):
        assert requests.post(f"{clock_server}/_nimbus/clock/advance?seconds={seconds}", timeout=10).status_code == 200

    sub = Subscriber(status=lambda kind: 200 if kind == "SubscriptionConfirmation" else 500)
    try:
        policy = {"healthyRetryPolicy": {"numRetries": 4, "minDelayTarget": 10, "maxDelayTarget": 80, "backoffFunction": "exponential"}}
        sqs_c, dlq = publish_to_failing_http(clock_server, sub, "expo", policy, "backing off")
        for delay in (10, 20, 40, 80):
            advance(delay - 5)
            with pytest.raises(queue_mod.Empty):
                sub.next(timeout=0.5)  # not yet: the retry waits its whole delay
            advance(5)
            assert sub.next()[0] == "Notification", f"the retry after {delay} s"
        assert sqs_c.receive_message(QueueUrl=dlq, WaitTimeSeconds=5).get("Messages", [])[0]["Body"]
        assert sub.received.empty(), "no attempts beyond numRetries"
    finally:
        sub.close()


@pytest.mark.parametrize("policy,message", [
    ({"healthyRetryPolicy": {"numRetries": 101}}, "DeliveryPolicy: healthyRetryPolicy.numRetries must be less than or equal to 100"),
    ({"healthyRetryPolicy": {"backoffFunction": "cubic"}}, "DeliveryPolicy: healthyRetryPolicy.backoffFunction must be one of: linear, arithmetic, geometric, exponential"),
    ({"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}, "DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be less than or equal to maxDelayTarget"),
    ({"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 2, "numMinDelayRetries": 1}}, "DeliveryPolicy: healthyRetryPolicy: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must be less than or equal to numRetries"),
    ({"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 60, "maxDelayTarget": 60}}, "DeliveryPolicy: healthyRetryPolicy: the total retry time must be less than or equal to 3600 seconds"),
    ({"retryPolicy": {}}, "DeliveryPolicy: Unexpected JSON member: retryPolicy"),
])
def test_bad_http_delivery_policies_are_invalid_parameters(sns, policy, message):
    arn = sns.create_topic(Name=unique_name("badpolicy"))["TopicArn"]
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/x", ReturnSubscriptionArn=True)["SubscriptionArn"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert e.value.response["Error"]["Message"] == "Invalid parameter: " + message
    topic_policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy))
    assert e.value.response["Error"]["Message"] == "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100"


# --------------------------------------------------------------------------- --auth iam
# SNS actions on topic ARNs (Service Authorization Reference, "Actions defined by Amazon SNS").

def test_iam_policies_decide_sns_calls():
    import boto3
    from conftest import nimbus_server

    root_key, root_secret = "AKIASNSROOTEXAMPLE00", "sns/root+secret/EXAMPLE"

    def client(url, service, key, secret):
        return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
                                              aws_secret_access_key=secret)

    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": root_key, "NIMBUS_ROOT_SECRET_ACCESS_KEY": root_secret}) as url:
        iam, sns_root = client(url, "iam", root_key, root_secret), client(url, "sns", root_key, root_secret)
        allowed = sns_root.create_topic(Name="allowed")["TopicArn"]
        other = sns_root.create_topic(Name="other")["TopicArn"]
        iam.create_user(UserName="publisher")
        iam.put_user_policy(UserName="publisher", PolicyName="pub", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": allowed}]}))
        key = iam.create_access_key(UserName="publisher")["AccessKey"]
        sns_user = client(url, "sns", key["AccessKeyId"], key["SecretAccessKey"])
        assert sns_user.publish(TopicArn=allowed, Message="ok")["MessageId"]
        for call in (lambda: sns_user.publish(TopicArn=other, Message="no"), lambda: sns_user.list_topics()):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                call()
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            # SNS's own code for a denial (https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html).
            assert e.value.response["Error"]["Code"] == "AuthorizationError"
            assert "is not authorized to perform: sns:" in e.value.response["Error"]["Message"]
