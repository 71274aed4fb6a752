"""Signals about an account's own fields, for other apps to react to (playbooks, webhooks, the
timeline) without accounts knowing about them."""

from django.dispatch import Signal

# Sent on commit after the lifecycle stage or tier of one or more accounts changed to the same new
# value, whatever made the change (a person in the pages or a bulk action, the partner API, the
# automatic tier/stage rules, a playbook step): once per change, however many accounts it moved.
# Args: workspace_id, field ("stage" | "tier"), new_id (id of a LifecycleStage / Tier row, or
# None), changes (list of (account_id, old_id) pairs), source ("user" | "api" | "rule" | "playbook").
account_changed = Signal()
