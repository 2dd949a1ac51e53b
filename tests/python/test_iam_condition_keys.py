"""``--auth iam`` with boto3: service-specific condition keys, each with a policy that
allows and a request it refuses, and SimulatePrincipalPolicy given the same keys as
ContextEntries deciding the same (Service Authorization Reference, the "Condition keys"
column of each action; DynamoDB Developer Guide, "Using IAM policy conditions for
fine-grained access control"; IAM User Guide, "IAM and AWS STS condition context keys").
Also `NIMBUS_ROOT_KEYS`: root key pairs of other accounts."""

import json
import os
import subprocess

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REGION, _nimbus_binary, nimbus_server, unique_name

ROOT_KEY = "AKIAPYCONDITIONKEYS1"
ROOT_SECRET = "py/condition/keys+root/EXAMPLE"
ACCT = "000000000000"
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
DENIED = ("AccessDenied", "AccessDeniedException")


@pytest.fixture(scope="module")
def url():
    with nimbus_server(["--auth", "iam"], {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}) as u:
        yield u


def client(url, service, key=ROOT_KEY, secret=ROOT_SECRET, token=None):
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
                                          aws_secret_access_key=secret, aws_session_token=token, config=CONFIG)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class User:
    """An IAM user with one inline policy and an access key."""

    def __init__(self, url, *statements, name=None):
        self.url = url
        self.iam = client(url, "iam")
        self.name = name or unique_name("ck")
        self.arn = self.iam.create_user(UserName=self.name)["User"]["Arn"]
        self.iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=doc(*statements))
        k = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key, self.secret = k["AccessKeyId"], k["SecretAccessKey"]

    def client(self, service):
        return client(self.url, service, self.key, self.secret)

    def simulate(self, action, resource, entries):
        context = [{"ContextKeyName": k, "ContextKeyValues": v if isinstance(v, list) else [v],
                    "ContextKeyType": "stringList" if isinstance(v, list) else "string"} for k, v in entries.items()]
        out = self.iam.simulate_principal_policy(PolicySourceArn=self.arn, ActionNames=[action], ResourceArns=[resource], ContextEntries=context)
        return out["EvaluationResults"][0]["EvalDecision"]


def allowed(call):
    """Whether authorization let the call through: it answered, or failed for another reason."""
    try:
        call()
        return True
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] not in DENIED


def agrees(user, action, resource, entries, call):
    enforced = allowed(call)
    simulated = user.simulate(action, resource, entries)
    assert (simulated == "allowed") == enforced, (action, entries, simulated, enforced)
    return enforced


def table(url, name, tags=None):
    ddb = client(url, "dynamodb")
    kwargs = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST", **kwargs)
    return "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCT, name)


def test_dynamodb_leading_keys(url):
    arn = table(url, unique_name("lk"))
    name = arn.rsplit("/", 1)[1]
    u = User(url, {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Query"], "Resource": arn,
                   "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}})
    ddb = u.client("dynamodb")
    mine, other = {"pk": {"S": u.name}}, {"pk": {"S": "someone-else"}}
    assert agrees(u, "dynamodb:PutItem", arn, {"dynamodb:LeadingKeys": [u.name]}, lambda: ddb.put_item(TableName=name, Item=mine))
    assert not agrees(u, "dynamodb:PutItem", arn, {"dynamodb:LeadingKeys": ["someone-else"]}, lambda: ddb.put_item(TableName=name, Item=other))
    query = lambda who: ddb.query(TableName=name, KeyConditionExpression="#p = :v", ExpressionAttributeNames={"#p": "pk"},
                                  ExpressionAttributeValues={":v": {"S": who}})
    assert allowed(lambda: query(u.name))
    assert not allowed(lambda: query("someone-else"))


def test_dynamodb_attributes_and_select(url):
    """The guide's "Grant permissions that limit access to specific attributes" policy."""
    arn = table(url, unique_name("attrs"))
    name = arn.rsplit("/", 1)[1]
    client(url, "dynamodb").put_item(TableName=name, Item={"pk": {"S": "k"}, "a": {"S": "1"}, "b": {"S": "2"}})
    u = User(url, {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"], "Resource": arn,
                   "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "a"]},
                                 "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}})
    ddb = u.client("dynamodb")
    key = {"pk": {"S": "k"}}
    specific = {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    assert agrees(u, "dynamodb:GetItem", arn, {"dynamodb:Attributes": ["pk", "a"], **specific},
                  lambda: ddb.get_item(TableName=name, Key=key, ProjectionExpression="pk, a"))
    assert not agrees(u, "dynamodb:GetItem", arn, {"dynamodb:Attributes": ["pk", "b"], **specific},
                      lambda: ddb.get_item(TableName=name, Key=key, ProjectionExpression="pk, #b", ExpressionAttributeNames={"#b": "b"}))
    # Without a projection the read asks for every attribute (Select ALL_ATTRIBUTES).
    assert not agrees(u, "dynamodb:GetItem", arn, {"dynamodb:Attributes": ["pk"], "dynamodb:Select": "ALL_ATTRIBUTES"},
                      lambda: ddb.get_item(TableName=name, Key=key))
    assert allowed(lambda: ddb.update_item(TableName=name, Key=key, UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"S": "3"}}))
    assert not allowed(lambda: ddb.update_item(TableName=name, Key=key, UpdateExpression="SET a = :v REMOVE b", ExpressionAttributeValues={":v": {"S": "3"}}))


def test_dynamodb_select(url):
    arn = table(url, unique_name("sel"))
    name = arn.rsplit("/", 1)[1]
    u = User(url, {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": arn, "Condition": {"StringEquals": {"dynamodb:Select": "COUNT"}}})
    ddb = u.client("dynamodb")
    assert agrees(u, "dynamodb:Scan", arn, {"dynamodb:Select": "COUNT"}, lambda: ddb.scan(TableName=name, Select="COUNT"))
    assert not agrees(u, "dynamodb:Scan", arn, {"dynamodb:Select": "ALL_ATTRIBUTES"}, lambda: ddb.scan(TableName=name))


def test_dynamodb_return_values(url):
    arn = table(url, unique_name("rv"))
    name = arn.rsplit("/", 1)[1]
    u = User(url, {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": arn,
                   "Condition": {"StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE"]}}})
    ddb = u.client("dynamodb")
    item = {"pk": {"S": "x"}}
    assert agrees(u, "dynamodb:PutItem", arn, {"dynamodb:ReturnValues": "NONE"}, lambda: ddb.put_item(TableName=name, Item=item, ReturnValues="NONE"))
    assert allowed(lambda: ddb.put_item(TableName=name, Item=item))
    assert not agrees(u, "dynamodb:PutItem", arn, {"dynamodb:ReturnValues": "ALL_OLD"}, lambda: ddb.put_item(TableName=name, Item=item, ReturnValues="ALL_OLD"))


def test_dynamodb_table_resource_tags(url):
    blue = table(url, unique_name("blue"), {"team": "blue"})
    red = table(url, unique_name("red"), {"team": "red"})
    u = User(url, {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}})
    ddb = u.client("dynamodb")
    assert agrees(u, "dynamodb:GetItem", blue, {"aws:ResourceTag/team": "blue"}, lambda: ddb.get_item(TableName=blue, Key={"pk": {"S": "k"}}))
    assert not agrees(u, "dynamodb:GetItem", red, {"aws:ResourceTag/team": "red"}, lambda: ddb.get_item(TableName=red, Key={"pk": {"S": "k"}}))


def test_lambda_function_arn_on_event_source_mappings(url):
    q = client(url, "sqs").create_queue(QueueName=unique_name("ck-q"))["QueueUrl"]
    queue_arn = "arn:aws:sqs:%s:%s:%s" % (REGION, ACCT, q.rsplit("/", 1)[1])
    pattern = "arn:aws:lambda:%s:%s:function:ok-*" % (REGION, ACCT)
    u = User(url, {"Effect": "Allow", "Action": "lambda:CreateEventSourceMapping", "Resource": "*", "Condition": {"ArnLike": {"lambda:FunctionArn": pattern}}})
    lam = u.client("lambda")
    fn = lambda name: "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCT, name)
    # Allowed: the call gets past authorization (and then finds no such function).
    assert agrees(u, "lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": fn("ok-fn")},
                  lambda: lam.create_event_source_mapping(FunctionName="ok-fn", EventSourceArn=queue_arn))
    assert not agrees(u, "lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": fn("other-fn")},
                      lambda: lam.create_event_source_mapping(FunctionName="other-fn", EventSourceArn=queue_arn))


def test_lambda_principal_on_add_permission(url):
    u = User(url, {"Effect": "Allow", "Action": "lambda:AddPermission", "Resource": "*", "Condition": {"StringEquals": {"lambda:Principal": "s3.amazonaws.com"}}})
    lam = u.client("lambda")
    fn = "arn:aws:lambda:%s:%s:function:nofn" % (REGION, ACCT)
    add = lambda principal: lam.add_permission(FunctionName="nofn", StatementId="s", Action="lambda:InvokeFunction", Principal=principal)
    assert agrees(u, "lambda:AddPermission", fn, {"lambda:Principal": "s3.amazonaws.com"}, lambda: add("s3.amazonaws.com"))
    assert not agrees(u, "lambda:AddPermission", fn, {"lambda:Principal": "sns.amazonaws.com"}, lambda: add("sns.amazonaws.com"))


def test_iam_passed_to_service(url):
    role = "arn:aws:iam::%s:role/%s" % (ACCT, unique_name("passed"))
    create = lambda u: u.client("lambda").create_function(FunctionName=unique_name("pf"), Runtime="python3.12", Role=role,
                                                         Handler="h.h", Code={"ZipFile": b"not a zip"})
    for service, expect in (("lambda.amazonaws.com", True), ("ec2.amazonaws.com", False)):
        u = User(url, {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"},
                 {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": service}}})
        assert agrees(u, "iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"}, lambda: create(u)) is expect, service


def test_iam_policy_arn(url):
    iam = client(url, "iam")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=unique_name("pa"), AssumeRolePolicyDocument=trust)["Role"]
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    u = User(url, {"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "*", "Condition": {"ArnEquals": {"iam:PolicyARN": basic}}})
    mine = u.client("iam")
    assert agrees(u, "iam:AttachRolePolicy", role["Arn"], {"iam:PolicyARN": basic}, lambda: mine.attach_role_policy(RoleName=role["RoleName"], PolicyArn=basic))
    assert not agrees(u, "iam:AttachRolePolicy", role["Arn"], {"iam:PolicyARN": admin}, lambda: mine.attach_role_policy(RoleName=role["RoleName"], PolicyArn=admin))
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]] == [basic]


def test_iam_permissions_boundary(url):
    """The IAM User Guide's delegation pattern: a user may create roles only with a given
    boundary, and change the policies of roles that have it."""
    iam = client(url, "iam")
    boundary = iam.create_policy(PolicyName=unique_name("edge"), PolicyDocument=doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}))["Policy"]["Arn"]
    cond = {"StringEquals": {"iam:PermissionsBoundary": boundary}}
    u = User(url, {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"], "Resource": "*", "Condition": cond})
    mine = u.client("iam")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    bounded, free = unique_name("bounded"), unique_name("free")
    role_arn = lambda n: "arn:aws:iam::%s:role/%s" % (ACCT, n)
    assert agrees(u, "iam:CreateRole", role_arn(bounded), {"iam:PermissionsBoundary": boundary},
                  lambda: mine.create_role(RoleName=bounded, AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary))
    assert not agrees(u, "iam:CreateRole", role_arn(free), {}, lambda: mine.create_role(RoleName=free, AssumeRolePolicyDocument=trust))
    iam.create_role(RoleName=free, AssumeRolePolicyDocument=trust)
    inline = doc({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    # PutRolePolicy sees the role's current boundary.
    assert allowed(lambda: mine.put_role_policy(RoleName=bounded, PolicyName="p", PolicyDocument=inline))
    assert not allowed(lambda: mine.put_role_policy(RoleName=free, PolicyName="p", PolicyDocument=inline))


def test_sts_external_id_and_role_session_name(url):
    name = unique_name("caller")
    iam = client(url, "iam")
    iam.create_user(UserName=name)
    user_arn = "arn:aws:iam::%s:user/%s" % (ACCT, name)
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": "ext-1", "sts:RoleSessionName": "${aws:username}"}}})
    role = iam.create_role(RoleName=unique_name("ext"), AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    sts = client(url, "sts", k["AccessKeyId"], k["SecretAccessKey"])
    assume = lambda ext, session: sts.assume_role(RoleArn=role, RoleSessionName=session, ExternalId=ext)
    assert allowed(lambda: assume("ext-1", name))
    assert not allowed(lambda: assume("ext-2", name))
    assert not allowed(lambda: assume("ext-1", "someone"))


def test_sts_transitive_tag_keys(url):
    name = unique_name("tagger")
    iam = client(url, "iam")
    iam.create_user(UserName=name)
    user_arn = "arn:aws:iam::%s:user/%s" % (ACCT, name)
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": ["sts:AssumeRole", "sts:TagSession"]})
    role = iam.create_role(RoleName=unique_name("tt"), AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role},
        {"Effect": "Allow", "Action": "sts:TagSession", "Resource": role, "Condition": {"ForAllValues:StringEquals": {"sts:TransitiveTagKeys": ["team"]}}}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    sts = client(url, "sts", k["AccessKeyId"], k["SecretAccessKey"])
    tagged = lambda key: sts.assume_role(RoleArn=role, RoleSessionName="tagged", Tags=[{"Key": key, "Value": "v"}], TransitiveTagKeys=[key])
    assert allowed(lambda: tagged("team"))
    assert not allowed(lambda: tagged("env"))


# ---- NIMBUS_ROOT_KEYS

ONE = ("111111111111", "AKIAROOTACCOUNTONE01", "secret/one+EXAMPLE")
TWO = ("222222222222", "AKIAROOTACCOUNTTWO02", "secret:two")


def test_root_keys_of_other_accounts_sign_as_their_roots():
    keys = ",".join(":".join(k) for k in (ONE, TWO))
    env = {"NIMBUS_ROOT_ACCESS_KEY_ID": ROOT_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET, "NIMBUS_ROOT_KEYS": keys}
    with nimbus_server(["--auth", "iam"], env) as u:
        one = lambda service: client(u, service, ONE[1], ONE[2])
        two = lambda service: client(u, service, TWO[1], TWO[2])
        assert one("sts").get_caller_identity()["Arn"] == "arn:aws:iam::111111111111:root"
        assert two("sts").get_caller_identity()["Account"] == "222222222222"
        queue = one("sqs").create_queue(QueueName="owned-by-one")["QueueUrl"]
        assert "/111111111111/" in queue
        # Another account's root needs the queue's policy (cross-account: both sides).
        with pytest.raises(botocore.exceptions.ClientError) as e:
            two("sqs").send_message(QueueUrl=queue, MessageBody="x")
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        policy = doc({"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "sqs:SendMessage",
                      "Resource": "arn:aws:sqs:%s:111111111111:owned-by-one" % REGION})
        one("sqs").set_queue_attributes(QueueUrl=queue, Attributes={"Policy": policy})
        two("sqs").send_message(QueueUrl=queue, MessageBody="x")
        # Each root administers its own account's IAM.
        one("iam").create_user(UserName="ops")
        assert [x["Arn"] for x in one("iam").list_users()["Users"]] == ["arn:aws:iam::111111111111:user/ops"]
        assert two("iam").list_users()["Users"] == []
        # A wrong secret for a listed key is refused.
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client(u, "sts", ONE[1], "wrong").get_caller_identity()
        assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("value,message", [
    ("1111:AKIAX:s", "the account must be 12 digits"),
    ("111111111111:AKIAX", "expected <account>:<access key id>:<secret>"),
    ("111111111111:AKIAX:a,222222222222:AKIAX:b", "the access key id AKIAX is given twice"),
])
def test_malformed_root_keys_stop_nimbus_at_start(value, message):
    env = {**os.environ, "NIMBUS_ROOT_KEYS": value}
    p = subprocess.run([str(_nimbus_binary()), "serve", "--listen", "127.0.0.1:0", "--in-memory"], env=env, capture_output=True, timeout=30)
    assert p.returncode != 0
    assert message in (p.stdout + p.stderr).decode(), (p.stdout + p.stderr).decode()


def test_log_group_resource_tags(url):
    logs = client(url, "logs")
    blue, red = unique_name("/app/blue-"), unique_name("/app/red-")
    logs.create_log_group(logGroupName=blue, tags={"team": "blue"})
    logs.create_log_group(logGroupName=red)
    logs.tag_log_group(logGroupName=red, tags={"team": "red"})
    u = User(url, {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*",
                   "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}})
    mine = u.client("logs")
    stream_arn = lambda g: "arn:aws:logs:%s:%s:log-group:%s:log-stream:s" % (REGION, ACCT, g)
    assert agrees(u, "logs:CreateLogStream", stream_arn(blue), {"aws:ResourceTag/team": "blue"}, lambda: mine.create_log_stream(logGroupName=blue, logStreamName="s"))
    assert not agrees(u, "logs:CreateLogStream", stream_arn(red), {"aws:ResourceTag/team": "red"}, lambda: mine.create_log_stream(logGroupName=red, logStreamName="s"))


def test_lambda_function_arn_of_an_existing_mapping(url, python_function_zip):
    """Get/DeleteEventSourceMapping are keyed by the mapping's function (lambda:FunctionArn)."""
    from conftest import python_runtime
    iam, lam, sqs = client(url, "iam"), client(url, "lambda"), client(url, "sqs")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=unique_name("map-role"), AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
    uuids = {}
    for prefix in ("ok", "other"):
        fn = unique_name(prefix + "-map")
        lam.create_function(FunctionName=fn, Runtime=python_runtime(), Role=role["Arn"], Handler="handler.echo", Code={"ZipFile": python_function_zip})
        q = sqs.create_queue(QueueName=unique_name("map-q"), Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        uuids[prefix] = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, Enabled=False)["UUID"]
    pattern = "arn:aws:lambda:%s:%s:function:ok-*" % (REGION, ACCT)
    u = User(url, {"Effect": "Allow", "Action": ["lambda:GetEventSourceMapping", "lambda:DeleteEventSourceMapping"], "Resource": "*",
                   "Condition": {"ArnLike": {"lambda:FunctionArn": pattern}}})
    mine = u.client("lambda")
    assert allowed(lambda: mine.get_event_source_mapping(UUID=uuids["ok"]))
    assert not allowed(lambda: mine.get_event_source_mapping(UUID=uuids["other"]))
    assert not allowed(lambda: mine.delete_event_source_mapping(UUID=uuids["other"]))
    mine.delete_event_source_mapping(UUID=uuids["ok"])


def test_session_tags_and_source_identity_need_the_trust_policy(url):
    """IAM User Guide, "Pass session tags in AWS STS" (the trust policy must allow
    sts:TagSession) and "Monitor and control actions taken with assumed roles"
    (sts:SetSourceIdentity)."""
    name = unique_name("tagging")
    iam = client(url, "iam")
    iam.create_user(UserName=name)
    user_arn = "arn:aws:iam::%s:user/%s" % (ACCT, name)
    role_name = unique_name("trusting")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=doc({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc({"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"], "Resource": role}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    sts = client(url, "sts", k["AccessKeyId"], k["SecretAccessKey"])
    assert allowed(lambda: sts.assume_role(RoleArn=role, RoleSessionName="plain"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role, RoleSessionName="tagged", Tags=[{"Key": "team", "Value": "blue"}])
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert "sts:TagSession" in e.value.response["Error"]["Message"]
    assert not allowed(lambda: sts.assume_role(RoleArn=role, RoleSessionName="traced", SourceIdentity="alice"))
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}))
    assert allowed(lambda: sts.assume_role(RoleArn=role, RoleSessionName="tagged", Tags=[{"Key": "team", "Value": "blue"}]))
    assert allowed(lambda: sts.assume_role(RoleArn=role, RoleSessionName="traced", SourceIdentity="alice"))
