"""Managers for tenant-owned models.

``objects`` is scoped to the current workspace and fails closed: with no workspace selected it
raises instead of returning every tenant's rows. ``all_workspaces`` is the deliberately
differently named unscoped manager, for migrations, the platform admin and fan-out schedulers.
On PostgreSQL its statements are also the only ones that pass row-level security outside a
workspace scope (`tenancy.rls`): each one runs under `platform_access()`.
"""

from __future__ import annotations

import functools

from django.db import models

from .context import current_workspace_id
from .rls import platform_access


class TenantQuerySet(models.QuerySet):
    def _stamp(self, objs):
        # Inside a scope, rows get the current workspace and may not name another one. Outside
        # (only reachable through `all_workspaces`), every row must already carry its workspace.
        workspace_id = current_workspace_id(required=False)
        for obj in objs:
            if obj.workspace_id is None:
                if workspace_id is None:
                    raise ValueError(f"{type(obj).__name__} has no workspace")
                obj.workspace_id = workspace_id
            elif workspace_id is not None and obj.workspace_id != workspace_id:
                raise ValueError("refusing to write a row of another workspace")
        return objs

    def bulk_create(self, objs, *args, **kwargs):
        return super().bulk_create(self._stamp(list(objs)), *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):
        return super().bulk_update(self._stamp(list(objs)), *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager: every query is filtered to the current workspace, or raises."""

    def get_queryset(self):
        return super().get_queryset().filter(workspace_id=current_workspace_id())


class PlatformAccess:
    """Mixed into the querysets of `all_workspaces`: each method that runs SQL does so under
    `platform_access()`, and only for its own call."""

    def _fetch_all(self):
        with platform_access():
            super()._fetch_all()

    def iterator(self, chunk_size=None):
        # Entered and left around every step, so the caller's own statements between two rows
        # never run with the bypass on.
        rows = super().iterator(chunk_size)
        while True:
            with platform_access():
                try:
                    row = next(rows)
                except StopIteration:
                    return
            yield row


def _platform(name):
    @functools.wraps(getattr(models.QuerySet, name))  # keeps `queryset_only` / `alters_data`
    def run(self, *args, **kwargs):
        with platform_access():
            return getattr(super(PlatformAccess, self), name)(*args, **kwargs)

    return run


# The methods that run SQL without going through `_fetch_all` or `iterator` (the others —
# get, first, in_bulk, contains, bulk_update, bulk_create — end in these).
for _name in (
    "aggregate",
    "count",
    "exists",
    "explain",
    "update",
    "_update",
    "delete",
    "_raw_delete",
    "_insert",
):
    setattr(PlatformAccess, _name, _platform(_name))

_platform_classes: dict[type, type] = {}


def platform_queryset_class(cls: type) -> type:
    """`cls` with `PlatformAccess` mixed in (one class per queryset class, made once)."""
    if issubclass(cls, PlatformAccess):
        return cls
    if cls not in _platform_classes:
        _platform_classes[cls] = type(
            f"Platform{cls.__name__}", (PlatformAccess, cls), {"__module__": __name__}
        )
    return _platform_classes[cls]


class UnscopedManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every workspace's rows. Named ``all_workspaces`` on models so it is never picked by accident."""

    def get_queryset(self):
        queryset = super().get_queryset()
        queryset.__class__ = platform_queryset_class(queryset.__class__)
        return queryset
