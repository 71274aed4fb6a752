from .worker import executed_tasks  # noqa: F401  (fixture)
