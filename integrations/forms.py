"""Forms of the integrations settings pages."""

from __future__ import annotations

from django import forms

from playbooks import delivery

from . import csv_import
from .models import ImportKind, WebhookEndpoint, WebhookEvent


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="An https:// address of your system that accepts POSTed JSON.",
        widget=forms.URLInput(attrs={"class": "form-control", "placeholder": "https://hooks.example.com/cs"}),
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each event is sent as one signed POST to the URL.",
        error_messages={"required": "Choose at least one event."},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]
        labels = {"is_active": "Active"}
        help_texts = {
            "description": "What receives the events, e.g. “CRM sync”.",
            "is_active": "An inactive endpoint keeps its log but is sent nothing.",
        }
        widgets = {
            "url": forms.URLInput(
                attrs={"class": "form-control", "placeholder": "https://hooks.example.com/cs"}
            ),
            "description": forms.TextInput(attrs={"class": "form-control"}),
            "is_active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        problem = delivery.check_url(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_events(self) -> list[str]:
        chosen = set(self.cleaned_data["events"])
        return [value for value in WebhookEvent.values if value in chosen]


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        label="What the file holds",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A header row naming the columns, then one record per row (UTF-8, comma or semicolon).",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,text/csv"}),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > csv_import.MAX_FILE_BYTES:
            raise forms.ValidationError(
                {"file": f"The file is over {csv_import.MAX_FILE_BYTES // (1024 * 1024)} MiB; split it."}
            )
        try:
            text = csv_import.decode(upload.read())
            cleaned["parsed"] = csv_import.parse(text)
        except csv_import.ImportFileError as error:
            raise forms.ValidationError({"file": str(error)}) from None
        cleaned["text"] = text
        return cleaned


class ImportMappingForm(forms.Form):
    """One choice per column of the file: the field it fills, or ignore it."""

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        choices = [(csv_import.IGNORE, "— ignore this column —")] + [
            (name, f"{name}{' (required)' if required else ''}")
            for name, required in csv_import.fields_of(job.kind)
        ]
        for index, header in enumerate(job.headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=header or f"(column {index + 1})",
                initial=job.mapping.get(header, csv_import.IGNORE),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def clean(self):
        cleaned = super().clean()
        mapping = {
            header: cleaned.get(f"col_{index}") or csv_import.IGNORE
            for index, header in enumerate(self.job.headers)
        }
        problems = csv_import.check_mapping(self.job.kind, mapping)
        if problems:
            raise forms.ValidationError(problems)
        cleaned["mapping"] = {h: f for h, f in mapping.items() if f != csv_import.IGNORE}
        return cleaned


class ApiKeyRateLimitForm(forms.Form):
    requests_per_minute = forms.IntegerField(
        label="Requests a minute",
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text="Leave empty to use the workspace default.",
        widget=forms.NumberInput(attrs={"class": "form-control", "min": 1}),
    )
