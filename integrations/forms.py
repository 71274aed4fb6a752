"""Forms of the integrations settings pages."""

from __future__ import annotations

from django import forms

from playbooks import delivery

from .models import WebhookEndpoint, WebhookEvent


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
