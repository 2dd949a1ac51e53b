"""KMS through boto3, checked by an independent implementation: signatures nimbus makes
verify with the `openssl` command line using the DER SubjectPublicKeyInfo GetPublicKey
returns (RSASSA-PSS, RSASSA-PKCS1-v1_5, ECDSA; RAW and DIGEST messages), data that
openssl encrypts with RSA-OAEP decrypts in nimbus, the private key of GenerateDataKeyPair
parses in openssl and matches its public key, and a wrong encryption context fails.

AWS references:
https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html
https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html
"""

import hashlib
import os
import shutil
import subprocess

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line")


@pytest.fixture(scope="session")
def kms(make_client):
    return make_client("kms")


def openssl(*args, data=None):
    out = subprocess.run(["openssl", *args], input=data, capture_output=True)
    return out.returncode, out.stdout, out.stderr


def public_pem(kms, key_id, tmp_path):
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    (tmp_path / "pub.der").write_bytes(der)
    rc, _, err = openssl("pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "pub.der"), "-out", str(tmp_path / "pub.pem"))
    assert rc == 0, err
    return str(tmp_path / "pub.pem")


def openssl_verifies(pem, digest, signature, message, tmp_path, pss=False):
    (tmp_path / "sig.bin").write_bytes(signature)
    (tmp_path / "msg.bin").write_bytes(message)
    args = ["dgst", "-" + digest, "-verify", pem, "-signature", str(tmp_path / "sig.bin")]
    if pss:
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
    rc, out, err = openssl(*args, str(tmp_path / "msg.bin"))
    return rc == 0 and b"Verified OK" in out


RSA_ALGORITHMS = [
    ("RSASSA_PSS_SHA_256", "sha256", True),
    ("RSASSA_PSS_SHA_384", "sha384", True),
    ("RSASSA_PSS_SHA_512", "sha512", True),
    ("RSASSA_PKCS1_V1_5_SHA_256", "sha256", False),
    ("RSASSA_PKCS1_V1_5_SHA_384", "sha384", False),
    ("RSASSA_PKCS1_V1_5_SHA_512", "sha512", False),
]


@pytest.mark.parametrize("algorithm,digest,pss", RSA_ALGORITHMS)
def test_rsa_signature_verifies_in_openssl(kms, tmp_path, algorithm, digest, pss):
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    pem = public_pem(kms, key, tmp_path)
    message = b"signed by nimbus, checked by openssl"
    sig = kms.sign(KeyId=key, Message=message, SigningAlgorithm=algorithm)["Signature"]
    assert openssl_verifies(pem, digest, sig, message, tmp_path, pss)
    assert not openssl_verifies(pem, digest, sig, message + b"!", tmp_path, pss)
    # MessageType DIGEST: the caller hashes, the signature is the same kind.
    hashed = hashlib.new(digest, message).digest()
    sig = kms.sign(KeyId=key, Message=hashed, MessageType="DIGEST", SigningAlgorithm=algorithm)["Signature"]
    assert openssl_verifies(pem, digest, sig, message, tmp_path, pss)


@pytest.mark.parametrize(
    "spec,algorithm,digest,curve",
    [
        ("ECC_NIST_P256", "ECDSA_SHA_256", "sha256", b"P-256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384", "sha384", b"P-384"),
        ("ECC_NIST_P521", "ECDSA_SHA_512", "sha512", b"P-521"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256", "sha256", b"secp256k1"),
    ],
)
def test_ecdsa_signature_verifies_in_openssl(kms, tmp_path, spec, algorithm, digest, curve):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    pem = public_pem(kms, key, tmp_path)
    rc, out, _ = openssl("pkey", "-pubin", "-in", pem, "-text", "-noout")
    assert rc == 0 and curve in out, out
    message = b"ecdsa from nimbus"
    sig = kms.sign(KeyId=key, Message=message, SigningAlgorithm=algorithm)["Signature"]
    assert openssl_verifies(pem, digest, sig, message, tmp_path)
    assert not openssl_verifies(pem, digest, sig, b"tampered", tmp_path)
    hashed = hashlib.new(digest, message).digest()
    sig = kms.sign(KeyId=key, Message=hashed, MessageType="DIGEST", SigningAlgorithm=algorithm)["Signature"]
    assert openssl_verifies(pem, digest, sig, message, tmp_path)


@pytest.mark.parametrize("algorithm,md", [("RSAES_OAEP_SHA_1", "sha1"), ("RSAES_OAEP_SHA_256", "sha256")])
def test_openssl_oaep_ciphertext_decrypts_in_nimbus(kms, tmp_path, algorithm, md):
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    pem = public_pem(kms, key, tmp_path)
    rc, ciphertext, err = openssl(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", pem,
        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md, "-pkeyopt", "rsa_mgf1_md:" + md,
        data=b"offline encryption",
    )
    assert rc == 0, err
    out = kms.decrypt(KeyId=key, CiphertextBlob=ciphertext, EncryptionAlgorithm=algorithm)
    assert out["Plaintext"] == b"offline encryption"
    assert out["EncryptionAlgorithm"] == algorithm
    with pytest.raises(ClientError) as e:
        kms.decrypt(KeyId=key, CiphertextBlob=ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), EncryptionAlgorithm=algorithm)
    assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"


def test_data_key_pair_private_key_parses_in_openssl_and_matches_the_public_key(kms, tmp_path):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="RSA_2048")
    (tmp_path / "priv.der").write_bytes(pair["PrivateKeyPlaintext"])
    rc, pub_from_priv, err = openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "priv.der"), "-pubout", "-outform", "DER")
    assert rc == 0, err
    assert pub_from_priv == pair["PublicKey"]
    assert kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"] == pair["PrivateKeyPlaintext"]


def test_encryption_context_mismatch_is_invalid_ciphertext(kms):
    key = kms.create_key(Description="boto3")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"p", EncryptionContext={"k": "v"})["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "w"})
    assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"p"


@pytest.mark.parametrize("algorithm,md", [("RSAES_OAEP_SHA_1", "sha1"), ("RSAES_OAEP_SHA_256", "sha256")])
def test_imported_key_material_wrapped_by_openssl(kms, tmp_path, algorithm, md):
    """EXTERNAL origin: material wrapped with openssl under GetParametersForImport's public
    key is imported; a blob made with it decrypts after DeleteImportedKeyMaterial and a
    reimport of the same material, and other material is refused.
    https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html"""
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = os.urandom(32)

    def wrap(data):
        params = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_2048")
        (tmp_path / "wrap.der").write_bytes(params["PublicKey"])
        rc, _, err = openssl("pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "wrap.der"), "-out", str(tmp_path / "wrap.pem"))
        assert rc == 0, err
        rc, wrapped, err = openssl(
            "pkeyutl", "-encrypt", "-pubin", "-inkey", str(tmp_path / "wrap.pem"),
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md, "-pkeyopt", "rsa_mgf1_md:" + md,
            data=data,
        )
        assert rc == 0, err
        return params["ImportToken"], wrapped

    token, wrapped = wrap(material)
    kms.import_key_material(KeyId=key, ImportToken=token, EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    blob = kms.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]

    kms.delete_imported_key_material(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert e.value.response["Error"]["Code"] == "KMSInvalidStateException"

    token, wrapped = wrap(os.urandom(32))
    with pytest.raises(ClientError) as e:
        kms.import_key_material(KeyId=key, ImportToken=token, EncryptedKeyMaterial=wrapped)
    assert e.value.response["Error"]["Code"] == "IncorrectKeyMaterialException"
    token, wrapped = wrap(material[:16])
    with pytest.raises(ClientError) as e:
        kms.import_key_material(KeyId=key, ImportToken=token, EncryptedKeyMaterial=wrapped)
    assert e.value.response["Error"]["Code"] == "IncorrectKeyMaterialException"

    token, wrapped = wrap(material)
    kms.import_key_material(KeyId=key, ImportToken=token, EncryptedKeyMaterial=wrapped)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"


def import_wrapped(kms, key, material, tmp_path, **kw):
    params = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    (tmp_path / "w.der").write_bytes(params["PublicKey"])
    rc, _, err = openssl("pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "w.der"), "-out", str(tmp_path / "w.pem"))
    assert rc == 0, err
    rc, wrapped, err = openssl(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", str(tmp_path / "w.pem"),
        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256",
        data=material,
    )
    assert rc == 0, err
    return kms.import_key_material(KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, **kw)


def test_imported_material_expires_on_the_clock_and_tokens_after_a_day(tmp_path):
    """KEY_MATERIAL_EXPIRES: at ValidTo the key returns to PendingImport; an import token is
    good for 24 hours (ExpiredImportTokenException after)."""
    with nimbus_server(["--clock-control"]) as url:
        kms = boto3.client("kms", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        now_s = requests.get(url + "/_nimbus/clock", timeout=10).json()["now_ms"] / 1000
        key = kms.create_key(Origin="EXTERNAL", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        import_wrapped(kms, key, os.urandom(32), tmp_path, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=now_s + 3600)
        meta = kms.describe_key(KeyId=key)["KeyMetadata"]
        assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and "ValidTo" in meta
        mac = kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        assert len(mac) == 32
        requests.post(url + "/_nimbus/clock/advance?seconds=3601", timeout=10).raise_for_status()
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
        with pytest.raises(ClientError) as e:
            kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")
        assert e.value.response["Error"]["Code"] == "KMSInvalidStateException"

        other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        params = kms.get_parameters_for_import(KeyId=other, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048")
        requests.post(url + "/_nimbus/clock/advance?seconds=86401", timeout=10).raise_for_status()
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=other, ImportToken=params["ImportToken"], EncryptedKeyMaterial=b"x" * 256)
        assert e.value.response["Error"]["Code"] == "ExpiredImportTokenException"
