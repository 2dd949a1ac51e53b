"""S3 multipart upload with boto3 (issue 16: "Multipart upload: Create/UploadPart/
UploadPartCopy/Complete/Abort, ListParts, ListMultipartUploads, part size rules (5 MiB
minimum except the last, 10,000 parts), and the errors (InvalidPart, InvalidPartOrder,
EntityTooSmall, NoSuchUpload)"), boto3's transfer manager with a small multipart threshold,
and uploads kept across a restart.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
"""

import base64
import hashlib
import os
import uuid
import zlib

import boto3
import botocore
import pytest
from boto3.s3.transfer import TransferConfig

from conftest import nimbus_server, s3_client, ACCESS_KEY, SECRET_KEY, REGION

MIB = 1024 * 1024


def bucket_name():
    return f"nimbus-mpu-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


@pytest.fixture
def bucket(s3):
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    return b


def error(excinfo):
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def md5_etag(parts):
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def upload_parts(s3, bucket, key, parts, **create):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i, Body=p)
        assert r["ETag"] == f'"{hashlib.md5(p).hexdigest()}"'
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return upload_id, done


def test_transfer_manager_round_trip_with_small_threshold(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(17 * MIB + 123)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=3)
    s3.upload_file(str(src), bucket, "big/file.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == len(data)
    parts = [data[i:i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    assert head["ETag"] == md5_etag(parts)
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "big/file.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    # No upload is left behind.
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_create_upload_complete_keeps_the_upload_settings(s3, bucket):
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"tail"]
    upload_id, done = upload_parts(
        s3, bucket, "doc.txt", parts, ContentType="text/plain", Metadata={"colour": "blue"},
        CacheControl="max-age=60", ContentDisposition="inline", StorageClass="STANDARD_IA",
        Tagging="team=core&env=dev")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="doc.txt", UploadId=upload_id,
                                       MultipartUpload={"Parts": done})
    assert out["ETag"] == md5_etag(parts)
    assert out["Key"] == "doc.txt" and out["Bucket"] == bucket
    assert out["Location"].endswith(f"/{bucket}/doc.txt")
    head = s3.head_object(Bucket=bucket, Key="doc.txt")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"colour": "blue"}
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == "inline"
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentLength"] == sum(map(len, parts))
    got = s3.get_object(Bucket=bucket, Key="doc.txt")
    assert got["TagCount"] == 2
    assert got["Body"].read() == b"".join(parts)
    # The upload is gone once complete.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="doc.txt", UploadId=upload_id)
    assert error(e) == ("NoSuchUpload", 404)


def test_part_number_reads_one_part_of_a_multipart_object(s3, bucket):
    parts = [b"1" * (5 * MIB), b"2" * (5 * MIB), b"333"]
    upload_id, done = upload_parts(s3, bucket, "parts", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload_id, MultipartUpload={"Parts": done})
    head = s3.head_object(Bucket=bucket, Key="parts", PartNumber=2)
    assert head["PartsCount"] == 3
    assert head["ContentLength"] == 5 * MIB
    assert head["ContentRange"] == f"bytes {5 * MIB}-{10 * MIB - 1}/{10 * MIB + 3}"
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    got = s3.get_object(Bucket=bucket, Key="parts", PartNumber=3)
    assert got["Body"].read() == b"333"
    assert got["PartsCount"] == 3
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="parts", PartNumber=4)
    assert error(e) == ("InvalidPartNumber", 416)


def test_part_numbers_out_of_range_are_invalid_argument(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in (0, 10001):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"x")
        assert error(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["Message"] == "Part number must be an integer between 1 and 10000, inclusive"
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10000, Body=b"x")


def test_complete_errors(s3, bucket):
    parts = [b"a" * (5 * MIB), b"b" * 100, b"c" * 100]
    upload_id, done = upload_parts(s3, bucket, "k", parts)

    def complete(ps, uid=upload_id):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": ps})
        return e

    e = complete([done[0], {"PartNumber": 2, "ETag": '"0123456789abcdef0123456789abcdef"'}])
    assert error(e) == ("InvalidPart", 400)
    e = complete([done[0], {"PartNumber": 7, "ETag": done[1]["ETag"]}])
    assert error(e) == ("InvalidPart", 400)
    e = complete([done[1], done[0]])
    assert error(e) == ("InvalidPartOrder", 400)
    e = complete(done)
    assert error(e) == ("EntityTooSmall", 400)
    assert e.value.response["Error"]["MinSizeAllowed"] == str(5 * MIB)
    assert e.value.response["Error"]["ProposedSize"] == "100"
    e = complete(done, uid="no-such-upload-id")
    assert error(e) == ("NoSuchUpload", 404)
    # None of those made an object; the upload is still there and completes with a subset.
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="k")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                       MultipartUpload={"Parts": [done[0], done[2]]})
    assert out["ETag"] == md5_etag([parts[0], parts[2]])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == parts[0] + parts[2]


def test_abort_and_unknown_uploads(s3, bucket):
    upload_id, _ = upload_parts(s3, bucket, "k", [b"x" * 10])
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    for call in (
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id),
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id),
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert error(e) == ("NoSuchUpload", 404)
    # An upload id belongs to its key.
    other, _ = upload_parts(s3, bucket, "one", [b"y"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="another", UploadId=other)
    assert error(e) == ("NoSuchUpload", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket_name(), Key="k")
    assert error(e) == ("NoSuchBucket", 404)


def test_upload_part_checks_content_md5(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"data", ContentMD5=wrong)
    assert error(e) == ("BadDigest", 400)
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


def test_list_parts_pages(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", StorageClass="STANDARD_IA")["UploadId"]
    for n in (1, 2, 3, 5, 8):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"p" * n)
    # Re-uploading a part replaces it.
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"new three")
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    assert page["MaxParts"] == 2
    assert page["StorageClass"] == "STANDARD_IA"
    assert page["UploadId"] == upload_id
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2, PartNumberMarker=2)
    assert [(p["PartNumber"], p["Size"]) for p in page["Parts"]] == [(3, 9), (5, 5)]
    assert page["Parts"][0]["ETag"] == f'"{hashlib.md5(b"new three").hexdigest()}"'
    assert page["PartNumberMarker"] == 2
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=5)
    assert [p["PartNumber"] for p in page["Parts"]] == [8]
    assert page["IsTruncated"] is False
    # The paginator walks every page.
    numbers = [p["PartNumber"] for pg in s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 1}) for p in pg.get("Parts", [])]
    assert numbers == [1, 2, 3, 5, 8]


def test_list_multipart_uploads_filters_and_pages(s3, bucket):
    ids = {}
    for key in ("a/1", "a/2", "a/2", "b/1", "c"):
        ids.setdefault(key, []).append(s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["Key"] for u in listed["Uploads"]] == ["a/1", "a/2", "a/2", "b/1", "c"]
    assert [u["UploadId"] for u in listed["Uploads"] if u["Key"] == "a/2"] == ids["a/2"]
    assert all(u["Initiated"] and u["StorageClass"] == "STANDARD" for u in listed["Uploads"])
    assert listed["IsTruncated"] is False
    # Prefix and delimiter.
    page = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/"]
    assert [u["Key"] for u in page["Uploads"]] == ["c"]
    page = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert [u["Key"] for u in page["Uploads"]] == ["a/1", "a/2", "a/2"]
    # Pages of two: key-marker and upload-id-marker.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert [u["Key"] for u in page["Uploads"]] == ["a/1", "a/2"]
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("a/2", ids["a/2"][0])
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, KeyMarker="a/2", UploadIdMarker=ids["a/2"][0])
    assert [(u["Key"], u["UploadId"]) for u in page["Uploads"]] == [("a/2", ids["a/2"][1]), ("b/1", ids["b/1"][0])]
    # A key-marker alone skips that key's uploads.
    page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a/2")
    assert [u["Key"] for u in page["Uploads"]] == ["b/1", "c"]
    keys = [u["Key"] for pg in s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}) for u in pg.get("Uploads", [])]
    assert keys == ["a/1", "a/2", "a/2", "b/1", "c"]


def test_upload_part_copy_with_range_and_conditions(s3, bucket):
    source = bytes(range(256)) * (24 * 1024)  # 6 MiB
    put = s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"})
    assert r1["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                             CopySource=f"{bucket}/src", CopySourceRange="bytes=10-19")
    assert r2["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source[10:20]).hexdigest()}"'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=3,
                            CopySource=f"{bucket}/src", CopySourceIfMatch='"not-the-etag"')
    assert error(e) == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=3,
                            CopySource=f"{bucket}/src", CopySourceRange=f"bytes=0-{len(source)}")
    assert error(e) == ("InvalidArgument", 400)
    assert e.value.response["Error"]["Message"] == f"Range specified is not valid for source object of size: {len(source)}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=3,
                            CopySource=f"{bucket}/missing")
    assert error(e) == ("NoSuchKey", 404)
    s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=3,
                        CopySource=f"{bucket}/src", CopySourceIfMatch=put["ETag"], CopySourceRange="bytes=0-0")
    done = [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={"Parts": done})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source + source[10:20]


def test_composite_checksum(s3, bucket):
    parts = [b"x" * (5 * MIB), b"yz"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    crcs = []
    for i, p in enumerate(parts, start=1):
        crc = zlib.crc32(p).to_bytes(4, "big")
        crcs.append(crc)
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=upload_id, PartNumber=i, Body=p, ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == base64.b64encode(crc).decode()
        done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    listed = s3.list_parts(Bucket=bucket, Key="ck", UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == "CRC32"
    assert [p["ChecksumCRC32"] for p in listed["Parts"]] == [d["ChecksumCRC32"] for d in done]
    out = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=upload_id, MultipartUpload={"Parts": done})
    want = base64.b64encode(zlib.crc32(b"".join(crcs)).to_bytes(4, "big")).decode() + "-2"
    assert out["ChecksumCRC32"] == want
    head = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == want


def test_complete_with_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="exists", Body=b"old")
    upload_id, done = upload_parts(s3, bucket, "exists", [b"new"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=upload_id,
                                     MultipartUpload={"Parts": done}, IfNoneMatch="*")
    assert error(e) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"old"
    upload_id, done = upload_parts(s3, bucket, "fresh", [b"new"])
    s3.complete_multipart_upload(Bucket=bucket, Key="fresh", UploadId=upload_id,
                                 MultipartUpload={"Parts": done}, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"new"


def test_delete_bucket_with_an_upload_in_progress(s3):
    """A general purpose bucket holding only incomplete uploads can be deleted (its uploads
    go with it): only objects, versions and delete markers make it BucketNotEmpty
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/empty-bucket.html)."""
    b = bucket_name()
    s3.create_bucket(Bucket=b)
    upload_parts(s3, b, "pending", [b"x"])
    s3.delete_bucket(Bucket=b)
    s3.create_bucket(Bucket=b)
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []


def test_uploads_survive_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    part1 = b"p" * (5 * MIB)
    with nimbus_server(data_dir=data_dir) as url:
        s3 = s3_client(url)
        b = bucket_name()
        s3.create_bucket(Bucket=b)
        upload_id = s3.create_multipart_upload(Bucket=b, Key="slow", ContentType="image/png")["UploadId"]
        e1 = s3.upload_part(Bucket=b, Key="slow", UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    with nimbus_server(data_dir=data_dir) as url:
        s3 = s3_client(url)
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b)["Uploads"]] == [upload_id]
        assert [p["ETag"] for p in s3.list_parts(Bucket=b, Key="slow", UploadId=upload_id)["Parts"]] == [e1]
        e2 = s3.upload_part(Bucket=b, Key="slow", UploadId=upload_id, PartNumber=2, Body=b"end")["ETag"]
        s3.complete_multipart_upload(Bucket=b, Key="slow", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    with nimbus_server(data_dir=data_dir) as url:
        s3 = s3_client(url)
        got = s3.get_object(Bucket=b, Key="slow")
        assert got["ContentType"] == "image/png"
        assert got["Body"].read() == part1 + b"end"
        assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []


def test_aws_cli_v2_multipart_cp_round_trip(aws_v2, s3, bucket, tmp_path):
    """`aws s3 cp` (CLI v2, 8 MiB parts with CRC32 checksums) of a 20 MB file: a composite
    CRC32 over 3 parts, and the same bytes back."""
    import json
    src = tmp_path / "cli.bin"
    data = os.urandom(20_000_000)
    src.write_bytes(data)
    r = aws_v2("s3", "cp", str(src), f"s3://{bucket}/cli.bin", "--no-progress")
    assert r.returncode == 0, r.stderr
    r = aws_v2("s3api", "head-object", "--bucket", bucket, "--key", "cli.bin", "--checksum-mode", "ENABLED")
    assert r.returncode == 0, r.stderr
    head = json.loads(r.stdout)
    parts = [data[i:i + 8 * MIB] for i in range(0, len(data), 8 * MIB)]
    assert head["ETag"] == md5_etag(parts)
    # CLI versions that send CRC32 part checksums get the composite CRC32.
    if "ChecksumCRC32" in head:
        crcs = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
        assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode() + "-3"
        assert head["ChecksumType"] == "COMPOSITE"
    dst = tmp_path / "back.bin"
    r = aws_v2("s3", "cp", f"s3://{bucket}/cli.bin", str(dst), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == data


def test_list_multipart_uploads_pages_through_common_prefixes(s3, bucket):
    for key in ("a/1", "a/2", "b/1", "c", "d/x/1"):
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    seen_prefixes, seen_keys = [], []
    kwargs = {"Bucket": bucket, "Delimiter": "/", "MaxUploads": 1}
    for _ in range(10):
        page = s3.list_multipart_uploads(**kwargs)
        seen_prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        seen_keys += [u["Key"] for u in page.get("Uploads", [])]
        assert len(page.get("CommonPrefixes", [])) + len(page.get("Uploads", [])) <= 1
        if not page["IsTruncated"]:
            break
        kwargs.update(KeyMarker=page["NextKeyMarker"], UploadIdMarker=page.get("NextUploadIdMarker", ""))
    assert seen_prefixes == ["a/", "b/", "d/"]
    assert seen_keys == ["c"]
    # encoding-type=url encodes keys and prefixes.
    s3.create_multipart_upload(Bucket=bucket, Key="sp ace/ü")
    raw = s3.list_multipart_uploads(Bucket=bucket, Prefix="sp ace/", EncodingType="url")
    assert [u["Key"] for u in raw["Uploads"]] == ["sp%20ace/%C3%BC"]
    assert raw["Prefix"] == "sp%20ace/"
    assert raw["EncodingType"] == "url"


def test_full_object_crc32_checksum(s3, bucket):
    parts = [b"f" * (5 * MIB), b"inal"]
    whole = b"".join(parts)
    want = base64.b64encode(zlib.crc32(whole).to_bytes(4, "big")).decode()
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="full", UploadId=upload_id, PartNumber=i, Body=p, ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=upload_id, MultipartUpload={"Parts": done},
                                     ChecksumCRC32=base64.b64encode(b"\0\0\0\0").decode(), ChecksumType="FULL_OBJECT")
    assert error(e) == ("BadDigest", 400)
    out = s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=upload_id, MultipartUpload={"Parts": done},
                                       ChecksumCRC32=want, ChecksumType="FULL_OBJECT")
    assert out["ChecksumCRC32"] == want
    assert out["ChecksumType"] == "FULL_OBJECT"
    # SHA-256 cannot be a full-object checksum of a multipart upload.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="x", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    assert error(e) == ("InvalidRequest", 400)
