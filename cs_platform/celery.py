import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")


class Task(DjangoTask):
    """The project's task class. `delay_on_commit` / `apply_async_on_commit` enqueue robustly:
    once the transaction committed, a broker that does not answer (Redis down) is logged by
    Django (`django.db.backends.base` logs the failed on-commit callback) instead of turning a
    saved change into a 500. What such a lost message would have done is picked up again by the
    periodic runs (a stale account is rescored by the next full rescore; see docs/operations.md).
    Pages that enqueue on a person's request call `apply_async` themselves and say when it fails.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        from django.db import transaction

        def enqueue() -> None:
            self.apply_async(*args, **kwargs)

        # A named function, not functools.partial: Django names the callback when it logs a failure.
        enqueue.__qualname__ = f"enqueue {self.name}"
        transaction.on_commit(enqueue, robust=True)


app = Celery("cs_platform", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
