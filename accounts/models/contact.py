from django.db import models

from tenancy.models import TimestampedTenantModel

from .account import Account


class Contact(TimestampedTenantModel):
    """One of the account's end users. Deactivating a champion is a stakeholder change."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=100, null=True, blank=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=120, blank=True)
    is_champion = models.BooleanField("champion", default=False)
    is_executive = models.BooleanField("executive", default=False)
    is_decision_maker = models.BooleanField("decision maker", default=False)
    is_active = models.BooleanField("active", default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["name", "email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="contact_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["workspace", "account"], name="contact_ws_account"),
            models.Index(fields=["workspace", "email"], name="contact_ws_email"),
            models.Index(fields=["workspace", "updated_at"], name="contact_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Contact {self.pk}"

    @property
    def roles(self) -> list[str]:
        flags = [
            ("champion", self.is_champion),
            ("executive", self.is_executive),
            ("decision maker", self.is_decision_maker),
        ]
        return [name for name, on in flags if on]
