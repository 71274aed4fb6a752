"""Integrations settings pages (admins only): outbound webhooks and their delivery log."""

from __future__ import annotations

import secrets

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from tenancy.mixins import WorkspacePageView
from tenancy.permissions import Action

from .forms import ApiKeyRateLimitForm, WebhookEndpointForm
from .models import ApiKeyRateLimit, DeliveryStatus, WebhookDelivery, WebhookEndpoint


def page_url(request, name: str, **kwargs) -> str:
    return reverse(f"integrations:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


class AdminPageView(WorkspacePageView):
    required_action = Action.CONFIGURE


class WebhookListView(AdminPageView):
    template_name = "integrations/webhook_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoints = list(WebhookEndpoint.objects.order_by("url", "pk"))
        failed = {
            row["endpoint_id"]: row["n"]
            for row in WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED)
            .values("endpoint_id")
            .annotate(n=Count("pk"))
        }
        for endpoint in endpoints:
            endpoint.failed_count = failed.get(endpoint.pk, 0)
        context["endpoints"] = endpoints
        return context


class WebhookCreateView(AdminPageView):
    template_name = "integrations/webhook_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=WebhookEndpointForm(), endpoint=None))

    def post(self, request, *args, **kwargs):
        form = WebhookEndpointForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, endpoint=None), status=400)
        endpoint = form.save(commit=False)
        endpoint.secret = secrets.token_hex(24)
        endpoint.created_by = request.user
        endpoint.save()
        return redirect(page_url(request, "webhook_edit", pk=endpoint.pk))


class WebhookEditView(AdminPageView):
    """Edit an endpoint; the page shows its signing secret (admins only), or rotates it."""

    template_name = "integrations/webhook_form.html"

    def get_endpoint(self) -> WebhookEndpoint:
        return get_object_or_404(WebhookEndpoint.objects.all(), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        form = WebhookEndpointForm(instance=endpoint)
        return self.render_to_response(self.get_context_data(form=form, endpoint=endpoint))

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        if request.POST.get("action") == "rotate":
            endpoint.secret = secrets.token_hex(24)
            endpoint.save(update_fields=["secret", "updated_at"])
            return redirect(page_url(request, "webhook_edit", pk=endpoint.pk))
        form = WebhookEndpointForm(request.POST, instance=endpoint)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, endpoint=endpoint), status=400)
        form.save()
        return redirect(page_url(request, "webhooks"))


class WebhookDeleteView(WebhookEditView):
    template_name = "integrations/webhook_delete.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(endpoint=self.get_endpoint()))

    def post(self, request, *args, **kwargs):
        self.get_endpoint().delete()
        return redirect(page_url(request, "webhooks"))


class DeliveryLogView(AdminPageView):
    """Every delivery, newest first, with each attempt; filtered by endpoint and status."""

    template_name = "integrations/delivery_log.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        deliveries = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-pk")
        endpoints = list(WebhookEndpoint.objects.order_by("url", "pk"))
        endpoint = self.request.GET.get("endpoint", "")
        status = self.request.GET.get("status", "")
        if endpoint.isdigit() and any(e.pk == int(endpoint) for e in endpoints):
            deliveries = deliveries.filter(endpoint_id=int(endpoint))
        else:
            endpoint = ""
        if status in DeliveryStatus.values:
            deliveries = deliveries.filter(status=status)
        else:
            status = ""
        page = Paginator(deliveries, self.paginate_by).get_page(self.request.GET.get("page"))
        query = "&".join(f"{k}={v}" for k, v in (("endpoint", endpoint), ("status", status)) if v)
        context.update(
            page_obj=page,
            deliveries=page.object_list,
            endpoints=endpoints,
            statuses=DeliveryStatus.choices,
            chosen_endpoint=endpoint,
            chosen_status=status,
            query_without_page=query,
        )
        return context


class ApiKeyRateLimitView(AdminPageView):
    """A key's own request rate (empty: the deployment's default for every key)."""

    template_name = "integrations/api_key_limit.html"

    def get_key(self):
        from tenancy.models import ApiKey

        return get_object_or_404(ApiKey.objects.filter(revoked_at__isnull=True), pk=self.kwargs["pk"])

    def context(self, key, form):
        from . import limits

        return self.get_context_data(key=key, form=form, default_limit=limits.rate_limit())

    def get(self, request, *args, **kwargs):
        key = self.get_key()
        own = ApiKeyRateLimit.objects.filter(key=key).first()
        form = ApiKeyRateLimitForm(initial={"requests_per_minute": own.requests_per_minute if own else None})
        return self.render_to_response(self.context(key, form))

    def post(self, request, *args, **kwargs):
        key = self.get_key()
        form = ApiKeyRateLimitForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.context(key, form), status=400)
        rate = form.cleaned_data["requests_per_minute"]
        if rate is None:
            ApiKeyRateLimit.objects.filter(key=key).delete()
        else:
            ApiKeyRateLimit.objects.update_or_create(key=key, defaults={"requests_per_minute": rate})
        return redirect(reverse("workspace_settings:home", kwargs={"workspace_slug": request.workspace.slug}))
