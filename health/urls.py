from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.AlertInboxView.as_view(), name="inbox"),
    path("act/", views.AlertActionView.as_view(), name="act"),
    path("rules/", views.AlertRuleListView.as_view(), name="rules"),
    path("rules/new/<slug:kind>/", views.AlertRuleEditView.as_view(), name="rule_create"),
    path("rules/<int:pk>/", views.AlertRuleEditView.as_view(), name="rule_edit"),
]
