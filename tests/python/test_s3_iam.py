"""S3 under ``--auth iam``: identity policies on bucket and object ARNs, ListBucket's
``s3:prefix`` condition key, bucket policies as resource-based policies (granting another
account, an explicit Deny winning), and S3's own AccessDenied error document.

https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html"""

import json
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REGION, nimbus_server

ROOT_KEY, ROOT_SECRET = "AKIAS3IAMROOTEXAMPLE", "s3/iam/root+secret"
OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET = "111111111111", "AKIAS3IAMOTHERROOT01", "s3-iam-other-root"
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def world():
    env = {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET,
           "NIMBUS_ROOT_KEYS": f"{OTHER_ACCOUNT}:{OTHER_KEY}:{OTHER_SECRET}"}
    with nimbus_server(["--auth", "iam"], env) as url:
        def client(service, key, secret):
            return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
                                                  aws_secret_access_key=secret, config=CONFIG)

        def user(root_key, root_secret, name, *statements):
            iam = client("iam", root_key, root_secret)
            iam.create_user(UserName=name)
            if statements:
                iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(*statements))
            k = iam.create_access_key(UserName=name)["AccessKey"]
            keys[name] = (k["AccessKeyId"], k["SecretAccessKey"])
            return client("s3", k["AccessKeyId"], k["SecretAccessKey"])

        keys = {}
        root = client("s3", ROOT_KEY, ROOT_SECRET)
        bucket = f"iam-{uuid.uuid4().hex[:10]}"
        root.create_bucket(Bucket=bucket)
        for key in ("public/a.txt", "public/secret.txt", "private/b.txt", "shared/c.txt"):
            root.put_object(Bucket=bucket, Key=key, Body=key.encode())
        arn = f"arn:aws:s3:::{bucket}"
        alice = user(ROOT_KEY, ROOT_SECRET, "alice",
                     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/public/*"},
                     {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn, "Condition": {"StringLike": {"s3:prefix": "public/*"}}})
        nobody = user(ROOT_KEY, ROOT_SECRET, "nobody")
        # Account 111111111111's user: its own policy allows reading the bucket; the bucket
        # policy (below) grants its account only shared/*.
        bob = user(OTHER_KEY, OTHER_SECRET, "bob", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/*"})
        yield {"root": root, "alice": alice, "nobody": nobody, "bob": bob, "bucket": bucket, "arn": arn, "keys": keys, "url": url}


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 403, r
    return r["Error"]


def test_an_identity_policy_allows_get_object_on_one_prefix_only(world):
    alice, b = world["alice"], world["bucket"]
    assert alice.get_object(Bucket=b, Key="public/a.txt")["Body"].read() == b"public/a.txt"
    assert alice.head_object(Bucket=b, Key="public/a.txt")["ContentLength"] == len(b"public/a.txt")
    err = denied(lambda: alice.get_object(Bucket=b, Key="private/b.txt"))
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Access Denied")
    # HEAD answers 403 without a body.
    assert denied(lambda: alice.head_object(Bucket=b, Key="private/b.txt"))["Code"] == "403"
    # Writing, deleting and listing buckets are other actions.
    assert denied(lambda: alice.put_object(Bucket=b, Key="public/new.txt", Body=b"x"))["Code"] == "AccessDenied"
    assert denied(lambda: alice.delete_object(Bucket=b, Key="public/a.txt"))["Code"] == "AccessDenied"
    assert denied(lambda: alice.list_buckets())["Code"] == "AccessDenied"
    assert world["root"].head_object(Bucket=b, Key="public/a.txt")["ContentLength"] > 0


def test_a_user_without_policies_is_denied_everything(world):
    nobody, b = world["nobody"], world["bucket"]
    for call in (lambda: nobody.get_object(Bucket=b, Key="public/a.txt"), lambda: nobody.list_objects_v2(Bucket=b),
                 lambda: nobody.create_bucket(Bucket=f"x-{uuid.uuid4().hex[:8]}"), lambda: nobody.get_bucket_policy(Bucket=b)):
        assert denied(call)["Code"] == "AccessDenied"


def test_list_bucket_follows_the_s3_prefix_condition(world):
    alice, b = world["alice"], world["bucket"]
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=b, Prefix="public/")["Contents"]]
    assert keys == ["public/a.txt", "public/secret.txt"]
    assert [o["Key"] for o in alice.list_objects(Bucket=b, Prefix="public/s")["Contents"]] == ["public/secret.txt"]
    assert denied(lambda: alice.list_objects_v2(Bucket=b, Prefix="private/"))["Code"] == "AccessDenied"
    # No prefix at all: the condition's key is absent, StringLike does not match.
    assert denied(lambda: alice.list_objects_v2(Bucket=b))["Code"] == "AccessDenied"
    # Versions are s3:ListBucketVersions, which alice does not have.
    assert denied(lambda: alice.list_object_versions(Bucket=b, Prefix="public/"))["Code"] == "AccessDenied"


def test_bucket_policy_grants_another_account_and_an_explicit_deny_wins(world):
    root, alice, bob, b, arn = world["root"], world["alice"], world["bob"], world["bucket"], world["arn"]
    # Cross-account: bob's own policy allows, but the bucket's account has not granted.
    assert denied(lambda: bob.get_object(Bucket=b, Key="shared/c.txt"))["Code"] == "AccessDenied"
    policy = _doc(
        {"Sid": "OtherAccountReadsShared", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
         "Action": "s3:GetObject", "Resource": f"{arn}/shared/*"},
        {"Sid": "NoSecretForAlice", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
         "Action": "s3:GetObject", "Resource": f"{arn}/public/secret.txt"},
        {"Sid": "NobodyReadsPrivate", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/nobody"},
         "Action": "s3:GetObject", "Resource": f"{arn}/private/*"})
    root.put_bucket_policy(Bucket=b, Policy=policy)
    try:
        assert bob.get_object(Bucket=b, Key="shared/c.txt")["Body"].read() == b"shared/c.txt"
        # Both sides are needed across accounts: the bucket policy does not cover private/.
        assert denied(lambda: bob.get_object(Bucket=b, Key="private/b.txt"))["Code"] == "AccessDenied"
        # The explicit Deny beats alice's identity allow; her other public object still reads.
        assert denied(lambda: alice.get_object(Bucket=b, Key="public/secret.txt"))["Message"] == "Access Denied"
        assert alice.get_object(Bucket=b, Key="public/a.txt")["Body"].read() == b"public/a.txt"
        # Same account: the bucket policy alone grants a user with no identity policies.
        assert world["nobody"].get_object(Bucket=b, Key="private/b.txt")["Body"].read() == b"private/b.txt"
    finally:
        root.delete_bucket_policy(Bucket=b)
    assert denied(lambda: bob.get_object(Bucket=b, Key="shared/c.txt"))["Code"] == "AccessDenied"
    assert alice.get_object(Bucket=b, Key="public/secret.txt")["Body"].read() == b"public/secret.txt"


def test_copy_object_needs_get_on_the_source_and_put_on_the_target(world):
    root, b, arn = world["root"], world["bucket"], world["arn"]
    iam = boto3.session.Session().client("iam", region_name=REGION, endpoint_url=root.meta.endpoint_url,
                                         aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET, config=CONFIG)
    iam.create_user(UserName="copier")
    iam.put_user_policy(UserName="copier", PolicyName="p", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{arn}/copies/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/public/*"}))
    k = iam.create_access_key(UserName="copier")["AccessKey"]
    copier = boto3.session.Session().client("s3", region_name=REGION, endpoint_url=root.meta.endpoint_url, aws_access_key_id=k["AccessKeyId"],
                                            aws_secret_access_key=k["SecretAccessKey"], config=CONFIG)
    copier.copy_object(Bucket=b, Key="copies/a.txt", CopySource={"Bucket": b, "Key": "public/a.txt"})
    assert root.get_object(Bucket=b, Key="copies/a.txt")["Body"].read() == b"public/a.txt"
    assert denied(lambda: copier.copy_object(Bucket=b, Key="copies/b.txt", CopySource={"Bucket": b, "Key": "private/b.txt"}))["Code"] == "AccessDenied"
    assert denied(lambda: copier.copy_object(Bucket=b, Key="elsewhere.txt", CopySource={"Bucket": b, "Key": "public/a.txt"}))["Code"] == "AccessDenied"


def test_a_presigned_url_is_authorized_as_its_signer(world):
    import urllib.error
    import urllib.request
    # SigV4 query signing (boto3 presigns with SigV2 unless told; nimbus verifies SigV4).
    key, secret = world["keys"]["alice"]
    v4 = botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"})
    alice = boto3.session.Session().client("s3", region_name=REGION, endpoint_url=world["url"], aws_access_key_id=key, aws_secret_access_key=secret, config=v4)
    b = world["bucket"]
    url = alice.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "public/a.txt"}, ExpiresIn=300)
    assert urllib.request.urlopen(url).read() == b"public/a.txt"
    url = alice.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "private/b.txt"}, ExpiresIn=300)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 403
    body = e.value.read().decode()
    assert "<Code>AccessDenied</Code>" in body and "<Message>Access Denied</Message>" in body, body
