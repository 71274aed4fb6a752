"""The current workspace, held in a context variable.

It is set by exactly three entry points, each resetting it in a ``finally``:
``tenancy.middleware.WorkspaceMiddleware`` (pages), ``integrations``' API base view (after API-key
authentication) and ``tenancy.tasks.workspace_task`` (Celery tasks). Management commands and
tests enter a workspace explicitly with :func:`use_workspace`, which is what those three call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Workspace


class NoWorkspaceSelected(RuntimeError):
    """A tenant-scoped query ran with no current workspace: the code forgot its scope."""


_current: ContextVar[int | None] = ContextVar("current_workspace_id", default=None)


def current_workspace_id(required: bool = True) -> int | None:
    workspace_id = _current.get()
    if workspace_id is None and required:
        raise NoWorkspaceSelected(
            "No workspace is selected. Tenant data is only reachable inside a workspace scope "
            "(page, API request or task); use `all_workspaces` only for platform-level code."
        )
    return workspace_id


@contextmanager
def use_workspace(workspace: Workspace | int) -> Iterator[int]:
    workspace_id = getattr(workspace, "pk", workspace)
    if not isinstance(workspace_id, int) or isinstance(workspace_id, bool):
        raise TypeError(f"workspace id must be an int, got {workspace_id!r}")
    token = _current.set(workspace_id)
    try:
        yield workspace_id
    finally:
        _current.reset(token)
