from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenancy.models import TenantModel


class IdempotencyRecord(TenantModel):
    """The first response to a write sent with an `Idempotency-Key`, replayed to its retries.

    Keyed by (workspace, key): two workspaces may use the same key. `fingerprint` is a hash of
    method, path and body, so the same key with another request is recognised (and refused).
    While `completed_at` is empty the first request is still in flight.
    """

    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_body = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_unique_key"),
        ]
        indexes = [models.Index(fields=["workspace", "expires_at"], name="idempotency_ws_expires")]

    def __str__(self) -> str:
        return f"{self.key} ({'done' if self.completed_at else 'in flight'})"


class IngestCount(TenantModel):
    """Records written through the partner API, per resource: the `cs_records_ingested` metric.
    One row per (workspace, resource), bumped once per request (not per record)."""

    resource = models.CharField(max_length=40)
    records = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "resource"], name="ingestcount_unique_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.resource}: {self.records}"


def count_ingested(resource: str, records: int) -> None:
    """Add `records` to the current workspace's count for `resource` (one statement or two)."""
    from django.db.models import F

    if records <= 0:
        return
    now = timezone.now()
    if not IngestCount.objects.filter(resource=resource).update(
        records=F("records") + records, updated_at=now
    ):
        from django.db import IntegrityError, transaction

        try:
            with transaction.atomic():
                IngestCount.objects.create(resource=resource, records=records, updated_at=now)
        except IntegrityError:  # created meanwhile by a concurrent request
            IngestCount.objects.filter(resource=resource).update(
                records=F("records") + records, updated_at=now
            )
