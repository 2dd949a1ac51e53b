"""STS AssumeRoleWithWebIdentity against a real HTTPS OpenID Connect issuer run by this
test process (``http.server`` + ``ssl`` with a self-signed certificate made by the
``openssl`` CLI). Tokens are RS256 JWTs signed with ``openssl dgst -sha256 -sign``.

AWS references: STS API reference "AssumeRoleWithWebIdentity" (errors InvalidIdentityToken,
IDPCommunicationError); IAM User Guide "Create an OpenID Connect (OIDC) identity provider in
IAM" and "Obtain the thumbprint for an OpenID Connect identity provider" (the issuer's keys
come from ``/.well-known/openid-configuration`` → ``jwks_uri``; a certificate chain that is
not publicly trusted is trusted through the SHA-1 thumbprint of its top certificate); AWS
Knowledge Center "InvalidIdentityToken - OpenIDConnect provider's HTTPS certificate doesn't
match configured thumbprint"."""

import base64
import contextlib
import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
import uuid

import boto3
import botocore.exceptions
import pytest
import requests

from conftest import ACCESS_KEY, REGION, SECRET_KEY, _CLIENT_CONFIG, nimbus_server
from nimbus_helpers import private_ca

AUDIENCE = "nimbus-web-identity-test"
NO_KEY = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
BAD_THUMBPRINT = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
BAD_TOKEN = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True, timeout=60).stdout


class SigningKey:
    """An RSA key made and used through the openssl CLI."""

    def __init__(self, path, kid):
        openssl("genrsa", "-out", str(path), "2048")
        self.path, self.kid = path, kid
        modulus = openssl("rsa", "-in", str(path), "-noout", "-modulus").decode().strip().split("=", 1)[1]
        self.jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}

    def sign(self, data):
        return openssl("dgst", "-sha256", "-sign", str(self.path), input=data)


class EcSigningKey:
    """A P-256 key made and used through the openssl CLI (JWS ES256: raw r||s signatures)."""

    def __init__(self, path, kid):
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path))
        self.path, self.kid = path, kid
        point = openssl("ec", "-in", str(path), "-pubout", "-outform", "DER")[-65:]
        assert point[0] == 4
        self.jwk = {"kty": "EC", "crv": "P-256", "kid": kid, "x": b64url(point[1:33]), "y": b64url(point[33:])}

    def sign(self, data):
        der = openssl("dgst", "-sha256", "-sign", str(self.path), input=data)
        # ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, short lengths for P-256.
        assert der[0] == 0x30 and der[2] == 0x02
        r_len = der[3]
        r = der[4:4 + r_len]
        s_len = der[5 + r_len]
        s = der[6 + r_len:6 + r_len + s_len]
        return r.lstrip(b"\0").rjust(32, b"\0") + s.lstrip(b"\0").rjust(32, b"\0")


def make_token(key, claims, kid=None, alg="RS256", signer=None):
    header = {"alg": alg, "typ": "JWT", "kid": kid if kid is not None else key.kid}
    signed = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = (signer or key).sign(signed.encode()) if signer is not False else b""
    return signed + "." + b64url(signature)


class Issuer:
    """An HTTPS OIDC issuer on 127.0.0.1: discovery document and a JWKS whose keys the test
    can change; counts JWKS fetches."""

    def __init__(self, cert, keyfile, keys):
        self.keys = list(keys)
        self.jwks_fetches = 0
        self.broken = False
        self.huge = False
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks.json", "id_token_signing_alg_values_supported": ["RS256"]}
                elif self.path == "/jwks.json":
                    issuer.jwks_fetches += 1
                    body = {"keys": [k.jwk for k in issuer.keys]}
                    if issuer.huge:
                        body["padding"] = "x" * (1 << 20)
                else:
                    self.send_error(404)
                    return
                data = b"<html>not a key set</html>" if issuer.broken and self.path == "/jwks.json" else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(keyfile))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("oidc")
    cert, key = d / "tls.crt", d / "tls.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    fingerprint = openssl("x509", "-in", str(cert), "-noout", "-fingerprint", "-sha1").decode().strip().split("=", 1)[1]
    return {
        "cert": cert,
        "key": key,
        # AWS takes the thumbprint as 40 hex digits; case does not matter.
        "thumbprint": fingerprint.replace(":", "").upper(),
        "k1": SigningKey(d / "k1.pem", "key-1"),
        "k2": SigningKey(d / "k2.pem", "key-2"),
        "ec": EcSigningKey(d / "ec.pem", "ec-1"),
    }


def sha1_thumbprint(cert):
    return openssl("x509", "-in", str(cert), "-noout", "-fingerprint", "-sha1").decode().strip().split("=", 1)[1].replace(":", "")


@pytest.fixture(scope="module")
def ca_chain(tmp_path_factory):
    """A private CA and a server certificate it signed; the server sends leaf + CA."""
    d = tmp_path_factory.mktemp("oidc-ca")
    ca_crt, leaf, key = private_ca(d, "nimbus test CA")
    chain = d / "chain.crt"
    chain.write_bytes(leaf.read_bytes() + ca_crt.read_bytes())
    return {"cert": chain, "key": key, "ca": sha1_thumbprint(ca_crt), "leaf": sha1_thumbprint(leaf), "ca_cert": ca_crt}


@pytest.fixture(scope="module")
def server():
    with nimbus_server(["--clock-control"]) as url:
        yield url


def client(url, service, key=ACCESS_KEY, secret=SECRET_KEY, token=None):
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
                                          aws_secret_access_key=secret, aws_session_token=token, config=_CLIENT_CONFIG)


@contextlib.contextmanager
def issuer_for(pki, keys):
    issuer = Issuer(pki["cert"], pki["key"], keys)
    try:
        yield issuer
    finally:
        issuer.stop()


def register(server, issuer_url, thumbprint):
    """An OIDC provider for `issuer_url` and a role trusting it; the role's ARN."""
    iam = client(server, "iam")
    provider = iam.create_open_id_connect_provider(Url=issuer_url, ClientIDList=[AUDIENCE], ThumbprintList=[thumbprint])["OpenIDConnectProviderArn"]
    host = issuer_url[len("https://"):]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {host + ":aud": AUDIENCE}}}]}
    name = "web-" + uuid.uuid4().hex[:12]
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def claims(issuer_url, sub="user-1"):
    now = int(time.time())
    return {"iss": issuer_url, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 3 * 3600}


def assume(server, role_arn, token):
    return client(server, "sts").assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web-session", WebIdentityToken=token)


def error_of(fn):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        fn()
    e = info.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def issuer(pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        yield it


@pytest.fixture(scope="module")
def role(server, issuer, pki):
    return register(server, issuer.url, pki["thumbprint"])


def test_valid_token_gives_credentials_of_the_assumed_role(server, issuer, role, pki):
    out = assume(server, role, make_token(pki["k1"], claims(issuer.url, sub="alice")))
    assert out["SubjectFromWebIdentityToken"] == "alice"
    assert out["Audience"] == AUDIENCE
    creds = out["Credentials"]
    me = client(server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert me["Arn"].endswith(":assumed-role/%s/web-session" % role.split("/")[-1])


def test_thumbprint_is_case_insensitive(server, pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        role = register(server, it.url, pki["thumbprint"].lower())
        assume(server, role, make_token(pki["k1"], claims(it.url)))


def test_es256_token(server, pki):
    with issuer_for(pki, [pki["k1"], pki["ec"]]) as it:
        role = register(server, it.url, pki["thumbprint"])
        out = assume(server, role, make_token(pki["ec"], claims(it.url, sub="ec-user"), alg="ES256"))
        assert out["SubjectFromWebIdentityToken"] == "ec-user"
        # An RS256 token naming the EC key is refused (the key does not fit the algorithm).
        token = make_token(pki["ec"], claims(it.url), alg="RS256", signer=pki["k1"])
        assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", BAD_TOKEN, 400)


def test_no_kid_uses_the_only_key(server, pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        role = register(server, it.url, pki["thumbprint"])
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        signed = header + "." + b64url(json.dumps(claims(it.url)).encode())
        assume(server, role, signed + "." + b64url(pki["k1"].sign(signed.encode())))
        # With two keys published, a token without a kid names none of them.
        it.keys = [pki["k1"], pki["k2"]]
        requests.post(server + "/_nimbus/clock/advance?seconds=301", timeout=5)
        signed2 = header + "." + b64url(json.dumps(claims(it.url, sub="again")).encode())
        token = signed2 + "." + b64url(pki["k1"].sign(signed2.encode()))
        assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", NO_KEY, 400)


def test_thumbprint_of_the_top_certificate_of_the_chain(server, pki, ca_chain):
    # "Obtain the thumbprint for an OpenID Connect identity provider": the thumbprint is the
    # one of the top intermediate / root certificate the server sends, not of its own.
    chain_pki = dict(pki, cert=ca_chain["cert"], key=ca_chain["key"])
    with issuer_for(chain_pki, [pki["k1"]]) as it:
        role = register(server, it.url, ca_chain["ca"])
        assume(server, role, make_token(pki["k1"], claims(it.url)))
    with issuer_for(chain_pki, [pki["k1"]]) as it:
        role = register(server, it.url, ca_chain["leaf"])
        token = make_token(pki["k1"], claims(it.url))
        assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", BAD_THUMBPRINT, 400)


def test_ca_bundle_trusts_a_private_ca_for_the_jwks_fetch(pki, ca_chain):
    # `NIMBUS_CA_BUNDLE` adds roots to nimbus's outbound TLS: an issuer whose chain ends at
    # the bundle's CA is trusted as one with a public certificate is, so the thumbprint
    # does not decide (on `server`, without the bundle, the same setup with the leaf's
    # thumbprint is refused: test_thumbprint_of_the_top_certificate_of_the_chain).
    from conftest import nimbus_server

    chain_pki = dict(pki, cert=ca_chain["cert"], key=ca_chain["key"])
    with nimbus_server(env={"NIMBUS_CA_BUNDLE": str(ca_chain["ca_cert"])}) as url, issuer_for(chain_pki, [pki["k1"]]) as it:
        role = register(url, it.url, ca_chain["leaf"])
        creds = assume(url, role, make_token(pki["k1"], claims(it.url)))["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA")


def test_token_signed_by_another_key_is_invalid(server, issuer, role, pki):
    token = make_token(pki["k1"], claims(issuer.url), signer=pki["k2"])
    assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", BAD_TOKEN, 400)


def test_tampered_payload_is_invalid(server, issuer, role, pki):
    header, payload, signature = make_token(pki["k1"], claims(issuer.url, sub="alice")).split(".")
    forged = b64url(json.dumps(claims(issuer.url, sub="mallory")).encode())
    assert payload != forged
    assert error_of(lambda: assume(server, role, ".".join([header, forged, signature]))) == ("InvalidIdentityToken", BAD_TOKEN, 400)


def test_unknown_kid_is_invalid(server, issuer, role, pki):
    token = make_token(pki["k1"], claims(issuer.url), kid="no-such-key")
    assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", NO_KEY, 400)


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_none_and_hmac_are_refused(server, issuer, role, pki, alg):
    class Hmac:
        # HS256 keyed with the public modulus: the classic algorithm-confusion forgery.
        def sign(self, data):
            import hashlib, hmac
            return hmac.new(pki["k1"].jwk["n"].encode(), data, hashlib.sha256).digest()

    token = make_token(pki["k1"], claims(issuer.url), alg=alg, signer=False if alg == "none" else Hmac())
    assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", BAD_TOKEN, 400)


def test_wrong_thumbprint_for_a_self_signed_issuer(server, pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        role = register(server, it.url, "0" * 40)
        token = make_token(pki["k1"], claims(it.url))
        assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", BAD_THUMBPRINT, 400)
        assert it.jwks_fetches == 0


def test_issuer_down_is_idp_communication_error(server, pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        role = register(server, it.url, pki["thumbprint"])
        token = make_token(pki["k1"], claims(it.url))
    assert error_of(lambda: assume(server, role, token)) == ("IDPCommunicationError", NO_KEY, 400)


def test_keys_are_cached_and_refetched_on_unknown_kid_and_after_five_minutes(server, pki):
    k1, k2 = pki["k1"], pki["k2"]
    with issuer_for(pki, [k1]) as it:
        role = register(server, it.url, pki["thumbprint"])
        assume(server, role, make_token(k1, claims(it.url)))
        assume(server, role, make_token(k1, claims(it.url)))
        assert it.jwks_fetches == 1
        # The issuer rotates to k2: nimbus still uses its cached k1 ...
        it.keys = [k2]
        assume(server, role, make_token(k1, claims(it.url)))
        assert it.jwks_fetches == 1
        # ... and refetches once for a kid it does not know.
        assume(server, role, make_token(k2, claims(it.url)))
        assert it.jwks_fetches == 2
        # Cached keys are kept for five minutes of nimbus's clock.
        it.keys = [k1]
        assume(server, role, make_token(k2, claims(it.url)))
        assert it.jwks_fetches == 2
        assert requests.post(server + "/_nimbus/clock/advance?seconds=301", timeout=5).status_code == 200
        it.keys = [k2]
        assume(server, role, make_token(k2, claims(it.url)))
        assert it.jwks_fetches == 3


def test_empty_key_set_and_broken_jwks(server, pki):
    with issuer_for(pki, []) as it:
        role = register(server, it.url, pki["thumbprint"])
        token = make_token(pki["k1"], claims(it.url))
        # No key for the token's kid.
        assert error_of(lambda: assume(server, role, token)) == ("InvalidIdentityToken", NO_KEY, 400)
        # A JWKS that is not JSON: the keys cannot be had.
        it.broken = True
        assert error_of(lambda: assume(server, role, token)) == ("IDPCommunicationError", NO_KEY, 400)


def test_oversized_jwks_and_non_200_are_idp_communication_errors(server, pki):
    with issuer_for(pki, [pki["k1"]]) as it:
        # A JWKS over 1 MiB is not read.
        it.huge = True
        role = register(server, it.url, pki["thumbprint"])
        token = make_token(pki["k1"], claims(it.url))
        assert error_of(lambda: assume(server, role, token)) == ("IDPCommunicationError", NO_KEY, 400)
        # An issuer URL with a path whose discovery document is not found (404).
        role = register(server, it.url + "/tenant", pki["thumbprint"])
        token = make_token(pki["k1"], claims(it.url + "/tenant"))
        assert error_of(lambda: assume(server, role, token)) == ("IDPCommunicationError", NO_KEY, 400)


def test_issuer_that_never_answers_times_out(server, pki):
    # A listener that accepts connections and never speaks: nimbus gives up after its
    # bounded wait (5 s) instead of hanging the call.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = "https://127.0.0.1:%d" % silent.getsockname()[1]
        role = register(server, url, pki["thumbprint"])
        token = make_token(pki["k1"], claims(url))
        started = time.monotonic()
        assert error_of(lambda: assume(server, role, token)) == ("IDPCommunicationError", NO_KEY, 400)
        assert time.monotonic() - started < 15
