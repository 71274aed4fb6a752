"""Real processes for the fault tests: private Redis and PostgreSQL servers (never the shared
ones: a test that stops a server stops its own), Celery workers and beats, a web server.

A test that needs a binary that is missing skips with the reason; nothing else skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(probe: Callable, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    result = probe()
    assert result, f"timed out after {timeout} s waiting for {what}"
    return result


def test_database_url(owner: bool = False) -> str:
    """The URL of the test database this test process uses, for child processes; `owner`: as
    the role that owns the tables (DATABASE_OWNER_URL's), for bulk loaders that drop indexes."""
    from django.conf import settings

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    user, password = s["USER"], s.get("PASSWORD")
    if owner and settings.DATABASE_OWNER:
        user, password = settings.DATABASE_OWNER["USER"], settings.DATABASE_OWNER.get("PASSWORD")
    password = f":{password}" if password else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def child_env(tmp: Path, database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_OWNER_URL", None)  # names the main database, not this test's
    env.update(
        DJANGO_SETTINGS_MODULE="cs_platform.settings",
        DATABASE_URL=database_url,
        VAR_DIR=str(tmp / "var"),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
        # The demo webhook would call a receiver that is not running.
        PLAYBOOK_DEMO_WEBHOOK_URL="",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


class Process:
    """A child process in its own process group, its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        out = open(self.log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._out = out
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.output()[-3000:]}")
            return text in self.output()

        wait_until(seen, timeout, what=f"{self.name} to print {text!r}")

    def children(self) -> list[int]:
        found = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
        return found

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._close()
            return
        self.kill_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group(signal.SIGKILL)
            self.proc.wait(5)
        self._close()

    def _close(self) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            out.close()
            self._out = None


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def celery_worker(
    tmp: Path, env: dict, name: str, concurrency: int = 1, transport_options: dict | None = None
) -> Process:
    """`celery worker` (prefork pool) on the `celery` queue. `transport_options` are merged into
    the broker's (tests/faults/run_worker.py), e.g. a short visibility timeout."""
    argv = python(
        str(ROOT / "tests" / "faults" / "run_worker.py"),
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--queues=celery",
        f"--hostname={name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
    )
    env = dict(env)
    if transport_options:
        import json

        env["FAULT_TRANSPORT_OPTIONS"] = json.dumps(transport_options)
    return Process(name, argv, env, tmp / f"{name}.log").start()


def celery_beat(tmp: Path, env: dict, name: str) -> Process:
    argv = python("-m", "celery", "-A", "cs_platform", "beat", "--loglevel=INFO", "--max-interval=1")
    return Process(name, argv, env, tmp / f"{name}.log").start()


# --- Private servers ----------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own on a free port. With `persistent`, every write is fsynced
    to an append-only file in its folder, so a stop and start keeps the queued messages (a broker's
    Redis is run like that; see docs/operations.md)."""

    def __init__(self, folder: Path, persistent: bool = True):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed: the fault test runs its own Redis")
        self.binary, self.folder, self.persistent = binary, folder, persistent
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        if self.persistent:
            persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            persistence = ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                *persistence,
            ],
            stdout=open(self.folder / "redis.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.answers, 10, what="the private Redis to answer")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            self.proc.wait(10)
        self.proc = None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free port, its
    socket in that folder; `destroy` removes it all). As root, the server runs as the `postgres`
    system user."""

    def __init__(self):
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            pytest.skip(f"{initdb} is not installed: the fault test runs its own PostgreSQL")
        # Not under pytest's folder: the server user must reach it, and a socket path is short.
        folder = Path(tempfile.mkdtemp(prefix="cs-fault-pg-"))
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
            self.as_postgres = [runuser, "-u", "postgres", "--"]
        if self.as_postgres:
            shutil.chown(folder, "postgres")
        self._run(
            str(initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
            )

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, cwd=self.folder)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PrivatePostgres:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"), "-w", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
