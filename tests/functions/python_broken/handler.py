"""A Python test function whose module fails to import (Runtime.ImportModuleError)."""

import nimbus_module_that_does_not_exist  # noqa: F401


def handler(event, context):
    return {"unreachable": True}
