"""A new workspace's starting playbooks (on `tenancy.provisioning.workspace_provisioned`).

Created only when the workspace has no playbook yet, so provisioning again never duplicates
them nor brings back one an admin deleted.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import transaction

from .models import Playbook, PlaybookStep, StepKind, TriggerKind
from .steps import validate_config

RESCUE_STEPS = [
    (
        StepKind.CREATE_TASK,
        {
            "title": "Rescue plan for {account.name}",
            "description": "{account.name} entered the red band (health {account.health_score}, "
            "MRR {account.mrr}). Find out why, agree a rescue plan with the customer and log it.",
            "due_in_days": 3,
            "assignee": "csm",
        },
    ),
    (
        StepKind.SEND_EMAIL,
        {
            "to": "csm",
            "subject": "{account.name} is now red",
            "body": "Hello {account.csm},\n\n{account.name} entered the red health band "
            "(score {account.health_score}, MRR {account.mrr}, renewal {account.renewal_date}).\n"
            "A rescue task is waiting for you, due in 3 days.\n",
        },
    ),
]

CHAMPION_STEPS = [
    (
        StepKind.CREATE_TASK,
        {
            "title": "Find a new champion at {account.name}",
            "description": "A champion or executive contact left {account.name}. Map the new "
            "stakeholders and book an introduction call.",
            "due_in_days": 7,
            "assignee": "csm",
        },
    ),
    (StepKind.ADD_NOTE, {"text": "Champion left: re-engagement task created for the account's CSM."}),
]


def demo_webhook_url() -> str:
    return getattr(settings, "PLAYBOOK_DEMO_WEBHOOK_URL", "") or os.environ.get(
        "PLAYBOOK_DEMO_WEBHOOK_URL", ""
    )


def create_playbook(name: str, description: str, steps: list[tuple[str, dict]], **fields) -> Playbook:
    with transaction.atomic():
        playbook = Playbook.objects.create(name=name, description=description, **fields)
        PlaybookStep.objects.bulk_create(
            PlaybookStep(playbook=playbook, position=n, kind=kind, config=validate_config(kind, config))
            for n, (kind, config) in enumerate(steps, start=1)
        )
    return playbook


def ensure_default_playbooks() -> None:
    if Playbook.objects.exists():
        return
    rescue = list(RESCUE_STEPS)
    url = demo_webhook_url()
    if url:
        secret = os.environ.get("PLAYBOOK_DEMO_WEBHOOK_SECRET", "")
        rescue.append((StepKind.CALL_WEBHOOK, {"url": url, "event": "account.rescue", "secret": secret}))
    create_playbook(
        "Rescue red accounts",
        "When an account's health enters red, its CSM gets a rescue task and an email"
        + (", and the team's webhook is called." if url else "."),
        rescue,
        trigger=TriggerKind.BAND_ENTERED,
        band="red",
        frequency_cap_days=30,
    )
    from health.models import AlertRule

    rule = AlertRule.objects.filter(kind="champion_left").order_by("pk").first()
    if rule is not None:
        create_playbook(
            "Champion left",
            "When a champion or executive contact leaves, the CSM maps the new stakeholders.",
            CHAMPION_STEPS,
            trigger=TriggerKind.ALERT_OPENED,
            alert_rule=rule,
            frequency_cap_days=30,
        )


def provision_playbooks(sender, workspace, **kwargs) -> None:
    ensure_default_playbooks()
