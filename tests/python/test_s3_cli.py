"""The AWS CLI's `s3` commands against nimbus (issue 16): mb, cp both ways (a file above
the CLI's 8 MiB multipart threshold included), sync (again: nothing to do), ls, rm, rb;
and `s3api` calls with metadata."""

import json
import os
import uuid

import pytest


@pytest.fixture(scope="module")
def aws(aws_cli):
    return aws_cli


def run(aws, *args):
    p = aws(*args, expect_ok=False)
    assert p.returncode == 0, f"{args}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def test_mb_cp_sync_ls_rm_rb(aws, tmp_path):
    bucket = f"nimbus-cli-{uuid.uuid4().hex[:12]}"
    run(aws, "s3", "mb", f"s3://{bucket}")
    assert bucket in run(aws, "s3", "ls")

    small = tmp_path / "small.txt"
    small.write_text("hello from the cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 123))  # above the 8 MiB multipart threshold
    run(aws, "s3", "cp", str(small), f"s3://{bucket}/docs/small.txt")
    run(aws, "s3", "cp", str(big), f"s3://{bucket}/blobs/big.bin")
    listing = run(aws, "s3", "ls", f"s3://{bucket}/", "--recursive")
    assert "docs/small.txt" in listing and "blobs/big.bin" in listing
    assert "PRE docs/" in run(aws, "s3", "ls", f"s3://{bucket}/")

    back = tmp_path / "back"
    back.mkdir()
    run(aws, "s3", "cp", f"s3://{bucket}/blobs/big.bin", str(back / "big.bin"))
    assert (back / "big.bin").read_bytes() == big.read_bytes()
    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "blobs/big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].endswith('-2"')  # two 8 MiB parts: the multipart ETag

    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    for rel, text in (("one.txt", "1"), ("a/two.txt", "22"), ("a/b/three.txt", "333")):
        (tree / rel).write_text(text)
    out = run(aws, "s3", "sync", str(tree), f"s3://{bucket}/tree")
    assert out.count("upload:") == 3
    assert run(aws, "s3", "sync", str(tree), f"s3://{bucket}/tree").count("upload:") == 0
    down = tmp_path / "down"
    run(aws, "s3", "sync", f"s3://{bucket}/tree", str(down))
    assert (down / "a" / "b" / "three.txt").read_text() == "333"

    p = aws("s3", "rb", f"s3://{bucket}", expect_ok=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr
    run(aws, "s3", "rm", f"s3://{bucket}", "--recursive")
    run(aws, "s3", "rb", f"s3://{bucket}")
    assert bucket not in run(aws, "s3", "ls")


def test_s3api_put_get_with_metadata(aws, tmp_path):
    bucket = f"nimbus-cli-{uuid.uuid4().hex[:12]}"
    aws("s3api", "create-bucket", "--bucket", bucket)
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"k": "v"}))
    put = aws("s3api", "put-object", "--bucket", bucket, "--key", "cfg/in.json", "--body", str(src),
              "--content-type", "application/json", "--metadata", "owner=team-a,stage=dev")
    assert put["ETag"].startswith('"')
    out = tmp_path / "out.json"
    got = aws("s3api", "get-object", "--bucket", bucket, "--key", "cfg/in.json", str(out))
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"owner": "team-a", "stage": "dev"}
    assert got["ETag"] == put["ETag"]
    assert json.loads(out.read_text()) == {"k": "v"}
    listed = aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "cfg/")
    assert [o["Key"] for o in listed["Contents"]] == ["cfg/in.json"]
    p = aws("s3api", "get-object", "--bucket", bucket, "--key", "missing", str(out), expect_ok=False)
    assert p.returncode != 0 and "NoSuchKey" in p.stderr
