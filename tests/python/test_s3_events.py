"""S3 object events with boto3 (issue 16, "Events"): a bucket's notification configuration
sending AWS's event record to a queue and a Python function (asynchronous invoke; its
OnSuccess destination shows the event it got), the s3:TestEvent, prefix / suffix filters,
a function whose code is an S3 object, and bad configurations with S3's errors.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
"""

import json
import re
import uuid

import boto3
import botocore
import pytest

from conftest import ACCESS_KEY, SECRET_KEY, REGION, LAMBDA_ROLE, python_runtime, s3_client

@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


@pytest.fixture
def bucket(s3):
    name = f"nimbus-ev-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def next_body(sqs, url, wait=10):
    """The next message's JSON body (deleted), or None after `wait` seconds."""
    for _ in range(max(1, wait)):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return json.loads(got[0]["Body"])
    return None


def prefix_filter(prefix=None, suffix=None):
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    return {"Key": {"FilterRules": rules}}


def test_put_object_sends_the_record_to_a_queue_and_a_function(s3, sqs, queue, awslambda, lambda_function, bucket):
    url = queue()
    results = queue()
    fn = lambda_function("handler.echo")
    fn_arn = awslambda.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    awslambda.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": arn_of(sqs, results)}})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "q", "QueueArn": arn_of(sqs, url), "Events": ["s3:ObjectCreated:*"], "Filter": prefix_filter("in/", ".csv")}],
        "LambdaFunctionConfigurations": [{"Id": "fn", "LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectRemoved:*"]}],
    })
    assert next_body(sqs, url)["Event"] == "s3:TestEvent"

    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"][0]["Id"] == "q"
    assert got["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".csv"}]
    assert got["LambdaFunctionConfigurations"][0]["Events"] == ["s3:ObjectRemoved:*"]

    s3.put_object(Bucket=bucket, Key="in/skip.txt", Body=b"x")
    put = s3.put_object(Bucket=bucket, Key="in/a b=1.csv", Body=b"a,b\n")
    rec = next_body(sqs, url)["Records"][0]
    assert rec["eventVersion"] == "2.1" and rec["eventSource"] == "aws:s3" and rec["awsRegion"] == REGION
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert rec["s3"]["configurationId"] == "q"
    assert rec["s3"]["object"]["key"] == "in/a+b%3D1.csv"
    assert rec["s3"]["object"]["size"] == 4
    assert rec["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    assert next_body(sqs, url, wait=1) is None, "the .txt object was filtered out"

    s3.delete_object(Bucket=bucket, Key="in/a b=1.csv")
    done = next_body(sqs, results)
    assert done["requestContext"]["condition"] == "Success"
    assert done["requestPayload"]["Records"][0]["eventName"] == "ObjectRemoved:Delete"
    assert done["responsePayload"]["echo"]["Records"][0]["s3"]["object"]["key"] == "in/a+b%3D1.csv"


def test_function_code_from_an_s3_object(s3, awslambda, python_function_zip, bucket):
    s3.put_object(Bucket=bucket, Key="pkg/fn.zip", Body=python_function_zip)
    name = f"from-s3-{uuid.uuid4().hex[:8]}"
    awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo",
                              Code={"S3Bucket": bucket, "S3Key": "pkg/fn.zip"})
    awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
    out = json.loads(awslambda.invoke(FunctionName=name, Payload=b'{"hello": 1}')["Payload"].read())
    assert out["echo"] == {"hello": 1}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        awslambda.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/missing.zip")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."


def test_bad_configurations(s3, sqs, queue, bucket):
    arn = arn_of(sqs, queue())
    cases = [
        ({"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Nope"]}]}, "The event is not supported for notifications"),
        ({"QueueConfigurations": [{"QueueArn": arn + "-missing", "Events": ["s3:ObjectCreated:*"]}]}, "Unable to validate the following destination configurations"),
        ({"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}, {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]},
         "Configurations overlap. Configurations on the same bucket cannot share a common event type."),
        ({"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix_filter(suffix=".jpg")},
                                  {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix_filter(suffix="a.jpg")}]},
         "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type."),
    ]
    for config, message in cases:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
        err = e.value.response["Error"]
        assert (err["Code"], err["Message"]) == ("InvalidArgument", message)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert next_body(sqs, queue(), wait=1) is None


def test_trace_header_reaches_the_queue_and_put_shows_its_expiration(s3, sqs, queue, bucket):
    url = queue()
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn_of(sqs, url), "Events": ["s3:ObjectCreated:Put"]}],
    })
    assert next_body(sqs, url)["Event"] == "s3:TestEvent"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "logs-30d", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}},
    ]})
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"

    def add_trace(request, **kwargs):
        request.headers["X-Amzn-Trace-Id"] = trace

    s3.meta.events.register("before-sign.s3.PutObject", add_trace)
    try:
        put = s3.put_object(Bucket=bucket, Key="logs/today", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", add_trace)
    assert put["Expiration"].startswith('expiry-date="') and put["Expiration"].endswith('GMT", rule-id="logs-30d"'), put["Expiration"]
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
    first = json.loads(got[0]["Body"])["Records"][0]
    assert first["s3"]["object"]["key"] == "logs/today"
    # The request's trace, with the PutObject call's S3 segment as the parent.
    header = got[0]["Attributes"]["AWSTraceHeader"]
    assert re.fullmatch(r"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1", header), header


def test_under_auth_iam_the_queue_policy_must_let_s3_send():
    """https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html"""
    from conftest import nimbus_server
    root_key, root_secret = "AKIAS3EVENTSROOT0001", "s3-events-root-secret"
    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": root_key, "NIMBUS_ROOT_SECRET_ACCESS_KEY": root_secret}) as url:
        make = lambda service, **kw: boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=root_key, aws_secret_access_key=root_secret, **kw)
        s3c = make("s3", config=botocore.config.Config(s3={"addressing_style": "path"}))
        sqsc = make("sqs")
        bucket = f"nimbus-iam-ev-{uuid.uuid4().hex[:8]}"
        s3c.create_bucket(Bucket=bucket)
        queue_url = sqsc.create_queue(QueueName=f"s3-iam-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = arn_of(sqsc, queue_url)
        config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3c.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
        assert e.value.response["Error"]["Code"] == "InvalidArgument"
        assert e.value.response["Error"]["Message"] == "Unable to validate the following destination configurations"
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
                                                          "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]}
        sqsc.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
        s3c.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
        assert next_body(sqsc, queue_url)["Event"] == "s3:TestEvent"
