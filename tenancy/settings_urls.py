from django.urls import path

from . import settings_views

app_name = "workspace_settings"
urlpatterns = [
    path("", settings_views.SettingsHomeView.as_view(), name="home"),
    path("api-keys/new/", settings_views.ApiKeyCreateView.as_view(), name="api_key_create"),
    path("api-keys/created/", settings_views.ApiKeyCreatedView.as_view(), name="api_key_created"),
    path("api-keys/<int:pk>/revoke/", settings_views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
