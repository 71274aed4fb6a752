"""Celery tasks of playbooks: thin wrappers over runner.py and triggers.py. They take ids, are
idempotent (a step that succeeded is never repeated) and are enqueued on commit."""

from __future__ import annotations

from tenancy.tasks import release_once, workspace_task

from . import digest, runner, triggers


@workspace_task(name="playbooks.tasks.execute_run")
def execute_run(workspace_id: int, run_id: int) -> None:
    """Carry out a run's steps in order; a step that fails in a retryable way goes on in
    `execute_step` with backoff while the run's other steps proceed."""

    def retry_later(step_run_id: int, countdown: int) -> None:
        execute_step.apply_async((workspace_id, step_run_id), countdown=countdown)

    runner.execute_run(run_id, retry_later)


@workspace_task(name="playbooks.tasks.execute_step", bind=True, max_retries=None)
def execute_step(self, workspace_id: int, step_run_id: int) -> None:
    """Another attempt of one step; retried with exponential backoff up to runner.MAX_ATTEMPTS."""
    countdown = runner.execute_step(step_run_id)
    if countdown is not None:
        raise self.retry(countdown=countdown)


@workspace_task(name="playbooks.tasks.start_renewal_runs")
def start_renewal_runs(workspace_id: int) -> int:
    """Daily (fanned out by beat): runs of 'renewal within N days' playbooks."""
    return triggers.start_renewal_runs()


@workspace_task(name="playbooks.tasks.check_list_playbooks")
def check_list_playbooks(workspace_id: int) -> int:
    """After each of today's health runs (the hourly full rescore too): "joined a list" playbooks."""
    release_once(check_list_playbooks, workspace_id)
    return triggers.check_list_playbooks()


@workspace_task(name="playbooks.tasks.send_digests")
def send_digests(workspace_id: int) -> int:
    """Daily (fanned out by beat): each CSM's digest email of new alerts and due tasks."""
    return digest.send_digests()
