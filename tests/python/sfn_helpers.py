"""Helpers of the Step Functions task tests: state machines created, executions started
and waited on (DescribeExecution polled until the execution is no longer RUNNING), and
their whole history read back."""

import json

from conftest import unique_name
from nimbus_helpers import wait_for

SFN_ROLE = "arn:aws:iam::000000000000:role/sfn-role"
ACCOUNT = "000000000000"
REGION = "us-east-1"


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def create_machine(sfn, definition, name=None, kind="STANDARD"):
    resp = sfn.create_state_machine(name=name or unique_name("sm"), definition=json.dumps(definition), roleArn=SFN_ROLE, type=kind)
    return resp["stateMachineArn"]


def wait_done(sfn, execution_arn, timeout=60):
    def done():
        d = sfn.describe_execution(executionArn=execution_arn)
        return d if d["status"] != "RUNNING" else None

    desc = wait_for(done, timeout=timeout, interval=0.1)
    assert desc, f"execution {execution_arn} still RUNNING after {timeout}s"
    return desc


def history(sfn, execution_arn):
    events, token = [], None
    while True:
        kwargs = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def run(sfn, definition, payload=None, name=None):
    """Creates a state machine of `definition`, runs it on `payload` and waits for the
    end: (DescribeExecution's answer, the output or None, the history's events)."""
    machine = create_machine(sfn, definition)
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload if payload is not None else {}), **({"name": name} if name else {}))
    desc = wait_done(sfn, started["executionArn"])
    output = json.loads(desc["output"]) if desc.get("output") else None
    return desc, output, history(sfn, started["executionArn"])


def entered_states(events):
    """The states' names in the order the execution entered them."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def single_task(resource, parameters=None, **extra):
    """A one-state machine: a Task on `resource` with `parameters`."""
    state = {"Type": "Task", "Resource": resource, "End": True, **extra}
    if parameters is not None:
        state["Parameters"] = parameters
    return {"StartAt": "Call", "States": {"Call": state}}


def caught(resource, parameters=None, errors=("States.ALL",)):
    """A Task on `resource` whose errors (`errors`) are caught into `$.error` and end the
    execution successfully, so the test reads `{"Error", "Cause"}` from the output."""
    task = {"Type": "Task", "Resource": resource, "Catch": [{"ErrorEquals": list(errors), "ResultPath": "$.error", "Next": "Caught"}], "End": True}
    if parameters is not None:
        task["Parameters"] = parameters
    return {"StartAt": "Call", "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}}
