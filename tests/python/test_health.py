"""Health endpoints: nimbus's own and the LocalStack-compatible one."""

import pytest
import requests

READY_STATES = {"running", "available"}


def find_service_state(doc, service):
    """The state reported for `service` in a health document.

    Accepts the LocalStack shape {"services": {"sqs": "running"}} as well as a
    top-level {"sqs": "running"} or {"sqs": {"status"|"state": "running"}}.
    """
    for container in (doc.get("services"), doc):
        if isinstance(container, dict) and service in container:
            value = container[service]
            if isinstance(value, dict):
                value = value.get("status", value.get("state"))
            return value
    return None


@pytest.mark.parametrize("path", ["/_nimbus/health", "/_localstack/health"])
def test_health_names_sqs(endpoint, path):
    r = requests.get(endpoint + path, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    doc = r.json()
    assert isinstance(doc, dict)
    assert find_service_state(doc, "sqs") in READY_STATES, doc
