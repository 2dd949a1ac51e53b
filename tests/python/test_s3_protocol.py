"""S3 on the wire (issue 16, "Protocol and addressing"): path-style and virtual-hosted
addressing, keys with any UTF-8 and slashes, S3's error document and headers, presigned
URLs for GET and PUT with their expiry enforced on nimbus's clock, operations nimbus does
not have, and SigV4 under --auth sigv4.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html
"""

import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore
import pytest
import requests

from conftest import nimbus_server, s3_client, ACCESS_KEY, SECRET_KEY, REGION

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def bucket_name():
    return f"nimbus-proto-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clocked():
    """A nimbus of each test's own with clock control: presigned expiry moves its clock, and
    a URL presigned on this machine's clock must not meet a clock another test advanced."""
    with nimbus_server(["--clock-control"]) as url:
        yield url


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


def test_keys_with_slashes_and_utf8_round_trip(s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    keys = ["plain", "dir/", "a//b", "trailing/slash/", "ünïcödé/€ 100%.txt", "sp ace+plus", "q?x=1&y#z"]
    for i, k in enumerate(keys):
        s3.put_object(Bucket=b, Key=k, Body=f"body {i}".encode())
    for i, k in enumerate(keys):
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == f"body {i}".encode(), k
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_virtual_hosted_style_addresses_the_bucket_by_host(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="v/key.txt", Body=b"by host")
    port = endpoint.rsplit(":", 1)[1]
    for host in (f"{b}.s3.localhost:{port}", f"{b}.s3.us-east-1.localhost:{port}"):
        r = requests.get(f"{endpoint}/v/key.txt", headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
        assert r.content == b"by host"
        assert r.headers["x-amz-request-id"]
        assert r.headers["x-amz-id-2"]
    # The bucket itself (ListObjects) by host.
    r = requests.get(f"{endpoint}/?list-type=2", headers={"Host": f"{b}.s3.localhost:{port}"})
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag == f"{NS}ListBucketResult"
    assert [k.text for k in root.iter(f"{NS}Key")] == ["v/key.txt"]


def test_errors_are_s3_error_documents(endpoint, s3):
    missing = bucket_name()
    r = requests.get(f"{endpoint}/{missing}/some-key")
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("Message") == "The specified bucket does not exist"
    assert root.findtext("BucketName") == missing
    assert root.findtext("RequestId") == r.headers["x-amz-request-id"]
    assert root.findtext("HostId") == r.headers["x-amz-id-2"]

    b = bucket_name()
    s3.create_bucket(Bucket=b)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["Error"]["Message"] == "The specified key does not exist."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # HEAD errors carry no body, only the status.
    r = requests.head(f"{endpoint}/{b}/nope")
    assert r.status_code == 404
    assert r.content == b""


def test_operations_nimbus_does_not_have_say_so(s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    for call in (lambda: s3.get_bucket_website(Bucket=b),
                 lambda: s3.get_object_lock_configuration(Bucket=b),
                 lambda: s3.get_bucket_replication(Bucket=b)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "NotImplemented"
        assert "is not supported by nimbus" in e.value.response["Error"]["Message"]
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_presigned_get_and_put_work_until_they_expire(clocked):
    # SigV4 query auth (boto3 presigns SigV2 for S3 unless told s3v4).
    s3 = s3_client(clocked, signature_version="s3v4")
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "up.txt"}, ExpiresIn=300)
    r = requests.put(put_url, data=b"uploaded by url")
    assert r.status_code == 200, r.text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "up.txt"}, ExpiresIn=300)
    r = requests.get(get_url)
    assert r.status_code == 200
    assert r.content == b"uploaded by url"

    requests.post(f"{clocked}/_nimbus/clock/advance?seconds=301").raise_for_status()
    for method, url in (("GET", get_url), ("PUT", put_url)):
        r = requests.request(method, url, data=b"late" if method == "PUT" else None)
        assert r.status_code == 403, (method, r.text)
        root = ET.fromstring(r.content)
        assert root.findtext("Code") == "AccessDenied"
        assert root.findtext("Message") == "Request has expired"
        assert root.findtext("X-Amz-Expires") == "300"
        assert root.findtext("Expires") and root.findtext("ServerTime")
    # The expired PUT changed nothing.
    assert s3.get_object(Bucket=b, Key="up.txt")["Body"].read() == b"uploaded by url"


def test_sigv2_presigned_url_expires_too():
    # boto3's default S3 presigning: AWSAccessKeyId, Signature, Expires (epoch seconds).
    # A server of its own: the module's clocked server was moved forward by the SigV4 test,
    # and a SigV2 URL's expiry is the client's wall clock plus ExpiresIn.
    with nimbus_server(["--clock-control"]) as clocked:
        s3 = s3_client(clocked)
        b = bucket_name()
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="v2.txt", Body=b"v2")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "v2.txt"}, ExpiresIn=60)
        assert "Signature=" in url and "Expires=" in url
        r = requests.get(url)
        assert r.status_code == 200 and r.content == b"v2"
        requests.post(f"{clocked}/_nimbus/clock/advance?seconds=61").raise_for_status()
        r = requests.get(url)
        assert r.status_code == 403, r.text
        root = ET.fromstring(r.content)
        assert root.findtext("Code") == "AccessDenied"
        assert root.findtext("Message") == "Request has expired"
        assert root.findtext("Expires") and root.findtext("ServerTime")
        assert root.find("X-Amz-Expires") is None


def test_sigv4_mode_verifies_s3_signatures():
    env = {"NIMBUS_ROOT_ACCESS_KEY_ID": ACCESS_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": SECRET_KEY}
    with nimbus_server(["--auth", "sigv4"], env) as url:
        good = s3_client(url)
        b = bucket_name()
        good.create_bucket(Bucket=b)
        good.put_object(Bucket=b, Key="k", Body=b"signed")
        assert good.get_object(Bucket=b, Key="k")["Body"].read() == b"signed"
        bad = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key="wrong-secret",
                           config=botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))
        with pytest.raises(botocore.exceptions.ClientError) as e:
            bad.get_object(Bucket=b, Key="k")
        assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        with pytest.raises(botocore.exceptions.ClientError) as e:
            bad.put_object(Bucket=b, Key="k", Body=b"overwritten?")
        assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert good.get_object(Bucket=b, Key="k")["Body"].read() == b"signed"
        # Unsigned requests are anonymous: refused.
        r = requests.get(f"{url}/{b}/k")
        assert r.status_code == 403
        assert ET.fromstring(r.content).findtext("Code") == "AccessDenied"
