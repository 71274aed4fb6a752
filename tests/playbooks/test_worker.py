"""A playbook end to end through a real Celery worker: a health run in which an account enters
red starts the rescue playbook; the worker creates the task for the account's CSM and calls a
local webhook, which answers 500 first, so the step is retried with backoff and both attempts
are logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import os

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from cs_platform.celery import app
from playbooks.models import PlaybookRun, RunStatus, StepKind, StepRun, StepStatus, Task, TriggerKind
from playbooks.provisioning import create_playbook
from tenancy.context import use_workspace
from tenancy.models import Role

from .. import factories as f
from ..celery.worker import broker, executed_tasks, filesystem_options, wait_for  # noqa: F401
from .hooks import webhook_receiver
from .test_playbooks import band_run

SECRET = "worker-test-secret-0123456789"


def band_to_red_runs_the_playbook_on_a_worker() -> None:
    ws = f.WorkspaceFactory()
    csm = f.UserFactory(full_name="Riley Rescuer")
    bystander = f.UserFactory(full_name="Bo Bystander")
    f.MembershipFactory(user=csm, workspace=ws, role=Role.CSM)
    f.MembershipFactory(user=bystander, workspace=ws, role=Role.CSM)
    with webhook_receiver([500]) as hook:
        with use_workspace(ws):
            playbook = create_playbook(
                "Rescue red accounts",
                "",
                [
                    (StepKind.CREATE_TASK, {"title": "Rescue plan for {account.name}", "due_in_days": 3}),
                    (StepKind.CALL_WEBHOOK, {"url": hook.url, "secret": SECRET, "event": "account.rescue"}),
                ],
                trigger=TriggerKind.BAND_ENTERED,
                band="red",
            )
            red = f.AccountFactory(name="Sinking Ship Ltd", external_id="ship-1", csm_owner=csm)
            calm = f.AccountFactory(name="Calm Waters", csm_owner=bystander)

        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20):
            with use_workspace(ws), transaction.atomic():
                band_run({red.pk: "yellow", calm.pk: "green"}, {red.pk: "red", calm.pk: "green"},
                         workspace_id=ws.pk)  # fmt: skip

            def finished():
                with use_workspace(ws):
                    return PlaybookRun.objects.filter(
                        status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]
                    ).first()

            run = wait_for(finished, timeout=30)
        assert run is not None, "the worker did not finish the run"
    with use_workspace(ws):
        assert (run.playbook_id, run.account_id, run.status) == (playbook.pk, red.pk, RunStatus.SUCCEEDED)
        task = Task.objects.get()
        assert (task.title, task.assignee, task.account_id) == (
            "Rescue plan for Sinking Ship Ltd",
            csm,
            red.pk,
        )
        hook_step = StepRun.objects.get(run=run, kind=StepKind.CALL_WEBHOOK)
        assert (hook_step.status, hook_step.attempts) == (StepStatus.SUCCEEDED, 2)
        assert [(e["outcome"], e["http_status"]) for e in hook_step.log] == [("retry", 500), ("ok", 200)]
    assert len(hook.received) == 2
    for request in hook.received:
        digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["X-CS-Signature"], f"sha256={digest}")
        body = json.loads(request.body)
        assert body["account"]["external_id"] == "ship-1" and body["event"] == "account.rescue"


@pytest.mark.django_db(transaction=True)
def test_band_to_red_runs_the_playbook_through_the_filesystem_broker(tmp_path, executed_tasks):  # noqa: F811
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        band_to_red_runs_the_playbook_on_a_worker()
    names = [name for name, _ in executed_tasks]
    assert names.count("playbooks.tasks.execute_run") == 1
    assert "playbooks.tasks.execute_step" in names


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_band_to_red_runs_the_playbook_through_redis(executed_tasks):  # noqa: F811
    with broker(os.environ["REDIS_URL"], {"visibility_timeout": 3600}):
        band_to_red_runs_the_playbook_on_a_worker()
