"""Request ids and log context: every log line says which request (or task) and which workspace
it belongs to, so one customer's problem can be followed through web, API and worker logs.

- `RequestIdMiddleware` takes a sane `X-Request-ID` from the proxy or makes one, keeps it in a
  context variable for the request and returns it in the response's `X-Request-ID`.
- Celery tasks use their task id as the request id (`task_prerun` / `task_postrun`).
- `LogContextFilter` adds `request_id` and `workspace_id` to every record; `JsonFormatter`
  writes one JSON object per line (`LOG_FORMAT=json`), the plain format names both too.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

from .context import current_workspace_id

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,100}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        workspace_id = current_workspace_id(required=False)
        record.workspace_id = workspace_id if workspace_id is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("request_id", "workspace_id")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            entry[name] = getattr(record, name, "-")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def connect_task_request_ids() -> None:
    """Celery: a task's log lines carry its task id as their request id."""
    from celery.signals import task_postrun, task_prerun

    tokens: dict[str, object] = {}

    @task_prerun.connect(weak=False)
    def _start(task_id=None, **kwargs):
        tokens[task_id] = _request_id.set(task_id or "-")

    @task_postrun.connect(weak=False)
    def _end(task_id=None, **kwargs):
        token = tokens.pop(task_id, None)
        if token is not None:
            _request_id.reset(token)
