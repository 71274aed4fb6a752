"""The daily digest: one email per CSM (and admin) of a workspace with the alerts opened on their
accounts since their previous digest and their open tasks due today or overdue. Nobody gets an
empty digest. Sent by `playbooks.tasks.send_digests`, fanned out per workspace by beat."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from health.models import Alert, AlertStatus
from tenancy.context import current_workspace_id
from tenancy.models import Membership, Role, Workspace

from .models import DigestDelivery, Task

log = logging.getLogger(__name__)

# How far back "new alerts" reach for someone who never had a digest.
FIRST_DIGEST_LOOKBACK = dt.timedelta(days=1)
MAX_ITEMS = 50  # per section; the email links to the full pages


@dataclass
class Digest:
    user: object
    since: dt.datetime
    alerts: list = field(default_factory=list)
    alerts_total: int = 0
    tasks: list = field(default_factory=list)
    tasks_total: int = 0

    @property
    def empty(self) -> bool:
        return not (self.alerts_total or self.tasks_total)


def build(user, today: dt.date, now: dt.datetime) -> Digest:
    previous = DigestDelivery.objects.filter(user=user, day__lt=today).order_by("-day").first()
    since = previous.sent_at if previous else now - FIRST_DIGEST_LOOKBACK
    alerts = (
        Alert.objects.filter(account__csm_owner=user, opened_at__gte=since)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("account", "rule")
        .order_by("-opened_at")
    )
    tasks = (
        Task.objects.open().filter(assignee=user, due_on__lte=today).select_related("account").by_urgency()
    )
    return Digest(
        user=user,
        since=since,
        alerts=list(alerts[:MAX_ITEMS]),
        alerts_total=alerts.count(),
        tasks=list(tasks[:MAX_ITEMS]),
        tasks_total=tasks.count(),
    )


def _message(digest: Digest, workspace: Workspace, today: dt.date) -> EmailMultiAlternatives:
    base = settings.SITE_URL.rstrip("/")
    context = {
        "digest": digest,
        "workspace": workspace,
        "today": today,
        "base": base,
        "alerts_url": base + reverse("alerts:inbox", args=[workspace.slug]) + "?mine=true",
        "tasks_url": base + reverse("tasks:list", args=[workspace.slug]),
    }
    subject = (
        f"{workspace.name}: {digest.alerts_total} new alert{'s' if digest.alerts_total != 1 else ''}, "
        f"{digest.tasks_total} task{'s' if digest.tasks_total != 1 else ''} due"
    )
    message = EmailMultiAlternatives(
        subject,
        render_to_string("playbooks/email/digest.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [digest.user.email],
    )
    message.attach_alternative(render_to_string("playbooks/email/digest.html", context), "text/html")
    return message


def send_digests(today: dt.date | None = None) -> int:
    """Send today's digests of the current workspace; returns how many were sent. Safe to run
    twice: a member who has today's digest is skipped."""
    today = today or timezone.localdate()
    now = timezone.now()
    workspace = Workspace.objects.get(pk=current_workspace_id())
    members = (
        Membership.objects.filter(workspace=workspace, role__in=[Role.CSM, Role.ADMIN], user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email")
    )
    sent = 0
    already = set(DigestDelivery.objects.filter(day=today).values_list("user_id", flat=True))
    for membership in members:
        user = membership.user
        if user.pk in already:
            continue
        digest = build(user, today, now)
        if digest.empty:
            continue
        try:
            with transaction.atomic():
                DigestDelivery.objects.create(
                    user=user, day=today, sent_at=now, alerts=digest.alerts_total, tasks=digest.tasks_total
                )
                # Sent inside the transaction: if sending fails the row goes too, and the task's
                # retry sends it; if the row exists, another worker already sent it.
                _message(digest, workspace, today).send()
        except IntegrityError:
            continue
        sent += 1
    log.info("digests for workspace %s: %d sent", workspace.slug, sent)
    return sent
