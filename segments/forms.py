from django import forms

from .analysis import DIMENSIONS
from .models import SavedList


class SavedListForm(forms.ModelForm):
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    class Meta:
        model = SavedList
        fields = ["name", "visibility", "description"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the list a name.")
        return name


class AnalysisForm(forms.Form):
    """The segment analysis page's query: what to compare, for whom."""

    by = forms.ChoiceField(
        choices=[],
        required=False,
    )
    scope = forms.ChoiceField(
        choices=[("all", "Whole workspace"), ("mine", "My accounts")],
        required=False,
        error_messages={"invalid_choice": "“%(value)s” is not a scope: use “all” or “mine”."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["by"].choices = list(DIMENSIONS.items())
        self.fields["by"].error_messages["invalid_choice"] = (
            "“%(value)s” is not something to compare by: choose one of " + ", ".join(DIMENSIONS) + "."
        )

    def clean_by(self) -> str:
        return self.cleaned_data["by"] or "tier"

    def clean_scope(self) -> str:
        return self.cleaned_data["scope"] or "all"
