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

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Contact

from .models import ACTIVE_ALERT_STATUSES, Alert, AlertRule, AlertStatus, HealthScore
from .rules import CATALOG, DEFAULT_RULES, RuleContext, with_defaults

# Sent after alerts were opened, on commit of the run's chunk. Args: workspace_id, alert_ids.
alert_opened = Signal()


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


def evaluate(as_of: dt.date, results: pd.DataFrame, inputs) -> tuple[dict[str, int], list[int]]:
    """Sync the alerts of the accounts in `results`; returns counts and the ids of new alerts."""
    rules = list(AlertRule.objects.filter(is_active=True))
    counts = {"opened": 0, "updated": 0, "resolved": 0, "reopened": 0}
    if not rules or results.empty:
        return counts, []
    now = timezone.now()
    ctx = build_context(as_of, results, inputs)
    accounts = set(results.index.tolist())
    # Active alerts and recent resolutions are few: read them whole, no IN list of accounts.
    active = {
        (a.account_id, a.rule_id): a
        for a in Alert.objects.filter(status__in=ACTIVE_ALERT_STATUSES)
        if a.account_id in accounts
    }
    longest = max(r.retrigger_days for r in rules)
    resolved_recently: dict[tuple[int, int], dt.datetime] = {}
    for account_id, rule_id, resolved_at in Alert.objects.filter(
        status=AlertStatus.RESOLVED, resolved_at__gte=now - dt.timedelta(days=longest)
    ).values_list("account_id", "rule_id", "resolved_at"):
        key = (account_id, rule_id)
        resolved_recently[key] = max(resolved_at, resolved_recently.get(key, resolved_at))

    new_alerts, changed, resolved = [], [], []
    for rule in rules:
        kind = CATALOG.get(rule.kind)
        if kind is None:
            continue
        hits = kind.evaluate(ctx, with_defaults(rule.kind, rule.params))
        if rule.tier_id:
            hits = hits[inputs.accounts["tier_id"].reindex(hits.index) == rule.tier_id]
        if rule.lifecycle_stage_id:
            hits = hits[inputs.accounts["lifecycle_stage_id"].reindex(hits.index) == rule.lifecycle_stage_id]
        firing = set(hits.index.tolist())
        records = hits.to_dict("index")
        for account_id in firing:
            record = records[account_id]
            evidence = {k: _jsonable(v) for k, v in record.items() if k != "summary"}
            summary = str(record["summary"])[:300]
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
            alert.evidence, alert.summary, alert.last_seen_at = json.loads(json.dumps(evidence)), summary, now
            if alert.status == AlertStatus.SNOOZED and alert.snoozed_until and alert.snoozed_until <= as_of:
                alert.status, alert.snoozed_until = AlertStatus.OPEN, None
                counts["reopened"] += 1
            changed.append(alert)
        for (account_id, rule_id), alert in active.items():
            if rule_id == rule.pk and account_id not in firing:
                alert.status, alert.resolved_at, alert.resolution = AlertStatus.RESOLVED, now, "auto"
                resolved.append(alert)
    if changed:
        Alert.objects.bulk_update(
            changed, ["evidence", "summary", "last_seen_at", "status", "snoozed_until"], batch_size=1000
        )
    if resolved:
        Alert.objects.bulk_update(resolved, ["status", "resolved_at", "resolution"], batch_size=1000)
    created = Alert.objects.bulk_create(new_alerts, batch_size=1000)
    counts.update(opened=len(created), updated=len(changed), resolved=len(resolved))
    return counts, [a.pk for a in created]


def on_scores_computed(
    sender, workspace_id: int, as_of: dt.date, results: pd.DataFrame, inputs, **kwargs
) -> None:
    """Alerts are about now: evaluated in today's runs (scheduled and incremental), not backfills."""
    if as_of < timezone.localdate():
        return
    _, opened = evaluate(as_of, results, inputs)
    if opened:
        transaction.on_commit(
            lambda: alert_opened.send(sender=Alert, workspace_id=workspace_id, alert_ids=opened)
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
    return alerts.filter(status__in=ACTIVE_ALERT_STATUSES).update(
        status=AlertStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolved_by=user,
        resolution="manual",
        note=note,
    )
