from django.core.management.base import BaseCommand, CommandError

from playbooks.digest import send_digests
from tenancy.context import use_workspace
from tenancy.models import Workspace


class Command(BaseCommand):
    help = "Send today's digest emails now (members who already have today's digest are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="workspace slug (default: every workspace)")

    def handle(self, *args, workspace=None, **options):
        workspaces = Workspace.objects.order_by("slug")
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace with slug {workspace!r}.")
        for ws in workspaces:
            with use_workspace(ws):
                self.stdout.write(f"{ws.slug}: {send_digests()} digest(s) sent")
