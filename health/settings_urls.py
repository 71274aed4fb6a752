from django.urls import path

from . import backtest_views, views

app_name = "health"
urlpatterns = [
    path("", views.ScorecardListView.as_view(), name="scorecards"),
    path("rescore/", views.RescoreView.as_view(), name="rescore"),
    path("scorecards/new/", views.ScorecardEditView.as_view(), name="scorecard_create"),
    path("scorecards/<int:pk>/", views.ScorecardEditView.as_view(), name="scorecard_edit"),
    path("scorecards/<int:pk>/backtest/", backtest_views.BacktestView.as_view(), name="backtest"),
    path("backtests/<int:pk>/", backtest_views.BacktestRunView.as_view(), name="backtest_run"),
    path(
        "backtests/<int:pk>/progress/",
        backtest_views.BacktestProgressView.as_view(),
        name="backtest_progress",
    ),
]
