"""The product's settings with Django's stock PostgreSQL backend: the no-row-level-security
baseline of bench/rls.py (it is not a way to run the product)."""

from cs_platform.settings import *  # noqa: F403
from cs_platform.settings import DATABASES

if DATABASES["default"]["ENGINE"] == "tenancy.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
