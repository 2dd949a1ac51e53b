"""Step Functions' distributed Map through boto3: the items run as child executions of a
Map Run, which boto3 describes and lists (DescribeMapRun, ListMapRuns, ListExecutions by
mapRunArn, DescribeStateMachineForExecution of a child), and the errors of bad Map Run ARNs.
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html"""

import json

import pytest
from botocore.exceptions import ClientError

from sfn_helpers import create_machine, history, wait_done
from test_stepfunctions import client


@pytest.fixture(scope="module")
def sfn(endpoint):
    return client(endpoint)


def distributed(label=None):
    state = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Double",
            "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True}},
        },
        "End": True,
    }
    if label:
        state["Label"] = label
    return {"StartAt": "M", "States": {"M": state}}


def test_a_map_run_and_its_children_are_described_and_listed(sfn):
    machine = create_machine(sfn, distributed("Doubles"))
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps([1, 2]))["executionArn"]
    desc = wait_done(sfn, execution)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"]) == [{"v": 2}, {"v": 4}]

    runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert len(runs) == 1
    map_run = runs[0]["mapRunArn"]
    assert ":mapRun:" in map_run and "/Doubles:" in map_run
    described = sfn.describe_map_run(mapRunArn=map_run)
    assert described["status"] == "SUCCEEDED"
    assert described["executionCounts"]["succeeded"] == 2
    assert described["itemCounts"]["total"] == 2

    children = sfn.list_executions(mapRunArn=map_run)["executions"]
    assert len(children) == 2
    assert all(c["mapRunArn"] == map_run and c["status"] == "SUCCEEDED" for c in children)
    child = sfn.describe_state_machine_for_execution(executionArn=children[0]["executionArn"])
    assert child["mapRunArn"] == map_run and child["label"] == "Doubles"
    types = [e["type"] for e in history(sfn, execution)]
    assert "MapRunStarted" in types and "MapRunSucceeded" in types and "MapIterationStarted" not in types


def test_bad_map_run_arns_answer_aws_errors(sfn):
    with pytest.raises(ClientError) as e:
        sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:000000000000:mapRun:m/l:00000000-0000-0000-0000-000000000000")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        sfn.update_map_run(mapRunArn="arn:aws:states:us-east-1:000000000000:execution:m:e", maxConcurrency=1)
    assert e.value.response["Error"]["Code"] == "InvalidArn"
