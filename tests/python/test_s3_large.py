"""A 1 GB object through boto3's transfer manager (multipart upload in 64 MiB parts, a
ranged parallel download) while nimbus's memory stays flat: its peak RSS (VmHWM) grows
by far less than the object (issue 16: "a 1 GB multipart upload whose server RSS stays
flat"; object bytes are streamed to and from files, never held whole)."""

import hashlib
import os
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
from boto3.s3.transfer import TransferConfig

from conftest import nimbus_server, ACCESS_KEY, SECRET_KEY, REGION

GB = 1024 * 1024 * 1024
MIB = 1024 * 1024


def pid_listening_on(port):
    """The pid of the process whose command line has `127.0.0.1:<port>` (the server)."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"127.0.0.1:{port}".encode() in cmd and any(c.endswith(b"nimbus") for c in cmd[:1]):
            return int(d.name)
    raise AssertionError(f"no nimbus process on port {port}")


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def test_one_gigabyte_multipart_round_trip_keeps_rss_flat(tmp_path):
    src = tmp_path / "big.bin"
    block = os.urandom(MIB)
    want = hashlib.sha256()
    with open(src, "wb") as f:
        for i in range(GB // MIB):
            chunk = bytes([i % 251]) + block[1:]
            f.write(chunk)
            want.update(chunk)
    # A server of its own on disk (not --in-memory): bytes go to files.
    with nimbus_server(data_dir=tmp_path / "data") as url:
        pid = pid_listening_on(url.rsplit(":", 1)[1])
        s3 = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY,
                          config=botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))
        bucket = f"nimbus-large-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="warm", Body=b"x")
        before = status_kib(pid, "VmHWM")
        cfg = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=64 * MIB, max_concurrency=4)
        s3.upload_file(str(src), bucket, "big.bin", Config=cfg)
        head = s3.head_object(Bucket=bucket, Key="big.bin")
        assert head["ContentLength"] == GB
        assert head["ETag"].endswith('-16"')
        dst = tmp_path / "back.bin"
        s3.download_file(bucket, "big.bin", str(dst), Config=cfg)
        got = hashlib.sha256()
        with open(dst, "rb") as f:
            for chunk in iter(lambda: f.read(8 * MIB), b""):
                got.update(chunk)
        assert got.hexdigest() == want.hexdigest()
        peak = status_kib(pid, "VmHWM")
        # 1 GiB went through; the server's peak may grow by buffers, not by the object.
        assert peak - before < 200 * 1024, f"peak RSS grew from {before} KiB to {peak} KiB"
