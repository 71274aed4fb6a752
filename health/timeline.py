"""The account timeline's health events: alerts opened and resolved, and health band changes."""

from __future__ import annotations

import itertools

from accounts.timeline import Event, Source, at_day_start, day_before, register

from .models import Alert, HealthScore

SEVERITY_TONES = {"critical": "red", "high": "red", "medium": "orange", "low": "yellow"}
BAND_TONES = {"red": "red", "yellow": "yellow", "green": "green"}
# Band changes are read from the daily score history, a bounded window per page.
BAND_WINDOW_DAYS = 400


def _alerts(account, before, limit):
    alerts = Alert.objects.filter(account=account).select_related("rule", "resolved_by")
    opened = alerts.order_by("-opened_at", "-pk")
    if before is not None:
        opened = opened.filter(opened_at__lt=before)
    for a in opened[:limit]:
        yield Event(
            a.opened_at,
            "alerts",
            f"Alert: {a.rule.name}",
            a.summary,
            SEVERITY_TONES.get(a.severity, "orange"),
            badges=(a.get_severity_display(),),
        )
    resolved = alerts.filter(resolved_at__isnull=False).order_by("-resolved_at", "-pk")
    if before is not None:
        resolved = resolved.filter(resolved_at__lt=before)
    for a in resolved[:limit]:
        how = "cleared by itself" if a.resolution == "auto" else "resolved"
        yield Event(
            a.resolved_at,
            "alerts",
            f"Alert {how}: {a.rule.name}",
            a.note[:300],
            "green",
            actor=a.resolved_by.display_name if a.resolved_by_id else "",
        )


def _band_changes(account, before, limit):
    """A day whose band differs from the previous scored day's band."""
    scores = HealthScore.objects.filter(account=account).exclude(band="")
    last_day = day_before(before)
    if last_day is not None:
        scores = scores.filter(day__lt=last_day)
    rows = list(scores.order_by("-day").values_list("day", "band", "score")[:BAND_WINDOW_DAYS])
    found = 0
    for (day, band, score), (_, previous, _) in itertools.pairwise(rows):
        if band == previous:
            continue
        yield Event(
            at_day_start(day),
            "health",
            f"Health entered {band}: {round(score) if score is not None else '—'}",
            f"Was {previous} the day before.",
            BAND_TONES.get(band, "secondary"),
        )
        found += 1
        if found >= limit:
            return


def register_sources() -> None:
    register(Source("alerts", "Alerts", _alerts, 20))
    register(Source("health", "Health band changes", _band_changes, 30))
