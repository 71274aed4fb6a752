"""From the domain apps' signals to webhook deliveries.

- `alert.opened` / `alert.resolved`: health.alerting's `alert_opened` / `alert_resolved` (sent on
  commit), one delivery per alert.
- `health.band_changed`: health.recompute's `scores_computed` (inside each chunk's transaction of
  today's run), for accounts whose band differs from the one they had before the run; an account
  scored for the first time has no band to change from and is not reported.
- `account.stage_changed`: accounts.signals' `account_changed` with `field="stage"` (on commit).
- `task.created`: a playbooks Task row created (by a person or a playbook step).

A receiver never breaks what sent the signal: it runs in a savepoint and logs its error.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.models import Account, LifecycleStage
from tenancy.context import use_workspace

from ..models import WebhookEndpoint, WebhookEvent
from . import outbox

log = logging.getLogger(__name__)


def guarded(receiver: Callable) -> Callable:
    def run(sender, workspace_id: int, **kwargs) -> None:
        try:
            with use_workspace(workspace_id), transaction.atomic():
                receiver(sender, workspace_id=workspace_id, **kwargs)
        except Exception:
            log.exception("webhook receiver %s failed in workspace %s", receiver.__name__, workspace_id)

    run.__name__ = receiver.__name__
    return run


def wanted(event: str) -> bool:
    """Whether any active endpoint of the current workspace listens (one cheap query)."""
    return any(
        event in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True)
    )


def account_data(account: Account) -> dict:
    return {
        "external_id": account.external_id,
        "name": account.name,
        "health_score": account.health_score,
        "health_band": account.health_band or None,
        "lifecycle_stage": account.lifecycle_stage.key if account.lifecycle_stage_id else None,
    }


def _accounts(ids) -> dict[int, Account]:
    return {a.pk: a for a in Account.objects.filter(pk__in=set(ids)).select_related("lifecycle_stage")}


def on_alert(event: str) -> Callable:
    def receiver(sender, workspace_id: int, alert_ids: list[int], **kwargs) -> None:
        from health.models import Alert

        from ..api.readonly import AlertSerializer

        if not wanted(event) or not alert_ids:
            return
        alerts = list(Alert.objects.filter(pk__in=alert_ids).select_related("rule").order_by("pk"))
        accounts = _accounts(a.account_id for a in alerts)
        items = []
        for alert in alerts:
            account = accounts[alert.account_id]
            alert.account_external_id = account.external_id
            items.append({"alert": AlertSerializer(alert).data, "account": account_data(account)})
        outbox.record(event, items)

    receiver.__name__ = f"on_{event.replace('.', '_')}"
    return receiver


def on_scores_computed(sender, workspace_id: int, as_of: dt.date, results, inputs, **kwargs) -> None:
    event = WebhookEvent.HEALTH_BAND_CHANGED
    if as_of < timezone.localdate() or results is None or results.empty or "band" not in results:
        return
    if not wanted(event):
        return
    before = inputs.accounts["health_band"].reindex(results.index).fillna("")
    changed = results.index[(before != "") & (results["band"].fillna("") != before)].tolist()
    if not changed:
        return
    accounts = _accounts(int(pk) for pk in changed)
    items = []
    for pk in changed:
        row = results.loc[pk]
        score, band = row.get("score"), row["band"]
        band = band if isinstance(band, str) and band else None
        score = None if score is None or score != score else round(float(score))
        # The account's health as this run scored it (a run of several chunks writes the account
        # rows only after its last chunk, so the stored row may still hold the previous score).
        account = {**account_data(accounts[int(pk)]), "health_score": score, "health_band": band}
        items.append(
            {
                "account": account,
                "previous_band": before.loc[pk],
                "band": band,
                "score": score,
                "as_of": as_of.isoformat(),
            }
        )
    outbox.record(event, items)


def on_account_changed(sender, workspace_id: int, field: str, new_id, changes, **kwargs) -> None:
    """One `account.stage_changed` event per account the change moved, recorded together."""
    event = WebhookEvent.STAGE_CHANGED
    if field != "stage" or not changes or not wanted(event):
        return
    accounts = _accounts([account_id for account_id, _ in changes])
    ids = {new_id, *(old_id for _, old_id in changes)} - {None}
    stages = {s.pk: {"key": s.key, "name": s.name} for s in LifecycleStage.objects.filter(pk__in=ids)}
    items = [
        {
            "account": account_data(accounts[account_id]),
            "previous_stage": stages.get(old_id),
            "stage": stages.get(new_id),
            "source": kwargs.get("source"),
        }
        for account_id, old_id in changes
        if account_id in accounts
    ]
    if items:
        outbox.record(event, items)


def on_task_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created:
        return
    workspace_id = instance.workspace_id

    def send() -> None:
        from ..api.readonly import TaskSerializer

        with use_workspace(workspace_id):
            if not wanted(WebhookEvent.TASK_CREATED):
                return
            task = type(instance).objects.filter(pk=instance.pk).select_related("assignee", "account").first()
            if task is None:
                return
            task.account_external_id = task.account.external_id
            data = {"task": TaskSerializer(task).data, "account": account_data(task.account)}
            outbox.record(WebhookEvent.TASK_CREATED, [data])

    # After the task's own transaction commits (a rolled-back task was never created).
    transaction.on_commit(lambda: guarded(lambda sender, workspace_id: send())(None, workspace_id))


def connect() -> None:
    from accounts.signals import account_changed
    from health.alerting import alert_opened, alert_resolved
    from health.recompute import scores_computed
    from playbooks.models import Task

    alert_opened.connect(
        guarded(on_alert(WebhookEvent.ALERT_OPENED)), weak=False, dispatch_uid="webhooks.alert_opened"
    )
    alert_resolved.connect(
        guarded(on_alert(WebhookEvent.ALERT_RESOLVED)), weak=False, dispatch_uid="webhooks.alert_resolved"
    )
    scores_computed.connect(guarded(on_scores_computed), weak=False, dispatch_uid="webhooks.scores_computed")
    account_changed.connect(guarded(on_account_changed), weak=False, dispatch_uid="webhooks.account_changed")
    post_save.connect(on_task_saved, sender=Task, weak=False, dispatch_uid="webhooks.task_created")
