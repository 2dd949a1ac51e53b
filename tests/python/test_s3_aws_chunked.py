"""S3 request bodies in `aws-chunked` encoding (issue 16: "the SDKs' aws-chunked encoding
(STREAMING-UNSIGNED-PAYLOAD-TRAILER and signed chunks) with trailing checksums"), and the
checks S3 makes of a body against its headers.

- boto3's own unsigned-trailer upload (what it sends over HTTPS; forced here over HTTP);
- signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), which no Python client
  sends by default, built by hand on botocore's SigV4 seed signature, under --auth sigv4:
  good, tampered, too-small chunks;
- x-amz-decoded-content-length, XAmzContentSHA256Mismatch, Connection: close.

https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
"""

import base64
import hashlib
import hmac
import uuid
import xml.etree.ElementTree as ET
import zlib

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests

from conftest import nimbus_server, s3_client, ACCESS_KEY, SECRET_KEY, REGION

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def bucket_name():
    return f"nimbus-chunked-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def signed_server():
    env = {"NIMBUS_ROOT_ACCESS_KEY_ID": ACCESS_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": SECRET_KEY}
    with nimbus_server(["--auth", "sigv4"], env) as url:
        yield url


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def error_of(r):
    root = ET.fromstring(r.content)
    return root.findtext("Code"), root


# --------------------------------------------------------------------------- unsigned trailer


def force_trailer(client):
    """Makes boto3 send its checksum in an aws-chunked trailer (it does so over HTTPS only)."""
    def handler(params, **_):
        algorithm = params.get("context", {}).get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"
    client.meta.events.register("before-call.s3.PutObject", handler)
    client.meta.events.register("before-call.s3.UploadPart", handler)
    sent = {}

    def capture(request, **_):
        sent.update({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})
    client.meta.events.register("before-send.s3.PutObject", capture)
    return sent


def test_boto3_unsigned_trailer_upload_round_trips(endpoint):
    client = s3_client(endpoint)
    sent = force_trailer(client)
    b = bucket_name()
    client.create_bucket(Bucket=b)
    data = bytes(range(256)) * 1000
    client.put_object(Bucket=b, Key="k", Body=data, ChecksumAlgorithm="CRC32")
    # It really was aws-chunked with a trailer.
    assert sent["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert sent["x-amz-decoded-content-length"] == str(len(data))
    got = client.get_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ChecksumCRC32"] == crc32_b64(data)
    # aws-chunked is how the body travelled, not a content coding of the object.
    assert "ContentEncoding" not in got


def raw_unsigned(chunks, trailers):
    out = b""
    for c in chunks:
        out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
    out += b"0\r\n" + "".join(f"{k}:{v}\r\n" for k, v in trailers).encode() + b"\r\n"
    return out


def unsigned_put(url, key, body, decoded_length, trailer="x-amz-checksum-crc32", extra=None):
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(decoded_length),
        **({"x-amz-trailer": trailer} if trailer else {}),
        **(extra or {}),
    }
    return requests.put(f"{url}/{key}", data=body, headers=headers)


def test_unsigned_trailer_with_a_wrong_checksum_is_bad_digest(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    data = b"hello trailer"
    r = unsigned_put(endpoint, f"{b}/good", raw_unsigned([data], [("x-amz-checksum-crc32", crc32_b64(data))]), len(data))
    assert r.status_code == 200, r.text
    assert r.headers.get("x-amz-checksum-crc32") == crc32_b64(data)
    r = unsigned_put(endpoint, f"{b}/bad", raw_unsigned([data], [("x-amz-checksum-crc32", crc32_b64(b"other"))]), len(data))
    assert r.status_code == 400
    assert error_of(r)[0] == "BadDigest"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=b, Key="bad")


def test_decoded_length_must_match_the_body(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    body = raw_unsigned([b"12345"], [("x-amz-checksum-crc32", crc32_b64(b"12345"))])
    for declared in (4, 6):
        r = unsigned_put(endpoint, f"{b}/k{declared}", body, declared)
        assert r.status_code == 400, r.text
        code, root = error_of(r)
        assert code == "IncompleteBody"
        assert root.findtext("Message") == "You did not provide the number of bytes specified by the Content-Length HTTP header."
    # Cut short inside a chunk.
    r = unsigned_put(endpoint, f"{b}/short", b"a\r\n12345", 10, trailer=None)
    assert (r.status_code, error_of(r)[0]) == (400, "IncompleteBody")
    # Not aws-chunked framing at all.
    r = unsigned_put(endpoint, f"{b}/garbage", b"not chunked at all", 18, trailer=None)
    assert (r.status_code, error_of(r)[0]) == (400, "IncompleteBody")
    # Without x-amz-decoded-content-length.
    r = requests.put(f"{endpoint}/{b}/nolen", data=raw_unsigned([b"x"], []),
                     headers={"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "content-encoding": "aws-chunked"})
    assert (r.status_code, error_of(r)[0]) == (411, "MissingContentLength")
    # The trailer x-amz-trailer announced is missing.
    r = unsigned_put(endpoint, f"{b}/notrailer", raw_unsigned([b"12345"], []), 5)
    assert (r.status_code, error_of(r)[0]) == (400, "MalformedTrailerError")
    for key in ("k4", "k6", "short", "garbage", "nolen", "notrailer"):
        with pytest.raises(botocore.exceptions.ClientError):
            s3.head_object(Bucket=b, Key=key)


# --------------------------------------------------------------------------- plain bodies


def test_a_body_not_matching_x_amz_content_sha256_is_refused(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    claimed = hashlib.sha256(b"what was signed").hexdigest()
    r = requests.put(f"{endpoint}/{b}/k", data=b"what was sent", headers={"x-amz-content-sha256": claimed})
    assert r.status_code == 400
    code, root = error_of(r)
    assert code == "XAmzContentSHA256Mismatch"
    assert root.findtext("ClientComputedContentSHA256") == claimed
    assert root.findtext("S3ComputedContentSHA256") == hashlib.sha256(b"what was sent").hexdigest()
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=b, Key="k")
    # boto3 over HTTP signs the body's hash: the matching case.
    s3.put_object(Bucket=b, Key="k", Body=b"what was sent")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"what was sent"


def test_an_answer_leaving_the_body_unread_closes_the_connection(endpoint):
    r = requests.put(f"{endpoint}/{bucket_name()}/k", data=b"x" * 200_000)
    assert r.status_code == 404
    assert r.headers.get("Connection", "").lower() == "close"
    # A read body keeps the connection.
    r = requests.put(f"{endpoint}/{bucket_name()}", data=b"")
    assert r.headers.get("Connection", "").lower() != "close"


# --------------------------------------------------------------------------- signed chunks


def signing_key(date):
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_put(url, path, chunks, *, trailer=None, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", tamper=None):
    """PUTs `chunks` as a signed aws-chunked body: botocore's SigV4 seed signature over the
    streaming literal, then each chunk's signature chained from it (and the trailer's)."""
    data = b"".join(chunks)
    headers = {
        "x-amz-content-sha256": payload,
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
    }
    if trailer:
        headers["x-amz-trailer"] = trailer[0]
    req = botocore.awsrequest.AWSRequest(method="PUT", url=f"{url}{path}", data=b"", headers=headers)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    sent = dict(req.headers.items())
    amz_date = sent["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = signing_key(amz_date[:8])
    previous = sent["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    for c in list(chunks) + [b""]:
        sts = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{hashlib.sha256(c).hexdigest()}"
        previous = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        sent_data = tamper(c) if (tamper and c) else c
        body += f"{len(c):x};chunk-signature={previous}\r\n".encode()
        if c:
            body += sent_data + b"\r\n"
    if trailer:
        name, value = trailer
        canonical = f"{name}:{value}\n"
        sts = f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        body += f"{name}:{value}\r\nx-amz-trailer-signature:{sig}\r\n\r\n".encode()
    else:
        body += b"\r\n"
    sent.pop("Content-Length", None)
    return requests.put(f"{url}{path}", data=body, headers=sent)


def test_signed_chunks_are_verified_under_sigv4(signed_server):
    s3 = s3_client(signed_server)
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    chunks = [b"a" * 65_536, b"b" * 8192, b"c" * 100]
    r = signed_put(signed_server, f"/{b}/good", chunks)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=b, Key="good")["Body"].read() == b"".join(chunks)
    # A chunk whose bytes differ from what was signed.
    r = signed_put(signed_server, f"/{b}/tampered", chunks, tamper=lambda c: c[:-1] + b"!")
    assert r.status_code == 403
    assert error_of(r)[0] == "SignatureDoesNotMatch"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=b, Key="tampered")
    # Every chunk but the last must be 8 KiB or more.
    r = signed_put(signed_server, f"/{b}/small", [b"x" * 1000, b"y" * 10])
    assert r.status_code == 403
    code, root = error_of(r)
    assert code == "InvalidChunkSizeError"
    assert root.findtext("Chunk") == "1"
    assert root.findtext("BadChunkSize") == "1000"


def test_signed_chunks_with_a_signed_trailer(signed_server):
    s3 = s3_client(signed_server)
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    chunks = [b"t" * 9000, b"u" * 5]
    data = b"".join(chunks)
    r = signed_put(signed_server, f"/{b}/trailer", chunks, trailer=("x-amz-checksum-crc32", crc32_b64(data)),
                   payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    assert r.status_code == 200, r.text
    got = s3.get_object(Bucket=b, Key="trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)


def test_signed_chunks_under_open_auth_are_framing_only(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    r = signed_put(endpoint, f"/{b}/k", [b"z" * 10_000, b"w"], tamper=lambda c: c)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"z" * 10_000 + b"w"
