"""The account timeline: everything that happened to one account, newest first.

Each kind of event comes from a *source*: a function returning the account's events older than
a moment, newest first, at most `limit` of them. `accounts` registers its own (touchpoints,
tickets, NPS, invoices, MRR movements, stakeholder changes, CSM scores, tier and stage changes); apps above it register
theirs (alerts, health band changes, tasks, playbook runs) without
`accounts` importing them. A page of the timeline asks every selected source for `limit` events
before the cursor, merges them and keeps the newest `limit`: one small indexed query per source,
whatever the account's history holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str  # the source's key
    title: str
    detail: str = ""
    tone: str = "secondary"  # a colour of the page's palette: red, orange, yellow, green, blue, secondary
    url: str = ""
    actor: str = ""
    badges: tuple[str, ...] = field(default_factory=tuple)


EventsFn = Callable[[Any, dt.datetime | None, int], Iterable[Event]]  # (account, before, limit)


@dataclass(frozen=True)
class Source:
    key: str
    label: str  # plural, for the filter: "Touchpoints"
    events: EventsFn
    position: int = 100


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    _SOURCES[source.key] = source


def sources() -> list[Source]:
    return sorted(_SOURCES.values(), key=lambda s: (s.position, s.key))


def at_day_start(day: dt.date) -> dt.datetime:
    """Date-only facts (an invoice's issue date) sort as the start of that day, local time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def day_before(before: dt.datetime | None) -> dt.date | None:
    """For date fields: the dates strictly before the cursor's moment."""
    if before is None:
        return None
    local = timezone.localtime(before)
    return local.date() if local.time() == dt.time.min else local.date() + dt.timedelta(days=1)


@dataclass
class Page:
    events: list[Event]
    next_before: dt.datetime | None  # the cursor for older events, None at the start of history


def timeline(account, *, before: dt.datetime | None = None, limit: int = 30, kinds=None) -> Page:
    selected = [s for s in sources() if not kinds or s.key in kinds]
    events: list[Event] = []
    for source in selected:
        events.extend(source.events(account, before, limit + 1))
    if before is not None:
        events = [e for e in events if e.at < before]
    events.sort(key=lambda e: e.at, reverse=True)
    cut = min(limit, len(events))
    # Events at the same moment stay on one page: the next page starts strictly before it.
    while 0 < cut < len(events) and events[cut].at == events[cut - 1].at:
        cut += 1
    page = events[:cut]
    return Page(page, page[-1].at if cut < len(events) and page else None)


# --- the sources of `accounts` ------------------------------------------------------------------
def _older(queryset, field_name: str, before: dt.datetime | None, *, is_date: bool = False):
    if before is not None:
        bound = day_before(before) if is_date else before
        queryset = queryset.filter(**{f"{field_name}__lt": bound})
    return queryset.order_by(f"-{field_name}", "-pk")


def _touchpoints(account, before, limit):
    from .models import Sentiment

    rows = _older(account.touchpoints.select_related("author"), "occurred_at", before)[:limit]
    tones = {Sentiment.POSITIVE: "green", Sentiment.NEGATIVE: "red"}
    for t in rows:
        yield Event(
            t.occurred_at,
            "touchpoints",
            f"{t.get_kind_display()}: {t.subject}" if t.subject else t.get_kind_display(),
            t.notes[:300],
            tones.get(t.sentiment, "blue"),
            actor=t.author.display_name if t.author_id else "",
            badges=(t.get_sentiment_display(),) if t.sentiment else (),
        )


def _tickets(account, before, limit):
    opened = _older(account.tickets.all(), "opened_at", before)[:limit]
    for t in opened:
        badges = [t.get_priority_display()] + (["Escalated"] if t.escalated else [])
        yield Event(
            t.opened_at,
            "tickets",
            f"Ticket opened: {t}",
            t.category,
            "red" if t.escalated else "orange",
            badges=tuple(badges),
        )
    resolved = _older(account.tickets.filter(resolved_at__isnull=False), "resolved_at", before)[:limit]
    for t in resolved:
        yield Event(
            t.resolved_at,
            "tickets",
            f"Ticket resolved: {t}",
            f"CSAT {t.csat}/5" if t.csat else "",
            "red" if t.csat and t.csat <= 2 else "green",
        )


def _nps(account, before, limit):
    rows = _older(account.nps_responses.select_related("contact"), "responded_at", before)[:limit]
    tones = {"promoter": "green", "passive": "yellow", "detractor": "red"}
    for r in rows:
        who = f" from {r.contact}" if r.contact_id else ""
        yield Event(
            r.responded_at,
            "nps",
            f"NPS {r.score} ({r.category}){who}",
            r.comment[:300],
            tones[r.category],
        )


def _invoices(account, before, limit):
    from .models import InvoiceStatus

    for inv in _older(account.invoices.all(), "issued_on", before, is_date=True)[:limit]:
        failed = inv.status == InvoiceStatus.FAILED
        yield Event(
            at_day_start(inv.issued_on),
            "invoices",
            f"Invoice {inv} issued: {inv.amount:,.2f}",
            f"Due {inv.due_on:%b %-d, %Y}",
            "red" if failed else "secondary",
            badges=(inv.get_status_display(),),
        )
    paid = _older(account.invoices.filter(paid_on__isnull=False), "paid_on", before, is_date=True)[:limit]
    for inv in paid:
        late = (inv.paid_on - inv.due_on).days
        yield Event(
            at_day_start(inv.paid_on),
            "invoices",
            f"Invoice {inv} paid",
            f"{late} day{'s' if late != 1 else ''} late" if late > 0 else "",
            "green",
        )


def _mrr(account, before, limit):
    from .models import MovementKind

    tones = {
        MovementKind.NEW: "green",
        MovementKind.EXPANSION: "green",
        MovementKind.REACTIVATION: "green",
        MovementKind.CONTRACTION: "orange",
        MovementKind.CHURN: "red",
    }
    for m in _older(account.mrr_movements.all(), "occurred_on", before, is_date=True)[:limit]:
        yield Event(
            at_day_start(m.occurred_on),
            "mrr",
            f"MRR {m.get_kind_display().lower()}: {m.amount:+,.2f}",
            f"{m.mrr_before:,.2f} → {m.mrr_after:,.2f}",
            tones.get(m.kind, "secondary"),
        )


def _stakeholders(account, before, limit):
    left = account.contacts.filter(deactivated_at__isnull=False)
    for c in _older(left, "deactivated_at", before)[:limit]:
        roles = ", ".join(c.roles)
        yield Event(
            c.deactivated_at,
            "contacts",
            f"Contact left: {c}",
            c.title,
            "red" if (c.is_champion or c.is_executive) else "secondary",
            badges=(roles,) if roles else (),
        )


def _csm_scores(account, before, limit):
    for s in _older(account.csm_scores.select_related("author"), "scored_at", before)[:limit]:
        yield Event(
            s.scored_at,
            "csm_scores",
            f"CSM score {s.score}/5",
            s.note[:300],
            "red" if s.score <= 2 else ("green" if s.score >= 4 else "yellow"),
            actor=s.author.display_name if s.author_id else "",
        )


def _tier_and_stage(account, before, limit):
    changes = _older(account.changes.select_related("changed_by"), "changed_at", before)[:limit]
    for c in changes:
        by = c.changed_by.display_name if c.changed_by_id else c.get_source_display()
        yield Event(
            c.changed_at,
            "changes",
            f"{c.get_field_display()}: {c.old_label or '—'} → {c.new_label or '—'}",
            c.reason,
            "blue",
            actor=by,
        )


def register_account_sources() -> None:
    register(Source("touchpoints", "Touchpoints", _touchpoints, 10))
    register(Source("changes", "Tier and stage changes", _tier_and_stage, 35))
    register(Source("tickets", "Tickets", _tickets, 40))
    register(Source("nps", "NPS", _nps, 50))
    register(Source("invoices", "Invoices", _invoices, 60))
    register(Source("mrr", "MRR changes", _mrr, 70))
    register(Source("contacts", "Stakeholder changes", _stakeholders, 80))
    register(Source("csm_scores", "CSM scores", _csm_scores, 90))
