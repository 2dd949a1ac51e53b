"""Lambda authorizers for nimbus's API Gateway authorizer tests (runtime python3.x).

Handlers: authorizers.simple (payload 2.0 simple responses), authorizers.policy (IAM-policy
responses, payload 1.0 or 2.0). Each answer's context carries this environment's id and a
call counter, so a test can tell a cached answer from a fresh invocation.
"""

import uuid

ENV = uuid.uuid4().hex
CALLS = 0


def _context(event, token):
    global CALLS
    CALLS += 1
    return {"env": ENV, "n": CALLS, "token": token, "version": event.get("version"), "type": event.get("type"),
            "arn": event.get("routeArn") or event.get("methodArn")}


def _token(event):
    sources = event.get("identitySource")
    if isinstance(sources, list):
        return sources[0] if sources else ""
    return sources or ""


def simple(event, context):
    """Authorized when the identity source is `allow`; `boom` raises, `garbage` answers nonsense."""
    token = _token(event)
    if token == "boom":
        raise ValueError("authorizer failed on purpose")
    if token == "garbage":
        return "not a decision"
    return {"isAuthorized": token == "allow", "context": _context(event, token)}


def policy(event, context):
    """Allows `execute-api:Invoke` on the route's ARN for a token starting with `allow`,
    denies it otherwise."""
    token = _token(event)
    effect = "Allow" if token.startswith("allow") else "Deny"
    arn = event.get("routeArn") or event.get("methodArn")
    return {
        "principalId": "user-" + token,
        "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]},
        "context": _context(event, token),
    }
