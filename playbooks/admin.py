from django.contrib import admin

from tenancy.admin import TenantAdmin

from .models import Playbook, PlaybookRun, PlaybookStep, StepRun, Task, TaskComment


@admin.register(Task)
class TaskAdmin(TenantAdmin):
    list_display = ("title", "account", "status", "priority", "due_on", "assignee", "source")
    list_filter = ("status", "priority", "source")
    search_fields = ("title",)
    raw_id_fields = ("account", "assignee", "created_by", "completed_by")


@admin.register(TaskComment)
class TaskCommentAdmin(TenantAdmin):
    list_display = ("task", "author", "created_at")
    raw_id_fields = ("task", "author")


@admin.register(Playbook)
class PlaybookAdmin(TenantAdmin):
    list_display = ("name", "trigger", "is_active", "frequency_cap_days")
    list_filter = ("trigger", "is_active")
    raw_id_fields = ("alert_rule", "stage", "filter_tier", "filter_stage")


@admin.register(PlaybookStep)
class PlaybookStepAdmin(TenantAdmin):
    list_display = ("playbook", "position", "kind")
    raw_id_fields = ("playbook",)


@admin.register(PlaybookRun)
class PlaybookRunAdmin(TenantAdmin):
    list_display = ("playbook", "account", "occurrence", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("playbook", "account")


@admin.register(StepRun)
class StepRunAdmin(TenantAdmin):
    list_display = ("run", "position", "kind", "status", "attempts")
    list_filter = ("status", "kind")
    raw_id_fields = ("run", "step")
