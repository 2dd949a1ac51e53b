"""Helpers shared by the test modules (imported as a plain module)."""

import hashlib
import re
import struct
import time
import urllib.parse

def md5_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_message_attributes(attrs):
    """MD5OfMessageAttributes as documented by AWS:

    for each attribute, sorted by name: len(name) name len(type) type transport-byte
    len(value) value, lengths as 4-byte big-endian, transport 1 for String/Number
    (UTF-8 value) and 2 for Binary (raw bytes).
    """
    buf = bytearray()
    for name in sorted(attrs):
        attr = attrs[name]
        dtype = attr["DataType"]
        buf += struct.pack(">I", len(name.encode())) + name.encode()
        buf += struct.pack(">I", len(dtype.encode())) + dtype.encode()
        if dtype.startswith("Binary"):
            value = attr["BinaryValue"]
            if isinstance(value, str):
                value = value.encode()
            buf += b"\x02" + struct.pack(">I", len(value)) + value
        else:
            value = attr["StringValue"].encode("utf-8")
            buf += b"\x01" + struct.pack(">I", len(value)) + value
    return hashlib.md5(bytes(buf)).hexdigest()


def account_of(queue_url):
    """The account id in a queue URL's path (/queue/<region>/<account>/<name>, or
    /<account>/<name>)."""
    parts = urllib.parse.urlparse(queue_url).path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "queue":
        parts = parts[2:]
    assert len(parts) == 2 and re.fullmatch(r"\d{12}", parts[0]), queue_url
    return parts[0]


def name_of(queue_url):
    return urllib.parse.urlparse(queue_url).path.rstrip("/").rsplit("/", 1)[-1]


def wait_for(predicate, timeout=10.0, interval=0.2):
    """Poll predicate() until it returns a truthy value; return it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def private_ca(directory, ca_name):
    """A private CA and a certificate for 127.0.0.1 it signed, made with the openssl CLI
    in `directory`: returns (CA certificate, leaf certificate, leaf key) paths."""
    import subprocess

    def openssl(*args):
        subprocess.run(["openssl", *args], capture_output=True, check=True, timeout=60)

    ca_crt, ca_key = directory / "ca.crt", directory / "ca.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "2",
            "-subj", f"/CN={ca_name}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    key, csr, leaf = directory / "leaf.key", directory / "leaf.csr", directory / "leaf.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(leaf),
            "-days", "2", "-extfile", str(ext))
    return ca_crt, leaf, key
