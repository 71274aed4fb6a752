"""Meta-tests: the tenancy rules hold for every model and task, including the ones added later.

A new model in a tenant app that forgets `TenantModel`, a unique constraint or index that does
not lead with `workspace`, or a Celery task of a tenant app that is not a `workspace_task` fails
here, before it can leak anything.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Lower
from django.test.utils import isolate_apps

from cs_platform.celery import app as celery_app
from tenancy.managers import TenantManager, UnscopedManager
from tenancy.models import TenantModel
from tenancy.tasks import WORKSPACE_TASKS

from ..support import TENANT_APPS, tenant_models

# Platform-level models of `tenancy`: they are what defines a workspace and who belongs to it,
# or (WorkerHeartbeat) record the platform's own health. Every other model there is tenant-owned.
PLATFORM_MODELS = {
    "tenancy.Workspace",
    "tenancy.User",
    "tenancy.Membership",
    "tenancy.WorkerHeartbeat",
}

# Unique columns that may stand alone. ApiKey.prefix is random and server-generated, and the key
# lookup must find the key before anyone knows its workspace (the key is what names it).
GLOBAL_UNIQUE_FIELDS = {"tenancy.ApiKey.prefix"}

# Platform tasks of tenant apps: they see every workspace on purpose (and only read ids).
PLATFORM_TASKS = {"tenancy.tasks.heartbeat", "tenancy.tasks.fan_out"}


def models_of_tenant_apps() -> list[type[models.Model]]:
    found = []
    for label in (*TENANT_APPS, "tenancy"):
        found.extend(
            m
            for m in apps.get_app_config(label).get_models()
            if not m._meta.proxy and m._meta.label not in PLATFORM_MODELS
        )
    return found


def test_tenant_apps_and_allow_list_are_current():
    for label in (*TENANT_APPS, "tenancy"):
        assert apps.is_installed(label), f"{label} is listed as a tenant app but not installed"
    for label in PLATFORM_MODELS:
        apps.get_model(label)  # raises LookupError for a stale entry
    assert {m._meta.label for m in models_of_tenant_apps()} >= {
        "tenancy.ApiKey",
        "accounts.Account",
        "accounts.Contact",
        "accounts.MRRMovement",
    }


@pytest.mark.parametrize("model", models_of_tenant_apps(), ids=lambda m: m._meta.label)
def test_every_model_of_a_tenant_app_is_a_tenant_model(model):
    assert issubclass(model, TenantModel), (
        f"{model._meta.label} lives in a tenant app but does not subclass tenancy.models.TenantModel; "
        "make it one, or add it to PLATFORM_MODELS with the reason it is platform-level"
    )


def test_no_tenant_model_lives_outside_the_known_apps():
    unexpected = {m._meta.label for m in tenant_models()} - {m._meta.label for m in models_of_tenant_apps()}
    assert not unexpected, f"tenant models in an app not listed in TENANT_APPS: {sorted(unexpected)}"


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_default_manager_is_scoped_and_unscoped_one_is_named_apart(model):
    assert isinstance(model._default_manager, TenantManager), (
        f"{model._meta.label}'s default manager is {type(model._default_manager).__name__}, "
        "not a scoped TenantManager"
    )
    assert model._default_manager.name == "objects"
    assert isinstance(model.objects, TenantManager)
    unscoped = model.all_workspaces
    assert isinstance(unscoped, UnscopedManager)
    assert not isinstance(unscoped, TenantManager)
    # No other manager: a third, unscoped one under an innocent name would bypass the scope.
    assert {m.name for m in model._meta.managers} == {"objects", "all_workspaces"}
    assert model._meta.get_field("workspace").related_model._meta.label == "tenancy.Workspace"


def _field_names(fields) -> list[str]:
    return [name.lstrip("-") for name in fields]


def key_violations(model: type[models.Model]) -> list[str]:
    """Unique constraints and indexes of `model` that do not start with `workspace`."""
    problems = []
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            fields = list(constraint.fields)
            if not fields or fields[0] != "workspace":
                problems.append(f"unique constraint {constraint.name} on {fields or constraint.expressions}")
    for fields in model._meta.unique_together:
        if fields[0] != "workspace":
            problems.append(f"unique_together {fields}")
    for index in model._meta.indexes:
        fields = _field_names(index.fields)
        if not fields and index.expressions:
            # An expression index must lead with the workspace column too.
            first = index.expressions[0]
            if isinstance(first, models.F) and first.name in ("workspace", "workspace_id"):
                continue
        if not fields or fields[0] != "workspace":
            problems.append(f"index {index.name} on {fields or index.expressions}")
    return problems


def field_index_violations(model: type[models.Model]) -> list[str]:
    """Single-column unique or indexed fields, which cannot start with `workspace`.

    A ForeignKey's own index (Django adds one to every FK) is allowed: it serves joins and the
    cascade from its parent row, not the tenant's hot paths.
    """
    label = model._meta.label
    problems = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name == "workspace":
            continue
        if field.unique and f"{label}.{field.name}" not in GLOBAL_UNIQUE_FIELDS:
            problems.append(f"field {field.name} is unique=True across workspaces")
        elif field.db_index and not field.unique and not field.is_relation:
            problems.append(f"field {field.name} has its own index (db_index=True)")
    return problems


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_unique_constraints_and_indexes_start_with_workspace(model):
    problems = key_violations(model)
    assert not problems, f"{model._meta.label}: " + "; ".join(problems)


def test_no_single_column_unique_or_index_on_tenant_models():
    problems = [f"{m._meta.label}: {p}" for m in tenant_models() for p in field_index_violations(m)]
    assert not problems, (
        "indexes that do not lead with workspace (use Meta.indexes / UniqueConstraint starting with "
        "workspace instead):\n" + "\n".join(problems)
    )


@isolate_apps("tests")
def test_key_checks_catch_what_they_should():
    class Leaky(TenantModel):
        code = models.CharField(max_length=10, unique=True)
        handle = models.SlugField()
        label = models.CharField(max_length=10)

        class Meta(TenantModel.Meta):
            app_label = "tests"
            constraints = [
                models.UniqueConstraint(fields=["label"], name="leaky_label"),
                models.UniqueConstraint(fields=["workspace", "code"], name="leaky_ok"),
            ]
            indexes = [
                models.Index(fields=["-label", "workspace"], name="leaky_idx"),
                models.Index(Lower("label"), models.F("workspace"), name="leaky_expr"),
                models.Index(models.F("workspace"), Lower("label"), name="expr_ok"),
            ]

    problems = key_violations(Leaky)
    assert problems[:2] == [
        "unique constraint leaky_label on ['label']",
        "index leaky_idx on ['label', 'workspace']",
    ]
    assert len(problems) == 3 and problems[2].startswith("index leaky_expr on")
    assert field_index_violations(Leaky) == [
        "field code is unique=True across workspaces",
        "field handle has its own index (db_index=True)",
    ]


def tenant_app_task_names(task_names) -> set[str]:
    prefixes = tuple(f"{label}." for label in (*TENANT_APPS, "tenancy"))
    return {name for name in task_names if name.startswith(prefixes)}


def unscoped_tenant_tasks(task_names, workspace_tasks) -> set[str]:
    """Tasks of tenant apps that neither run in a workspace scope nor are known platform tasks."""
    return tenant_app_task_names(task_names) - set(workspace_tasks) - PLATFORM_TASKS


def test_every_task_of_a_tenant_app_is_a_workspace_task():
    celery_app.autodiscover_tasks(force=True)
    names = set(celery_app.tasks.keys())
    assert names >= PLATFORM_TASKS, "the platform tasks should be registered"
    missing = unscoped_tenant_tasks(names, WORKSPACE_TASKS)
    assert not missing, (
        f"Celery tasks of tenant apps not declared with tenancy.tasks.workspace_task: {sorted(missing)}"
    )


def test_task_check_flags_a_plain_task():
    registered = {"health.tasks.rescore", "accounts.tasks.sneaky", "tenancy.tasks.heartbeat", "celery.chord"}
    assert unscoped_tenant_tasks(registered, {"health.tasks.rescore"}) == {"accounts.tasks.sneaky"}


def test_raw_psycopg_use_carries_the_workspace():
    """Statements sent on the psycopg connection itself (COPY) skip Django's cursor and so the
    backend's per-transaction workspace: each module doing that must call `rls.sync()` first."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in (*TENANT_APPS, "tenancy")
        for path in (root / app).rglob("*.py")
        if any(raw in path.read_text() for raw in ("connection.connection.cursor()", ".cursor.copy("))
        and "rls.sync(" not in path.read_text()
    ]
    assert not offenders, f"raw psycopg cursors without rls.sync(): {offenders}"
