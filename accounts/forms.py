"""Forms CSMs fill in on the account page: log a touchpoint, set their own score."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import CSMScore, Touchpoint

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
