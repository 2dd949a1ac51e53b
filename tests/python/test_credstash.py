"""The real ``credstash`` CLI (PyPI) against nimbus: its DynamoDB table and KMS data keys
(issue 15, seed 001's "KMS for encryption, DynamoDB for storage"). credstash's put asks KMS
for a 64-byte data key (GenerateDataKey on ``alias/credstash`` with the encryption
context), encrypts with AES-CTR + HMAC and stores the wrapped key in DynamoDB; get
decrypts the wrapped key with KMS Decrypt under the same context.
https://github.com/fugue/credstash (README: setup, put, get, list, delete)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from conftest import ACCESS_KEY, REGION, SECRET_KEY, unique_name

CREDSTASH = Path(sys.executable).parent / "credstash"


def run(endpoint, home, *args, ok=True):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_DEFAULT_REGION": REGION, "HOME": str(home)}
    env.pop("AWS_PROFILE", None)
    # credstash appends to ./credstash.log: run it in the test's own directory.
    p = subprocess.run([str(CREDSTASH), "-r", REGION, *args], env=env, cwd=home, capture_output=True, text=True, timeout=120)
    if ok:
        assert p.returncode == 0, f"credstash {' '.join(args)}: {p.stdout}\n{p.stderr}"
    return p


@pytest.mark.skipif(not CREDSTASH.exists() and shutil.which("credstash") is None, reason="credstash not installed")
def test_credstash_setup_put_get_list_delete(endpoint, tmp_path):
    kms = boto3.client("kms", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    # credstash's README: create a key and name it alias/credstash before using it.
    if not any(a["AliasName"] == "alias/credstash" for a in kms.list_aliases()["Aliases"]):
        key = kms.create_key(Description="credstash")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/credstash", TargetKeyId=key)
    table = unique_name("credstash")
    run(endpoint, tmp_path, "-t", table, "setup")
    run(endpoint, tmp_path, "-t", table, "put", "db.password", "s3cr3t-v1")
    run(endpoint, tmp_path, "-t", table, "put", "db.password", "s3cr3t-v2", "-a")  # -a: next version
    run(endpoint, tmp_path, "-t", table, "put", "api.token", "tok", "env=prod")   # with an encryption context
    assert run(endpoint, tmp_path, "-t", table, "get", "db.password").stdout.strip() == "s3cr3t-v2"
    assert run(endpoint, tmp_path, "-t", table, "get", "db.password", "-v", "0000000000000000001").stdout.strip() == "s3cr3t-v1"
    assert run(endpoint, tmp_path, "-t", table, "get", "api.token", "env=prod").stdout.strip() == "tok"
    # The wrong encryption context: KMS refuses to decrypt the data key (InvalidCiphertextException,
    # which credstash reports in its own words).
    wrong = run(endpoint, tmp_path, "-t", table, "get", "api.token", "env=dev", ok=False)
    assert wrong.returncode != 0 and "encryption context provided may not match" in wrong.stderr, wrong
    listed = run(endpoint, tmp_path, "-t", table, "list").stdout
    assert "db.password" in listed and "api.token" in listed and "0000000000000000002" in listed, listed
    run(endpoint, tmp_path, "-t", table, "delete", "db.password")
    gone = run(endpoint, tmp_path, "-t", table, "get", "db.password", ok=False)
    assert gone.returncode != 0 and "couldn't be found" in gone.stderr, gone
