from django.urls import path

from . import timeline_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.AccountListView.as_view(), name="list"),
    path("<int:pk>/", views.AccountDetailView.as_view(), name="detail"),
    path("<int:pk>/touchpoints/new/", views.AccountTouchpointCreateView.as_view(), name="touchpoint_create"),
    path("<int:pk>/csm-score/", views.AccountCSMScoreCreateView.as_view(), name="csm_score_create"),
    path("<int:pk>/timeline/", timeline_views.AccountTimelineView.as_view(), name="timeline"),
    path("contacts/", views.ContactListView.as_view(), name="contacts"),
]
