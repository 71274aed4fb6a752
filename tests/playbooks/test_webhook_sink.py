"""The local webhook receiver `bin/run` starts for the demo, as a real process receiving a real
playbook webhook call."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playbooks import runner, triggers
from playbooks.models import PlaybookRun, RunStatus, StepKind, TriggerKind
from playbooks.provisioning import create_playbook

from .. import factories as f
from ..faults.procs import free_port

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sink():
    port = free_port()
    env = {**os.environ, "PLAYBOOK_DEMO_WEBHOOK_SECRET": "sink-test-secret-0123456789"}
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "webhook_sink", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert "listening" in process.stdout.readline()
    yield port, process
    process.terminate()
    process.wait(timeout=10)


def call(url: str, secret: str) -> PlaybookRun:
    playbook = create_playbook("Rescue", "", [(StepKind.CALL_WEBHOOK, {"url": url, "event": "account.rescue",
                               "secret": secret})], trigger=TriggerKind.BAND_ENTERED, band="red")  # fmt: skip
    account = f.AccountFactory(name="Initech", health_band="red")
    (run_id,) = triggers.start_runs(playbook, {account.pk: "band:red:x"})
    runner.execute_run(run_id, lambda *a: None)
    return PlaybookRun.objects.get(pk=run_id)


def test_the_sink_prints_a_signed_delivery_and_checks_its_signature(workspace, sink):
    port, process = sink
    run = call(f"http://127.0.0.1:{port}/hooks/rescue", "sink-test-secret-0123456789")
    assert run.status == RunStatus.SUCCEEDED
    line = process.stdout.readline()
    assert "webhook /hooks/rescue: account.rescue, account 'Initech' (red)" in line
    assert line.rstrip().endswith("signature valid")


def test_a_wrong_signature_is_refused(workspace, sink):
    port, process = sink
    started = time.monotonic()
    run = call(f"http://127.0.0.1:{port}/hooks/rescue", "another-secret-0123456789")
    assert time.monotonic() - started < 10
    assert "SIGNATURE INVALID" in process.stdout.readline()
    step = run.step_runs.get()
    assert step.log[0]["http_status"] == 401
