from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenancy.models import TenantModel, TimestampedTenantModel


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (only me)"
    PUBLIC = "public", "Public (the whole workspace)"


class ListResource(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"


class SavedList(TimestampedTenantModel):
    """A customer list: a filter query (the list page's own query string), its sort and columns.

    The query is kept as the page's query string, so a list opens exactly as it was saved, and
    "My accounts" (`mine=true`) resolves for whoever opens it.
    """

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    resource = models.CharField(max_length=10, choices=ListResource.choices, default=ListResource.ACCOUNTS)
    query = models.CharField(max_length=2000, blank=True)
    columns = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    is_seeded = models.BooleanField(default=False, help_text="One of the workspace's starting lists")

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["name"]
        indexes = [models.Index(fields=["workspace", "resource", "visibility"], name="savedlist_ws_resource")]

    def __str__(self) -> str:
        return self.name


def visible_lists(user, resource: str | None = None):
    lists = SavedList.objects.filter(Q(visibility=Visibility.PUBLIC) | Q(owner=user))
    return lists.filter(resource=resource) if resource else lists


class DefaultList(TenantModel):
    """The list a user's accounts (or contacts) page opens with."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=10, choices=ListResource.choices)
    saved_list = models.ForeignKey(SavedList, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user", "resource"], name="defaultlist_one_per_resource"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.saved_list}"
