"""Task forms. Every choice (accounts, assignees) is read inside the current workspace, so an id
of another workspace is simply not among the choices; saving goes through `playbooks.ctas`."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import StyledFormMixin
from accounts.models import Account, AccountStatus

from . import ctas
from .models import Task, TaskPriority

NOT_A_MEMBER = "Pick an admin or CSM of this workspace; that person cannot be given tasks here."


class AssigneeField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Assignee")
        kwargs.setdefault("error_messages", {"invalid_choice": NOT_A_MEMBER})
        # The workspace's members are read when a form is made (in a request), never at import.
        super().__init__(queryset=None, **kwargs)

    def label_from_instance(self, user) -> str:
        return user.full_name or user.email


class AccountField(forms.ModelChoiceField):
    def label_from_instance(self, account) -> str:
        return f"{account.name} ({account.external_id})" if account.external_id else account.name


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a ValidationError raised by `ctas` beside the field it names."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class TaskCreateForm(StyledFormMixin, forms.Form):
    """The "New task" form. With `account` given (from the account page) the account is fixed."""

    account = AccountField(
        queryset=None,
        empty_label="Choose an account…",
        error_messages={
            "required": "Choose the account the task is for.",
            "invalid_choice": "Choose one of this workspace's active accounts.",
        },
    )
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Prepare the renewal proposal"}),
        error_messages={"required": "A task needs a title."},
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label="Due", required=False, widget=DateInput())
    priority = forms.ChoiceField(choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    assignee = AssigneeField(required=False, empty_label="Unassigned")

    def __init__(self, *args, account: Account | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_account = account
        self.user = user
        if account is not None:
            del self.fields["account"]
        else:
            self.fields["account"].queryset = Account.objects.filter(status=AccountStatus.ACTIVE).order_by(
                "name", "pk"
            )
        self.fields["assignee"].queryset = ctas.assignable_members()
        if not self.is_bound:
            default = (account and ctas.account_csm(account)) or (user if ctas.is_assignable(user) else None)
            self.initial.setdefault("assignee", default.pk if default else None)

    def save(self) -> Task | None:
        """Create the task; on a rule the service enforces, the error lands beside its field."""
        data = self.cleaned_data
        try:
            return ctas.create_task(
                account=self.fixed_account or data["account"],
                title=data["title"],
                description=data["description"],
                due_on=data["due_on"],
                assignee=data["assignee"],
                created_by=self.user,
                priority=data["priority"],
            )
        except ValidationError as error:
            _apply_service_errors(self, error)
            return None


class QuickTaskForm(TaskCreateForm):
    """The account panel's one-line add: title, due date and assignee."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs["placeholder"] = "What needs doing?"


class TaskEditForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "description", "due_on", "priority"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5}), "due_on": DateInput()}
        error_messages = {"title": {"required": "A task needs a title."}}

    def save(self, commit: bool = True) -> Task:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return ctas.update_task(self.instance, **data)


class ReassignForm(StyledFormMixin, forms.Form):
    assignee = AssigneeField(
        empty_label="Choose a person…",
        error_messages={"required": "Choose who takes the task.", "invalid_choice": NOT_A_MEMBER},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = ctas.assignable_members()


class CommentForm(StyledFormMixin, forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note for whoever works on this"}),
        error_messages={"required": "Write a comment first."},
    )
