from tenancy.mixins import WorkspacePageView


class TaskListView(WorkspacePageView):
    """CSM task list. Tasks are created by playbooks; until those exist the page says so."""

    template_name = "playbooks/task_list.html"
