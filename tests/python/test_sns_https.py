"""Amazon SNS https:// subscribers: an HTTPS endpoint served by the test with a server
certificate from a CA the test makes (``openssl`` CLI). nimbus trusts that CA only when
started with ``NIMBUS_CA_BUNDLE`` (or ``--ca-bundle``): then the SubscriptionConfirmation
and the notifications arrive over TLS as over http; without it the handshake is refused
and nothing is delivered — AWS delivers only to endpoints whose certificate a trusted CA
signed, and a refused certificate is not retried (the message goes to the subscription's
dead-letter queue).
https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html
https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
"""

import http.server
import json
import os
import queue as queue_mod
import shutil
import ssl
import subprocess
import threading

import boto3
import pytest
import requests

from conftest import ACCESS_KEY, REGION, SECRET_KEY, _nimbus_binary, nimbus_server, unique_name
from nimbus_helpers import private_ca
from test_sns import verify_sns_signature

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA and a server certificate for 127.0.0.1 that it signed."""
    d = tmp_path_factory.mktemp("sns-ca")
    ca_crt, leaf, key = private_ca(d, "nimbus sns test CA")
    return {"ca": ca_crt, "cert": leaf, "key": key, "dir": d}


class HttpsSubscriber:
    """An HTTPS endpoint: every POST lands in `received`; every refused handshake in
    `refused`."""

    def __init__(self, pki):
        self.received = queue_mod.Queue()
        self.refused = queue_mod.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                kind = self.headers.get("x-amz-sns-message-type")
                outer.received.put((kind, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def get_request(self):
                sock, addr = self.socket.accept()
                try:
                    return context.wrap_socket(sock, server_side=True), addr
                except (ssl.SSLError, OSError) as e:
                    outer.refused.put(str(e))
                    sock.close()
                    raise

            def handle_error(self, request, client_address):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki["cert"]), str(pki["key"]))
        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout=10):
        return self.received.get(timeout=timeout)

    def close(self):
        self.server.shutdown()


def clients(url):
    def client(service):
        return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url,
                                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    return client("sns"), client("sqs")


def test_https_endpoint_trusted_through_the_ca_bundle_confirms_and_receives(pki, tmp_path):
    sub = HttpsSubscriber(pki)
    try:
        with nimbus_server(env={"NIMBUS_CA_BUNDLE": str(pki["ca"])}) as url:
            sns, _ = clients(url)
            arn = sns.create_topic(Name=unique_name("https"))["TopicArn"]
            assert sns.subscribe(TopicArn=arn, Protocol="https", Endpoint=sub.url)["SubscriptionArn"] == "pending confirmation"
            kind, headers, body = sub.next()
            assert kind == "SubscriptionConfirmation"
            doc = json.loads(body)
            assert headers["x-amz-sns-topic-arn"] == arn
            assert verify_sns_signature(doc, tmp_path)
            r = requests.get(doc["SubscribeURL"], timeout=10)
            assert r.status_code == 200, r.text
            sub_arn = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["SubscriptionArn"]
            assert sub_arn.startswith(arn + ":")
            sns.publish(TopicArn=arn, Message="over https", Subject="TLS")
            kind, headers, body = sub.next()
            note = json.loads(body)
            assert kind == "Notification"
            assert headers["x-amz-sns-subscription-arn"] == sub_arn
            assert note["Message"] == "over https" and note["Subject"] == "TLS"
            assert verify_sns_signature(note, tmp_path)
            assert sub.refused.empty()
    finally:
        sub.close()


def test_https_endpoint_with_an_untrusted_certificate_gets_nothing(pki):
    """Without the bundle the test CA is unknown: the handshake is refused, nothing is
    POSTed, and a confirmed subscription's message goes straight to its dead-letter queue
    (a client-side error: no retries)."""
    sub = HttpsSubscriber(pki)
    try:
        with nimbus_server() as url:
            sns, sqs = clients(url)
            arn = sns.create_topic(Name=unique_name("untrusted"))["TopicArn"]
            dlq = sqs.create_queue(QueueName=unique_name("dlq"))["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=arn, Protocol="https", Endpoint=sub.url,
                          Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
            assert "unknown ca" in sub.refused.get(timeout=10).lower()  # nimbus refused the CA
            # The confirmation is recorded (not received): confirm with its token.
            recorded = requests.get(f"{url}/_aws/sns/messages", params={"endpoint": sub.url}, timeout=10).json()
            token = recorded[0]["Message"]["Token"]
            sns.confirm_subscription(TopicArn=arn, Token=token)
            sns.publish(TopicArn=arn, Message="never over https")
            got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=10).get("Messages", [])
            assert len(got) == 1
            assert json.loads(got[0]["Body"])["Message"] == "never over https"
            assert sub.received.empty(), "nothing was POSTed"
    finally:
        sub.close()


def test_unusable_ca_bundle_stops_nimbus_at_start(tmp_path):
    bad = tmp_path / "bundle.pem"
    bad.write_text("not a certificate\n")
    for args, env in ((["--ca-bundle", str(bad)], {}), ([], {"NIMBUS_CA_BUNDLE": str(tmp_path / "missing.pem")})):
        p = subprocess.run([str(_nimbus_binary()), "serve", "--in-memory", "--listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=60, env={**os.environ, **env})
        assert p.returncode != 0
        assert "CA bundle" in p.stderr, p.stderr
