"""`celery -A cs_platform <args>` with broker transport options merged from the environment
(`FAULT_TRANSPORT_OPTIONS`, JSON): a fault test gives its replacement worker a short visibility
timeout so a message left unacknowledged by a killed worker comes back within seconds instead of
the production hour."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django

django.setup()

from cs_platform.celery import app  # noqa: E402

extra = json.loads(os.environ.get("FAULT_TRANSPORT_OPTIONS") or "{}")
if extra:
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, **extra}
app.start(sys.argv[1:])
