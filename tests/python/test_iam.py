"""IAM through boto3 against a real nimbus: every operation family, with AWS's error codes
and messages (IAM API reference, https://docs.aws.amazon.com/IAM/latest/APIReference/).

Each test works in its own account (a 12-digit access key id names the account in the
open mode), so tests never see each other's entities.
"""

import json
import random
import urllib.parse

import pytest
from botocore.exceptions import ClientError

TRUST_LAMBDA = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
ALLOW_SQS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})


@pytest.fixture
def account():
    return "%012d" % random.randrange(10**11, 10**12)


@pytest.fixture
def iam(make_client, account):
    return make_client("iam", access_key=account)


@pytest.fixture
def unchecked_iam(endpoint, account):
    """An IAM client that skips botocore's own checks, to see the server's."""
    import boto3
    import botocore.config
    return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=account, aws_secret_access_key="test",
                        config=botocore.config.Config(parameter_validation=False))


@pytest.fixture
def sts_for(make_client):
    return lambda access_key, secret="test", token=None: make_client("sts", access_key=access_key, secret_key=secret) if token is None else _with_token(make_client, access_key, secret, token)


def _with_token(make_client, key, secret, token):
    client = make_client("sts", access_key=key, secret_key=secret)
    client._request_signer._credentials.token = token
    return client


def error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


# ---- roles: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html


def test_role_lifecycle_and_documents_come_back_decoded(iam, account):
    out = iam.create_role(RoleName="lambda-ex", Path="/service/", AssumeRolePolicyDocument=TRUST_LAMBDA, Description="d", MaxSessionDuration=7200, Tags=[{"Key": "team", "Value": "a"}])
    role = out["Role"]
    assert role["Arn"] == "arn:aws:iam::%s:role/service/lambda-ex" % account
    assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
    # boto3 URL-decodes and parses the document IAM returns URL-encoded.
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    got = iam.get_role(RoleName="LAMBDA-EX")["Role"]  # names are case-insensitive
    assert got["RoleName"] == "lambda-ex" and got["MaxSessionDuration"] == 7200 and got["Description"] == "d"
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    iam.update_role(RoleName="lambda-ex", MaxSessionDuration=3600)
    assert iam.get_role(RoleName="lambda-ex")["Role"]["MaxSessionDuration"] == 3600
    iam.update_assume_role_policy(RoleName="lambda-ex", PolicyDocument=TRUST_LAMBDA.replace("lambda.amazonaws.com", "states.amazonaws.com"))
    assert "states" in json.dumps(iam.get_role(RoleName="lambda-ex")["Role"]["AssumeRolePolicyDocument"])
    iam.delete_role(RoleName="lambda-ex")
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="lambda-ex")
    assert error(e) == ("NoSuchEntity", "The role with name lambda-ex cannot be found.", 404)


def test_role_errors_as_aws_words_them(iam, unchecked_iam):
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=TRUST_LAMBDA)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="R1", AssumeRolePolicyDocument=TRUST_LAMBDA)
    assert error(e) == ("EntityAlreadyExists", "Role with name R1 already exists.", 409)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="bad name", AssumeRolePolicyDocument=TRUST_LAMBDA)
    assert error(e)[0] == "ValidationError"
    assert "Member must satisfy regular expression pattern" in error(e)[1]
    with pytest.raises(ClientError) as e:
        unchecked_iam.create_role(RoleName="r2", AssumeRolePolicyDocument=TRUST_LAMBDA, MaxSessionDuration=100)
    assert error(e)[:2] == ("ValidationError", "1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="r2", AssumeRolePolicyDocument="{not json")
    assert error(e)[:2] == ("MalformedPolicyDocument", "This policy contains invalid Json")
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="r2", Path="noslash", AssumeRolePolicyDocument=TRUST_LAMBDA)
    assert error(e)[0] == "ValidationError"
    # Nothing was created by the failed calls.
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["r1"]


def test_delete_role_conflicts_until_policies_and_profiles_are_gone(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="r")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
    iam.detach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    iam.put_role_policy(RoleName="r", PolicyName="inline", PolicyDocument=ALLOW_SQS)
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="r")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    iam.delete_role_policy(RoleName="r", PolicyName="inline")
    iam.create_instance_profile(InstanceProfileName="p")
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="r")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    assert iam.get_instance_profile(InstanceProfileName="p")["InstanceProfile"]["Roles"][0]["RoleName"] == "r"
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="r")["InstanceProfiles"]] == ["p"]
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    assert error(e)[0] == "LimitExceeded"
    iam.remove_role_from_instance_profile(InstanceProfileName="p", RoleName="r")
    iam.delete_instance_profile(InstanceProfileName="p")
    iam.delete_role(RoleName="r")


def test_list_roles_paginates_with_marker_and_path_prefix(iam):
    for i in range(5):
        iam.create_role(RoleName="role-%d" % i, Path="/a/" if i % 2 else "/b/", AssumeRolePolicyDocument=TRUST_LAMBDA)
    page = iam.list_roles(MaxItems=2)
    assert page["IsTruncated"] and len(page["Roles"]) == 2
    rest = iam.list_roles(Marker=page["Marker"])
    assert not rest["IsTruncated"] and len(rest["Roles"]) == 3
    names = [r["RoleName"] for r in page["Roles"] + rest["Roles"]]
    assert names == ["role-%d" % i for i in range(5)]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/a/")["Roles"]] == ["role-1", "role-3"]
    assert [r["RoleName"] for r in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1}).build_full_result()["Roles"]] == names


def test_role_tags(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.tag_role(RoleName="r", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_role(RoleName="r", Tags=[{"Key": "A", "Value": "3"}])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "A", "Value": "3"}, {"Key": "b", "Value": "2"}]
    iam.untag_role(RoleName="r", TagKeys=["b"])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "A", "Value": "3"}]
    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName="r", Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
    assert error(e) == ("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)


def test_service_linked_roles(iam):
    role = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]
    assert role["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    assert role["RoleName"].startswith("AWSServiceRoleFor")
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=role["RoleName"])
    assert error(e)[0] == "UnmodifiableEntity"
    task = iam.delete_service_linked_role(RoleName=role["RoleName"])["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


# ---- policies: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html


def test_managed_policy_versions(iam, account):
    p = iam.create_policy(PolicyName="send", PolicyDocument=ALLOW_SQS, Description="x")["Policy"]
    arn = p["Arn"]
    assert arn == "arn:aws:iam::%s:policy/send" % account
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["IsAttachable"]
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_SQS, SetAsDefault=(i == 3))["PolicyVersion"]
        assert v["VersionId"] == "v%d" % i
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_SQS)
    assert error(e) == ("LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.", 409)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error(e) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, True, False, False]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == "sqs:SendMessage"
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error(e)[0] == "DeleteConflict"
    for v in ("v1", "v2", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert error(e) == ("NoSuchEntity", "Policy %s was not found." % arn, 404)


def test_attachments_counts_and_entities(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [r["RoleName"] for r in ents["PolicyRoles"]] == ["r"]
    assert [u["UserName"] for u in ents["PolicyUsers"]] == ["u"]
    assert [g["GroupName"] for g in ents["PolicyGroups"]] == ["g"]
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == ["p"]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error(e) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert error(e) == ("NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as e:
        iam.detach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert error(e)[0] == "NoSuchEntity"


def test_aws_managed_policy_catalogue(iam):
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
    p = iam.get_policy(PolicyArn=arn)["Policy"]
    assert p["PolicyName"] == "AWSLambdaSQSQueueExecutionRole" and p["Path"] == "/service-role/"
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=p["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert "sqs:ReceiveMessage" in doc["Statement"][0]["Action"]
    names = [x["PolicyName"] for x in iam.list_policies(Scope="AWS")["Policies"]]
    assert "AdministratorAccess" in names and "AWSLambdaBasicExecutionRole" in names
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_SQS)
    assert error(e)[0] == "AccessDenied"


def test_inline_policies_for_users_groups_and_roles(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    for kind, name in (("role", "r"), ("user", "u"), ("group", "g")):
        put = getattr(iam, "put_%s_policy" % kind)
        get = getattr(iam, "get_%s_policy" % kind)
        lst = getattr(iam, "list_%s_policies" % kind)
        delete = getattr(iam, "delete_%s_policy" % kind)
        key = {"role": "RoleName", "user": "UserName", "group": "GroupName"}[kind]
        put(**{key: name}, PolicyName="p1", PolicyDocument=ALLOW_SQS)
        got = get(**{key: name}, PolicyName="p1")
        assert got[key] == name and got["PolicyDocument"]["Statement"][0]["Action"] == "sqs:SendMessage"
        assert lst(**{key: name})["PolicyNames"] == ["p1"]
        with pytest.raises(ClientError) as e:
            get(**{key: name}, PolicyName="nope")
        assert error(e) == ("NoSuchEntity", "The %s policy with name nope cannot be found." % kind, 404)
        with pytest.raises(ClientError) as e:
            put(**{key: name}, PolicyName="p2", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}))
        assert error(e)[:2] == ("MalformedPolicyDocument", "Policy document should not specify a principal.")
        delete(**{key: name}, PolicyName="p1")
        assert lst(**{key: name})["PolicyNames"] == []


# ---- users, groups, access keys


def test_users_groups_and_membership(iam, account):
    u = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert u["Arn"] == "arn:aws:iam::%s:user/eng/alice" % account and u["UserId"].startswith("AIDA")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    g = iam.get_group(GroupName="devs")
    assert [x["UserName"] for x in g["Users"]] == ["alice"]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["devs"]
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName="devs")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    iam.update_group(GroupName="devs", NewGroupName="engineers")
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["engineers"]
    iam.remove_user_from_group(GroupName="engineers", UserName="alice")
    iam.update_user(UserName="alice", NewUserName="alicia", NewPath="/ops/")
    assert iam.get_user(UserName="alicia")["User"]["Arn"] == "arn:aws:iam::%s:user/ops/alicia" % account
    assert iam.list_user_tags(UserName="alicia")["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.delete_user(UserName="alicia")
    iam.delete_group(GroupName="engineers")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="alicia")
    assert error(e) == ("NoSuchEntity", "The user with name alicia cannot be found.", 404)


def test_access_keys_authenticate_as_their_user(iam, sts_for, account):
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20 and len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    iam.create_access_key(UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="bob")
    assert error(e) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    ident = sts_for(key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::%s:user/bob" % account and ident["Account"] == account
    assert ident["UserId"] == iam.get_user(UserName="bob")["User"]["UserId"]
    assert sts_for(account).get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == account
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert used["UserName"] == "bob" and used["AccessKeyLastUsed"]["ServiceName"] == "sts" and used["AccessKeyLastUsed"]["Region"] == "us-east-1"
    assert "LastUsedDate" in used["AccessKeyLastUsed"]
    iam.update_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert [k["Status"] for k in iam.list_access_keys(UserName="bob")["AccessKeyMetadata"] if k["AccessKeyId"] == key["AccessKeyId"]] == ["Inactive"]
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="bob")
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    for k in iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName="bob")


def test_login_profiles_and_mfa_say_not_supported(iam):
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="u", Password="Passw0rd!Passw0rd!")
    assert "not supported by nimbus" in error(e)[1]


# ---- identity providers, account


def test_oidc_and_saml_providers(iam, account):
    arn = iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])["OpenIDConnectProviderArn"]
    assert arn == "arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com" % account
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.actions.githubusercontent.com" and got["ClientIDList"] == ["sts.amazonaws.com"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com", "other"]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com", ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])
    assert error(e)[0] == "EntityAlreadyExists"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    metadata = "<EntityDescriptor>" + "x" * 1200 + "</EntityDescriptor>"
    saml = iam.create_saml_provider(Name="okta", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    assert saml == "arn:aws:iam::%s:saml-provider/okta" % account
    assert iam.get_saml_provider(SAMLProviderArn=saml)["SAMLMetadataDocument"] == metadata
    iam.delete_saml_provider(SAMLProviderArn=saml)


def test_account_alias_summary_and_authorization_details(iam):
    iam.create_account_alias(AccountAlias="my-team")
    assert iam.list_account_aliases()["AccountAliases"] == ["my-team"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_role_policy(RoleName="r", PolicyName="i", PolicyDocument=ALLOW_SQS)
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Roles"] == 1 and summary["AccessKeysPerUserQuota"] == 2
    details = iam.get_account_authorization_details()
    role = details["RoleDetailList"][0]
    assert role["RoleName"] == "r" and role["RolePolicyList"][0]["PolicyName"] == "i"
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]
    assert [p["PolicyName"] for p in details["Policies"]] == ["AdministratorAccess"]
    iam.delete_account_alias(AccountAlias="my-team")


def test_unknown_iam_operation_is_not_supported(iam):
    with pytest.raises(ClientError) as e:
        iam.list_server_certificates()
    assert "is not supported by nimbus" in error(e)[1]


def test_raw_query_response_shape(endpoint):
    """IAM answers in XML with its namespace and the document URL-encoded (as AWS does)."""
    import requests
    doc = urllib.parse.quote(TRUST_LAMBDA)
    account = "%012d" % random.randrange(10**11, 10**12)
    body = "Action=CreateRole&Version=2010-05-08&RoleName=raw&AssumeRolePolicyDocument=" + doc
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20261203/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x" % account}
    r = requests.post(endpoint + "/", data=body, headers=headers)
    assert r.status_code == 200, r.text
    assert 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"' in r.text
    assert "<CreateRoleResult><Role>" in r.text
    assert "%7B%22Version%22" in r.text


# ---- Lambda runs as its role; the AWS CLI tutorial sequence
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-awscli.html


def test_function_calls_sts_as_its_execution_role(make_client, python_function_zip):
    from conftest import python_runtime, unique_name
    iam = make_client("iam")
    awslambda = make_client("lambda")
    role_name = unique_name("exec-role")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    name = unique_name("whoami")
    awslambda.create_function(FunctionName=name, Runtime=python_runtime(), Role=role["Arn"], Handler="handler.whoami", Code={"ZipFile": python_function_zip}, Timeout=30)
    try:
        awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
        out = awslambda.invoke(FunctionName=name, Payload=b"{}")
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        assert body["Arn"] == "arn:aws:sts::000000000000:assumed-role/%s/%s" % (role_name, name)
        assert body["UserId"] == "%s:%s" % (role["RoleId"], name)
        assert body["key_prefix"] == "ASIA" and body["has_token"]
        assert iam.get_role(RoleName=role_name)["Role"]["RoleLastUsed"].get("LastUsedDate")
    finally:
        awslambda.delete_function(FunctionName=name)


def test_aws_cli_lambda_tutorial_sequence(aws_cli, python_function_zip, tmp_path):
    from conftest import python_runtime, unique_name
    role_name = unique_name("lambda-ex")
    trust = tmp_path / "trust-policy.json"
    trust.write_text(TRUST_LAMBDA)
    role = aws_cli("iam", "create-role", "--role-name", role_name, "--assume-role-policy-document", "file://%s" % trust)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    p = aws_cli("iam", "attach-role-policy", "--role-name", role_name, "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", expect_ok=False)
    assert p.returncode == 0, p.stderr
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(python_function_zip)
    name = unique_name("my-function")
    aws_cli("lambda", "create-function", "--function-name", name, "--zip-file", "fileb://%s" % zip_path, "--handler", "handler.whoami",
            "--runtime", python_runtime(), "--role", role["Arn"], "--timeout", "30")
    aws_cli("lambda", "wait", "function-active-v2", "--function-name", name)
    out_file = tmp_path / "out.json"
    meta = aws_cli("lambda", "invoke", "--function-name", name, "--payload", "{}", str(out_file))
    assert meta["StatusCode"] == 200 and "FunctionError" not in meta, out_file.read_text()
    assert json.loads(out_file.read_text())["Arn"].startswith("arn:aws:sts::000000000000:assumed-role/%s/" % role_name)
    aws_cli("lambda", "delete-function", "--function-name", name, expect_ok=False)
    aws_cli("iam", "detach-role-policy", "--role-name", role_name, "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", expect_ok=False)
    assert aws_cli("iam", "delete-role", "--role-name", role_name, expect_ok=False).returncode == 0


# ---- the policy simulator: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html


def test_simulate_custom_and_principal_policy(iam, account):
    allow_q1 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:%s:q1" % account}]})
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Action": "sqs:Delete*", "Resource": "*"}]})
    out = iam.simulate_custom_policy(PolicyInputList=[allow_q1, deny_all], ActionNames=["sqs:SendMessage", "sqs:DeleteQueue"],
                                     ResourceArns=["arn:aws:sqs:us-east-1:%s:q1" % account, "arn:aws:sqs:us-east-1:%s:q2" % account])
    got = {(r["EvalActionName"], r["EvalResourceName"].rsplit(":", 1)[1]): r["EvalDecision"] for r in out["EvaluationResults"]}
    assert got == {("sqs:SendMessage", "q1"): "allowed", ("sqs:SendMessage", "q2"): "implicitDeny",
                   ("sqs:DeleteQueue", "q1"): "explicitDeny", ("sqs:DeleteQueue", "q2"): "explicitDeny"}
    allowed = [r for r in out["EvaluationResults"] if r["EvalDecision"] == "allowed"][0]
    assert allowed["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="send-q1", PolicyDocument=allow_q1)
    arn = iam.get_user(UserName="sim")["User"]["Arn"]
    res = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage"], ResourceArns=["arn:aws:sqs:us-east-1:%s:q1" % account])
    r = res["EvaluationResults"][0]
    assert r["EvalDecision"] == "allowed" and r["MatchedStatements"][0]["SourcePolicyId"] == "send-q1"
    cond = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    res = iam.simulate_custom_policy(PolicyInputList=[cond], ActionNames=["s3:GetObject"], ContextEntries=[{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["blue"], "ContextKeyType": "string"}])
    assert res["EvaluationResults"][0]["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as e:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::%s:user/nobody" % account, ActionNames=["sqs:SendMessage"])
    assert error(e)[0] == "NoSuchEntity"


def test_iam_is_global_not_per_region(make_client, account):
    """IAM entities are global: a role created through one region is the same in every
    region (IAM User Guide, "IAM is a global service")."""
    west = make_client("iam", region="eu-west-1", access_key=account)
    east = make_client("iam", region="us-east-1", access_key=account)
    west.create_role(RoleName="everywhere", AssumeRolePolicyDocument=TRUST_LAMBDA)
    assert east.get_role(RoleName="everywhere")["Role"]["Arn"] == "arn:aws:iam::%s:role/everywhere" % account


def test_context_keys_for_policies(iam):
    """GetContextKeysForCustomPolicy / …PrincipalPolicy list the condition keys the
    policies use, so a simulation can supply them."""
    cond = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringEquals": {"aws:PrincipalTag/team": "x"}}}]})
    assert iam.get_context_keys_for_custom_policy(PolicyInputList=[cond])["ContextKeyNames"] == ["aws:PrincipalTag/team", "aws:SourceIp"]
    iam.create_group(GroupName="ck")
    iam.put_group_policy(GroupName="ck", PolicyName="c", PolicyDocument=cond)
    iam.create_user(UserName="ck-user")
    iam.add_user_to_group(GroupName="ck", UserName="ck-user")
    arn = iam.get_user(UserName="ck-user")["User"]["Arn"]
    assert iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)["ContextKeyNames"] == ["aws:PrincipalTag/team", "aws:SourceIp"]
