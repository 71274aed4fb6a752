"""Signals about an account's own fields, for other apps to react to (playbooks, webhooks, the
timeline) without accounts knowing about them."""

from django.dispatch import Signal

# Sent on commit after an account's lifecycle stage or tier changed, whatever made the change
# (a person in the pages, the partner API, the automatic tier/stage rules, a playbook step).
# Args: workspace_id, account_id, field ("stage" | "tier"), old_id, new_id (ids of
# LifecycleStage / Tier rows, or None), source ("user" | "api" | "rule" | "playbook").
account_changed = Signal()
