"""Django admin is for platform staff, across workspaces: it reads through `all_workspaces`."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiKey, Membership, User, WorkerHeartbeat, Workspace


class TenantAdmin(admin.ModelAdmin):
    """Base admin for tenant-owned models: unscoped on purpose, workspace always shown.

    Read-only (plus delete): customer data is changed through the product's pages and API, where
    every related lookup is resolved inside one workspace; an admin form would offer every
    workspace's accounts in its choices.
    """

    list_select_related = ("workspace",)

    def get_queryset(self, request):
        return self.model.all_workspaces.select_related("workspace")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_list_display(self, request):
        return ("__str__", "workspace", *[f for f in super().get_list_display(request) if f != "__str__"])

    def get_list_filter(self, request):
        return ("workspace", *super().get_list_filter(request))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "currency", "created_at")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ("name", "prefix", "scopes", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "secret_hash", "last_used_at")


admin.site.register(WorkerHeartbeat)
