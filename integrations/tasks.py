"""Celery tasks of integrations: thin wrappers that take ids and run inside one workspace."""

from __future__ import annotations

from tenancy.tasks import workspace_task

from .webhooks import outbox


@workspace_task(name="integrations.tasks.deliver_webhook", bind=True, max_retries=None)
def deliver_webhook(self, workspace_id: int, delivery_id: int) -> None:
    """One attempt of an outbound webhook delivery; retried with exponential backoff up to
    playbooks.delivery.MAX_ATTEMPTS attempts in all."""
    countdown = outbox.attempt(delivery_id)
    if countdown is not None:
        raise self.retry(countdown=countdown)


@workspace_task(name="integrations.tasks.run_import")
def run_import(workspace_id: int, job_id: int) -> None:
    """Import an uploaded CSV file (integrations/csv_import.py)."""
    from . import csv_import

    csv_import.run(job_id)
