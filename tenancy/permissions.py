"""Who may do what in a workspace. Every view and API endpoint asks here, nowhere else."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied

from .models import Membership, Role


class Action(StrEnum):
    VIEW = "view"  # read pages and exports
    WORK = "work"  # work accounts: touchpoints, CSM score, stages, tasks, alerts
    CONFIGURE = "configure"  # scorecards, rules, tiers, stages, playbooks, API keys, members


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.CSM: frozenset({Action.VIEW, Action.WORK}),
    Role.VIEWER: frozenset({Action.VIEW}),
}


def can(membership: Membership | None, action: Action) -> bool:
    return membership is not None and action in ROLE_ACTIONS.get(membership.role, frozenset())


def require(membership: Membership | None, action: Action) -> None:
    if not can(membership, action):
        raise PermissionDenied(f"Your role cannot {action} here.")
