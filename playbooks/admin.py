from django.contrib import admin

from tenancy.admin import TenantAdmin

from .models import Task, TaskComment


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
