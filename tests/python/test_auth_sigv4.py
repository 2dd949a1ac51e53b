"""``--auth sigv4`` with boto3: botocore's signer (header and presigned forms) against
nimbus's verifier, and AWS's errors per service family.

AWS references: "Create a signed AWS API request" (IAM user guide) and
"Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"."""

import json

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import pytest
import requests

from conftest import REGION, nimbus_server

ROOT_KEY = "AKIAPYROOTEXAMPLE"
ROOT_SECRET = "py/root+secret/EXAMPLEKEY"
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20)
ENV = {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}


@pytest.fixture(scope="module")
def signed_endpoint():
    with nimbus_server(["--auth", "sigv4"], ENV) as url:
        yield url


def client(url, service, key=ROOT_KEY, secret=ROOT_SECRET, token=None):
    return boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=CONFIG,
    )


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message", ""), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_root_key_signs_every_service(signed_endpoint):
    url = signed_endpoint
    sqs = client(url, "sqs")
    queue = sqs.create_queue(QueueName="py-auth")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="héllo wörld")
    assert len(sqs.receive_message(QueueUrl=queue)["Messages"]) == 1
    client(url, "dynamodb").list_tables()
    client(url, "lambda").list_functions()
    client(url, "logs").describe_log_groups()
    me = client(url, "sts").get_caller_identity()
    assert (me["Arn"], me["UserId"], me["Account"]) == ("arn:aws:iam::000000000000:root", "000000000000", "000000000000")


def test_wrong_secret(signed_endpoint):
    url = signed_endpoint
    code, message, status = error_of(lambda: client(url, "sts", secret="wrong").get_caller_identity())
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    assert error_of(lambda: client(url, "sqs", secret="wrong").list_queues())[0] == "SignatureDoesNotMatch"
    assert error_of(lambda: client(url, "dynamodb", secret="wrong").list_tables())[::2] == ("InvalidSignatureException", 400)
    assert error_of(lambda: client(url, "lambda", secret="wrong").list_functions())[::2] == ("InvalidSignatureException", 403)


def test_unknown_key(signed_endpoint):
    url = signed_endpoint
    code, message, status = error_of(lambda: client(url, "sts", key="AKIANOBODYEXAMPLE").get_caller_identity())
    assert (code, message, status) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    assert error_of(lambda: client(url, "dynamodb", key="AKIANOBODYEXAMPLE").list_tables())[0] == "UnrecognizedClientException"
    assert error_of(lambda: client(url, "sts", token="not-a-session").get_caller_identity())[0] == "InvalidClientTokenId"


def test_unsigned_query_request(signed_endpoint):
    r = requests.post(signed_endpoint + "/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"}, timeout=5)
    assert r.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in r.text


def test_presigned_url(signed_endpoint):
    # generate_presigned_url signs the operation's method (POST for query services): the
    # URL works with POST and, as on AWS, not with GET (boto/boto3#756).
    sts = client(signed_endpoint, "sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    r = requests.post(url, timeout=5)
    assert r.status_code == 200, r.text
    assert "<Arn>arn:aws:iam::000000000000:root</Arn>" in r.text
    r = requests.get(url, timeout=5)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text
    r = requests.post(url.replace("X-Amz-Expires=300", "X-Amz-Expires=600"), timeout=5)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def test_presigned_get_with_botocore_query_auth(signed_endpoint):
    # A GET presigned the way EKS tokens are made: botocore's SigV4QueryAuth on a GET.
    creds = botocore.credentials.Credentials(ROOT_KEY, ROOT_SECRET)
    request = botocore.awsrequest.AWSRequest(method="GET", url=signed_endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15")
    botocore.auth.SigV4QueryAuth(creds, "sts", REGION, expires=60).add_auth(request)
    r = requests.get(request.url, timeout=5)
    assert r.status_code == 200, r.text
    r = requests.get(request.url.replace("GetCallerIdentity", "GetSessionToken"), timeout=5)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def test_skewed_clock():
    with nimbus_server(["--auth", "sigv4", "--clock-control"], ENV) as url:
        assert requests.post(url + "/_nimbus/clock/advance?seconds=600", timeout=5).status_code == 200
        code, message, _ = error_of(lambda: client(url, "dynamodb").list_tables())
        assert code == "InvalidSignatureException"
        assert message.startswith("Signature expired: ") and message.endswith(" - 5 min.)"), message
        # SQS and STS allow 15 minutes.
        client(url, "sts").get_caller_identity()
        assert requests.post(url + "/_nimbus/clock/advance?seconds=600", timeout=5).status_code == 200
        code, message, _ = error_of(lambda: client(url, "sts").get_caller_identity())
        assert code == "SignatureDoesNotMatch" and message.endswith(" - 15 min.)"), message


# ---- Keys IAM and STS issue, verified in sigv4 mode


def test_iam_user_access_key_signs_until_made_inactive(signed_endpoint):
    url = signed_endpoint
    iam = client(url, "iam")
    iam.create_user(UserName="py-signer")
    key = iam.create_access_key(UserName="py-signer")["AccessKey"]
    user_sts = client(url, "sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    me = user_sts.get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:user/py-signer"
    assert me["UserId"].startswith("AIDA")
    assert error_of(lambda: client(url, "sts", key=key["AccessKeyId"], secret="wrong").get_caller_identity())[0] == "SignatureDoesNotMatch"
    iam.update_access_key(UserName="py-signer", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert error_of(user_sts.get_caller_identity)[0] == "InvalidClientTokenId"
    iam.update_access_key(UserName="py-signer", AccessKeyId=key["AccessKeyId"], Status="Active")
    user_sts.get_caller_identity()
    iam.delete_access_key(UserName="py-signer", AccessKeyId=key["AccessKeyId"])
    assert error_of(user_sts.get_caller_identity)[0] == "InvalidClientTokenId"


def test_assumed_role_credentials_need_their_token_and_expire():
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}'
    with nimbus_server(["--auth", "sigv4", "--clock-control"], ENV) as url:
        client(url, "iam").create_role(RoleName="py-temp", AssumeRolePolicyDocument=trust)
        creds = client(url, "sts").assume_role(RoleArn="arn:aws:iam::000000000000:role/py-temp", RoleSessionName="s1", DurationSeconds=900)["Credentials"]
        key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        me = client(url, "sts", key=key, secret=secret, token=token).get_caller_identity()
        assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/py-temp/s1"
        client(url, "sqs", key=key, secret=secret, token=token).list_queues()
        assert error_of(lambda: client(url, "sts", key=key, secret=secret).get_caller_identity())[0] == "InvalidClientTokenId"
        assert error_of(lambda: client(url, "sts", key=key, secret=secret, token=token + "x").get_caller_identity())[0] == "InvalidClientTokenId"
        assert error_of(lambda: client(url, "dynamodb", key=key, secret=secret).list_tables())[0] == "UnrecognizedClientException"
        assert requests.post(url + "/_nimbus/clock/advance?seconds=901", timeout=5).status_code == 200
        code, message, status = error_of(lambda: client(url, "sts", key=key, secret=secret, token=token).get_caller_identity())
        assert (code, message, status) == ("ExpiredToken", "The security token included in the request is expired", 403)
        assert error_of(lambda: client(url, "dynamodb", key=key, secret=secret, token=token).list_tables())[0] == "ExpiredTokenException"


def test_function_calls_back_as_its_role_under_sigv4(python_function_zip):
    # Lambda puts the role's temporary credentials in the environment; in sigv4 mode the
    # function's own SDK calls are verified with them.
    from conftest import python_runtime
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    with nimbus_server(["--auth", "sigv4"], ENV) as url:
        role = client(url, "iam").create_role(RoleName="py-fn-role", AssumeRolePolicyDocument=trust)["Role"]
        awslambda = client(url, "lambda")
        awslambda.create_function(FunctionName="py-whoami", Runtime=python_runtime(), Role=role["Arn"], Handler="handler.whoami", Code={"ZipFile": python_function_zip}, Timeout=30)
        awslambda.get_waiter("function_active_v2").wait(FunctionName="py-whoami")
        out = awslambda.invoke(FunctionName="py-whoami", Payload=b"{}")
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        assert body["Arn"] == "arn:aws:sts::000000000000:assumed-role/py-fn-role/py-whoami"
        assert body["key_prefix"] == "ASIA" and body["has_token"]


def test_signature_covers_the_compressed_body(signed_endpoint):
    # A gzip request body is signed as sent (compressed), then decoded for the service.
    import gzip

    creds = botocore.credentials.Credentials(ROOT_KEY, ROOT_SECRET)
    body = gzip.compress(b'{"Limit": 5}')
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Encoding": "gzip"}
    request = botocore.awsrequest.AWSRequest(method="POST", url=signed_endpoint + "/", data=body, headers=headers)
    botocore.auth.SigV4Auth(creds, "dynamodb", REGION).add_auth(request)
    r = requests.post(signed_endpoint + "/", data=body, headers=dict(request.headers.items()), timeout=5)
    assert r.status_code == 200, r.text
    assert "TableNames" in r.json()
    r = requests.post(signed_endpoint + "/", data=gzip.compress(b'{"Limit": 6}'), headers=dict(request.headers.items()), timeout=5)
    assert r.status_code == 400 and r.json()["__type"].endswith("InvalidSignatureException"), r.text
