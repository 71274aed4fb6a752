"""Forms CSMs fill in on the account page: log a touchpoint, set their own score."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import Account, CSMScore, LifecycleStage, StageRules, Tier, Touchpoint

# The browser's clock and ours differ a little; a touchpoint "now" must not be refused.
CLOCK_SKEW = timezone.timedelta(minutes=5)


class StyledFormMixin:
    """Gives widgets the design system's classes and marks invalid fields after validation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


class TouchpointForm(StyledFormMixin, forms.ModelForm):
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = Touchpoint
        fields = ["kind", "occurred_at", "subject", "notes", "sentiment"]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "subject": forms.TextInput(attrs={"placeholder": "e.g. Quarterly check-in with the champion"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].widget.attrs["max"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + CLOCK_SKEW:
            raise forms.ValidationError("A touchpoint cannot be in the future; log it once it happened.")
        return occurred_at


class CSMScoreForm(StyledFormMixin, forms.ModelForm):
    score = forms.TypedChoiceField(
        label="Score",
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1 = about to churn, 5 = thriving.",
        error_messages={
            "required": "Pick a score from 1 to 5.",
            "invalid_choice": "Pick a score from 1 to 5.",
        },
    )

    class Meta:
        model = CSMScore
        fields = ["score", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "placeholder": "Why this score?"})}


def _workers():
    """The workspace's members who work accounts (admins and CSMs): the CSMs a list may assign."""
    from django.contrib.auth import get_user_model

    from tenancy.context import current_workspace_id
    from tenancy.models import Role

    return (
        get_user_model()
        .objects.filter(
            memberships__workspace_id=current_workspace_id(), memberships__role__in=[Role.ADMIN, Role.CSM]
        )
        .order_by("email")
    )


class CSMChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class BulkActionForm(StyledFormMixin, forms.Form):
    """A bulk action on the account list: chosen rows, or every account matching the list's filters.

    Every choice (accounts, CSM, tier, stage) is looked up inside the current workspace, so another
    workspace's id reads as an invalid choice.
    """

    ACTIONS = [("assign_csm", "Assign CSM"), ("set_tier", "Set tier"), ("set_stage", "Set stage")]

    action = forms.ChoiceField(choices=ACTIONS, error_messages={"required": "Choose what to do."})
    accounts = forms.ModelMultipleChoiceField(queryset=None, required=False)
    all_matching = forms.BooleanField(required=False, label="All accounts matching the filters")
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    csm = CSMChoiceField(queryset=None, required=False, label="CSM", empty_label="Choose a CSM…")
    tier = forms.ModelChoiceField(queryset=None, required=False, empty_label="Choose a tier…")
    stage = forms.ModelChoiceField(queryset=None, required=False, empty_label="Choose a stage…")

    VALUE_FIELD = {"assign_csm": "csm", "set_tier": "tier", "set_stage": "stage"}
    VALUE_NAMES = {"csm": "CSM", "tier": "tier", "stage": "stage"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = Account.objects.all()
        self.fields["accounts"].error_messages["invalid_choice"] = (
            "Some selected accounts do not exist (any more); reload the list and select again."
        )
        self.fields["accounts"].error_messages["invalid_pk_value"] = "“%(pk)s” is not an account id."
        self.fields["csm"].queryset = _workers()
        self.fields["tier"].queryset = Tier.objects.all()
        self.fields["stage"].queryset = LifecycleStage.objects.all()

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if not cleaned.get("all_matching") and not cleaned.get("accounts") and "accounts" not in self.errors:
            raise forms.ValidationError("Select at least one account, or all accounts matching the filters.")
        if action:
            name = self.VALUE_FIELD[action]
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, f"Choose the {self.VALUE_NAMES[name]} to set.")
        return cleaned


class TierStageForm(StyledFormMixin, forms.Form):
    """A person sets an account's tier or stage on its page; the choice overrides the rules."""

    tier = forms.ModelChoiceField(queryset=None, required=False, empty_label="No tier")
    stage = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="No stage", label="Lifecycle stage"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.all()
        self.fields["stage"].queryset = LifecycleStage.objects.all()


class StageRulesForm(StyledFormMixin, forms.ModelForm):
    """The automatic rules' settings, plus each tier's "MRR from" (its range starts there and runs
    to the next tier's start)."""

    class Meta:
        model = StageRules
        fields = [
            "tiers_by_mrr",
            "adoption_after_days",
            "adoption_min_active_users",
            "established_after_green_days",
            "advocate_on_promoter",
            "promoter_within_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = list(Tier.objects.all())
        for tier in self.tiers:
            self.fields[f"tier_{tier.pk}"] = forms.DecimalField(
                label=f"{tier.name}: MRR from",
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=tier.mrr_from,
                help_text="Empty: never assigned automatically.",
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            )
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"

    def tier_fields(self):
        return [self[f"tier_{tier.pk}"] for tier in self.tiers]

    def rule_fields(self):
        return [self[name] for name in self.Meta.fields]

    def clean(self):
        cleaned = super().clean()
        starts = [cleaned.get(f"tier_{tier.pk}") for tier in self.tiers]
        given = [s for s in starts if s is not None]
        if len(given) != len(set(given)):
            raise forms.ValidationError("Two tiers start at the same MRR; give each tier its own start.")
        return cleaned

    def save(self, commit: bool = True):
        rules = super().save(commit=commit)
        if commit:
            for tier in self.tiers:
                value = self.cleaned_data.get(f"tier_{tier.pk}")
                if value != tier.mrr_from:
                    Tier.objects.filter(pk=tier.pk).update(mrr_from=value)
        return rules
