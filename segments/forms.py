from django import forms

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
