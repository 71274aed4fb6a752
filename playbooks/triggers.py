"""What starts playbook runs: health's signals and a daily renewal check.

- `alert_opened` (health.alerting, sent on commit of a run's chunk): playbooks on "an alert
  opened" for that alert's rule, or for any rule; occurrence `alert:<alert id>`.
- `scores_computed` (health.recompute, sent inside each chunk's transaction of today's runs):
  playbooks on "band entered" for accounts whose band is the target band now and was another
  one before the run; occurrence `band:<band>:<as_of>`.
- `start_renewal_runs` (a beat-scheduled daily task per workspace): playbooks on "renewal within
  N days"; occurrence `renewal:<renewal date>`, so one run per contract renewal.
- `account_changed` (accounts.signals, on commit of any tier/stage change): playbooks on "stage
  entered" for the new stage; occurrence `stage:<stage id>:<date>`.
- `check_list_playbooks` (a task enqueued after today's health runs, which follow every data
  change): playbooks on "joined a saved list" compare the list's accounts with the members
  recorded at the last check; occurrence `list:<list id>:<date>`. The first check of a playbook
  only records the members, so turning a playbook on does not start it for the whole list.

Runs are created in bulk, ignoring the rows the unique (workspace, playbook, account,
occurrence) key already holds, so a repeated occurrence never runs twice; the tier/stage filter
and the per-account frequency cap are applied before. Each new run is enqueued on commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountStatus
from tenancy.context import use_workspace

from .models import Playbook, PlaybookListMember, PlaybookRun, TriggerKind

log = logging.getLogger(__name__)

BATCH = 2000


def _chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def eligible_accounts(playbook: Playbook, account_ids: Iterable[int], now: dt.datetime) -> list[int]:
    """Of `account_ids`: active accounts matching the playbook's filter and not run by it within
    its frequency cap."""
    ids = sorted(set(account_ids))
    found: list[int] = []
    for chunk in _chunks(ids):
        accounts = Account.objects.filter(pk__in=chunk, status=AccountStatus.ACTIVE)
        if playbook.filter_tier_id:
            accounts = accounts.filter(tier_id=playbook.filter_tier_id)
        if playbook.filter_stage_id:
            accounts = accounts.filter(lifecycle_stage_id=playbook.filter_stage_id)
        found.extend(accounts.values_list("pk", flat=True))
    if playbook.filter_list_id and found:
        from segments.membership import account_ids as list_members

        members = list_members(playbook.filter_list)
        found = [pk for pk in found if members is not None and pk in members]
    if playbook.frequency_cap_days and found:
        cutoff = now - dt.timedelta(days=playbook.frequency_cap_days)
        capped: set[int] = set()
        for chunk in _chunks(found):
            capped.update(
                PlaybookRun.objects.filter(
                    playbook=playbook, account_id__in=chunk, created_at__gt=cutoff
                ).values_list("account_id", flat=True)
            )
        found = [pk for pk in found if pk not in capped]
    return found


def start_runs(
    playbook: Playbook,
    occurrences: dict[int, str],
    context: Callable[[int], dict] | None = None,
) -> list[int]:
    """Create the runs of `playbook` for {account id: occurrence key}; returns the new run ids,
    each enqueued once the current transaction commits."""
    from .tasks import execute_run

    now = timezone.now()
    accounts = eligible_accounts(playbook, occurrences, now)
    if not accounts:
        return []
    rows = [
        PlaybookRun(
            playbook=playbook,
            account_id=pk,
            occurrence=occurrences[pk][:100],
            context=context(pk) if context else {},
            created_at=now,
        )
        for pk in accounts
    ]
    new_ids: list[int] = []
    with transaction.atomic():
        PlaybookRun.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
        # Rows made just now carry exactly `now`; a row the unique key kept is older.
        for chunk in _chunks(accounts):
            new_ids.extend(
                PlaybookRun.objects.filter(
                    playbook=playbook, account_id__in=chunk, created_at=now
                ).values_list("pk", flat=True)
            )
    workspace_id = playbook.workspace_id
    for run_id in new_ids:
        execute_run.delay_on_commit(workspace_id, run_id)
    if new_ids:
        log.info("playbook %s: %d new runs", playbook.pk, len(new_ids))
    return new_ids


def active_playbooks(trigger: str):
    return Playbook.objects.filter(trigger=trigger, is_active=True).order_by("pk")


# --- receivers -------------------------------------------------------------------------------
def guarded(receiver: Callable) -> Callable:
    """A playbook problem must never break the health run that sent the signal: the receiver
    runs in a savepoint, and an error is logged (and rolled back) instead of raised."""

    def run(sender, workspace_id: int, **kwargs) -> None:
        try:
            with use_workspace(workspace_id), transaction.atomic():
                receiver(sender, workspace_id=workspace_id, **kwargs)
        except Exception:
            log.exception("playbook trigger %s failed in workspace %s", receiver.__name__, workspace_id)

    run.__name__ = receiver.__name__
    return run


def on_alert_opened(sender, workspace_id: int, alert_ids: list[int], **kwargs) -> None:
    from health.models import Alert

    with use_workspace(workspace_id):
        playbooks = list(active_playbooks(TriggerKind.ALERT_OPENED))
        if not playbooks or not alert_ids:
            return
        alerts = []
        for chunk in _chunks(sorted(alert_ids)):
            alerts.extend(
                Alert.objects.filter(pk__in=chunk).values(
                    "pk", "account_id", "rule_id", "rule__kind", "rule__name", "severity", "summary"
                )
            )
        with transaction.atomic():
            for playbook in playbooks:
                mine = [a for a in alerts if playbook.alert_rule_id in (None, a["rule_id"])]
                # One account may open several alerts at once: each is its own occurrence, but the
                # frequency cap (applied per batch) lets the first through.
                by_account: dict[int, dict] = {}
                for alert in mine:
                    by_account.setdefault(alert["account_id"], alert)
                if not by_account:
                    continue
                start_runs(
                    playbook,
                    {pk: f"alert:{a['pk']}" for pk, a in by_account.items()},
                    context=lambda pk, by_account=by_account: {"alert": _alert_context(by_account[pk])},
                )


def _alert_context(alert: dict) -> dict:
    return {
        "id": alert["pk"],
        "rule": alert["rule__kind"],
        "rule_name": alert["rule__name"],
        "severity": alert["severity"],
        "summary": alert["summary"],
    }


def on_scores_computed(sender, workspace_id: int, as_of: dt.date, results, inputs, **kwargs) -> None:
    """Band-entered playbooks, evaluated on the run's own frames (today's runs only)."""
    if as_of < timezone.localdate() or results is None or results.empty or "band" not in results:
        return
    with use_workspace(workspace_id):
        playbooks = list(active_playbooks(TriggerKind.BAND_ENTERED))
        if not playbooks:
            return
        before = inputs.accounts["health_band"].reindex(results.index).fillna("")
        for playbook in playbooks:
            band = playbook.band
            entered = results.index[(results["band"] == band) & (before != band)].tolist()
            if entered:
                occurrence = f"band:{band}:{as_of.isoformat()}"
                start_runs(playbook, {int(pk): occurrence for pk in entered})


def start_renewal_runs(today: dt.date | None = None) -> int:
    """Runs of the current workspace's "renewal within N days" playbooks; one per renewal date."""
    today = today or timezone.localdate()
    started = 0
    for playbook in active_playbooks(TriggerKind.RENEWAL_WITHIN):
        if playbook.renewal_days is None:
            continue
        due = Account.objects.filter(
            status=AccountStatus.ACTIVE,
            renewal_date__gte=today,
            renewal_date__lte=today + dt.timedelta(days=playbook.renewal_days),
        ).values_list("pk", "renewal_date")
        occurrences = {pk: f"renewal:{day.isoformat()}" for pk, day in due}
        started += len(start_runs(playbook, occurrences))
    return started


def on_account_changed(sender, workspace_id: int, field: str, new_id, changes, **kwargs) -> None:
    entered = [account_id for account_id, old_id in changes if old_id != new_id]
    if field != "stage" or new_id is None or not entered:
        return
    occurrence = f"stage:{new_id}:{timezone.localdate().isoformat()}"
    for playbook in active_playbooks(TriggerKind.STAGE_ENTERED).filter(stage_id=new_id):
        start_runs(playbook, dict.fromkeys(entered, occurrence))


def on_scores_computed_check_lists(sender, workspace_id: int, as_of: dt.date, **kwargs) -> None:
    """Today's runs change health fields that lists filter on: check the joined-list playbooks
    once the run's chunk has committed."""
    if as_of < timezone.localdate():
        return
    if active_playbooks(TriggerKind.JOINED_LIST).filter(saved_list__isnull=False).exists():
        from tenancy.tasks import enqueue_once

        from .tasks import check_list_playbooks

        enqueue_once(check_list_playbooks, workspace_id, countdown=5)


def check_list_playbooks() -> int:
    """Start runs for the accounts that joined the saved list of each active "joined a list"
    playbook of the current workspace since the last check; returns the number of new runs."""
    from segments.membership import account_ids

    started = 0
    today = timezone.localdate().isoformat()
    playbooks = active_playbooks(TriggerKind.JOINED_LIST).filter(saved_list__isnull=False)
    for playbook in playbooks.select_related("saved_list__owner", "saved_list__workspace"):
        now_in = account_ids(playbook.saved_list)
        if now_in is None:
            log.warning("playbook %s: saved list %s does not parse", playbook.pk, playbook.saved_list_id)
            continue
        with transaction.atomic():
            members = PlaybookListMember.objects.filter(playbook=playbook)
            before = set(members.values_list("account_id", flat=True))
            first_check = not before and not playbook.list_checked_at
            joined = sorted(now_in - before)
            left = sorted(before - now_in)
            for chunk in _chunks(left):
                members.filter(account_id__in=chunk).delete()
            PlaybookListMember.objects.bulk_create(
                (PlaybookListMember(playbook=playbook, account_id=pk) for pk in joined),
                batch_size=BATCH,
                ignore_conflicts=True,
            )
            Playbook.objects.filter(pk=playbook.pk).update(list_checked_at=timezone.now())
            if joined and not first_check:
                occurrence = f"list:{playbook.saved_list_id}:{today}"
                started += len(start_runs(playbook, dict.fromkeys(joined, occurrence)))
    return started


def connect() -> None:
    from accounts.signals import account_changed
    from health.alerting import alert_opened
    from health.recompute import scores_computed

    account_changed.connect(
        guarded(on_account_changed), weak=False, dispatch_uid="playbooks.on_account_changed"
    )
    scores_computed.connect(
        guarded(on_scores_computed_check_lists), weak=False, dispatch_uid="playbooks.check_lists"
    )

    alert_opened.connect(guarded(on_alert_opened), weak=False, dispatch_uid="playbooks.on_alert_opened")
    scores_computed.connect(
        guarded(on_scores_computed), weak=False, dispatch_uid="playbooks.on_scores_computed"
    )
