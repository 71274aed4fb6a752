"""The account timeline page; the account page shows its newest events and links here."""

from __future__ import annotations

from django.contrib import messages
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tenancy.mixins import WorkspaceDetailView

from .models import Account
from .timeline import sources, timeline

PAGE_SIZE = 40
EMBEDDED_SIZE = 12  # the account page's Timeline card


class AccountTimelineView(WorkspaceDetailView):
    model = Account
    template_name = "accounts/account_timeline.html"

    def get_template_names(self):
        headers = self.request.headers
        if headers.get("HX-Request") and not headers.get("HX-History-Restore-Request"):
            return ["accounts/_timeline_events.html"]
        return [self.template_name]

    def get_object(self, queryset=None):
        account = super().get_object(queryset)
        account.workspace = self.request.workspace  # sources build links without a query
        return account

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        known = {s.key for s in sources()}
        kinds = [k for k in self.request.GET.getlist("kind") if k]
        unknown = [k for k in kinds if k not in known]
        if unknown:
            messages.warning(self.request, f"Unknown event kind ignored: {', '.join(unknown)}.")
            kinds = [k for k in kinds if k in known]
        before = None
        raw = self.request.GET.get("before", "").strip()
        if raw:
            parsed = parse_datetime(raw.replace(" ", "+"))  # a "+" offset arrives as a space
            if parsed is None:
                messages.warning(self.request, f"“{raw}” is not a date and time; showing the newest events.")
            else:
                before = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        embedded = self.request.GET.get("embedded") == "1"
        size = EMBEDDED_SIZE if embedded else PAGE_SIZE
        page = timeline(self.object, before=before, limit=size, kinds=set(kinds))
        query = self.request.GET.copy()
        query.pop("before", None)
        context.update(
            events=page.events,
            next_before=page.next_before.isoformat() if page.next_before else "",
            kind_choices=[(s.key, s.label, s.key in kinds) for s in sources()],
            kinds_query=query.urlencode(),
            older_url_name="accounts:timeline",
            embedded=embedded,
        )
        return context
