"""S3 buckets and objects with boto3 (issue 16, "Buckets and objects"): bucket naming and
location rules, objects streamed in and out, ranges, conditional requests and writes,
metadata and content headers, storage classes, Content-MD5 and the additional
checksums, DeleteObjects, CopyObject, listings (v1 and v2), versioning with delete
markers, tagging, and the stored bucket configurations — each edge with AWS's error code.

https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
"""

import base64
import datetime
import hashlib
import json
import uuid
import zlib

import boto3
import botocore
import pytest
import requests

from conftest import ACCESS_KEY, SECRET_KEY, REGION, nimbus_server, s3_client as make_client


def bucket_name(tag="obj"):
    return f"nimbus-{tag}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def s3(endpoint):
    return make_client(endpoint)


@pytest.fixture
def bucket(s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    return b


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"].get("Code"), r["ResponseMetadata"]["HTTPStatusCode"], r


def md5(data):
    return hashlib.md5(data).hexdigest()


def _crc_reflected(data, poly, width):
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return (crc ^ mask) & mask


def checksum_b64(algorithm, data):
    """The checksum as S3 writes it (botocore needs the CRT for CRC32C and CRC64NVME)."""
    if algorithm == "CRC32":
        raw = zlib.crc32(data).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        raw = _crc_reflected(data, 0x82F63B78, 32).to_bytes(4, "big")
    elif algorithm == "CRC64NVME":
        raw = _crc_reflected(data, 0x9A6C9329AC4BC9B5, 64).to_bytes(8, "big")
    elif algorithm == "SHA1":
        raw = hashlib.sha1(data).digest()
    else:
        raw = hashlib.sha256(data).digest()
    return base64.b64encode(raw).decode()


def test_the_reference_checksums_are_right():
    assert _crc_reflected(b"123456789", 0x82F63B78, 32) == 0xE3069283
    assert _crc_reflected(b"123456789", 0x9A6C9329AC4BC9B5, 64) == 0xAE8B14860A799888


# ---------------------------------------------------------------------------- buckets


def test_bucket_names_follow_awss_rules(s3):
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    for bad in ["ab", "UpperCase", "under_score", "-leading", "trailing-", "two..dots", "192.168.5.4",
                "xn--punycode", "x" * 64, "ends-s3alias"]:
        code, status, r = error_of(lambda: s3.create_bucket(Bucket=bad))
        assert (code, status) == ("InvalidBucketName", 400), bad
        assert r["Error"]["Message"] == "The specified bucket is not valid."


def test_create_head_list_locate_and_delete_buckets(s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    head = s3.head_bucket(Bucket=b)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] is None
    names = [x["Name"] for x in s3.list_buckets()["Buckets"]]
    assert b in names and names == sorted(names)
    # Re-creating one's own bucket in us-east-1 succeeds (legacy compatibility).
    s3.create_bucket(Bucket=b)
    s3.delete_bucket(Bucket=b)
    assert error_of(lambda: s3.head_bucket(Bucket=b))[:2] == ("404", 404)
    code, status, r = error_of(lambda: s3.delete_bucket(Bucket=b))
    assert (code, status) == ("NoSuchBucket", 404)
    assert r["Error"]["BucketName"] == b


def test_location_constraints(endpoint, s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    # Own bucket outside us-east-1: BucketAlreadyOwnedByYou.
    code, status, _ = error_of(lambda: s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}))
    assert (code, status) == ("BucketAlreadyOwnedByYou", 409)
    # us-east-1 is given by leaving the constraint out.
    code, status, _ = error_of(lambda: s3.create_bucket(Bucket=bucket_name(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"}))
    assert (code, status) == ("InvalidLocationConstraint", 400)
    code, _, _ = error_of(lambda: s3.create_bucket(Bucket=bucket_name(), CreateBucketConfiguration={"LocationConstraint": "mars-north-1"}))
    assert code == "InvalidLocationConstraint"
    # A regional endpoint needs its own region as the constraint.
    west = make_client(endpoint, region="us-west-2")
    code, status, _ = error_of(lambda: west.create_bucket(Bucket=bucket_name()))
    assert (code, status) == ("IllegalLocationConstraintException", 400)
    code, _, _ = error_of(lambda: west.create_bucket(Bucket=bucket_name(), CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}))
    assert code == "IllegalLocationConstraintException"
    ok = bucket_name()
    west.create_bucket(Bucket=ok, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert west.get_bucket_location(Bucket=ok)["LocationConstraint"] == "us-west-2"


def test_bucket_names_are_global_across_accounts():
    env = {"NIMBUS_ROOT_KEYS": "111111111111:AKIAOTHERACCOUNT0001:othersecret"}
    with nimbus_server(env=env) as url:
        mine = make_client(url)
        theirs = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id="AKIAOTHERACCOUNT0001",
                              aws_secret_access_key="othersecret",
                              config=botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))
        b = bucket_name()
        mine.create_bucket(Bucket=b)
        code, status, _ = error_of(lambda: theirs.create_bucket(Bucket=b))
        if code == "BucketAlreadyOwnedByYou":
            pytest.skip("NIMBUS_ROOT_KEYS did not give a second account")
        assert (code, status) == ("BucketAlreadyExists", 409)
        assert b not in [x["Name"] for x in theirs.list_buckets()["Buckets"]]


def test_delete_bucket_refuses_while_objects_remain(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, status, r = error_of(lambda: s3.delete_bucket(Bucket=bucket))
    assert (code, status) == ("BucketNotEmpty", 409)
    assert r["Error"]["Message"] == "The bucket you tried to delete is not empty"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_list_buckets_pages(s3):
    prefix = f"nimbus-page-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(3)]
    for n in names:
        s3.create_bucket(Bucket=n)
    first = s3.list_buckets(Prefix=prefix, MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    rest = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == names[2:]
    assert "ContinuationToken" not in rest


# ---------------------------------------------------------------------------- objects


def test_put_get_head_delete_round_trip_with_headers(s3, bucket):
    body = b"hello nimbus" * 1000
    put = s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=body, ContentType="text/plain",
                        CacheControl="max-age=60", ContentDisposition='attachment; filename="f.txt"',
                        ContentEncoding="identity", ContentLanguage="en", Expires=datetime.datetime(2030, 1, 2, 3, 4, 5),
                        Metadata={"Color": "blue", "size": "L"})
    assert put["ETag"] == f'"{md5(body)}"'
    assert "VersionId" not in put
    got = s3.get_object(Bucket=bucket, Key="dir/file.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == f'"{md5(body)}"'
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == 'attachment; filename="f.txt"'
    assert got["ContentEncoding"] == "identity"
    assert got["ContentLanguage"] == "en"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert got["Metadata"] == {"color": "blue", "size": "L"}
    assert got["AcceptRanges"] == "bytes"
    assert got["ServerSideEncryption"] == "AES256"
    head = s3.head_object(Bucket=bucket, Key="dir/file.txt")
    assert head["ContentLength"] == len(body) and head["Metadata"] == {"color": "blue", "size": "L"}
    assert abs((head["LastModified"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 60
    s3.delete_object(Bucket=bucket, Key="dir/file.txt")
    code, status, _ = error_of(lambda: s3.get_object(Bucket=bucket, Key="dir/file.txt"))
    assert (code, status) == ("NoSuchKey", 404)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="dir/file.txt"))[1] == 404
    # Deleting what is not there still answers 204.
    assert s3.delete_object(Bucket=bucket, Key="never")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_default_content_type_empty_object_and_overwrite(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ETag"] == f'"{md5(b"")}"'
    assert got["ContentType"] == "binary/octet-stream"
    s3.put_object(Bucket=bucket, Key="empty", Body=b"now full")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b"now full"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["empty"]


def test_objects_in_missing_buckets_and_long_keys(s3, bucket):
    code, status, r = error_of(lambda: s3.put_object(Bucket=bucket_name(), Key="k", Body=b"x"))
    assert (code, status) == ("NoSuchBucket", 404)
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x"))
    assert (code, status) == ("KeyTooLongError", 400)
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")


def test_upload_file_and_download_file_below_the_multipart_threshold(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = bytes(range(256)) * 4096  # 1 MiB
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "transfer/src.bin")
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "transfer/src.bin", str(dst))
    assert dst.read_bytes() == data


def test_user_metadata_is_limited_to_2_kb(s3, bucket):
    code, status, r = error_of(lambda: s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100}))
    assert (code, status) == ("MetadataTooLarge", 400)
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"fits": "v" * 2000})


def test_storage_classes_are_recorded_and_checked(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="ia") or True
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"ia": "STANDARD_IA"}
    r = requests.put(s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "bad"}),
                     data=b"x", headers={"x-amz-storage-class": "SUPER_FAST"})
    assert r.status_code == 400 and "<Code>InvalidStorageClass</Code>" in r.text


def test_content_md5_is_verified(s3, bucket):
    body = b"checked body"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code, status, r = error_of(lambda: s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=wrong))
    assert (code, status) == ("BadDigest", 400)
    assert r["Error"]["Message"] == "The Content-MD5 you specified did not match what we received."
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5="not-base64!"))
    assert (code, status) == ("InvalidDigest", 400)
    # The failed puts changed nothing.
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == body


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_additional_checksums_are_computed_stored_and_returned(s3, bucket, algorithm):
    body = b"Hello world"
    member = f"Checksum{algorithm}"
    expected = checksum_b64(algorithm, body)
    if algorithm in ("CRC32C", "CRC64NVME"):
        # The algorithm named, the value computed by nimbus.
        url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": f"sum-{algorithm}"})
        r = requests.put(url, data=body, headers={"x-amz-sdk-checksum-algorithm": algorithm})
        assert r.status_code == 200, r.text
        put = {member: r.headers[f"x-amz-checksum-{algorithm.lower()}"]}
        assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
        r = requests.get(url.replace("put_object", "get_object"), headers={"x-amz-checksum-mode": "ENABLED"})
        got = s3.head_object(Bucket=bucket, Key=f"sum-{algorithm}", ChecksumMode="ENABLED")
    else:
        put = s3.put_object(Bucket=bucket, Key=f"sum-{algorithm}", Body=body, ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket=bucket, Key=f"sum-{algorithm}", ChecksumMode="ENABLED")
        assert got["Body"].read() == body
    assert put[member] == expected
    assert got[member] == expected
    assert got["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key=f"sum-{algorithm}", ChecksumMode="ENABLED")
    assert head[member] == put[member]
    assert member not in s3.head_object(Bucket=bucket, Key=f"sum-{algorithm}")
    attrs = s3.get_object_attributes(Bucket=bucket, Key=f"sum-{algorithm}", ObjectAttributes=["Checksum", "ETag", "ObjectSize", "StorageClass"])
    assert attrs["Checksum"][member] == put[member]
    assert attrs["ETag"] == md5(body) and attrs["ObjectSize"] == len(body) and attrs["StorageClass"] == "STANDARD"


def test_known_checksum_values_and_mismatches(endpoint, s3, bucket):
    body = b"Hello world"
    crc32 = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumCRC32=crc32)
    assert put["ChecksumCRC32"] == crc32 == "i9aeUg=="
    s3.put_object(Bucket=bucket, Key="s", Body=body, ChecksumSHA256=sha256)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "bad"})
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    r = requests.put(url, data=body, headers={"x-amz-checksum-crc32": wrong})
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    assert "The CRC32 you specified did not match the calculated checksum." in r.text
    r = requests.put(url, data=body, headers={"x-amz-checksum-crc32": "###"})
    assert r.status_code == 400 and "<Code>InvalidRequest</Code>" in r.text
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="bad"))[1] == 404


def test_objects_without_a_checksum_get_crc64nvme(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "plain"})
    assert requests.put(url, data=b"no checksum sent").status_code == 200
    head = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == checksum_b64("CRC64NVME", b"no checksum sent")


# ---------------------------------------------------------------------------- ranges


def test_ranges(s3, bucket):
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for rng, want in [("bytes=0-9", body[0:10]), ("bytes=90-", body[90:]), ("bytes=-5", body[-5:]),
                      ("bytes=95-200", body[95:]), ("bytes=-500", body)]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert got["Body"].read() == want, rng
        start = body.index(want[0])
        assert got["ContentRange"] == f"bytes {start}-{start + len(want) - 1}/100"
        assert got["ContentLength"] == len(want)
    code, status, r = error_of(lambda: s3.get_object(Bucket=bucket, Key="r", Range="bytes=100-"))
    assert (code, status) == ("InvalidRange", 416)
    assert r["Error"]["ActualObjectSize"] == "100"
    assert r["ResponseMetadata"]["HTTPHeaders"]["content-range"] == "bytes */100"
    # A malformed range is ignored: the whole object.
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=9-3")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["Body"].read() == body
    got = s3.get_object(Bucket=bucket, Key="r", Range="items=0-3")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_part_number_of_a_single_part_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="p", PartNumber=1)
    assert got["Body"].read() == b"0123456789"
    assert got["ContentRange"] == "bytes 0-9/10"
    code, status, _ = error_of(lambda: s3.get_object(Bucket=bucket, Key="p", PartNumber=2))
    assert (code, status) == ("InvalidPartNumber", 416)
    code, status, _ = error_of(lambda: s3.get_object(Bucket=bucket, Key="p", PartNumber=1, Range="bytes=0-1"))
    assert (code, status) == ("InvalidRequest", 400)


# ---------------------------------------------------------------------------- conditions


def test_conditional_gets_follow_awss_precedence(s3, bucket):
    body = b"conditional"
    etag = s3.put_object(Bucket=bucket, Key="c", Body=body)["ETag"]
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    before = lm - datetime.timedelta(days=1)
    after = lm + datetime.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == body
    code, status, r = error_of(lambda: s3.get_object(Bucket=bucket, Key="c", IfMatch='"nope"'))
    assert (code, status) == ("PreconditionFailed", 412)
    assert r["Error"]["Condition"] == "If-Match"
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=before))[:2] == ("PreconditionFailed", 412)
    # If-Match true wins over a false If-Unmodified-Since.
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=before)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag))[1] == 304
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=after))[1] == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=before)["Body"].read() == body
    # If-None-Match false with If-Modified-Since true: 304.
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=before))[1] == 304
    # If-None-Match true wins over a false If-Modified-Since.
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"', IfModifiedSince=after)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag))[1] == 304
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="c", IfMatch='"x"'))[1] == 412


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json", ResponseCacheControl="no-cache",
                        ResponseContentDisposition="inline", ResponseContentEncoding="gzip", ResponseContentLanguage="fr",
                        ResponseExpires=datetime.datetime(2031, 1, 1))
    assert got["ContentType"] == "application/json"
    assert got["CacheControl"] == "no-cache"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentEncoding"] == "gzip"
    assert got["ContentLanguage"] == "fr"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 01 Jan 2031 00:00:00 GMT"


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    code, status, r = error_of(lambda: s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*"))
    assert (code, status) == ("PreconditionFailed", 412)
    assert r["Error"]["Condition"] == "If-None-Match"
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch='"0000"'))
    assert (code, status) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="once", Body=b"fourth", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"fourth"
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag))
    assert (code, status) == ("NoSuchKey", 404)


# ---------------------------------------------------------------------------- delete objects


def test_delete_objects_quiet_and_verbose(s3, bucket):
    for k in ["a", "b", "c"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}, {"Key": "c", "VersionId": "bogus"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "missing"]
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("c", "InvalidArgument")]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_takes_at_most_1000_keys(s3, bucket):
    code, status, _ = error_of(lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]}))
    assert (code, status) == ("MalformedXML", 400)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)]})
    assert len(r["Deleted"]) == 1000


# ---------------------------------------------------------------------------- copy


def test_copy_within_and_across_buckets(s3, bucket):
    other = bucket_name()
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=bucket, Key="src/ü ni+code.txt", Body=b"copy me", ContentType="text/plain", Metadata={"a": "1"},
                  Tagging="t=1")
    r = s3.copy_object(Bucket=other, Key="dst.txt", CopySource={"Bucket": bucket, "Key": "src/ü ni+code.txt"})
    assert r["CopyObjectResult"]["ETag"] == f'"{md5(b"copy me")}"'
    got = s3.get_object(Bucket=other, Key="dst.txt")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/plain"
    assert s3.get_object_tagging(Bucket=other, Key="dst.txt")["TagSet"] == [{"Key": "t", "Value": "1"}]
    # REPLACE takes the request's metadata and content type; tagging REPLACE its tags.
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource=f"{bucket}/src/ü ni+code.txt", MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="application/x-new", TaggingDirective="REPLACE", Tagging="n=2")
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["Metadata"] == {"b": "2"} and head["ContentType"] == "application/x-new"
    assert s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"] == [{"Key": "n", "Value": "2"}]
    # Deleting the source leaves the copy whole.
    s3.delete_object(Bucket=bucket, Key="src/ü ni+code.txt")
    assert s3.get_object(Bucket=other, Key="dst.txt")["Body"].read() == b"copy me"


def test_copy_errors_and_conditions(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="s", Body=b"source")["ETag"]
    code, status, r = error_of(lambda: s3.copy_object(Bucket=bucket, Key="s", CopySource=f"{bucket}/s"))
    assert (code, status) == ("InvalidRequest", 400)
    assert "copy an object to itself" in r["Error"]["Message"]
    # Changing the metadata makes a copy onto itself legal.
    s3.copy_object(Bucket=bucket, Key="s", CopySource=f"{bucket}/s", MetadataDirective="REPLACE", Metadata={"x": "y"})
    assert s3.head_object(Bucket=bucket, Key="s")["Metadata"] == {"x": "y"}
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/missing"))[:2] == ("NoSuchKey", 404)
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket_name()}/s"))[:2] == ("NoSuchBucket", 404)
    code, status, r = error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s", CopySourceIfMatch='"nope"'))
    assert (code, status) == ("PreconditionFailed", 412)
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s", CopySourceIfNoneMatch=etag))[1] == 412
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s", CopySourceIfModifiedSince=future))[1] == 412
    s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s", CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=future)
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"source"
    code, _, _ = error_of(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s", MetadataDirective="MERGE"))
    assert code == "InvalidArgument"


def test_copy_of_a_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"two")
    r = s3.copy_object(Bucket=bucket, Key="old", CopySource={"Bucket": bucket, "Key": "v", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1
    assert r["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="old")["Body"].read() == b"one"


# ---------------------------------------------------------------------------- listing


def fill(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def test_list_v2_prefix_delimiter_pages_and_order(s3, bucket):
    keys = ["a/1", "a/2", "a/b/3", "b", "c/1", "é", "z", "A", "a-"]
    fill(s3, bucket, keys)
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys, key=lambda k: k.encode())
    assert listed["KeyCount"] == len(keys) and listed["IsTruncated"] is False
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["A", "a-", "b", "z", "é"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/"]
    assert top["KeyCount"] == 7
    under = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["a/b/"]
    # Pages of two, prefixes counted as entries.
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2, **kw)
        assert page["KeyCount"] <= 2
        seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert sorted(seen, key=lambda k: k.encode()) == ["A", "a-", "a/", "b", "c/", "z", "é"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b")
    assert [o["Key"] for o in after["Contents"]] == ["c/1", "z", "é"]
    assert after["StartAfter"] == "b"
    owner = s3.list_objects_v2(Bucket=bucket, FetchOwner=True, MaxKeys=1)["Contents"][0]
    assert owner["Owner"]["ID"]
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket, MaxKeys=1)["Contents"][0]
    empty = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert empty["KeyCount"] == 0 and "Contents" not in empty


def test_list_v1_markers(s3, bucket):
    fill(s3, bucket, ["p/1", "p/2", "q", "r/1", "s"])
    page = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["p/1", "p/2"] and page["IsTruncated"]
    assert "NextMarker" not in page
    page = s3.list_objects(Bucket=bucket, Marker="p/2")
    assert [o["Key"] for o in page["Contents"]] == ["q", "r/1", "s"]
    grouped = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["p/"]
    assert grouped["NextMarker"] == "q"
    rest = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=grouped["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["s"] and [p["Prefix"] for p in rest["CommonPrefixes"]] == ["r/"]
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"]


def test_list_with_url_encoding(endpoint, s3, bucket):
    fill(s3, bucket, ["sp ace/ü+x"])
    r = requests.get(f"{endpoint}/{bucket}?list-type=2&encoding-type=url")
    assert "<Key>sp%20ace/%C3%BC%2Bx</Key>" in r.text
    assert "<EncodingType>url</EncodingType>" in r.text
    # boto3 asks for url encoding by itself and decodes; asked for explicitly, keys stay encoded.
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Key"] == "sp ace/ü+x"
    assert s3.list_objects_v2(Bucket=bucket, EncodingType="url")["Contents"][0]["Key"] == "sp%20ace/%C3%BC%2Bx"
    code, _, _ = error_of(lambda: s3.list_objects_v2(Bucket=bucket, EncodingType="base64"))
    assert code == "InvalidArgument"


def test_listing_a_missing_bucket(s3):
    assert error_of(lambda: s3.list_objects_v2(Bucket=bucket_name()))[:2] == ("NoSuchBucket", 404)


# ---------------------------------------------------------------------------- versioning


def test_versioning_with_delete_markers(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    code, status, r = error_of(lambda: s3.get_object(Bucket=bucket, Key="k"))
    assert (code, status) == ("NoSuchKey", 404)
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    code, status, r = error_of(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId=marker))
    assert (code, status) == ("MethodNotAllowed", 405)
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k", VersionId=marker))[1] == 405
    # The old versions are still there.
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"two"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    versions = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in versions["DeleteMarkers"]] == [(marker, True)]
    # Removing the marker brings the object back.
    r = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    code, status, _ = error_of(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId=v2))
    assert (code, status) == ("NoSuchVersion", 404)
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version"))[:2] == ("InvalidArgument", 400)


def test_suspended_versioning_writes_null_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # A suspended bucket's write answers without a version id; reads show `null`.
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_Examples
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"null 1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"null 2")
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null 2"
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    versions = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in versions["Versions"]] == [kept]
    assert [m["VersionId"] for m in versions["DeleteMarkers"]] == ["null"]
    code, _, _ = error_of(lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Off"}))
    assert code == "MalformedXML"


def test_list_object_versions_pages(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    made = []
    for k in ["a", "b", "a", "c/1", "a"]:
        made.append((k, s3.put_object(Bucket=bucket, Key=k, Body=b"x")["VersionId"]))
    expected = [(k, v) for k, v in sorted(made, key=lambda kv: (kv[0], -made.index(kv)))]
    seen, km, vm = [], None, None
    while True:
        kw = {}
        if km:
            kw["KeyMarker"] = km
        if vm:
            kw["VersionIdMarker"] = vm
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=2, **kw)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        km, vm = page["NextKeyMarker"], page.get("NextVersionIdMarker")
    assert seen == expected
    grouped = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["c/"]
    code, _, _ = error_of(lambda: s3.list_object_versions(Bucket=bucket, VersionIdMarker=made[0][1]))
    assert code == "InvalidArgument"


def test_unversioned_buckets_show_no_version_ids(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "VersionId" not in put
    assert "VersionId" not in s3.get_object(Bucket=bucket, Key="k")
    assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["VersionId"] == "null"


# ---------------------------------------------------------------------------- tagging


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.delete_object_tagging(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    eleven = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    code, status, _ = error_of(lambda: s3.put_object_tagging(Bucket=bucket, Key="t", Tagging=eleven))
    assert (code, status) == ("BadRequest", 400)
    code, _, _ = error_of(lambda: s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]}))
    assert code == "InvalidTag"
    code, _, _ = error_of(lambda: s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]}))
    assert code == "InvalidTag"
    code, _, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="t2", Body=b"x", Tagging="&".join(f"k{i}=v" for i in range(11))))
    assert code == "BadRequest"
    assert error_of(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing"))[:2] == ("NoSuchKey", 404)


def test_object_tagging_of_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="t", Body=b"1", Tagging="v=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="t", Body=b"2", Tagging="v=2")
    assert s3.get_object_tagging(Bucket=bucket, Key="t", VersionId=v1)["TagSet"] == [{"Key": "v", "Value": "1"}]
    r = s3.put_object_tagging(Bucket=bucket, Key="t", VersionId=v1, Tagging={"TagSet": [{"Key": "v", "Value": "one"}]})
    assert r["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "v", "Value": "2"}]


def test_bucket_tagging(s3, bucket):
    code, status, _ = error_of(lambda: s3.get_bucket_tagging(Bucket=bucket))
    assert (code, status) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "s3"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "s3"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_tagging(Bucket=bucket))[0] == "NoSuchTagSet"


# ---------------------------------------------------------------------------- bucket configurations


def test_cors_configuration_is_stored_and_answers_browsers(endpoint, s3, bucket):
    code, status, _ = error_of(lambda: s3.get_bucket_cors(Bucket=bucket))
    assert (code, status) == ("NoSuchCORSConfiguration", 404)
    r = requests.options(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403 and "CORS is not enabled for this bucket" in r.text
    rules = [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
              "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    r = requests.options(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
                                                            "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Max-Age"] == "600"
    r = requests.options(f"{endpoint}/{bucket}/k", headers={"Origin": "https://evil.example.org", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = requests.get(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    code, _, _ = error_of(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}))
    assert code == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_cors(Bucket=bucket))[0] == "NoSuchCORSConfiguration"


def test_bucket_policy_is_validated_and_stored(s3, bucket):
    code, status, _ = error_of(lambda: s3.get_bucket_policy(Bucket=bucket))
    assert (code, status) == ("NoSuchBucketPolicy", 404)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                                 "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    for bad in ["not json", "{\"Version\": \"2012-10-17\"}", "{\"Statement\": [{\"Effect\": \"Maybe\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}"]:
        code, status, _ = error_of(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=bad))
        assert (code, status) == ("MalformedPolicy", 400), bad
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    private = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                                  "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"
    assert error_of(lambda: s3.get_bucket_policy_status(Bucket=bucket))[:2] == ("NoSuchBucketPolicy", 404)


def test_ownership_controls_and_public_access_block(s3, bucket):
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_ownership_controls(Bucket=bucket))[:2] == ("OwnershipControlsNotFoundError", 404)
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False, "IgnorePublicAcls": True,
                                                                              "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["IgnorePublicAcls"] is True
    s3.delete_public_access_block(Bucket=bucket)
    assert error_of(lambda: s3.get_public_access_block(Bucket=bucket))[:2] == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_acls_and_default_encryption(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for acl in (s3.get_bucket_acl(Bucket=bucket), s3.get_object_acl(Bucket=bucket, Key="k")):
        assert acl["Owner"]["ID"]
        assert acl["Grants"] == [{"Grantee": {"Type": "CanonicalUser", "ID": acl["Owner"]["ID"], "DisplayName": acl["Owner"]["DisplayName"]},
                                  "Permission": "FULL_CONTROL"}]
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    code, status, _ = error_of(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read"))
    assert (code, status) == ("AccessControlListNotSupported", 400)
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_get_object_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"attributes", StorageClass="ONEZONE_IA")
    attrs = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"])
    assert attrs["ETag"] == md5(b"attributes")
    assert attrs["ObjectSize"] == 10 and attrs["StorageClass"] == "ONEZONE_IA"
    assert "ObjectParts" not in attrs
    assert error_of(lambda: s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"]))[:2] == ("NoSuchKey", 404)


def test_expected_bucket_owner(endpoint, s3, bucket):
    account = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY).get_caller_identity()["Account"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=account)
    code, status, _ = error_of(lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="999999999999"))
    assert (code, status) == ("AccessDenied", 403)
    code, _, _ = error_of(lambda: s3.copy_object(Bucket=bucket, Key="c", CopySource=f"{bucket}/k", ExpectedSourceBucketOwner="999999999999"))
    assert code == "AccessDenied"


def test_object_lock_and_sse_c_are_refused(s3, bucket):
    code, status, r = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON"))
    assert (code, status) == ("InvalidRequest", 400)
    assert r["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32))
    assert (code, status) == ("NotImplemented", 501)


def test_conditional_deletes(s3, bucket):
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html
    etag = s3.put_object(Bucket=bucket, Key="d", Body=b"x")["ETag"]
    code, status, r = error_of(lambda: s3.delete_object(Bucket=bucket, Key="d", IfMatch='"0000"'))
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="d"))[1] == 404
    assert error_of(lambda: s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag))[:2] == ("NoSuchKey", 404)
    etag = s3.put_object(Bucket=bucket, Key="e", Body=b"y")["ETag"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "e", "ETag": '"0000"'}]})
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("e", "PreconditionFailed")]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "e", "ETag": etag}]})
    assert [d["Key"] for d in r["Deleted"]] == ["e"]


def test_acls_are_disabled_on_new_buckets(s3, bucket):
    code, status, _ = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read"))
    assert (code, status) == ("AccessControlListNotSupported", 400)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    code, status, r = error_of(lambda: s3.create_bucket(Bucket=bucket_name(), ACL="public-read"))
    assert (code, status) == ("InvalidBucketAclWithObjectOwnership", 400)
    # With ObjectWriter ownership, ACL headers are accepted (not stored).
    writer = bucket_name()
    s3.create_bucket(Bucket=writer, ObjectOwnership="ObjectWriter", ACL="public-read")
    s3.put_object(Bucket=writer, Key="k", Body=b"x", ACL="public-read")
    code, status, _ = error_of(lambda: s3.create_bucket(Bucket=bucket_name(), ObjectLockEnabledForBucket=True))
    assert (code, status) == ("NotImplemented", 501)


def test_unsupported_operations_still_say_so(s3, bucket):
    code, status, r = error_of(lambda: s3.get_bucket_website(Bucket=bucket))
    assert (code, status) == ("NotImplemented", 501)


# ---------------------------------------------------------------------------- AWS CLI


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_cli_sync_twice_uploads_nothing_the_second_time(request, version, tmp_path):
    # LastModified keeps milliseconds: a file written just before its upload is not newer
    # than its object. (Small files: below the CLI's multipart threshold.)
    run = request.getfixturevalue("aws_cli" if version == "v1" else "aws_v2")
    b = bucket_name("sync")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(5):
        (src / f"f{i}.txt").write_text(f"file {i}\n")
    (src / "sub" / "deep.txt").write_text("deep\n")

    def cli(*args):
        p = run(*args) if version == "v2" else run(*args, expect_ok=False)
        assert p.returncode == 0, f"{args}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    cli("s3", "mb", f"s3://{b}")
    first = cli("s3", "sync", str(src), f"s3://{b}/")
    assert first.count("upload:") == 6, first
    second = cli("s3", "sync", str(src), f"s3://{b}/")
    assert "upload:" not in second, second
    (src / "f0.txt").write_text("changed and longer\n")
    third = cli("s3", "sync", str(src), f"s3://{b}/")
    assert third.count("upload:") == 1, third
    back = tmp_path / "back"
    cli("s3", "sync", f"s3://{b}/", str(back))
    assert (back / "sub" / "deep.txt").read_text() == "deep\n"
    assert "download:" not in cli("s3", "sync", f"s3://{b}/", str(back))
    cli("s3", "rb", f"s3://{b}", "--force")


def test_object_attributes_of_a_multipart_object(s3, bucket):
    part = b"p" * (5 * 1024 * 1024)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    etags = []
    for n, body in ((1, part), (2, b"tail")):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n, Body=body, ChecksumAlgorithm="SHA256")
        etags.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": etags})
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "ETag", "ObjectSize", "Checksum"])
    assert attrs["ETag"].endswith("-2")
    assert attrs["ObjectSize"] == len(part) + 4
    parts = attrs["ObjectParts"]
    assert parts["TotalPartsCount"] == 2
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, len(part)), (2, 4)]
    assert parts["Parts"][1]["ChecksumSHA256"] == etags[1]["ChecksumSHA256"]
    assert attrs["Checksum"]["ChecksumType"] == "COMPOSITE"
    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1)["ObjectParts"]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 1 and len(page["Parts"]) == 1
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["Body"].read() == b"tail" and second["PartsCount"] == 2
