"""Reads a secret and SSM parameters with AWS Lambda Powertools' Parameters utility, the
way AWS users cache secrets instead of fetching them on every call (seed 001's lesson).
The cache lives as long as the execution environment; `max_age` is long so a test sees it."""

from aws_lambda_powertools.utilities import parameters

MAX_AGE = 300


def handler(event, context):
    force = bool(event.get("force"))
    return {
        "secret": parameters.get_secret(event["secret"], max_age=MAX_AGE, force_fetch=force),
        "parameter": parameters.get_parameter(event["parameter"], max_age=MAX_AGE, force_fetch=force),
        "secure": parameters.get_parameter(event["secure"], decrypt=True, max_age=MAX_AGE, force_fetch=force),
        "by_name": parameters.get_parameters_by_name(
            parameters={event["parameter"]: {}, event["secure"]: {"decrypt": True}}, max_age=MAX_AGE),
    }
