from ..celery.worker import executed_tasks  # noqa: F401  (fixture, for the rules-after-a-health-run worker test)
