from django.urls import path

from . import views

app_name = "tasks"
urlpatterns = [
    path("", views.TaskListView.as_view(), name="list"),
    path("new/", views.TaskCreateView.as_view(), name="create"),
    path("accounts/<int:account_pk>/new/", views.TaskCreateView.as_view(), name="account_create"),
    path("<int:pk>/", views.TaskDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.TaskEditView.as_view(), name="edit"),
    path("<int:pk>/complete/", views.TaskCompleteView.as_view(), name="complete"),
    path("<int:pk>/cancel/", views.TaskCancelView.as_view(), name="cancel"),
    path("<int:pk>/reopen/", views.TaskReopenView.as_view(), name="reopen"),
    path("<int:pk>/reassign/", views.TaskReassignView.as_view(), name="reassign"),
    path("<int:pk>/comments/", views.TaskCommentView.as_view(), name="comment"),
]
