from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tenancy.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Exit non-zero unless a beat-scheduled task ran on a worker within --max-age seconds."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=180)

    def handle(self, *args, max_age: int, **options):
        beat = WorkerHeartbeat.objects.filter(name="beat").first()
        if beat is None:
            raise CommandError("No beat-scheduled task has run yet.")
        age = timezone.now() - beat.last_seen_at
        if age > timedelta(seconds=max_age):
            raise CommandError(f"Last beat-scheduled task ran {age.total_seconds():.0f} s ago.")
        self.stdout.write(f"ok: last beat-scheduled task ran {age.total_seconds():.0f} s ago")
