from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tenancy.models import TimestampedTenantModel

from .account import Account
from .contact import Contact


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)


class Ticket(TimestampedTenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    external_id = models.CharField(max_length=100, null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    category = models.CharField(max_length=80, blank=True)
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)
    csat = models.PositiveSmallIntegerField(
        "CSAT", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="ticket_unique_external_id"),
            models.CheckConstraint(
                condition=Q(csat__gte=1, csat__lte=5) | Q(csat__isnull=True), name="ticket_csat_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "account", "opened_at"], name="ticket_ws_account"),
            models.Index(fields=["workspace", "status", "opened_at"], name="ticket_ws_status"),
            models.Index(fields=["workspace", "updated_at"], name="ticket_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.subject or self.external_id or f"Ticket {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TICKET_STATUSES
