"""Workspace settings pages: members, and the API keys partner systems push data with.

A key's plaintext exists only between its creation and the one page that shows it: the create view
keeps it in the session just long enough to redirect (so reloading the form never issues a second
key), and the result page pops it, so it is never shown again.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from .mixins import WorkspacePageView
from .models import ApiKey, ApiKeyScope
from .permissions import Action

SESSION_NEW_KEY = "tenancy.new_api_key"


def _settings_url(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"workspace_slug": request.workspace.slug, **kwargs})


class SettingsHomeView(WorkspacePageView):
    """Workspace settings: members and API keys now; scoring, rules and playbooks as they land."""

    template_name = "tenancy/settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = self.workspace.memberships.select_related("user").order_by("role", "user__email")
        context["api_keys"] = (
            ApiKey.objects.filter(revoked_at__isnull=True)
            .select_related("created_by")
            .order_by("-created_at")
        )
        context["revoked_keys"] = ApiKey.objects.filter(revoked_at__isnull=False).order_by("-revoked_at")[:10]
        return context


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the key is for, e.g. “Billing sync (Chargebee)”.",
        widget=forms.TextInput(attrs={"class": "form-control", "autofocus": True}),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        initial=[ApiKeyScope.READ, ApiKeyScope.WRITE],
        widget=forms.CheckboxSelectMultiple,
        help_text="Read lets the key list and fetch records; write lets it create and update them.",
    )


class ApiKeyCreateView(WorkspacePageView):
    template_name = "tenancy/api_key_form.html"
    required_action = Action.CONFIGURE

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=ApiKeyForm()))

    def post(self, request, *args, **kwargs):
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        scopes = [s for s in ApiKeyScope.values if s in form.cleaned_data["scopes"]]
        key, plaintext = ApiKey.issue(form.cleaned_data["name"], scopes, created_by=request.user)
        request.session[SESSION_NEW_KEY] = {"pk": key.pk, "workspace_id": key.workspace_id, "key": plaintext}
        return redirect(_settings_url(request, "workspace_settings:api_key_created"))


@method_decorator(never_cache, name="dispatch")
class ApiKeyCreatedView(WorkspacePageView):
    """Shows a new key's plaintext once: it is removed from the session as it is rendered."""

    template_name = "tenancy/api_key_created.html"
    required_action = Action.CONFIGURE

    def get(self, request, *args, **kwargs):
        stored = request.session.get(SESSION_NEW_KEY)
        if not stored or stored.get("workspace_id") != request.workspace.pk:
            # Already shown (or never created here): the plaintext is gone for good.
            return self.render_to_response(self.get_context_data(key=None, plaintext=None))
        del request.session[SESSION_NEW_KEY]
        key = ApiKey.objects.filter(pk=stored["pk"]).first()
        return self.render_to_response(
            self.get_context_data(key=key, plaintext=stored["key"] if key else None)
        )


class ApiKeyRevokeView(WorkspacePageView):
    """GET asks for confirmation; POST revokes. A revoked key is refused from the next request on."""

    template_name = "tenancy/api_key_revoke.html"
    required_action = Action.CONFIGURE

    def get_key(self) -> ApiKey:
        return get_object_or_404(ApiKey.objects.filter(revoked_at__isnull=True), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(key=self.get_key()))

    def post(self, request, *args, **kwargs):
        key = self.get_key()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        return redirect(_settings_url(request, "workspace_settings:home"))
