"""The demo the browser tests click through: Acme Analytics from `accounts.demo`, built by the demo's
own builder at a smaller size (the full book takes about a minute to write), then scored for the
last few days so the health charts have a trend to draw."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts import demo
from health.models import RunKind
from health.recompute import recompute
from tenancy.context import use_workspace
from tenancy.models import Membership, Workspace
from tenancy.provisioning import provision_workspace

# Large enough that every starting list has rows, small enough to build in a few seconds.
BROWSER_DEMO_ACCOUNTS = 90
SCORED_DAYS = 4


def seed_browser_demo(accounts: int = BROWSER_DEMO_ACCOUNTS, scored_days: int = SCORED_DAYS) -> Workspace:
    spec = dataclasses.replace(demo.SPECS[0], accounts=accounts)
    today = timezone.localdate()
    users = demo.ensure_users()
    with transaction.atomic():
        workspace = Workspace.objects.create(name=spec.name, slug=spec.slug, currency=spec.currency)
        for user in demo.DEMO_USERS:
            if spec.slug in user.roles:
                Membership.objects.create(
                    workspace=workspace, user=users[user.email], role=user.roles[spec.slug]
                )
        demo.DemoBuilder(spec, workspace, users, today).build()
        provision_workspace(workspace)
    with use_workspace(workspace):
        for back in range(scored_days - 1, -1, -1):
            day = today - dt.timedelta(days=back)
            recompute(workspace.pk, as_of=day, kind=RunKind.BACKFILL if back else RunKind.MANUAL)
    return workspace
