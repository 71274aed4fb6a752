from __future__ import annotations

from tenancy.models import Workspace

from .alerting import ensure_default_rules
from .defaults import ensure_default_scorecards
from .models import HealthScore
from .tasks import backfill_workspace

HISTORY_DAYS = 90


def provision_health(sender, workspace: Workspace, **kwargs) -> None:
    """Starting scorecards; and when the workspace has data but no score history yet (a fresh
    import or the demo), a background backfill so trend charts have 90 days from the start."""
    ensure_default_scorecards()
    ensure_default_rules()
    if not HealthScore.objects.exists():
        backfill_workspace.delay_on_commit(workspace.pk, HISTORY_DAYS)
