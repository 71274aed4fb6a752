import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from health.models import RunKind
from health.recompute import recompute
from tenancy.context import use_workspace
from tenancy.models import Workspace


class Command(BaseCommand):
    help = "Recompute health scores now: one workspace or all, today or as of a date, with optional backfill."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="workspace slug (default: every workspace)")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="score as of this date (YYYY-MM-DD)")
        parser.add_argument(
            "--backfill-days",
            type=int,
            default=0,
            help="also score each of the N days before --as-of, oldest first",
        )

    def handle(self, *args, workspace=None, as_of=None, backfill_days=0, **options):
        workspaces = Workspace.objects.all()
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace with slug {workspace!r}.")
        end = as_of or timezone.localdate()
        days = [end - dt.timedelta(days=n) for n in range(backfill_days, -1, -1)]
        for ws in workspaces:
            with use_workspace(ws):
                for day in days:
                    kind = RunKind.BACKFILL if day != days[-1] or as_of else RunKind.MANUAL
                    run = recompute(ws.pk, as_of=day, kind=kind)
                    self.stdout.write(
                        f"{ws.slug} {day}: {run.get_status_display()}, {run.accounts_scored} accounts"
                        f" in {run.duration_seconds or 0:.2f} s"
                    )
