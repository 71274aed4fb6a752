"""Turn rule evaluations into alerts, set-based, inside every health run of today.

For the accounts of a run and each active rule: an account that fires and has no active alert of
that rule gets one (unless one resolved within the rule's retrigger delay); an active alert whose
condition still holds gets fresh evidence; an active alert whose condition cleared resolves by
itself. Snoozed alerts whose date has passed open again. `alert_opened` lets playbooks react.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Contact
from tenancy import rls
from tenancy.context import current_workspace_id

from .models import ACTIVE_ALERT_STATUSES, Alert, AlertRule, AlertStatus, HealthScore
from .rules import CATALOG, DEFAULT_RULES, RuleContext, with_defaults

# Sent after alerts were opened, on commit of the run's chunk. Args: workspace_id, alert_ids.
alert_opened = Signal()
# Sent after alerts were resolved (automatically by a run, or by a person), on commit.
# Args: workspace_id, alert_ids, resolution ("auto" | "manual").
alert_resolved = Signal()


def _jsonable(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 2)
    return value


def build_context(as_of: dt.date, results: pd.DataFrame, inputs) -> RuleContext:
    index = results.index
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def scores_days_ago(days: int) -> pd.Series:
        rows = HealthScore.objects.filter(day=as_of - dt.timedelta(days=days), score__isnull=False)
        if len(index) < 5000:
            rows = rows.filter(account_id__in=list(index))
        return pd.Series(dict(rows.values_list("account_id", "score")), dtype="float64").reindex(index)

    def departed_contacts(days: int) -> pd.DataFrame:
        rows = Contact.objects.filter(
            Q(is_champion=True) | Q(is_executive=True),
            deactivated_at__gte=end - dt.timedelta(days=days),
            deactivated_at__lt=end,
        ).values_list("account_id", "name", "email")
        frame = pd.DataFrame(list(rows), columns=["account_id", "name", "email"])
        frame["name"] = frame["name"].where(frame["name"] != "", frame["email"])
        return frame[frame["account_id"].isin(index)]

    bands_before = inputs.accounts["health_band"].reindex(index).fillna("")
    return RuleContext(inputs, results, bands_before, scores_days_ago, departed_contacts)


@dataclass
class _Active:
    pk: int
    status: str
    snoozed_until: dt.date | None
    evidence: dict
    summary: str


def evaluate(as_of: dt.date, results: pd.DataFrame, inputs) -> tuple[dict[str, int], list[int], list[int]]:
    """Sync the alerts of the accounts in `results`; returns counts, the ids of new alerts and
    the ids of the alerts it resolved.

    Only what changed is written: a new alert, evidence that moved, a snooze that ran out, a
    condition that cleared. In the steady state of hourly runs most alerts change nothing.
    """
    rules = list(AlertRule.objects.filter(is_active=True).select_related("saved_list__owner"))
    members_of: dict[int, set[int] | None] = {}

    def list_members(rule: AlertRule) -> set[int] | None:
        if rule.saved_list_id not in members_of:
            from segments.membership import account_ids

            members_of[rule.saved_list_id] = account_ids(rule.saved_list)
        return members_of[rule.saved_list_id]

    counts = {"opened": 0, "updated": 0, "resolved": 0, "reopened": 0}
    if not rules or results.empty:
        return counts, [], []
    now = timezone.now()
    ctx = build_context(as_of, results, inputs)
    accounts = set(results.index.tolist())
    # Active alerts and recent resolutions are read whole (no IN list of accounts), as plain rows.
    active: dict[tuple[int, int], _Active] = {}
    for pk, account_id, rule_id, status, snoozed, evidence, summary in Alert.objects.filter(
        status__in=ACTIVE_ALERT_STATUSES
    ).values_list("pk", "account_id", "rule_id", "status", "snoozed_until", "evidence", "summary"):
        if account_id in accounts:
            active[(account_id, rule_id)] = _Active(pk, status, snoozed, evidence, summary)
    longest = max(r.retrigger_days for r in rules)
    resolved_recently: dict[tuple[int, int], dt.datetime] = {}
    for account_id, rule_id, resolved_at in Alert.objects.filter(
        status=AlertStatus.RESOLVED, resolved_at__gte=now - dt.timedelta(days=longest)
    ).values_list("account_id", "rule_id", "resolved_at"):
        key = (account_id, rule_id)
        resolved_recently[key] = max(resolved_at, resolved_recently.get(key, resolved_at))

    new_alerts: list[Alert] = []
    changed: list[tuple[int, str, dict, str, dt.date | None]] = []  # pk, status, evidence, summary, snooze
    resolved: list[int] = []
    for rule in rules:
        kind = CATALOG.get(rule.kind)
        if kind is None:
            continue
        hits = kind.evaluate(ctx, with_defaults(rule.kind, rule.params))
        if rule.tier_id:
            hits = hits[inputs.accounts["tier_id"].reindex(hits.index) == rule.tier_id]
        if rule.lifecycle_stage_id:
            hits = hits[inputs.accounts["lifecycle_stage_id"].reindex(hits.index) == rule.lifecycle_stage_id]
        if rule.saved_list_id:
            members = list_members(rule)
            if members is None:
                continue  # a list that no longer parses: neither open nor resolve anything
            hits = hits[hits.index.isin(list(members))]
        summaries = hits.pop("summary").astype(str).str.slice(0, 300).tolist()
        evidence_rows = hits.to_dict("records")
        firing = set()
        for account_id, summary, raw in zip(hits.index.tolist(), summaries, evidence_rows, strict=True):
            firing.add(account_id)
            evidence = {k: _jsonable(v) for k, v in raw.items()}
            alert = active.get((account_id, rule.pk))
            if alert is None:
                last = resolved_recently.get((account_id, rule.pk))
                if last is not None and last > now - dt.timedelta(days=rule.retrigger_days):
                    continue  # resolved recently: wait out the retrigger delay
                new_alerts.append(
                    Alert(account_id=account_id, rule=rule, severity=rule.severity, summary=summary,
                          evidence=evidence, opened_at=now, last_seen_at=now)
                )  # fmt: skip
                continue
            status, snoozed = alert.status, alert.snoozed_until
            if status == AlertStatus.SNOOZED and snoozed and snoozed <= as_of:
                status, snoozed = AlertStatus.OPEN, None
                counts["reopened"] += 1
            if (status, snoozed, summary) != (alert.status, alert.snoozed_until, alert.summary) or (
                evidence != alert.evidence
            ):
                changed.append((alert.pk, status, evidence, summary, snoozed))
        resolved.extend(
            alert.pk
            for (account_id, rule_id), alert in active.items()
            if rule_id == rule.pk and account_id not in firing
        )
    _write_changes(changed, now)
    if resolved:
        for start in range(0, len(resolved), 5000):
            Alert.objects.filter(pk__in=resolved[start : start + 5000]).update(
                status=AlertStatus.RESOLVED, resolved_at=now, resolution="auto"
            )
    created = Alert.objects.bulk_create(new_alerts, batch_size=2000)
    counts.update(opened=len(created), updated=len(changed), resolved=len(resolved))
    return counts, [a.pk for a in created], resolved


def _write_changes(changed: list[tuple], now: dt.datetime) -> None:
    if not changed:
        return
    if connection.vendor != "postgresql":
        alerts = []
        for pk, status, evidence, summary, snoozed in changed:
            alert = Alert(
                pk=pk,
                status=status,
                evidence=evidence,
                summary=summary,
                snoozed_until=snoozed,
                last_seen_at=now,
            )
            alert.workspace_id = current_workspace_id()
            alerts.append(alert)
        Alert.objects.bulk_update(
            alerts, ["status", "evidence", "summary", "snoozed_until", "last_seen_at"], batch_size=500
        )
        return
    # PostgreSQL: COPY the changes into a temporary table, then one UPDATE … FROM.
    table = Alert._meta.db_table
    connection.ensure_connection()
    rls.sync(connection)  # raw psycopg below: carry the workspace into this transaction
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE alert_changes (id bigint, status varchar(12), evidence jsonb, summary varchar(300),"
            " snoozed_until date) ON COMMIT DROP"
        )
        with cursor.copy("COPY alert_changes FROM STDIN") as copy:
            for pk, status, evidence, summary, snoozed in changed:
                copy.write_row((pk, status, json.dumps(evidence), summary, snoozed))
        cursor.execute(
            f"UPDATE {table} AS a SET status = c.status, evidence = c.evidence, summary = c.summary,"  # noqa: S608
            " snoozed_until = c.snoozed_until, last_seen_at = %s FROM alert_changes AS c"
            " WHERE a.id = c.id AND a.workspace_id = %s",
            [now, current_workspace_id()],
        )
        cursor.execute("DROP TABLE alert_changes")


def on_scores_computed(
    sender, workspace_id: int, as_of: dt.date, results: pd.DataFrame, inputs, **kwargs
) -> None:
    """Alerts are about now: evaluated in today's runs (scheduled and incremental), not backfills."""
    if as_of < timezone.localdate():
        return
    _, opened, resolved = evaluate(as_of, results, inputs)
    if opened:
        transaction.on_commit(
            lambda: alert_opened.send(sender=Alert, workspace_id=workspace_id, alert_ids=opened)
        )
    if resolved:
        transaction.on_commit(
            lambda: alert_resolved.send(
                sender=Alert, workspace_id=workspace_id, alert_ids=resolved, resolution="auto"
            )
        )


def ensure_default_rules() -> None:
    """The starting rule set of a workspace, unless it has rules already."""
    if AlertRule.objects.exists():
        return
    AlertRule.objects.bulk_create(
        AlertRule(kind=kind, name=name, params=params, severity=severity)
        for kind, name, params, severity in DEFAULT_RULES
    )


# --- what a CSM does with alerts ------------------------------------------------------------
def acknowledge(alerts, user) -> int:
    return alerts.filter(status=AlertStatus.OPEN).update(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_at=timezone.now(), acknowledged_by=user
    )


def snooze(alerts, until: dt.date, user) -> int:
    return alerts.filter(status__in=ACTIVE_ALERT_STATUSES).update(
        status=AlertStatus.SNOOZED, snoozed_until=until, acknowledged_at=timezone.now(), acknowledged_by=user
    )


def resolve(alerts, user, note: str = "") -> int:
    """Resolved by hand; if the condition still holds, the rule may open a new alert after its
    retrigger delay."""
    targets = alerts.filter(status__in=ACTIVE_ALERT_STATUSES)
    ids = list(targets.values_list("pk", flat=True))
    count = Alert.objects.filter(pk__in=ids).update(
        status=AlertStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolved_by=user,
        resolution="manual",
        note=note,
    )
    if ids:
        workspace_id = current_workspace_id()
        transaction.on_commit(
            lambda: alert_resolved.send(
                sender=Alert, workspace_id=workspace_id, alert_ids=ids, resolution="manual"
            )
        )
    return count
