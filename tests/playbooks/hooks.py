"""A local webhook receiver for the tests: http.server on 127.0.0.1 in a thread, answering
with a scripted sequence of status codes and keeping every request it got."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes


@dataclass
class Receiver:
    url: str
    answers: list[int]
    delay_seconds: float = 0.0  # how long to wait before answering (a slow endpoint)
    received: list[Received] = field(default_factory=list)


@contextmanager
def webhook_receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    """Answers the listed statuses in turn, then 200 to every later request."""
    receiver = Receiver(url="", answers=list(answers or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                receiver.received.append(Received(self.path, self.headers, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"nope")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up waiting (a timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cs"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
