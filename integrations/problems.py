"""Errors as RFC 9457 problem details (`application/problem+json`).

Field errors are listed under `errors`, each with a JSON pointer (RFC 6901) into the request body:
`{"pointer": "/mrr", "detail": "…"}` for a single record, `/records/3/mrr` inside a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


def escape_pointer_token(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_errors(detail: object, prefix: str = "") -> list[dict]:
    """Flatten DRF's error structure into `[{"pointer", "detail"}]`."""
    found: list[dict] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                found.extend(pointer_errors(value, prefix))
            else:
                found.extend(pointer_errors(value, f"{prefix}/{escape_pointer_token(key)}"))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            found.extend({"pointer": prefix, "detail": str(item)} for item in detail)
        else:
            for index, item in enumerate(detail):
                found.extend(pointer_errors(item, f"{prefix}/{index}"))
    else:
        found.append({"pointer": prefix, "detail": str(detail)})
    return found


def problem(status: int, detail: str, errors: list[dict] | None = None, **extra) -> dict:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status: int, detail: str, errors: list[dict] | None = None, **extra) -> Response:
    return Response(
        problem(status, detail, errors, **extra), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def problem_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    status = response.status_code
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        body = problem(status, str(data["detail"]))
    else:
        body = problem(status, "The request has invalid fields.", pointer_errors(data))
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
