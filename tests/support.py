"""Helpers shared by the suites (fixtures live in conftest.py)."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.urls import reverse

from tenancy.models import TenantModel, Workspace

# Apps whose models hold customer data of one workspace. tenancy also holds tenant models
# (ApiKey, WorkspaceLock) beside the platform-level ones.
TENANT_APPS = ("accounts", "health", "playbooks", "segments", "integrations")


def tenant_models() -> list[type[models.Model]]:
    """Every concrete model that subclasses TenantModel, in any app."""
    return [
        m
        for m in apps.get_models()
        if issubclass(m, TenantModel) and not m._meta.abstract and not m._meta.proxy
    ]


def snapshot(workspace: Workspace) -> dict[str, list[dict]]:
    """Every row of every tenant model of `workspace`, read through the unscoped manager."""
    return {
        m._meta.label: list(m.all_workspaces.filter(workspace=workspace).order_by("pk").values())
        for m in tenant_models()
    }


def wurl(workspace: Workspace | str, name: str, **kwargs) -> str:
    """A page URL inside a workspace: `wurl(ws, "accounts:detail", pk=1)`."""
    slug = workspace if isinstance(workspace, str) else workspace.slug
    return reverse(name, kwargs={"workspace_slug": slug, **kwargs})
