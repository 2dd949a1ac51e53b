"""API Gateway v2 authorizers with boto3 and raw HTTP (requests): a JWT authorizer whose
OpenID issuer this test serves over plain http (``http.server``; RS256 tokens signed with
the ``openssl`` CLI), a Lambda REQUEST authorizer with simple responses, and an AWS_IAM
route called unsigned and SigV4-signed (botocore's signer, service ``execute-api``).

AWS references (API Gateway developer guide, "Controlling and managing access to an HTTP
API in API Gateway"): "Control access to HTTP APIs with JWT authorizers", "Troubleshooting
issues with HTTP API JWT authorizers" (401 with ``www-authenticate``), "Control access to
HTTP APIs with AWS Lambda authorizers", "Control access to HTTP APIs with IAM authorization".
"""

import base64
import http.server
import json
import subprocess
import threading
import time

import boto3
import botocore.exceptions
import pytest
import requests

from conftest import ACCESS_KEY, FUNCTIONS_DIR, REGION, SECRET_KEY, _CLIENT_CONFIG, nimbus_server, python_runtime, sign_request, unique_name, zip_directory

ACCOUNT = "000000000000"
LAMBDA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True, timeout=60).stdout


class Issuer:
    """An OpenID issuer over plain http on 127.0.0.1 with one RSA key."""

    def __init__(self, keyfile):
        openssl("genrsa", "-out", str(keyfile), "2048")
        self.keyfile = keyfile
        modulus = openssl("rsa", "-in", str(keyfile), "-noout", "-modulus").decode().strip().split("=", 1)[1]
        jwk = {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    body = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, **overrides):
        now = int(time.time())
        claims = {"iss": self.url, "aud": "my-app", "sub": "bob", "iat": now - 5, "exp": now + 300}
        claims.update(overrides)
        signed = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode()) + "." + b64url(json.dumps(claims).encode())
        return signed + "." + b64url(openssl("dgst", "-sha256", "-sign", str(self.keyfile), input=signed.encode()))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    i = Issuer(tmp_path_factory.mktemp("jwt") / "key.pem")
    yield i
    i.server.shutdown()


@pytest.fixture(scope="module")
def apigw(make_client):
    return make_client("apigatewayv2")


def make_api(apigw, lambda_function, version="2.0"):
    """An HTTP API with an echo integration and an auto-deployed $default stage."""
    fn = lambda_function(handler="handler.echo_proxy")
    api_id = apigw.create_api(Name="auth", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion=version,
        IntegrationUri=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}")["IntegrationId"]
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id, integration


def test_jwt_authorizer_with_boto3(apigw, lambda_function, issuer, endpoint):
    api_id, integration = make_api(apigw, lambda_function)
    authorizer = apigw.create_authorizer(
        ApiId=api_id, Name="jwt", AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]})
    assert authorizer["AuthorizerType"] == "JWT" and len(authorizer["AuthorizerId"]) == 7
    apigw.create_route(ApiId=api_id, RouteKey="GET /me", Target=f"integrations/{integration}",
                       AuthorizationType="JWT", AuthorizerId=authorizer["AuthorizerId"], AuthorizationScopes=["profile"])
    url = f"{endpoint}/_aws/execute-api/{api_id}/me"

    r = requests.get(url, timeout=30)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    r = requests.get(url, headers={"Authorization": "Bearer " + issuer.token(scope="profile email")}, timeout=60)
    assert r.status_code == 200, r.text
    jwt = r.json()["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "bob" and jwt["scopes"] == ["profile", "email"]
    r = requests.get(url, headers={"Authorization": "Bearer " + issuer.token(scope="profile", aud="other")}, timeout=30)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert r.headers["www-authenticate"] == 'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'
    r = requests.get(url, headers={"Authorization": "Bearer " + issuer.token(scope="profile", exp=int(time.time()) - 60)}, timeout=30)
    assert r.status_code == 401 and "the token has expired" in r.headers["www-authenticate"]
    r = requests.get(url, headers={"Authorization": "Bearer " + issuer.token(scope="email")}, timeout=30)
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})

    # The route holds the authorizer: DeleteAuthorizer is a ConflictException.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer["AuthorizerId"])
    assert e.value.response["Error"]["Code"] == "ConflictException"
    apigw.delete_api(ApiId=api_id)


def test_lambda_authorizer_simple_responses(apigw, lambda_function, endpoint):
    api_id, integration = make_api(apigw, lambda_function)
    auth_fn = lambda_function(handler="authorizers.simple")
    authorizer = apigw.create_authorizer(
        ApiId=api_id, Name="fn", AuthorizerType="REQUEST", IdentitySource=["$request.querystring.token"],
        AuthorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:function:{auth_fn}/invocations",
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True)
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    apigw.create_route(ApiId=api_id, RouteKey="GET /things", Target=f"integrations/{integration}",
                       AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"])
    url = f"{endpoint}/_aws/execute-api/{api_id}/things"

    assert requests.get(url, timeout=30).status_code == 401
    r = requests.get(url, params={"token": "allow"}, timeout=60)
    assert r.status_code == 200, r.text
    ctx = r.json()["requestContext"]["authorizer"]["lambda"]
    assert (ctx["token"], ctx["type"], ctx["arn"]) == ("allow", "REQUEST", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/$default/GET/things")
    r = requests.get(url, params={"token": "deny"}, timeout=60)
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = requests.get(url, params={"token": "boom"}, timeout=60)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    apigw.delete_api(ApiId=api_id)


def test_aws_iam_route_needs_a_signature(tmp_path):
    env = {"NIMBUS_ROOT_ACCESS_KEY_ID": ACCESS_KEY, "NIMBUS_ROOT_SECRET_ACCESS_KEY": SECRET_KEY}
    with nimbus_server(env=env) as url:
        session = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=_CLIENT_CONFIG)
        apigw, awslambda = boto3.client("apigatewayv2", **session), boto3.client("lambda", **session)
        fn = unique_name("echo")
        awslambda.create_function(FunctionName=fn, Runtime=python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo_proxy",
                                  Code={"ZipFile": zip_directory(FUNCTIONS_DIR / "python")})
        api = apigw.create_api(Name="iam", ProtocolType="HTTP", Target=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}", RouteKey="GET /private")
        route = apigw.get_routes(ApiId=api["ApiId"])["Items"][0]
        apigw.update_route(ApiId=api["ApiId"], RouteId=route["RouteId"], AuthorizationType="AWS_IAM")
        target = f"{url}/_aws/execute-api/{api['ApiId']}/private"

        r = requests.get(target, timeout=30)
        assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
        headers = sign_request("GET", target, b"", {}, "execute-api", REGION, ACCESS_KEY, SECRET_KEY)
        r = requests.get(target, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        iam = r.json()["requestContext"]["authorizer"]["iam"]
        assert (iam["accessKey"], iam["accountId"], iam["userArn"]) == (ACCESS_KEY, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
        bad = sign_request("GET", target, b"", {}, "execute-api", REGION, ACCESS_KEY, "not-the-secret")
        r = requests.get(target, headers=bad, timeout=30)
        assert r.status_code == 403 and r.json()["message"].startswith("The request signature we calculated does not match")
