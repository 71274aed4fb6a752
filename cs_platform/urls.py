"""URL wiring only. Workspace pages live under /w/<workspace-slug>/; the middleware checks membership."""

from django.contrib import admin
from django.urls import include, path

from integrations.metrics import metrics

workspace_patterns = [
    path("", include("segments.urls")),
    path("accounts/", include("accounts.urls")),
    path("lists/", include("segments.list_urls")),
    path("alerts/", include("health.urls")),
    path("tasks/", include("playbooks.urls")),
    path("settings/", include("tenancy.settings_urls")),
    path("settings/health/", include("health.settings_urls")),
    path("settings/integrations/", include("integrations.page_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.urls")),
    path("metrics", metrics, name="metrics"),
    path("", include("tenancy.urls")),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
]
