"""Step Functions' control plane and engine through boto3: StartSyncExecution on EXPRESS
machines (boto3 prefixes the host with `sync-` unless `inject_host_prefix` is off, as for
any local endpoint), activities driven by a worker, task tokens, definition checks,
history shapes, and a Wait moved by nimbus's clock.
https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html
"""

import json

import boto3
import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, nimbus_server, unique_name
from sfn_helpers import SFN_ROLE, create_machine, history, wait_done


def client(endpoint):
    config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, inject_host_prefix=False, read_timeout=70)
    return boto3.session.Session().client(
        "stepfunctions", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=config
    )


@pytest.fixture(scope="module")
def sfn(endpoint):
    return client(endpoint)


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_start_sync_execution_runs_an_express_machine_to_its_end(sfn):
    machine = create_machine(
        sfn,
        {"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}},
        kind="EXPRESS",
    )
    out = sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps({"a": 2, "b": 40}), name="sync-1")
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"sum": 42}
    assert ":express:" in out["executionArn"] and out["executionArn"].split(":")[-2] == "sync-1"
    assert out["stateMachineArn"] == machine
    assert out["stopDate"] >= out["startDate"]
    assert out["billingDetails"]["billedDurationInMilliseconds"] >= 100

    failing = create_machine(sfn, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}}, kind="EXPRESS")
    out = sfn.start_sync_execution(stateMachineArn=failing, input="{}")
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "Nope", "because")
    assert "output" not in out

    standard = create_machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    code, _, status = error_of(lambda: sfn.start_sync_execution(stateMachineArn=standard, input="{}"))
    assert (code, status) == ("StateMachineTypeNotSupported", 400)
    # EXPRESS machines run no `.waitForTaskToken` or `.sync` integrations.
    token_task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}, "End": True}}}
    code, msg, _ = error_of(lambda: sfn.create_state_machine(name=unique_name("x"), definition=json.dumps(token_task), roleArn=SFN_ROLE, type="EXPRESS"))
    assert code == "InvalidDefinition" and "Express state machine does not support '.waitForTaskToken' service integration at /States/T/Resource" in msg, msg
    # EXPRESS executions keep no history and are not listed.
    code, _, _ = error_of(lambda: sfn.list_executions(stateMachineArn=machine))
    assert code == "StateMachineTypeNotSupported"


def test_an_activity_worker_answers_with_the_task_token(sfn):
    activity = sfn.create_activity(name=unique_name("act"))["activityArn"]
    assert sfn.create_activity(name=activity.split(":")[-1])["activityArn"] == activity, "CreateActivity is idempotent"
    machine = create_machine(
        sfn,
        {
            "StartAt": "Ask",
            "States": {
                "Ask": {"Type": "Task", "Resource": activity, "Parameters": {"question.$": "$.q"}, "ResultPath": "$.answer", "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        },
    )
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"q": "why"}))["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="py-worker")
    assert json.loads(task["input"]) == {"question": "why"}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"because": 42}))
    desc = wait_done(sfn, execution)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"q": "why", "answer": {"because": 42}}
    events = history(sfn, execution)
    started = [e for e in events if e["type"] == "ActivityStarted"][0]
    assert started["activityStartedEventDetails"] == {"workerName": "py-worker"}
    succeeded = [e for e in events if e["type"] == "ActivitySucceeded"][0]
    assert json.loads(succeeded["activitySucceededEventDetails"]["output"]) == {"because": 42}
    assert succeeded["previousEventId"] == started["id"]

    code, _, _ = error_of(lambda: sfn.send_task_success(taskToken=task["taskToken"], output="{}"))
    assert code == "TaskDoesNotExist"
    code, _, _ = error_of(lambda: sfn.send_task_success(taskToken="not-a-token", output="{}"))
    assert code == "InvalidToken"
    assert activity in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    sfn.delete_activity(activityArn=activity)
    code, msg, _ = error_of(lambda: sfn.describe_activity(activityArn=activity))
    assert (code, msg) == ("ActivityDoesNotExist", f"Activity Does Not Exist: '{activity}'")


def test_bad_requests_answer_aws_errors(sfn):
    code, msg, status = error_of(lambda: sfn.create_state_machine(name="x", definition='{"StartAt":"A","States":{}}', roleArn=SFN_ROLE))
    assert (code, status) == ("InvalidDefinition", 400)
    assert msg.startswith("Invalid State Machine Definition: '") and "SCHEMA_VALIDATION_FAILED" in msg
    code, msg, _ = error_of(lambda: sfn.describe_state_machine(stateMachineArn="not-an-arn"))
    assert (code, msg) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not-an-arn'")
    code, _, _ = error_of(lambda: sfn.describe_execution(executionArn="arn:aws:states:us-east-1:000000000000:execution:nope:nope"))
    assert code == "ExecutionDoesNotExist"
    v = sfn.validate_state_machine_definition(definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": True}}}))
    assert v["result"] == "FAIL"
    assert v["diagnostics"][0]["code"] == "SCHEMA_VALIDATION_FAILED"
    assert v["diagnostics"][0]["location"] == "/States/A"


def test_a_wait_moves_with_nimbus_clock():
    with nimbus_server(extra_args=("--clock-control",)) as url:
        sfn = client(url)
        machine = create_machine(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "Next": "P"}, "P": {"Type": "Pass", "End": True}}})
        execution = sfn.start_execution(stateMachineArn=machine, input='{"k":1}')["executionArn"]
        from nimbus_helpers import wait_for

        assert wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in history(sfn, execution)), timeout=10, interval=0.05)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        requests.post(url + "/_nimbus/clock/advance?seconds=86400", timeout=10).raise_for_status()
        desc = wait_done(sfn, execution, timeout=10)
        assert desc["status"] == "SUCCEEDED"
        assert json.loads(desc["output"]) == {"k": 1}
        events = history(sfn, execution)
        assert [e["type"] for e in events] == [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
        rev = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=2, includeExecutionData=False)
        assert [e["type"] for e in rev["events"]] == ["ExecutionSucceeded", "PassStateExited"]
        assert "output" not in rev["events"][0]["executionSucceededEventDetails"]
        assert rev["nextToken"]


def test_test_state_runs_one_state_with_mocks(sfn):
    out = sfn.test_state(
        definition=json.dumps({"Type": "Pass", "Parameters": {"x.$": "$.a"}, "ResultPath": "$.p", "Next": "After"}),
        roleArn=SFN_ROLE,
        input='{"a":5}',
        inspectionLevel="DEBUG",
    )
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"a": 5, "p": {"x": 5}}
    assert out["nextState"] == "After"
    assert out["inspectionData"]["input"] == '{"a":5}'

    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "ResultSelector": {"body.$": "$.Payload.body"},
        "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Recover"}],
        "End": True,
    }
    ok = sfn.test_state(definition=json.dumps(task), roleArn=SFN_ROLE, input="{}", mock={"result": '{"Payload":{"body":"hi"}}'})
    assert (ok["status"], json.loads(ok["output"])) == ("SUCCEEDED", {"body": "hi"})
    caught = sfn.test_state(definition=json.dumps(task), roleArn=SFN_ROLE, input="{}", mock={"errorOutput": {"error": "Lambda.Boom", "cause": "mocked"}})
    assert (caught["status"], caught["nextState"], caught["error"]) == ("CAUGHT_ERROR", "Recover", "Lambda.Boom")
    assert json.loads(caught["output"]) == {"err": {"Error": "Lambda.Boom", "Cause": "mocked"}}
    retriable = sfn.test_state(definition=json.dumps(task), roleArn=SFN_ROLE, input="{}", mock={"errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "slow down"}})
    assert retriable["status"] == "RETRIABLE"
    fail = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "E", "Cause": "C"}), roleArn=SFN_ROLE)
    assert (fail["status"], fail["error"], fail["cause"]) == ("FAILED", "E", "C")
    machine = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
            "Big": {"Type": "Succeed"},
            "Small": {"Type": "Succeed"},
        },
    }
    assert sfn.test_state(definition=json.dumps(machine), stateName="C", roleArn=SFN_ROLE, input='{"v":2}')["nextState"] == "Big"
    assert sfn.test_state(definition=json.dumps({"Type": "Wait", "Seconds": 3600, "Next": "N"}), roleArn=SFN_ROLE, input="{}")["nextState"] == "N"
    code, msg, _ = error_of(lambda: sfn.test_state(definition=json.dumps({"Type": "Pass", "Next": 3}), roleArn=SFN_ROLE))
    assert code == "InvalidDefinition", msg


def test_test_state_inspection_retry_context_and_role(sfn):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Execution.$": "$$.Execution.Name"},
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3}],
        "Next": "After",
    }
    out = sfn.test_state(
        definition=json.dumps(task),
        input="{}",
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": "Boom", "cause": "bad"}},
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert (out["status"], out["error"]) == ("RETRIABLE", "Boom")
    assert out["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 4}
    assert json.loads(out["inspectionData"]["afterParameters"])["FunctionName"] == "f"
    ok = sfn.test_state(
        definition=json.dumps(task),
        input="{}",
        inspectionLevel="DEBUG",
        context=json.dumps({"Execution": {"Name": "from-context"}}),
        mock={"result": '{"Payload": 1}'},
    )
    assert json.loads(ok["inspectionData"]["afterParameters"]) == {"FunctionName": "f", "Execution": "from-context"}
    assert (ok["status"], ok["nextState"], json.loads(ok["output"])) == ("SUCCEEDED", "After", {"Payload": 1})
    code, msg, _ = error_of(lambda: sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True})))
    assert code == "ValidationException" and "roleArn" in msg, msg
    code, _, _ = error_of(lambda: sfn.test_state(definition=json.dumps(task), mock={"result": "{}", "errorOutput": {"error": "E"}}))
    assert code == "ValidationException"


def test_validate_reports_warnings_only_when_asked(sfn):
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": "$.y"}, "End": True}}})
    default = sfn.validate_state_machine_definition(definition=definition)
    assert (default["result"], default["diagnostics"]) == ("OK", [])
    warned = sfn.validate_state_machine_definition(definition=definition, severity="WARNING")
    assert warned["result"] == "OK"
    assert [(d["severity"], d["code"], d["location"]) for d in warned["diagnostics"]] == [("WARNING", "NO_DOLLAR", "/States/A/Parameters/x")]


def test_a_definition_over_one_million_characters_is_refused(sfn):
    big = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "x" * 1_048_600, "End": True}}}
    code, msg, status = error_of(lambda: sfn.create_state_machine(name=unique_name("big"), definition=json.dumps(big), roleArn=SFN_ROLE))
    assert (code, status) == ("ValidationException", 400)
    assert "Member must have length less than or equal to 1048576" in msg
