from django.urls import path

from . import settings_views

app_name = "workspace_settings"
urlpatterns = [
    path("", settings_views.SettingsHomeView.as_view(), name="home"),
]
