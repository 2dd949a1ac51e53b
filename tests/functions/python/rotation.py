"""A Secrets Manager rotation function for the rotation tests, written the way AWS's
rotation template is (the four steps, each idempotent, through boto3 against nimbus at
AWS_ENDPOINT_URL): createSecret puts a new random value as AWSPENDING, setSecret and
testSecret check it, finishSecret moves AWSCURRENT onto it.
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html

Test knobs (environment): FAIL_STEP makes that step raise; NOTIFY_QUEUE_URL gets one SQS
message per finished rotation (the version id), so a test can wait for a scheduled
rotation by long-polling the queue.
"""

import os

import boto3


def _client(service):
    return boto3.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if os.environ.get("FAIL_STEP") == step:
        raise RuntimeError(f"{step} failed on purpose")
    sm = _client("secretsmanager")
    meta = sm.describe_secret(SecretId=arn)
    if not meta.get("RotationEnabled"):
        raise ValueError(f"rotation is not enabled for {arn}")
    versions = meta["VersionIdsToStages"]
    if token not in versions and step != "createSecret":
        raise ValueError(f"version {token} is not a version of {arn}")
    if token in versions and "AWSCURRENT" in versions[token]:
        return  # already current: nothing to do
    if step == "createSecret":
        create_secret(sm, arn, token)
    elif step == "setSecret":
        pending = sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        assert pending["SecretString"], "empty pending value"
    elif step == "testSecret":
        pending = sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        current = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        assert pending["SecretString"] != current["SecretString"], "the new value equals the old one"
    elif step == "finishSecret":
        finish_secret(sm, arn, token)
    else:
        raise ValueError(f"unknown step {step}")


def create_secret(sm, arn, token):
    sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    try:
        sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    except sm.exceptions.ResourceNotFoundException:
        password = sm.get_random_password(PasswordLength=24, ExcludePunctuation=True)["RandomPassword"]
        sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=password, VersionStages=["AWSPENDING"])


def finish_secret(sm, arn, token):
    current = None
    for version, stages in sm.describe_secret(SecretId=arn)["VersionIdsToStages"].items():
        if "AWSCURRENT" in stages:
            if version == token:
                return
            current = version
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
    queue = os.environ.get("NOTIFY_QUEUE_URL")
    if queue:
        _client("sqs").send_message(QueueUrl=queue, MessageBody=token)
