"""Managers for tenant-owned models.

``objects`` is scoped to the current workspace and fails closed: with no workspace selected it
raises instead of returning every tenant's rows. ``all_workspaces`` is the deliberately
differently named unscoped manager, for migrations, the platform admin and fan-out schedulers.
"""

from __future__ import annotations

from django.db import models

from .context import current_workspace_id


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


class UnscopedManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every workspace's rows. Named ``all_workspaces`` on models so it is never picked by accident."""
