"""IAM and STS operations no other test calls, through boto3 and the AWS CLI: each with
its happy path and an error as AWS answers it (IAM API reference,
https://docs.aws.amazon.com/IAM/latest/APIReference/; STS API reference,
https://docs.aws.amazon.com/STS/latest/APIReference/), and the families nimbus does not
serve answering "not supported by nimbus". Each test works in its own account (a 12-digit
access key id names the account in the open mode)."""

import json
import random

import pytest
from botocore.exceptions import ClientError

TRUST_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ALLOW_SQS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})
THUMB = "6938fd4d98bab03faadb97b34396831e3780aea1"


@pytest.fixture
def account():
    return "%012d" % random.randrange(10**11, 10**12)


@pytest.fixture
def iam(make_client, account):
    return make_client("iam", access_key=account)


def error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_permissions_boundaries_of_roles_and_users(iam, account):
    """PutRolePermissionsBoundary / DeleteRolePermissionsBoundary and the user forms."""
    boundary = iam.create_policy(PolicyName="edge", PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.create_user(UserName="u")
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=boundary)
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=boundary)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    iam.delete_role_permissions_boundary(RoleName="r")
    iam.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]
    missing = "arn:aws:iam::%s:policy/nope" % account
    with pytest.raises(ClientError) as e:
        iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=missing)
    assert error(e)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.delete_user_permissions_boundary(UserName="ghost")
    assert error(e) == ("NoSuchEntity", "The user with name ghost cannot be found.", 404)


def test_group_and_user_attachments_and_list_groups(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.create_group(GroupName="g1", Path="/teams/")
    iam.create_group(GroupName="g2")
    iam.create_user(UserName="u")
    iam.attach_group_policy(GroupName="g1", PolicyArn=arn)
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="g1")["AttachedPolicies"]] == [arn]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]] == [arn]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["g1", "g2"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]] == ["g1"]
    iam.detach_group_policy(GroupName="g1", PolicyArn=arn)
    assert iam.list_attached_group_policies(GroupName="g1")["AttachedPolicies"] == []
    with pytest.raises(ClientError) as e:
        iam.detach_group_policy(GroupName="g1", PolicyArn=arn)
    assert error(e)[:2] == ("NoSuchEntity", "Policy %s was not found." % arn) or error(e)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.list_attached_group_policies(GroupName="nope")
    assert error(e) == ("NoSuchEntity", "The group with name nope cannot be found.", 404)


def test_instance_profiles_list_and_tags(iam):
    iam.create_instance_profile(InstanceProfileName="web", Path="/app/")
    iam.create_instance_profile(InstanceProfileName="db")
    assert sorted(p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]) == ["db", "web"]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/app/")["InstanceProfiles"]] == ["web"]
    iam.tag_instance_profile(InstanceProfileName="web", Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}])
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["team"])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        iam.tag_instance_profile(InstanceProfileName="nope", Tags=[{"Key": "k", "Value": "v"}])
    assert error(e)[0] == "NoSuchEntity"


def test_user_and_policy_tags(iam):
    iam.create_user(UserName="u")
    iam.tag_user(UserName="u", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_user(UserName="u", TagKeys=["a"])
    assert iam.list_user_tags(UserName="u")["Tags"] == [{"Key": "b", "Value": "2"}]
    arn = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "owner", "Value": "ops"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["owner"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []
    with pytest.raises(ClientError) as e:
        iam.tag_user(UserName="ghost", Tags=[{"Key": "k", "Value": "v"}])
    assert error(e) == ("NoSuchEntity", "The user with name ghost cannot be found.", 404)


def test_update_role_description(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_LAMBDA)
    out = iam.update_role_description(RoleName="r", Description="runs the nightly job")
    assert out["Role"]["Description"] == "runs the nightly job"
    assert iam.get_role(RoleName="r")["Role"]["Description"] == "runs the nightly job"
    with pytest.raises(ClientError) as e:
        iam.update_role_description(RoleName="ghost", Description="x")
    assert error(e) == ("NoSuchEntity", "The role with name ghost cannot be found.", 404)


def test_oidc_provider_client_ids_thumbprints_and_tags(iam, account):
    arn = iam.create_open_id_connect_provider(Url="https://issuer.example.com", ClientIDList=["a", "b"], ThumbprintList=[THUMB])["OpenIDConnectProviderArn"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a")
    other = "a" * 40
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[other])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["b"] and got["ThumbprintList"] == [other]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "k", "Value": "v"}, {"Key": "x", "Value": "y"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["x"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    missing = "arn:aws:iam::%s:oidc-provider/nope.example.com" % account
    with pytest.raises(ClientError) as e:
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=missing, ThumbprintList=[THUMB])
    assert error(e)[0] == "NoSuchEntity"


def test_saml_providers_list_and_update(iam, account):
    metadata = "<EntityDescriptor>" + "x" * 1200 + "</EntityDescriptor>"
    arn = iam.create_saml_provider(Name="okta", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [arn]
    newer = "<EntityDescriptor>" + "y" * 1200 + "</EntityDescriptor>"
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=newer)["SAMLProviderArn"] == arn
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == newer
    with pytest.raises(ClientError) as e:
        iam.update_saml_provider(SAMLProviderArn="arn:aws:iam::%s:saml-provider/nope" % account, SAMLMetadataDocument=newer)
    assert error(e)[0] == "NoSuchEntity"


def test_mfa_devices_list_empty_and_other_families_are_not_supported(iam):
    iam.create_user(UserName="u")
    assert iam.list_mfa_devices(UserName="u")["MFADevices"] == []
    calls = [
        lambda: iam.change_password(OldPassword="Passw0rd!Passw0rd!", NewPassword="Passw0rd!Passw0rd!2"),
        lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="m"),
        lambda: iam.upload_server_certificate(ServerCertificateName="c", CertificateBody="-----BEGIN CERTIFICATE-----x", PrivateKey="-----BEGIN PRIVATE KEY-----x"),
        lambda: iam.upload_ssh_public_key(UserName="u", SSHPublicKeyBody="ssh-rsa AAAA"),
        lambda: iam.create_service_specific_credential(UserName="u", ServiceName="codecommit.amazonaws.com"),
        lambda: iam.generate_credential_report(),
        lambda: iam.get_account_password_policy(),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert "not supported by nimbus" in error(e)[1], error(e)


def test_sts_federation_token_and_decode_authorization_message(make_client, account):
    iam = make_client("iam", access_key=account)
    iam.create_user(UserName="fed")
    key = iam.create_access_key(UserName="fed")["AccessKey"]
    sts = make_client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    out = sts.get_federation_token(Name="contractor", DurationSeconds=900, Policy=ALLOW_SQS)
    assert out["FederatedUser"]["Arn"] == "arn:aws:sts::%s:federated-user/contractor" % account
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as e:
        sts.get_federation_token(Name="has spaces")
    assert error(e)[0] == "ValidationError"
    with pytest.raises(ClientError) as e:
        sts.decode_authorization_message(EncodedMessage="not-a-message-nimbus-wrote")
    assert error(e)[0] == "InvalidAuthorizationMessageException"


def test_sts_saml_and_root_are_not_supported(make_client, account):
    sts = make_client("sts", access_key=account)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_saml(RoleArn="arn:aws:iam::%s:role/r" % account, PrincipalArn="arn:aws:iam::%s:saml-provider/p" % account, SAMLAssertion="x" * 8)
    assert "not supported by nimbus" in error(e)[1]


def test_aws_cli_iam_commands(aws_cli):
    """The AWS CLI's iam commands: create-user, tag-user, list-user-tags, create-group,
    add-user-to-group, get-group, list-groups, put-user-policy, get-user-policy,
    delete-* and an error's exit code."""
    user, group = "cli-user-%d" % random.randrange(10**9), "cli-group-%d" % random.randrange(10**9)
    assert aws_cli("iam", "create-user", "--user-name", user)["User"]["UserName"] == user
    aws_cli("iam", "tag-user", "--user-name", user, "--tags", "Key=team,Value=blue")
    assert aws_cli("iam", "list-user-tags", "--user-name", user)["Tags"] == [{"Key": "team", "Value": "blue"}]
    aws_cli("iam", "create-group", "--group-name", group)
    aws_cli("iam", "add-user-to-group", "--group-name", group, "--user-name", user)
    assert [u["UserName"] for u in aws_cli("iam", "get-group", "--group-name", group)["Users"]] == [user]
    assert group in [g["GroupName"] for g in aws_cli("iam", "list-groups")["Groups"]]
    aws_cli("iam", "put-user-policy", "--user-name", user, "--policy-name", "send", "--policy-document", ALLOW_SQS)
    got = aws_cli("iam", "get-user-policy", "--user-name", user, "--policy-name", "send")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "sqs:SendMessage"
    aws_cli("iam", "delete-user-policy", "--user-name", user, "--policy-name", "send")
    aws_cli("iam", "remove-user-from-group", "--group-name", group, "--user-name", user)
    aws_cli("iam", "delete-group", "--group-name", group)
    aws_cli("iam", "delete-user", "--user-name", user)
    p = aws_cli("iam", "get-user", "--user-name", user, expect_ok=False)
    assert p.returncode != 0 and "NoSuchEntity" in p.stderr, p.stderr
