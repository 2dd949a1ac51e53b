"""Seed 004's saga, orchestrated by Step Functions: a trip is booked as three reservations
— hotel, flight, car — each a Lambda function writing DynamoDB. The car rental refuses the
trip (`CarUnavailable`); the state machine's Catch starts the compensations, which cancel
the flight and then the hotel (the reverse order of the bookings), record the trip as
FAILED through the DynamoDB integration and end in a Fail state. The bookings table and
GetExecutionHistory both show it. The same machine books a trip whose car is available.

Seed: /work/shared/seeds/004 ("Saga Pattern — Orchestrator: Amazon Step Function provides a
state machine which can be used to orchestrate the flow").
<https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html>
<https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html>
"""

import pytest
from conftest import unique_name
from sfn_helpers import entered_states, function_arn, run


@pytest.fixture
def stepfunctions(make_client):
    return make_client("stepfunctions")


@pytest.fixture
def trip_booking(make_client, lambda_function):
    """The bookings table, the five functions and the saga's definition."""
    ddb = make_client("dynamodb")
    table = unique_name("bookings")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "trip", "KeyType": "HASH"}, {"AttributeName": "resource", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "trip", "AttributeType": "S"}, {"AttributeName": "resource", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    env = {"Variables": {"BOOKINGS_TABLE": table}}
    fns = {h: lambda_function(handler=f"saga.{h}", Environment=env) for h in ("reserve_hotel", "reserve_flight", "reserve_car", "cancel_flight", "cancel_hotel")}

    def invoke(fn, **task):
        return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": fns[fn], "Payload.$": "$"}, **task}

    def record(status, nxt):
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": table, "Item": {"trip": {"S.$": "$.trip"}, "resource": {"S": "trip"}, "status": {"S": status}}},
            "ResultPath": None,
            "Next": nxt,
        }

    definition = {
        "Comment": "Trip booking saga: reserve hotel, flight and car; on failure cancel what was booked, in reverse order",
        "StartAt": "ReserveHotel",
        "States": {
            "ReserveHotel": invoke(
                "reserve_hotel",
                ResultSelector={"reference.$": "$.Payload.reference"},
                ResultPath="$.bookings.hotel",
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "CancelHotel"}],
                Next="ReserveFlight",
            ),
            # A function ARN as the resource: the state's input is the payload, the
            # function's result the task's.
            "ReserveFlight": {
                "Type": "Task",
                "Resource": function_arn(fns["reserve_flight"]),
                "ResultPath": "$.bookings.flight",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "CancelFlight"}],
                "Next": "ReserveCar",
            },
            "ReserveCar": invoke(
                "reserve_car",
                ResultSelector={"reference.$": "$.Payload.reference"},
                ResultPath="$.bookings.car",
                Retry=[{"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2}],
                Catch=[{"ErrorEquals": ["CarUnavailable"], "ResultPath": "$.error", "Next": "CancelFlight"}],
                Next="RecordConfirmed",
            ),
            "CancelFlight": invoke("cancel_flight", ResultPath=None, Next="CancelHotel"),
            "CancelHotel": invoke("cancel_hotel", ResultPath=None, Next="RecordFailed"),
            "RecordFailed": record("FAILED", "BookingFailed"),
            "BookingFailed": {"Type": "Fail", "Error": "BookingFailed", "Cause": "The trip could not be booked; its reservations were cancelled"},
            "RecordConfirmed": record("CONFIRMED", "BookingConfirmed"),
            "BookingConfirmed": {"Type": "Succeed"},
        },
    }
    return ddb, table, definition


def items_of(ddb, table, trip):
    resp = ddb.query(TableName=table, KeyConditionExpression="trip = :t", ExpressionAttributeValues={":t": {"S": trip}})
    return {i["resource"]["S"]: i for i in resp["Items"]}


def test_car_fails_and_compensations_run_in_reverse_order(stepfunctions, trip_booking):
    ddb, table, definition = trip_booking
    trip = unique_name("trip")
    desc, _, events = run(stepfunctions, definition, {"trip": trip, "hotel": "Grand", "flight": "NB123", "car": "unavailable"})

    assert desc["status"] == "FAILED"
    assert desc["error"] == "BookingFailed"

    items = items_of(ddb, table, trip)
    # The journal: bookings in order, the car refused, then the compensations in reverse.
    journal = [s["S"] for s in items["journal"]["steps"]["L"]]
    assert journal == ["reserve_hotel", "reserve_flight", "reserve_car", "cancel_flight", "cancel_hotel"]
    assert items["hotel"]["status"]["S"] == "CANCELLED"
    assert items["flight"]["status"]["S"] == "CANCELLED"
    assert "car" not in items, "the refused car was never booked"
    assert items["trip"]["status"]["S"] == "FAILED"

    # The history tells the same story.
    assert entered_states(events) == ["ReserveHotel", "ReserveFlight", "ReserveCar", "CancelFlight", "CancelHotel", "RecordFailed", "BookingFailed"]
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failed) == 1
    details = failed[0]["taskFailedEventDetails"]
    assert details["error"] == "CarUnavailable"
    assert details["resourceType"] == "lambda" and details["resource"] == "invoke"
    assert "no car available" in details["cause"]
    # The function ARN task is a Lambda function in the history.
    assert [e["type"] for e in events if e["type"].startswith("LambdaFunction")] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]
    scheduled = [e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled"]
    assert [(s["resourceType"], s["resource"]) for s in scheduled] == [("lambda", "invoke")] * 4 + [("dynamodb", "putItem")]
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["executionFailedEventDetails"]["error"] == "BookingFailed"


def test_available_car_books_the_whole_trip(stepfunctions, trip_booking):
    ddb, table, definition = trip_booking
    trip = unique_name("trip")
    desc, output, events = run(stepfunctions, definition, {"trip": trip, "hotel": "Grand", "flight": "NB123", "car": "compact"})

    assert desc["status"] == "SUCCEEDED", desc
    assert output["bookings"]["hotel"] == {"reference": f"hotel-{trip}"}
    assert output["bookings"]["flight"] == {"trip": trip, "resource": "flight", "status": "RESERVED", "reference": f"flight-{trip}"}
    assert output["bookings"]["car"] == {"reference": f"car-{trip}"}
    items = items_of(ddb, table, trip)
    assert [s["S"] for s in items["journal"]["steps"]["L"]] == ["reserve_hotel", "reserve_flight", "reserve_car"]
    assert {r: items[r]["status"]["S"] for r in ("hotel", "flight", "car", "trip")} == {"hotel": "RESERVED", "flight": "RESERVED", "car": "RESERVED", "trip": "CONFIRMED"}
    assert entered_states(events) == ["ReserveHotel", "ReserveFlight", "ReserveCar", "RecordConfirmed", "BookingConfirmed"]
    assert not [e for e in events if e["type"] == "TaskFailed"]
