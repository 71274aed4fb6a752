"""Every example of docs/api.md runs verbatim against a live server, in the order of the page,
with the documented outcome: each curl command answers the status the page promises (and, where
the page shows the answer, that answer), and the Python client script runs to the end printing
what it says it prints.

The examples read the server's address and the key from `$CSP` and `$KEY`, as the page tells
its reader to export them; the test sets both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.models import Account
from tenancy.context import use_workspace

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TEXT = DOC.read_text()
BLOCKS = re.findall(r"```(bash|python|json)\n(.*?)```", TEXT, re.S)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
]


@dataclass
class Example:
    command: str
    answer: dict | None  # the JSON block the page shows right after the command's block, if any


def examples() -> list[Example]:
    found: list[Example] = []
    for position, (lang, text) in enumerate(BLOCKS):
        if lang != "bash" or "curl" not in text:
            continue
        following = BLOCKS[position + 1] if position + 1 < len(BLOCKS) else None
        answer = json.loads(following[1]) if following and following[0] == "json" else None
        # A command runs from `curl` to the first line that does not end with a backslash.
        commands = [c for c in re.split(r"\n(?=curl )", text.strip()) if c.startswith("curl ")]
        for index, command in enumerate(commands):
            found.append(Example(command, answer if index == len(commands) - 1 else None))
    return found


def has_results(body) -> bool:
    return isinstance(body.get("results"), list)


def summary_of(answer: dict) -> Callable[[dict], bool]:
    return lambda body: (
        body["summary"] == answer["summary"]
        and [r["status"] for r in body["results"]] == [r["status"] for r in answer["results"]]
    )


def pointers(body: dict) -> set[str]:
    return {e["pointer"] for e in body.get("errors", [])} | {
        e["pointer"] for r in body.get("results", []) for e in r.get("errors", [])
    }


# What the page says each example answers: (a piece of the command, status, a check of the body).
# Every curl example must match exactly one entry, so a new example needs its outcome stated here.
OUTCOMES: list[tuple[str, int, Callable[[dict], bool]]] = [
    ('"$CSP/api/v1/accounts" -H', 200, has_results),
    ('"$CSP/api/v1/backtests" -H', 200, has_results),
    ('"plan": "Enterprise"', 201, lambda b: b["external_id"] == "acme-42" and b["mrr"] == "4200.00"),
    ('"$CSP/api/v1/accounts/acme-42" -H', 200, lambda b: b["plan"] == "Enterprise"),
    ("accounts?status=active&health_band=red", 200, has_results),
    ("/api/v1/contacts", 201, lambda b: b["account_external_id"] == "acme-42" and b["is_champion"]),
    ("/api/v1/invoices/in_2026_118", 201, lambda b: b["due_on"] == "2026-12-01"),
    ('-X POST "$CSP/api/v1/tickets"', 201, lambda b: b["contact_external_id"] == "u-981"),
    ("/api/v1/nps-responses", 201, lambda b: b["score"] == 9),
    ("/api/v1/touchpoints", 201, lambda b: b["kind"] == "call"),
    ("/api/v1/csm-scores", 201, lambda b: b["score"] == 4),
    ("/api/v1/daily-usage", 201, lambda b: b["events"] == 14),
    ("/api/v1/usage-events", 201, lambda b: b["event_id"] == "evt-0001"),
    ("/api/v1/health/acme-42", 200, lambda b: b["external_id"] == "acme-42" and "health_band" in b),
    ("/api/v1/health-history?", 200, has_results),
    ("/api/v1/alerts?", 200, has_results),
    ("/api/v1/tasks?", 200, has_results),
    ("/api/v1/stages", 200, has_results),
    ("tickets?updated_since=", 200, lambda b: [t["external_id"] for t in b["results"]] == ["zd-5531"]),
    ('accounts/bulk" \\', 200, None),  # checked against the answer the page shows
    ("accounts/bulk?echo=true", 200, lambda b: b["results"][0]["record"]["mrr"] == "950.00"),
    ("accounts/bulk?atomic=true", 200, lambda b: b["mode"] == "atomic" and b["summary"]["error"] == 0),
    ("invoices/bulk", 200, lambda b: b["summary"]["created"] == 1),
    ('"colour": "red"', 422, None),  # checked against the answer the page shows
]


def outcome_of(command: str) -> tuple[int, Callable[[dict], bool] | None]:
    matches = [(status, check) for piece, status, check in OUTCOMES if piece in command]
    assert len(matches) == 1, f"state the documented outcome of this example in OUTCOMES: {command}"
    return matches[0]


def test_the_docs_have_examples_for_every_resource():
    text = "\n".join(e.command for e in examples())
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
        "health",
        "health-history",
        "alerts",
        "tasks",
        "stages",
    ):
        assert f"/api/v1/{path}" in text, path
    assert [lang for lang, _ in BLOCKS].count("python") == 2  # the client, and the signature check
    for example in examples():
        outcome_of(example.command)


def run_curl(command: str, env: dict) -> tuple[int, dict, str]:
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
    return int(status), json.loads(body), body


def test_every_example_runs_verbatim_with_its_documented_outcome(live_server, keys, two_workspaces):
    env = {**os.environ, "CSP": live_server.url, "KEY": keys.a}
    for example in examples():
        expected, check = outcome_of(example.command)
        status, body, raw = run_curl(example.command, env)
        assert status == expected, (example.command, status, raw[:500])
        if check is not None:
            assert check(body), (example.command, raw[:500])
        if example.answer is not None:
            if "summary" in example.answer:
                assert summary_of(example.answer)(body), (example.command, raw[:500])
            else:
                shown = {k: v for k, v in example.answer.items() if k != "errors"}
                assert {k: body.get(k) for k in shown} == shown, raw[:500]
            assert pointers(body) == pointers(example.answer), raw[:500]
    with use_workspace(two_workspaces.a):
        account = Account.objects.get(external_id="acme-42")
    assert str(account.mrr) == "4500.00"  # the rejected write (negative MRR) left the bulk's value

    (script,) = [text for lang, text in BLOCKS if lang == "python" and "requests" in text]
    done = subprocess.run(  # noqa: S603 - the repository's own documentation
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "updated 4200.00", lines
    assert lines[1] == str({"created": 2, "updated": 0, "unchanged": 0, "error": 0}), lines
    synced = {line.split()[0] for line in lines[2:]}
    assert {"acme-42", "initech-3"} <= synced, lines
