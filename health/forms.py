"""The scorecard editor: scorecard settings plus a formset of measures, turned into a definition
that `ScorecardSpec` validates; its errors are shown beside the field they name."""

from __future__ import annotations

from django import forms

from accounts.models import LifecycleStage, Tier
from segments.membership import segment_lists
from segments.models import SavedList

from .metrics import CATALOG
from .models import Scorecard
from .scorecards import ScorecardError, ScorecardSpec


def metric_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for metric in CATALOG.values():
        groups.setdefault(metric.group.title(), []).append((metric.key, f"{metric.label} ({metric.unit})"))
    return list(groups.items())


class ScorecardForm(forms.ModelForm):
    red_below = forms.FloatField(label="Red below", min_value=0, max_value=100, initial=40)
    green_from = forms.FloatField(label="Green from", min_value=0, max_value=100, initial=70)
    hysteresis = forms.FloatField(
        label="Hysteresis margin",
        min_value=0,
        initial=3,
        help_text="Points a score must pass a border by to change band.",
    )
    min_coverage = forms.FloatField(
        label="Minimum coverage (%)", min_value=1, max_value=100, initial=50,
        help_text="Below this share of the weight with data, the score is shown as insufficient.",
    )  # fmt: skip
    key_feature = forms.CharField(
        required=False, help_text="Feature name used by the 'Key feature usage' measure."
    )
    csat_n = forms.IntegerField(label="CSAT ratings averaged", min_value=1, max_value=50, initial=5)
    note = forms.CharField(required=False, max_length=200, help_text="What changed in this version and why.")
    # Declared here so the form class never touches the scoped managers at import time; the
    # workspace's choices are set per request in __init__.
    tier = forms.ModelChoiceField(queryset=Tier.all_workspaces.none(), required=False)
    lifecycle_stage = forms.ModelChoiceField(
        queryset=LifecycleStage.all_workspaces.none(), required=False, label="Stage"
    )
    saved_list = forms.ModelChoiceField(
        queryset=SavedList.all_workspaces.none(),
        required=False,
        label="Saved list",
        help_text="Only accounts in this public account list (its members as of each run).",
    )

    class Meta:
        model = Scorecard
        fields = ["name", "tier", "lifecycle_stage", "plan", "saved_list", "priority", "is_active"]

    def __init__(self, *args, definition: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.all()
        self.fields["lifecycle_stage"].queryset = LifecycleStage.objects.all()
        self.fields["saved_list"].queryset = segment_lists()
        if self.instance.is_default:
            for name in ("tier", "lifecycle_stage", "plan", "saved_list"):
                self.fields[name].disabled = True
                self.fields[
                    name
                ].help_text = "The default scorecard applies to every account no other one matches."
        if definition and not self.is_bound:
            for name in ("red_below", "green_from", "hysteresis"):
                self.initial[name] = definition.get(name)
            self.initial["min_coverage"] = round(definition.get("min_coverage", 0.5) * 100)
            params = definition.get("params") or {}
            self.initial["key_feature"] = params.get("key_feature", "")
            self.initial["csat_n"] = params.get("csat_n", 5)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Scorecard.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another scorecard has this name.")
        return name


class MeasureForm(forms.Form):
    metric = forms.ChoiceField(choices=metric_choices)
    weight = forms.FloatField(min_value=0.01, initial=10)
    mapping = forms.ChoiceField(choices=[("linear", "Linear"), ("bands", "Bands")], initial="linear")
    worst = forms.FloatField(required=False, help_text="Raw value worth 0 points")
    best = forms.FloatField(required=False, help_text="Raw value worth 100 points")
    bands = forms.CharField(
        required=False,
        help_text="min:points pairs, e.g. 0:0, 7:60, 9:100",
        widget=forms.TextInput(attrs={"placeholder": "0:0, 7:60, 9:100"}),
    )

    def clean_bands(self) -> list[dict]:
        text = self.cleaned_data.get("bands", "").strip()
        if not text:
            return []
        bands = []
        for part in text.split(","):
            low, sep, points = part.partition(":")
            try:
                bands.append({"min": float(low), "points": float(points)})
            except ValueError:
                raise forms.ValidationError(f"'{part.strip()}' is not min:points, e.g. 7:60.") from None
            if not sep:
                raise forms.ValidationError(f"'{part.strip()}' is not min:points, e.g. 7:60.")
        return bands

    @staticmethod
    def initial_from(measure: dict) -> dict:
        bands = ", ".join(f"{b['min']:g}:{b['points']:g}" for b in measure.get("bands") or [])
        return {**measure, "bands": bands}


MeasureFormSet = forms.formset_factory(MeasureForm, extra=1, can_delete=True, min_num=1, validate_min=True)


def build_definition(form: ScorecardForm, formset) -> dict | None:
    """The definition from a valid form and formset, or None after attaching the errors."""
    measures = []
    rows = []
    for measure_form in formset.forms:
        data = measure_form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append(measure_form)
        measures.append(
            {
                "metric": data["metric"],
                "weight": data["weight"],
                "mapping": data["mapping"],
                "worst": data.get("worst"),
                "best": data.get("best"),
                "bands": data.get("bands") or [],
            }
        )
    c = form.cleaned_data
    params = {"csat_n": c["csat_n"]}
    if c.get("key_feature"):
        params["key_feature"] = c["key_feature"].strip()
    definition = {
        "measures": measures,
        "red_below": c["red_below"],
        "green_from": c["green_from"],
        "hysteresis": c["hysteresis"],
        "min_coverage": c["min_coverage"] / 100,
        "params": params,
    }
    try:
        ScorecardSpec.from_dict(definition)
    except ScorecardError as error:
        parts = error.field.split("/")
        if parts[0] == "measures" and len(parts) == 3:
            rows[int(parts[1])].add_error(
                parts[2] if parts[2] in MeasureForm.base_fields else None, str(error)
            )
        elif parts[0] == "measures":
            form.add_error(None, str(error))
        else:
            form.add_error(parts[0] if parts[0] in form.fields else None, str(error))
        return None
    return definition


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean_until(self):
        from django.utils import timezone

        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError("Snooze until a date after today.")
        return until


class AlertRuleForm(forms.ModelForm):
    """A rule of the catalogue with its parameters; the parameter fields follow the rule kind."""

    tier = forms.ModelChoiceField(queryset=Tier.all_workspaces.none(), required=False, label="Only tier")
    lifecycle_stage = forms.ModelChoiceField(
        queryset=LifecycleStage.all_workspaces.none(), required=False, label="Only stage"
    )
    saved_list = forms.ModelChoiceField(
        queryset=SavedList.all_workspaces.none(), required=False, label="Only accounts in list"
    )

    class Meta:
        from .models import AlertRule

        model = AlertRule
        fields = ["name", "severity", "tier", "lifecycle_stage", "saved_list", "retrigger_days", "is_active"]

    def __init__(self, *args, kind: str, **kwargs):
        from .rules import CATALOG, with_defaults

        super().__init__(*args, **kwargs)
        self.kind = CATALOG[kind]
        self.fields["tier"].queryset = Tier.objects.all()
        self.fields["lifecycle_stage"].queryset = LifecycleStage.objects.all()
        self.fields["saved_list"].queryset = segment_lists()
        current = with_defaults(kind, self.instance.params if self.instance.pk else None)
        for param in self.kind.params:
            self.fields[f"param_{param.name}"] = forms.FloatField(
                label=param.label, min_value=param.minimum, initial=current[param.name]
            )

    def clean_name(self) -> str:
        from .models import AlertRule

        name = self.cleaned_data["name"].strip()
        if AlertRule.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another rule has this name.")
        return name

    def save(self, commit: bool = True):
        rule = super().save(commit=False)
        rule.kind = self.kind.key
        rule.params = {p.name: self.cleaned_data[f"param_{p.name}"] for p in self.kind.params}
        if commit:
            rule.save()
        return rule
