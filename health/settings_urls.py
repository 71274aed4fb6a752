from django.urls import path

from . import views

app_name = "health"
urlpatterns = [
    path("", views.ScorecardListView.as_view(), name="scorecards"),
    path("rescore/", views.RescoreView.as_view(), name="rescore"),
    path("scorecards/new/", views.ScorecardEditView.as_view(), name="scorecard_create"),
    path("scorecards/<int:pk>/", views.ScorecardEditView.as_view(), name="scorecard_edit"),
]
