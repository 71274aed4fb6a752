"""Panels on the account page contributed by apps above `accounts` (health, alerts, tasks…).

`accounts` renders them without importing those apps: each registers a template and a function
returning its context for one account. Order is by `position`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict]  # (request, account) -> context
    position: int = 100


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request, account) -> list[dict]:
    """[{"key", "template", "context"}] for the account page, in order."""
    return [
        {"key": p.key, "template": p.template, "context": p.context(request, account)}
        for p in sorted(_PANELS.values(), key=lambda p: (p.position, p.key))
    ]


# --- list pages ------------------------------------------------------------------------------
# Apps above `accounts` add a toolbar to the account and contact list pages (saved lists), and
# may choose the query a list page opens with when it is opened bare (a user's default list).


@dataclass(frozen=True)
class Toolbar:
    key: str
    template: str
    context: Callable[[Any, str], dict]  # (request, resource) -> context


_TOOLBARS: dict[str, Toolbar] = {}
_DEFAULT_QUERIES: list[Callable[[Any, str], str | None]] = []


def register_toolbar(toolbar: Toolbar) -> None:
    _TOOLBARS[toolbar.key] = toolbar


def toolbars_for(request, resource: str) -> list[dict]:
    return [
        {"key": t.key, "template": t.template, "context": t.context(request, resource)}
        for t in sorted(_TOOLBARS.values(), key=lambda t: t.key)
    ]


def register_default_query(provider: Callable[[Any, str], str | None]) -> None:
    if provider not in _DEFAULT_QUERIES:
        _DEFAULT_QUERIES.append(provider)


def default_query(request, resource: str) -> str | None:
    for provider in _DEFAULT_QUERIES:
        query = provider(request, resource)
        if query is not None:
            return query
    return None
