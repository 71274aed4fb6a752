"""Setting up a workspace's defaults (scorecards, alert rules, lists…).

`tenancy` knows nothing of those apps; each one connects a receiver to `workspace_provisioned`
and creates its defaults idempotently inside the workspace scope. Call `provision_workspace`
after creating a workspace (the admin, the demo seed) and again safely at any time.
"""

from __future__ import annotations

from django.dispatch import Signal

from .context import use_workspace
from .models import Workspace

# Receivers get `workspace` and run inside its scope.
workspace_provisioned = Signal()


def provision_workspace(workspace: Workspace) -> None:
    with use_workspace(workspace):
        workspace_provisioned.send(sender=Workspace, workspace=workspace)
