"""Integrations pages under /w/<slug>/settings/integrations/ (admins only)."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/new/", views.WebhookCreateView.as_view(), name="webhook_create"),
    path("webhooks/<int:pk>/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path("webhooks/<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path("webhooks/deliveries/", views.DeliveryLogView.as_view(), name="deliveries"),
]
