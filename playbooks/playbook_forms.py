"""The playbook editor: the playbook's trigger, filter and cap, and a formset of steps whose
fields depend on each step's kind. Every choice is read inside the current workspace; a step's
configuration is checked by `playbooks.steps.validate_config`, its errors shown beside the
field they name; nothing is saved unless everything is valid."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.forms import StyledFormMixin
from accounts.models import LifecycleStage, Tier
from accounts.models.account import HealthBand

from . import ctas, steps
from .models import Playbook, PlaybookStep, StepKind, TriggerKind

NEGATIVE = "Days cannot be negative."


class PlaybookForm(StyledFormMixin, forms.ModelForm):
    band = forms.ChoiceField(label="Band", choices=[("", "—"), *HealthBand.choices], required=False)
    renewal_days = forms.IntegerField(
        label="Renewal within (days)", required=False, min_value=1, max_value=3650,
        error_messages={"min_value": "Enter at least 1 day."},
    )  # fmt: skip
    frequency_cap_days = forms.IntegerField(
        label="At most once per account every (days)",
        min_value=0,
        max_value=3650,
        initial=30,
        help_text="0: only once per trigger occurrence.",
        error_messages={"min_value": NEGATIVE, "required": "Enter a number of days (0 for no cap)."},
    )
    # Declared with empty querysets so the class never reads a workspace at import time.
    alert_rule = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any rule")
    stage = forms.ModelChoiceField(queryset=None, required=False, label="Stage entered")
    saved_list = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Saved list",
        help_text="Public account lists. Accounts already in the list when the playbook starts "
        "are not run; those joining later are.",
    )
    filter_tier = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any tier", label="Tier")
    filter_stage = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any stage", label="Stage"
    )
    filter_list = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any account", label="In saved list"
    )

    class Meta:
        model = Playbook
        fields = [
            "name",
            "description",
            "is_active",
            "trigger",
            "alert_rule",
            "band",
            "renewal_days",
            "stage",
            "saved_list",
            "filter_tier",
            "filter_stage",
            "filter_list",
            "frequency_cap_days",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"name": {"required": "Give the playbook a name."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from health.models import AlertRule

        self.fields["alert_rule"].queryset = AlertRule.objects.order_by("name")
        self.fields["stage"].queryset = LifecycleStage.objects.all()
        self.fields["filter_tier"].queryset = Tier.objects.all()
        self.fields["filter_stage"].queryset = LifecycleStage.objects.all()
        from segments.membership import segment_lists

        self.fields["saved_list"].queryset = segment_lists()
        self.fields["filter_list"].queryset = segment_lists()
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Playbook.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Another playbook has this name.")
        return name

    def clean(self):
        data = super().clean()
        trigger = data.get("trigger")
        if trigger == TriggerKind.BAND_ENTERED and not data.get("band"):
            self.add_error("band", "Choose the band that starts the playbook.")
        if (
            trigger == TriggerKind.RENEWAL_WITHIN
            and data.get("renewal_days") is None
            and "renewal_days" not in self.errors
        ):
            self.add_error("renewal_days", "Enter how many days before the renewal.")
        if trigger == TriggerKind.STAGE_ENTERED and not data.get("stage"):
            self.add_error("stage", "Choose the stage that starts the playbook.")
        if (
            trigger == TriggerKind.JOINED_LIST
            and not data.get("saved_list")
            and "saved_list" not in self.errors
        ):
            self.add_error("saved_list", "Choose the saved list that starts the playbook.")
        # Parameters of other triggers are cleared, so the list never shows a stale one.
        if trigger != TriggerKind.ALERT_OPENED:
            data["alert_rule"] = None
        if trigger != TriggerKind.BAND_ENTERED:
            data["band"] = ""
        if trigger != TriggerKind.RENEWAL_WITHIN:
            data["renewal_days"] = None
        if trigger != TriggerKind.STAGE_ENTERED:
            data["stage"] = None
        if trigger != TriggerKind.JOINED_LIST:
            data["saved_list"] = None
        return data


ASSIGNEE_CHOICES = [
    ("csm", "The account's CSM (round-robin if none)"),
    ("member", "A named member"),
    ("round_robin", "Round-robin within a role"),
]

# The form fields each kind shows (the names are the keys of its configuration).
KIND_FIELDS = {
    StepKind.CREATE_TASK: ["title", "description", "due_in_days", "assignee", "member", "role"],
    StepKind.SEND_EMAIL: ["to", "subject", "body"],
    StepKind.CALL_WEBHOOK: ["url", "event", "secret"],
    StepKind.SET_STAGE: ["stage"],
    StepKind.ADD_NOTE: ["text"],
}
PLACEHOLDER_HELP = "Placeholders: " + ", ".join(f"{{account.{f}}}" for f in steps.ACCOUNT_FIELDS)


class StepForm(StyledFormMixin, forms.Form):
    step_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=StepKind.choices, widget=forms.HiddenInput)
    position = forms.IntegerField(label="Order", min_value=1, max_value=99)
    # create_task
    title = forms.CharField(required=False, max_length=200, help_text=PLACEHOLDER_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_in_days = forms.IntegerField(label="Due in (days)", required=False)
    assignee = forms.ChoiceField(choices=ASSIGNEE_CHOICES, required=False)
    member = forms.ModelChoiceField(queryset=None, required=False, empty_label="—", label="Member")
    role = forms.ChoiceField(choices=[("csm", "CSMs"), ("admin", "Admins")], required=False, label="Role")
    # send_email
    to = forms.CharField(label="To", required=False, max_length=254, help_text="'csm' or an email address.")
    subject = forms.CharField(required=False, max_length=200, help_text=PLACEHOLDER_HELP)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    # call_webhook
    url = forms.CharField(label="URL", required=False, max_length=500)
    event = forms.CharField(
        label="Event name", required=False, max_length=60, help_text="Sent as X-CS-Event."
    )
    secret = forms.CharField(
        label="Signing secret", required=False, max_length=200,
        help_text="Signs each call (X-CS-Signature, HMAC-SHA256). Leave empty to generate one.",
    )  # fmt: skip
    # set_stage (the stage key)
    stage = forms.ChoiceField(label="Stage", required=False)
    # add_note
    text = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.data.get(self.add_prefix("kind")) if self.is_bound else self.initial.get("kind")
        self.kind = kind if kind in KIND_FIELDS else None
        keep = {"step_id", "kind", "position", "DELETE", *KIND_FIELDS.get(self.kind, [])}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "member" in self.fields:
            self.fields["member"].queryset = ctas.assignable_members()
        if "stage" in self.fields:
            self.fields["stage"].choices = [("", "Choose…")] + [
                (s.key, s.name) for s in LifecycleStage.objects.all()
            ]

    @property
    def kind_label(self) -> str:
        return StepKind(self.kind).label if self.kind else "Unknown step"

    def clean(self):
        data = super().clean()
        if self.kind is None or data.get("DELETE"):
            return data
        config = {name: data.get(name) for name in KIND_FIELDS[self.kind] if name in data}
        if "member" in config:
            config["member"] = config["member"].pk if config["member"] else None
        if self.errors:
            return data  # a field already failed its own check (e.g. not a number)
        try:
            data["config"] = steps.validate_config(self.kind, config)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    @classmethod
    def initial_from(cls, step: PlaybookStep) -> dict:
        return {"step_id": step.pk, "kind": step.kind, "position": step.position, **step.config}


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError("Add at least one step.", code="no_steps")


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=0, can_delete=True)


def step_initial(kind: str, position: int) -> dict:
    defaults = {
        StepKind.CREATE_TASK: {"title": "Follow up with {account.name}", "due_in_days": 3, "assignee": "csm"},
        StepKind.SEND_EMAIL: {"to": "csm", "subject": "{account.name}", "body": ""},
        StepKind.CALL_WEBHOOK: {"url": "", "event": steps.DEFAULT_EVENT},
        StepKind.SET_STAGE: {},
        StepKind.ADD_NOTE: {"text": ""},
    }
    return {"kind": kind, "position": position, **defaults[kind]}


def save_playbook(form: PlaybookForm, formset) -> Playbook:
    """Save the playbook and its steps in one transaction: existing steps are updated in place
    (so runs keep pointing at them), new ones created, removed ones deleted."""
    with transaction.atomic():
        playbook = form.save()
        existing = {s.pk: s for s in playbook.steps.all()}
        kept = sorted(
            (f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")),
            key=lambda f: f.cleaned_data["position"],
        )
        kept_ids: set[int] = set()
        for position, step_form in enumerate(kept, start=1):
            data = step_form.cleaned_data
            step = existing.get(data.get("step_id"))
            if step is None or step.kind != step_form.kind:
                step = PlaybookStep.objects.create(
                    playbook=playbook, position=position, kind=step_form.kind, config=data["config"]
                )
            else:
                step.position, step.config = position, data["config"]
                step.save(update_fields=["position", "config"])
            kept_ids.add(step.pk)
        playbook.steps.exclude(pk__in=kept_ids).delete()
    return playbook
