from django.urls import path

from . import playbook_views, views

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

# Playbooks live in the tasks area: they are what makes tasks without anyone typing them.
urlpatterns += [
    path("playbooks/", playbook_views.PlaybookListView.as_view(), name="playbooks"),
    path("playbooks/new/", playbook_views.PlaybookEditView.as_view(), name="playbook_create"),
    path("playbooks/<int:pk>/", playbook_views.PlaybookEditView.as_view(), name="playbook_edit"),
    path("playbooks/runs/", playbook_views.RunLogView.as_view(), name="playbook_runs"),
    path("playbooks/runs/<int:pk>/", playbook_views.RunDetailView.as_view(), name="playbook_run"),
    path("playbooks/runs/<int:pk>/retry/", playbook_views.RunRetryView.as_view(), name="playbook_run_retry"),
]
