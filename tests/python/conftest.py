"""Shared fixtures for the nimbus Python test suite.

The suite talks to a running nimbus server over HTTP, the way real clients do.

* If ``NIMBUS_ENDPOINT`` is set (e.g. ``http://127.0.0.1:4566``) that server is used
  and nothing is started.
* Otherwise the binary named by ``NIMBUS_BIN`` (default: ``<repo>/target/debug/nimbus``)
  is started as ``nimbus serve --listen 127.0.0.1:<free port> --in-memory`` for the
  whole session, polled on ``GET /_nimbus/health`` until it answers 200, and killed
  at the end.
"""

import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import pytest
import requests

# Test modules import nimbus_helpers; make that work under any --import-mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "nimbus"

REGION = "us-east-1"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def s3_client(url, region=REGION, **config):
    """boto3's S3 client for a nimbus at `url`: path-style addressing (`<bucket>.localhost`
    need not resolve), one attempt (a test sees the first answer), extra botocore Config
    settings from `config` (e.g. `signature_version="s3v4"`)."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}, **config)
    return boto3.client("s3", endpoint_url=url, region_name=region, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=cfg)
API_VERSION = "2012-11-05"

HEALTH_PATH = "/_nimbus/health"
STARTUP_TIMEOUT = 10.0


# --------------------------------------------------------------------------- server


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nimbus_binary():
    binary = Path(os.environ.get("NIMBUS_BIN", str(DEFAULT_BIN)))
    return binary if binary.is_absolute() else REPO_ROOT / binary


@functools.lru_cache(maxsize=None)
def python_runtime():
    """The ``python3.x`` runtime the suite creates functions with.

    nimbus runs ``python3.X`` only on a Python 3.X interpreter, so the suite asks nimbus
    which ones it finds here (``nimbus runtimes --json``, nimbus's own lookup) and takes
    the version of the interpreter running the tests (it has boto3, which some test
    functions import) when nimbus finds it, else the first one nimbus finds.
    """
    own = "python3.%d" % sys.version_info[1]
    try:
        out = subprocess.run([str(_nimbus_binary()), "runtimes", "--json"], capture_output=True, check=True, timeout=60).stdout
        found = [r["runtime"] for r in json.loads(out) if r["available"] and r["runtime"].startswith("python3.")]
    except (OSError, subprocess.SubprocessError, ValueError):
        return own  # e.g. NIMBUS_ENDPOINT without a local binary
    if own in found or not found:
        return own
    return found[0]


@pytest.fixture(scope="session")
def endpoint():
    """Base URL of the server under test, without a trailing slash."""
    given = os.environ.get("NIMBUS_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    with nimbus_server() as url:
        yield url


@contextlib.contextmanager
def nimbus_server(extra_args=(), env=None, data_dir=None):
    """Starts ``nimbus serve --in-memory`` (or on disk in ``data_dir``) on a free port with
    ``extra_args`` and extra environment variables ``env``; yields its URL; kills it on exit."""
    binary = _nimbus_binary()
    if not binary.exists():
        pytest.fail(
            f"nimbus binary not found at {binary}; build it (cargo build) or set "
            "NIMBUS_BIN / NIMBUS_ENDPOINT",
            pytrace=False,
        )

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="nimbus-test-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", f"127.0.0.1:{port}",
         *(["--data-dir", str(data_dir)] if data_dir else ["--in-memory"]), *extra_args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        ready = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                if requests.get(url + HEALTH_PATH, timeout=1).status_code == 200:
                    ready = True
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        if not ready:
            log.flush()
            output = Path(log.name).read_text(errors="replace")[-4000:]
            pytest.fail(
                f"nimbus did not become healthy on {url}{HEALTH_PATH} within "
                f"{STARTUP_TIMEOUT:.0f}s (exit code {proc.poll()}); output:\n{output}",
                pytrace=False,
            )
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()


# --------------------------------------------------------------------------- clients

_CLIENT_CONFIG = botocore.config.Config(
    # No retries: an error must surface as the server sent it, and a retry would
    # hide (or double) side effects.
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    # Long polls wait up to 20 s.
    read_timeout=40,
)


@pytest.fixture(scope="session")
def make_client(endpoint):
    """Factory: make_client(service, region=REGION, access_key=ACCESS_KEY)."""
    cache = {}

    def make(service, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        key = (service, region, access_key, secret_key)
        if key not in cache:
            cache[key] = boto3.session.Session().client(
                service,
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=_CLIENT_CONFIG,
            )
        return cache[key]

    return make


@pytest.fixture(scope="session")
def sqs(make_client):
    return make_client("sqs")


@pytest.fixture(scope="session")
def sts(make_client):
    return make_client("sts")


def unique_name(prefix="nimbus-test"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def queue(sqs):
    """Factory creating uniquely named queues (deleted again after the test).

    queue(fifo=False, attributes=None, tags=None, name=None, client=sqs) -> queue URL
    """
    created = []

    def make(fifo=False, attributes=None, tags=None, name=None, client=None):
        client = client or sqs
        if name is None:
            name = unique_name() + (".fifo" if fifo else "")
        attributes = dict(attributes or {})
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        kwargs = {"QueueName": name}
        if attributes:
            kwargs["Attributes"] = attributes
        if tags:
            kwargs["tags"] = tags
        url = client.create_queue(**kwargs)["QueueUrl"]
        created.append((client, url))
        return url

    yield make
    for client, url in created:
        try:
            client.delete_queue(QueueUrl=url)
        except Exception:
            pass


# --------------------------------------------------------------------------- query protocol


def strip_namespaces(root):
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return root


class QueryResponse(tuple):
    """(status, root) with extra attributes: .headers, .text, .response."""

    def __new__(cls, status, root, response):
        self = super().__new__(cls, (status, root))
        self.status = status
        self.root = root
        self.response = response
        self.headers = response.headers
        self.text = response.text
        return self


def sign_request(method, url, body, headers, service, region, access_key, secret_key):
    """Sign like an AWS SDK would (SigV4) and return the headers to send."""
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    creds = botocore.credentials.Credentials(access_key, secret_key)
    botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    return dict(req.headers.items())


@pytest.fixture(scope="session")
def query(endpoint):
    """query(action, params=None, account_key=ACCESS_KEY, region=REGION, method="POST",
    url=None, service="sqs", version="2012-11-05") -> QueryResponse (status, root).

    Sends an AWS query-protocol request (form-encoded POST, or GET with the query
    string) signed with SigV4, and parses the XML response with namespaces stripped.
    """

    def call(action, params=None, account_key=ACCESS_KEY, region=REGION, method="POST",
             url=None, service="sqs", version=API_VERSION, secret_key=SECRET_KEY):
        form = []
        if action is not None:
            form.append(("Action", action))
        if version is not None:
            form.append(("Version", version))
        for k, v in (params or {}).items():
            form.append((k, str(v)))
        # %20 for spaces (not "+"), as AWS SDKs encode: safe for SigV4 canonicalisation.
        encoded = urllib.parse.urlencode(form, quote_via=urllib.parse.quote, safe="-_.~")
        target = url or (endpoint + "/")
        if method.upper() == "GET":
            full = target + ("&" if "?" in target else "?") + encoded
            headers = sign_request("GET", full, b"", {}, service, region, account_key, secret_key)
            resp = requests.get(full, headers=headers, timeout=40)
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            body = encoded.encode()
            headers = sign_request("POST", target, body, headers, service, region, account_key, secret_key)
            resp = requests.post(target, data=body, headers=headers, timeout=40)
        root = None
        if resp.content.strip():
            try:
                root = strip_namespaces(ET.fromstring(resp.content))
            except ET.ParseError:
                root = None
        return QueryResponse(resp.status_code, root, resp)

    return call


# --------------------------------------------------------------------------- lambda

FUNCTIONS_DIR = REPO_ROOT / "tests" / "functions"
LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="session")
def awslambda(make_client):
    return make_client("lambda")


def zip_directory(directory, extra=()):
    """The bytes of a zip holding every file under ``directory`` (no __pycache__), and
    each of ``extra`` (a package directory or a module file) under its own name."""
    import io
    import zipfile

    def add(z, root, prefix):
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, prefix + path.relative_to(root).as_posix())

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        add(z, directory, "")
        for item in map(Path, extra):
            if item.is_dir():
                add(z, item, item.name + "/")
            else:
                z.write(item, item.name)
    return buf.getvalue()


@pytest.fixture(scope="session")
def python_function_zip():
    """Zip of tests/functions/python (handler.echo, .fail, .sleep, .print_it, .use_sqs)."""
    return zip_directory(FUNCTIONS_DIR / "python")


@pytest.fixture
def lambda_function(awslambda, python_function_zip):
    """Factory creating Python functions from tests/functions/python (deleted after the test).

    lambda_function(handler="handler.echo", name=None, **create_kwargs) -> function name
    """
    created = []

    def make(handler="handler.echo", name=None, **kwargs):
        name = name or unique_name("fn")
        awslambda.create_function(
            FunctionName=name,
            Runtime=kwargs.pop("Runtime", python_runtime()),
            Role=LAMBDA_ROLE,
            Handler=handler,
            Code={"ZipFile": python_function_zip},
            **kwargs,
        )
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            awslambda.delete_function(FunctionName=name)
        except Exception:
            pass


def _aws_cli_command():
    import importlib.util
    import shutil

    if importlib.util.find_spec("awscli") is not None:
        return [sys.executable, "-m", "awscli"]
    exe = shutil.which("aws")
    if exe is None:
        pytest.fail("the AWS CLI is not installed (pip install -r tests/python/requirements.txt)")
    return [exe]


@pytest.fixture(scope="session")
def aws_cli(endpoint):
    """aws_cli(*args, expect_ok=True): runs the AWS CLI against the server with
    --endpoint-url and --output json; returns the parsed JSON output (or the
    CompletedProcess when expect_ok is False)."""
    import json
    import shutil

    base = _aws_cli_command()
    home = tempfile.mkdtemp(prefix="nimbus-awscli-")
    env = cli_env(home)

    def run(*args, expect_ok=True):
        cmd = base + list(args) + ["--endpoint-url", endpoint, "--output", "json"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if expect_ok:
            assert p.returncode == 0, f"{cmd}\nstdout: {p.stdout}\nstderr: {p.stderr}"
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p

    run.home = home
    yield run
    shutil.rmtree(home, ignore_errors=True)


def cli_v2_command():
    """AWS CLI v2 (which has `logs tail`): $NIMBUS_AWS_CLI_V2, or an `aws` on PATH or in
    /usr/bin that reports version 2 (Debian's `awscli` package is v2); None if absent."""
    candidates = [os.environ.get("NIMBUS_AWS_CLI_V2"), shutil.which("aws"), "/usr/bin/aws"]
    for exe in filter(None, candidates):
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if (out.stdout + out.stderr).startswith("aws-cli/2."):
            return [exe]
    return None


def cli_env(home):
    """The environment for an AWS CLI run: this machine's AWS_* settings and config files
    kept out of the picture, the test credentials and region, no pager, no retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(home, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
    })
    return env


def cli_runner(command, endpoint):
    """run(*args) -> CompletedProcess of `command args --endpoint-url endpoint`, and the
    temporary home it uses (the caller removes it)."""
    home = tempfile.mkdtemp(prefix="nimbus-awscli-")
    env = cli_env(home)

    def run(*args):
        cmd = command + list(args) + ["--endpoint-url", endpoint]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)

    return run, home


@pytest.fixture(scope="session")
def aws_v2(endpoint):
    command = cli_v2_command()
    if command is None:
        if os.environ.get("NIMBUS_REQUIRE_CLI_V2") == "1":
            pytest.fail("AWS CLI v2 not found (.ci/run installs Debian's awscli package)")
        pytest.skip("no AWS CLI v2 here (Debian: apt-get install awscli); test_what_cli_v2_logs_tail_calls covers its API calls")
    run, home = cli_runner(command, endpoint)
    yield run
    shutil.rmtree(home, ignore_errors=True)
