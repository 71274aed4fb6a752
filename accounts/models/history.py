"""The history of an account's tier and lifecycle stage.

One `AccountChange` row per change of one field of one account, whatever made it: a person on the
account page or through a bulk action (`source="user"`, `changed_by` set), the partner API
(`"api"`), the automatic tier/stage rules (`"rule"`) or a playbook step (`"playbook"`). The old and
new values are kept both as ids and as label snapshots, so the history reads the same after a
tier or stage is renamed or deleted. Rows are only ever added, by `accounts.changes`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantModel

from .account import Account


class ChangeField(models.TextChoices):
    TIER = "tier", "Tier"
    STAGE = "stage", "Lifecycle stage"


class ChangeSource(models.TextChoices):
    USER = "user", "A person"
    API = "api", "Partner API"
    RULE = "rule", "Automatic rule"
    PLAYBOOK = "playbook", "Playbook"


class AccountChange(TenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=10, choices=ChangeField.choices)
    old_id = models.BigIntegerField(null=True, blank=True, help_text="Tier or LifecycleStage id before")
    old_label = models.CharField(max_length=60, blank=True)
    new_id = models.BigIntegerField(null=True, blank=True, help_text="Tier or LifecycleStage id after")
    new_label = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True, help_text="Why, for rules and playbooks")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "account", "changed_at"], name="accountchange_ws_account"),
            models.Index(fields=["workspace", "changed_at"], name="accountchange_ws_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.old_label or '—'} → {self.new_label or '—'}"
