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
