"""While the database does not answer, requests get 503 (with `Retry-After`), never 500.

`django.db.OperationalError` and `InterfaceError` mean the database is unreachable or the
connection broke (a restart, a failover). Django turns any exception into a 500 inside each
middleware layer, so the exception is noticed through `got_request_exception` (which every
uncaught exception passes) and `DatabaseUnavailableMiddleware`, the outermost layer, replaces
that request's 500 with a 503: a problem document (`application/problem+json`) under `/api/`,
a plain page elsewhere. Nothing here touches the database.

Recovery needs no restart: a broken connection is discarded (`CONN_HEALTH_CHECKS`, and Django
closes unusable connections at the end of each request), so the first request after the
database returns opens a new one.
"""

from __future__ import annotations

import json
import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
DATABASE_ERRORS = (OperationalError, InterfaceError)
PROBLEM_CONTENT_TYPE = "application/problem+json"


def is_database_outage(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, DATABASE_ERRORS):
            return True
        error = error.__cause__ or error.__context__
    return False


@receiver(got_request_exception)
def _note_database_outage(sender, request=None, **kwargs) -> None:
    error = sys.exc_info()[1]
    if request is not None and is_database_outage(error):
        request._database_unavailable = f"{type(error).__name__}: {error}"[:300]


def unavailable_response(request) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "The database is unavailable; retry shortly.",
        }
        response = HttpResponse(json.dumps(body), status=503, content_type=PROBLEM_CONTENT_TYPE)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Outermost middleware: a request that failed because the database is down gets 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        reason = getattr(request, "_database_unavailable", None)
        if reason and response.status_code >= 500:
            log.warning("database unavailable: %s %s answered 503 (%s)", request.method, request.path, reason)
            replacement = unavailable_response(request)
            request_id = response.get("X-Request-ID")
            if request_id:
                replacement["X-Request-ID"] = request_id
            return replacement
        return response
