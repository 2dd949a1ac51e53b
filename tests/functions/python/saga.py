"""Seed 004's saga (tests/python/test_stepfunctions_saga.py): a trip booked as three
reservations — hotel, flight, car — each a function writing the bookings table
(``BOOKINGS_TABLE``: key ``trip`` + ``resource``), and the compensations that cancel them.
Every step appends its name to the trip's ``journal`` item, so the test sees the order the
steps ran in. The car rental refuses a trip whose ``car`` is ``"unavailable"`` with a
``CarUnavailable`` error (the error a Catch in the state machine names).
"""

import os

_client = None


class CarUnavailable(Exception):
    pass


def _ddb():
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))
    return _client


def _journal(trip, step):
    _ddb().update_item(
        TableName=os.environ["BOOKINGS_TABLE"],
        Key={"trip": {"S": trip}, "resource": {"S": "journal"}},
        UpdateExpression="SET steps = list_append(if_not_exists(steps, :none), :step)",
        ExpressionAttributeValues={":none": {"L": []}, ":step": {"L": [{"S": step}]}},
    )


def _reserve(event, resource):
    trip = event["trip"]
    _journal(trip, "reserve_" + resource)
    if resource == "car" and event.get("car") == "unavailable":
        raise CarUnavailable(f"no car available for trip {trip}")
    reference = f"{resource}-{trip}"
    _ddb().put_item(
        TableName=os.environ["BOOKINGS_TABLE"],
        Item={"trip": {"S": trip}, "resource": {"S": resource}, "status": {"S": "RESERVED"}, "reference": {"S": reference}, "detail": {"S": str(event.get(resource, ""))}},
    )
    return {"trip": trip, "resource": resource, "status": "RESERVED", "reference": reference}


def _cancel(event, resource):
    trip = event["trip"]
    _journal(trip, "cancel_" + resource)
    _ddb().update_item(
        TableName=os.environ["BOOKINGS_TABLE"],
        Key={"trip": {"S": trip}, "resource": {"S": resource}},
        UpdateExpression="SET #s = :cancelled",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":cancelled": {"S": "CANCELLED"}},
    )
    return {"trip": trip, "resource": resource, "status": "CANCELLED"}


def reserve_hotel(event, context):
    return _reserve(event, "hotel")


def reserve_flight(event, context):
    return _reserve(event, "flight")


def reserve_car(event, context):
    return _reserve(event, "car")


def cancel_flight(event, context):
    return _cancel(event, "flight")


def cancel_hotel(event, context):
    return _cancel(event, "hotel")
