from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantModel, TimestampedTenantModel


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


class WebhookEvent(models.TextChoices):
    ALERT_OPENED = "alert.opened", "Alert opened"
    ALERT_RESOLVED = "alert.resolved", "Alert resolved"
    HEALTH_BAND_CHANGED = "health.band_changed", "Health band changed"
    STAGE_CHANGED = "account.stage_changed", "Lifecycle stage changed"
    TASK_CREATED = "task.created", "Task created"


class WebhookEndpoint(TimestampedTenantModel):
    """A URL of the workspace's own systems, subscribed to some events. Every delivery is signed
    with the endpoint's secret (HMAC-SHA256 of the body, `X-CS-Signature: sha256=<hex>`)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["url", "pk"]
        indexes = [models.Index(fields=["workspace", "is_active"], name="webhook_ws_active")]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Waiting to retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantModel):
    """One event sent to one endpoint, with every attempt in `log`."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "endpoint", "created_at"], name="delivery_ws_endpoint"),
            models.Index(fields=["workspace", "created_at"], name="delivery_ws_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    INVOICES = "invoices", "Invoices"
    TICKETS = "tickets", "Tickets"
    NPS = "nps", "NPS responses"
    USAGE = "usage", "Daily usage"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(TimestampedTenantModel):
    """One uploaded CSV file: its column mapping, the import's progress and its result summary.

    The file is kept in the row (it is at most a few MiB), so the web process that received it
    and the worker that imports it need no shared disk.
    """

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    filename = models.CharField(max_length=255)
    content = models.TextField()
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="{column header: field name}")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    result = models.TextField(blank=True, help_text="The summary CSV: one line per row of the file")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="importjob_ws_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.filename}"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ApiKeyRateLimit(TimestampedTenantModel):
    """A key's own request rate, overriding the deployment's `API_RATE_LIMIT` for that key
    (a nightly bulk sync may need more, a small script less)."""

    key = models.ForeignKey("tenancy.ApiKey", on_delete=models.CASCADE, related_name="+")
    requests_per_minute = models.PositiveIntegerField()

    class Meta(TimestampedTenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="apikey_rate_one_per_key")]

    def __str__(self) -> str:
        return f"{self.key_id}: {self.requests_per_minute}/min"


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
