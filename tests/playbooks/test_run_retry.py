"""Retrying a failed run's failed steps by hand from the run page."""

from __future__ import annotations

import pytest

from playbooks import runner, triggers
from playbooks.models import PlaybookRun, RunStatus, StepKind, StepRun, StepStatus, TriggerKind
from playbooks.provisioning import create_playbook
from tenancy.models import Role

from .. import factories as f
from ..support import wurl
from .hooks import webhook_receiver

pytestmark = pytest.mark.django_db


def failed_run(url: str) -> tuple[PlaybookRun, StepRun]:
    playbook = create_playbook(
        "Hook",
        "",
        [
            (StepKind.CREATE_TASK, {"title": "Before the hook", "due_in_days": 1}),
            (StepKind.CALL_WEBHOOK, {"url": url}),
        ],
        trigger=TriggerKind.BAND_ENTERED,
        band="red",
    )
    (run_id,) = triggers.start_runs(playbook, {f.AccountFactory().pk: "x"})
    retries = []
    runner.execute_run(run_id, lambda pk, countdown: retries.append(pk))
    (step_id,) = retries
    while runner.execute_step(step_id) is not None:
        pass
    return PlaybookRun.objects.get(pk=run_id), StepRun.objects.get(pk=step_id)


def test_an_admin_retries_the_failed_steps_only(client, workspace, django_capture_on_commit_callbacks):
    admin, csm = f.UserFactory(), f.UserFactory()
    f.MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    f.MembershipFactory(user=csm, workspace=workspace, role=Role.CSM)
    with webhook_receiver([503] * runner.MAX_ATTEMPTS) as hook:
        run, step = failed_run(hook.url)
        assert (run.status, step.status, step.attempts) == (
            RunStatus.FAILED,
            StepStatus.FAILED,
            runner.MAX_ATTEMPTS,
        )
        page = wurl(workspace, "tasks:playbook_run", pk=run.pk)
        retry = wurl(workspace, "tasks:playbook_run_retry", pk=run.pk)

        client.force_login(csm)
        assert "Retry failed steps" not in client.get(page).content.decode()
        assert client.post(retry).status_code == 403

        client.force_login(admin)
        assert "Retry failed steps" in client.get(page).content.decode()
        with django_capture_on_commit_callbacks(execute=False) as enqueued:
            response = client.post(retry)
        assert response.status_code == 302 and response.url == page
        assert len(enqueued) == 1
        assert PlaybookRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
        # What the enqueued task does: the endpoint answers now.
        assert runner.execute_step(step.pk) is None
    step.refresh_from_db()
    assert (step.status, step.attempts) == (StepStatus.SUCCEEDED, runner.MAX_ATTEMPTS + 1)
    assert [e["outcome"] for e in step.log][-2:] == ["manual retry", "ok"]
    assert PlaybookRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED
    # The task step that succeeded was not repeated.
    assert StepRun.objects.get(run=run, kind=StepKind.CREATE_TASK).attempts == 1
    body = client.get(page).content.decode()
    assert "Retried by hand" in body and "Retry failed steps" not in body


def test_a_manual_retry_gets_a_fresh_budget_of_attempts(workspace):
    with webhook_receiver([503] * (runner.MAX_ATTEMPTS + 1)) as hook:
        run, step = failed_run(hook.url)
        (step_id,) = runner.retry_failed_steps(run, None)
        # Failing again after the manual retry is retried with backoff, not failed at once.
        assert runner.execute_step(step_id) == runner.backoff_seconds(runner.MAX_ATTEMPTS + 1)
        assert runner.execute_step(step_id) is None
    step.refresh_from_db()
    assert step.status == StepStatus.SUCCEEDED


def test_a_run_without_failed_steps_has_nothing_to_retry(client, workspace):
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    client.force_login(admin)
    with webhook_receiver() as hook:
        playbook = create_playbook("Ok", "", [(StepKind.CALL_WEBHOOK, {"url": hook.url})],
                                   trigger=TriggerKind.BAND_ENTERED, band="red")  # fmt: skip
        (run_id,) = triggers.start_runs(playbook, {f.AccountFactory().pk: "x"})
        runner.execute_run(run_id, lambda *a: None)
    response = client.post(wurl(workspace, "tasks:playbook_run_retry", pk=run_id), follow=True)
    assert "This run has no failed step to retry." in response.content.decode()
    assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
