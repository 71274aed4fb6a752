from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.AlertInboxView.as_view(), name="inbox"),
]
