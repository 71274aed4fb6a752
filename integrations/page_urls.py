"""Integrations pages under /w/<slug>/settings/integrations/ (admins only)."""

from django.urls import path

from . import import_views, views

app_name = "integrations"
urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/new/", views.WebhookCreateView.as_view(), name="webhook_create"),
    path("webhooks/<int:pk>/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path("webhooks/<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path("webhooks/deliveries/", views.DeliveryLogView.as_view(), name="deliveries"),
    path("api-keys/<int:pk>/rate/", views.ApiKeyRateLimitView.as_view(), name="api_key_rate"),
    path("import/", import_views.ImportListView.as_view(), name="imports"),
    path("import/<int:pk>/map/", import_views.ImportMapView.as_view(), name="import_map"),
    path("import/<int:pk>/preview/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path("import/<int:pk>/", import_views.ImportDetailView.as_view(), name="import_detail"),
    path("import/<int:pk>/result.csv", import_views.ImportResultView.as_view(), name="import_result"),
]
