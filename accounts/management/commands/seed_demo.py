import time

from django.core.management.base import BaseCommand
from django.db import connection

from accounts import demo


class Command(BaseCommand):
    help = (
        "Build the demo workspaces 'Acme Analytics' (acme) and 'Globex Software' (globex) with a year "
        "of believable customer data and demo logins. Safe to run twice; --reset rebuilds them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo workspaces and build them again."
        )
        parser.add_argument("--verbose-steps", action="store_true", help="Print the time of every step.")

    def handle(self, *args, reset: bool, verbose_steps: bool, **options):
        started = time.perf_counter()
        log = self.stdout.write if verbose_steps else (lambda _msg: None)
        results = demo.seed(reset=reset, log=log)
        elapsed = time.perf_counter() - started

        built = [slug for slug, counts in results.items() if counts is not None]
        kept = [slug for slug, counts in results.items() if counts is None]
        for slug in kept:
            self.stdout.write(
                f"Workspace '{slug}' is already seeded; left as it is (use --reset to rebuild)."
            )
        if built:
            self.stdout.write(
                self.style.SUCCESS(f"Seeded {', '.join(built)} in {elapsed:.1f} s ({connection.vendor}).")
            )
            counts = demo.demo_row_counts(built)
            width = max(len(name) for name in counts)
            for name, count in counts.items():
                self.stdout.write(f"  {name:<{width}}  {count:>9,}")
            self.stdout.write(f"  {'total':<{width}}  {sum(counts.values()):>9,}")

        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for user in demo.DEMO_USERS:
            roles = ", ".join(f"{role} in {slug}" for slug, role in user.roles.items())
            self.stdout.write(f"  {user.email:<20} {user.full_name:<14} {roles}")
        self.stdout.write(
            f"Run `manage.py runserver` and open {demo.DEMO_URL} (workspaces at /w/acme/, /w/globex/)."
        )
        self.stdout.write(
            "Health scores are computed by a Celery worker (a history backfill is queued), or at once "
            "with `manage.py recompute_health`."
        )
