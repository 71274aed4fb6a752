"""Product usage: raw events, rolled up into one row per (account, contact, feature, day).

Partners either push raw `UsageEvent`s (de-duplicated by their optional `event_id`) or push
`DailyUsage` rollups directly. Health metrics read only the rollups.
"""

from django.db import models
from django.db.models import Q

from tenancy.models import TenantModel

from .account import Account
from .contact import Contact


class UsageEvent(TenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_events")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_id = models.CharField(
        max_length=100, null=True, blank=True, help_text="Partner id, for de-duplication"
    )
    feature = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    quantity = models.PositiveIntegerField(default=1)
    duration_seconds = models.PositiveIntegerField(default=0)
    rolled_up = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "event_id"], name="usageevent_unique_event_id"),
        ]
        indexes = [
            models.Index(fields=["workspace", "rolled_up", "occurred_at"], name="usageevent_ws_pending"),
            models.Index(fields=["workspace", "account", "occurred_at"], name="usageevent_ws_account"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} at {self.occurred_at:%Y-%m-%d %H:%M}"


class DailyUsage(TenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_usage")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    feature = models.CharField(max_length=80)
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        verbose_name_plural = "daily usage"
        constraints = [
            # Two partial constraints because NULL contacts are distinct in a plain unique index.
            models.UniqueConstraint(
                fields=["workspace", "account", "contact", "feature", "day"],
                condition=Q(contact__isnull=False),
                name="dailyusage_unique_contact_day",
            ),
            models.UniqueConstraint(
                fields=["workspace", "account", "feature", "day"],
                condition=Q(contact__isnull=True),
                name="dailyusage_unique_account_day",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "day", "account"], name="dailyusage_ws_day")]

    def __str__(self) -> str:
        return f"{self.feature} on {self.day}: {self.events}"
