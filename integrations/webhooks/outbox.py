"""Deliveries: recorded as rows when an event happens, sent by a Celery task, retried with
exponential backoff, every attempt kept in the delivery's log.

Signing, the POST and what is worth retrying are shared with playbook webhook steps
(`playbooks/delivery.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from playbooks import delivery as http
from tenancy.context import current_workspace_id

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

DELIVERY_HEADER = "X-CS-Delivery"
FINAL_STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
# A receiver's answer is read for this long; a slower one is retried.
TIMEOUT_SECONDS = http.TIMEOUT_SECONDS


def envelope(event: str, data: dict) -> dict:
    """The body every receiver gets: a unique event id (the same for every endpoint, so a
    receiver can de-duplicate), the event name, when it happened, and the event's data."""
    return {"id": str(uuid.uuid4()), "event": event, "occurred_at": timezone.now().isoformat(), "data": data}


def subscribers(event: str) -> list[WebhookEndpoint]:
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]


def record(event: str, items: list[dict]) -> list[int]:
    """One delivery per (subscribed endpoint, item) of the current workspace, each sent by the
    worker once the current transaction commits. Returns the new delivery ids."""
    from ..tasks import deliver_webhook

    endpoints = subscribers(event)
    if not endpoints or not items:
        return []
    rows = [
        WebhookDelivery(endpoint=endpoint, event=event, payload=envelope(event, data))
        for data in items
        for endpoint in endpoints
    ]
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    workspace_id = current_workspace_id()
    ids = [row.pk for row in created]
    for pk in ids:
        deliver_webhook.delay_on_commit(workspace_id, pk)
    return ids


def claim(delivery_id: int) -> WebhookDelivery | None:
    """Count the next attempt before making it, so two workers running the same message never
    make the same attempt twice; None when the delivery is already settled."""
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if row is None or row.status in FINAL_STATUSES or row.attempts >= http.MAX_ATTEMPTS:
            return None
        row.attempts += 1
        row.save(update_fields=["attempts"])
    return row


def attempt(delivery_id: int) -> int | None:
    """One attempt of a delivery, logged. Returns the countdown before the next attempt when
    this one failed in a way worth retrying and attempts remain, else None."""
    row = claim(delivery_id)
    if row is None:
        return None
    endpoint = row.endpoint
    started = timezone.now()
    entry = {"attempt": row.attempts, "at": started.isoformat()}
    retry_in = None
    try:
        sent = http.post_signed(
            endpoint.url,
            http.encode(row.payload),
            endpoint.secret,
            row.event,
            timeout=TIMEOUT_SECONDS,
            headers={DELIVERY_HEADER: str(row.pk)},
        )
    except http.DeliveryError as error:
        retryable = isinstance(error, http.RetryableDeliveryError) and row.attempts < http.MAX_ATTEMPTS
        if retryable:
            retry_in = http.backoff_seconds(row.attempts)
        row.status = DeliveryStatus.RETRYING if retryable else DeliveryStatus.FAILED
        row.http_status = error.http_status
        row.last_error = str(error)
        row.next_attempt_at = started + dt.timedelta(seconds=retry_in) if retry_in else None
        entry.update(
            outcome="retry" if retryable else "failed", http_status=error.http_status, error=str(error)
        )
        if retry_in:
            entry["retry_in_seconds"] = retry_in
    else:
        row.status = DeliveryStatus.DELIVERED
        row.http_status = sent["http_status"]
        row.delivered_at = timezone.now()
        row.next_attempt_at = None
        entry.update(outcome="ok", http_status=sent["http_status"], duration_ms=sent["duration_ms"])
    with transaction.atomic():
        fresh = WebhookDelivery.objects.select_for_update().get(pk=row.pk)
        row.log = [*fresh.log, entry]
        row.save(
            update_fields=["status", "http_status", "last_error", "next_attempt_at", "delivered_at", "log"]
        )
    return retry_in
