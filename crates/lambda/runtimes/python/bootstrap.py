"""nimbus's bootstrap for Python functions.

nimbus starts it as an execution environment's process (`python3 -u bootstrap.py`, working
directory = LAMBDA_TASK_ROOT). It speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API:
it loads the handler named by _HANDLER once, reporting a failure to /init/error, then asks
for invocations one at a time and posts each result or error. Standard library only.
"""

import decimal
import http.client
import importlib
import json
import os
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"


class RuntimeApi:
    """One keep-alive connection to the Runtime API, reopened if it drops."""

    def __init__(self, address):
        self.host, _, port = address.partition(":")
        self.port = int(port or 80)
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise


def error_document(error_type, message, stack=None, request_id=None):
    doc = {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}
    if request_id is not None:
        doc["requestId"] = request_id
    return doc


def log_error(doc):
    # One log event per error, as on Lambda: the runtime writes the message and the
    # traceback as one line whose lines are separated by carriage returns (AWS's runtime
    # convention); nimbus turns them back into newlines inside the one event. The
    # message's own newlines are kept inside the event too.
    lines = ["[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"])]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in doc["stackTrace"])
    text = "\n".join(lines).replace("\r\n", "\n").replace("\n", "\r")
    sys.stdout.write(text + "\n")


TASK_ROOT = os.path.realpath(os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))


def lambda_path(filename):
    """A path in the function's package as Lambda shows it: under /var/task."""
    real = os.path.realpath(filename)
    if real == TASK_ROOT or real.startswith(TASK_ROOT + os.sep):
        return "/var/task" + real[len(TASK_ROOT):]
    return filename


def user_frames(tb):
    """The traceback without this file's own frames, package paths under /var/task."""
    here = os.path.abspath(__file__)
    frames = [f for f in traceback.extract_tb(tb) if os.path.abspath(f.filename) != here]
    for f in frames:
        f.filename = lambda_path(f.filename)
    return traceback.format_list(frames)


class InitError(Exception):
    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.stack = stack or []


def load_handler(spec):
    module_path, dot, function_name = spec.rpartition(".")
    if not dot or not module_path or not function_name:
        raise InitError("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec)
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InitError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_path, e))
    except SyntaxError as e:
        raise InitError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_path, e))
    except Exception as e:
        raise InitError(type(e).__name__, str(e), user_frames(e.__traceback__))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise InitError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_path))
    return handler


class Context:
    """The context object handlers receive, with AWS's attribute names."""

    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = _json_or_none(headers.get("Lambda-Runtime-Cognito-Identity"))
        self.client_context = _json_or_none(headers.get("Lambda-Runtime-Client-Context"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_or_none(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _encode_extra(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def main():
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except InitError as e:
        doc = error_document(e.error_type, str(e), e.stack)
        log_error(doc)
        api.call("POST", "/init/error", json.dumps(doc).encode(), {"Lambda-Runtime-Function-Error-Type": e.error_type})
        sys.exit(1)

    while True:
        status, headers, body = api.call("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = Context(headers)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
        except Exception as e:
            doc = error_document(type(e).__name__, str(e), user_frames(e.__traceback__), request_id)
            log_error(doc)
            api.call("POST", "/invocation/%s/error" % request_id, json.dumps(doc).encode(), {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        try:
            payload = json.dumps(result, default=_encode_extra).encode()
        except Exception as e:
            doc = error_document("Runtime.MarshalError", "Unable to marshal response: %s" % e, [], request_id)
            log_error(doc)
            api.call("POST", "/invocation/%s/error" % request_id, json.dumps(doc).encode(), {"Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"})
            continue
        api.call("POST", "/invocation/%s/response" % request_id, payload, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
