"""Every example of docs/api.md runs verbatim against a live server: each curl command answers
below 400 with JSON, and the Python client script runs to the end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCKS = re.findall(r"```(bash|python)\n(.*?)```", DOC.read_text(), re.S)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
]


def curl_commands() -> list[str]:
    commands = []
    for lang, text in BLOCKS:
        if lang != "bash" or "curl" not in text:
            continue
        # A command runs from `curl` to the first line that does not end with a backslash.
        for chunk in re.split(r"\n(?=curl )", text.strip()):
            if chunk.startswith("curl "):
                commands.append(chunk)
    return commands


def test_the_docs_have_examples_for_every_resource():
    text = "\n".join(curl_commands())
    for path in (
        "accounts",
        "contacts",
        "invoices",
        "tickets",
        "nps-responses",
        "touchpoints",
        "csm-scores",
        "daily-usage",
        "usage-events",
    ):
        assert f"/api/v1/{path}" in text, path
    assert any(lang == "python" for lang, _ in BLOCKS)


def test_every_example_runs_verbatim(live_server, keys):
    env = {**os.environ, "CSP": live_server.url, "KEY": keys.a}
    for command in curl_commands():
        # Print the status code after the body, so the test can check it without editing the example.
        probe = command.replace("curl -s", "curl -s -w '\\n%{http_code}'", 1)
        done = subprocess.run(  # noqa: S603 - the repository's own documentation
            [shutil.which("bash") or "/bin/bash", "-c", probe],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (command, done.stderr)
        body, _, status = done.stdout.rpartition("\n")
        assert int(status) < 400, (command, status, body)
        assert body.lstrip().startswith("{"), (command, body[:200])
    for lang, script in BLOCKS:
        if lang == "python":
            done = subprocess.run(  # noqa: S603 - the repository's own documentation
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
