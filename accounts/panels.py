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
