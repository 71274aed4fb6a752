from django.contrib import admin

from tenancy.admin import TenantAdmin

from . import models


@admin.register(models.Account)
class AccountAdmin(TenantAdmin):
    list_display = ("name", "external_id", "mrr", "status", "tier", "lifecycle_stage", "health_score")
    list_filter = ("status", "health_band")
    search_fields = ("name", "external_id", "domain")
    raw_id_fields = ("csm_owner", "tier", "lifecycle_stage")


@admin.register(models.Contact)
class ContactAdmin(TenantAdmin):
    list_display = ("name", "email", "account", "is_champion", "is_executive", "is_active")
    search_fields = ("name", "email", "external_id")
    raw_id_fields = ("account",)


@admin.register(models.MRRMovement)
class MRRMovementAdmin(TenantAdmin):
    list_display = ("account", "kind", "amount", "occurred_on", "source")
    list_filter = ("kind",)
    raw_id_fields = ("account",)

    def has_add_permission(self, request):
        # Movements are recorded from account changes, never typed in.
        return False


@admin.register(models.AccountChange)
class AccountChangeAdmin(TenantAdmin):
    list_display = ("account", "field", "old_label", "new_label", "source", "changed_by", "changed_at")
    list_filter = ("field", "source")
    raw_id_fields = ("account", "changed_by")

    def has_add_permission(self, request):
        # Changes are recorded by accounts.changes, never typed in.
        return False


for model in (
    models.StageRules,
    models.Tier,
    models.LifecycleStage,
    models.Invoice,
    models.Ticket,
    models.NPSResponse,
    models.Touchpoint,
    models.CSMScore,
    models.UsageEvent,
    models.DailyUsage,
):
    # Raw id inputs: a select of 100,000 accounts would not render.
    raw = tuple(f for f in ("account", "contact") if any(x.name == f for x in model._meta.fields))
    admin.site.register(model, type(f"{model.__name__}Admin", (TenantAdmin,), {"raw_id_fields": raw}))
