from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.models import TenantModel, TimestampedTenantModel

from .account import Account


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    VOID = "void", "Void"


class Invoice(TimestampedTenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoices")
    external_id = models.CharField(max_length=100, null=True, blank=True)
    number = models.CharField(max_length=60, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    issued_on = models.DateField()
    due_on = models.DateField()
    paid_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="invoice_unique_external_id"),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("issued_on")), name="invoice_due_after_issue"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "account", "issued_on"], name="invoice_ws_account"),
            models.Index(fields=["workspace", "status", "due_on"], name="invoice_ws_status_due"),
            models.Index(fields=["workspace", "updated_at"], name="invoice_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.number or self.external_id or f"Invoice {self.pk}"

    @property
    def days_overdue(self) -> int:
        if self.status not in (InvoiceStatus.OPEN, InvoiceStatus.FAILED):
            return 0
        return max(0, (timezone.localdate() - self.due_on).days)


class MovementKind(models.TextChoices):
    NEW = "new", "New"
    EXPANSION = "expansion", "Expansion"
    CONTRACTION = "contraction", "Contraction"
    CHURN = "churn", "Churn"
    REACTIVATION = "reactivation", "Reactivation"


class MRRMovement(TenantModel):
    """A change of recurring revenue, recorded by accounts/mrr.py, never typed in by hand."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mrr_movements")
    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Signed change of MRR")
    mrr_before = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    mrr_after = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    occurred_on = models.DateField()
    source = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta(TenantModel.Meta):
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "occurred_on", "kind"], name="mrrmove_ws_day_kind"),
            models.Index(fields=["workspace", "account", "occurred_on"], name="mrrmove_ws_account"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+} on {self.occurred_on}"
