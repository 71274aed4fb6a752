"""A local receiver for trying webhooks: prints every delivery it gets, checks its HMAC-SHA256
signature when given the secret, and answers 204. `bin/run` starts it beside the product so the
demo's "Rescue red accounts" playbook has an endpoint to call."""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand

from playbooks.delivery import verify
from playbooks.steps import SIGNATURE_HEADER


def signature_state(body: bytes, header: str, secret: str) -> str:
    if not secret:
        return "signature not checked (no secret given)"
    return "signature valid" if verify(body, secret, header) else "SIGNATURE INVALID"


def describe(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return f"{len(body)} bytes, not JSON"
    account = payload.get("account") or {}
    parts = [str(payload.get("event", "?"))]
    if account:
        parts.append(f"account {account.get('name')!r} ({account.get('health_band') or 'no band'})")
    if payload.get("playbook"):
        parts.append(f"playbook {payload['playbook'].get('name')!r}")
    return ", ".join(parts)


class Command(BaseCommand):
    help = "Receive webhooks on 127.0.0.1 and print them, checking their signature."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("WEBHOOK_SINK_PORT", "8025")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--secret",
            default=os.environ.get("PLAYBOOK_DEMO_WEBHOOK_SECRET", ""),
            help="the webhook's signing secret (default: $PLAYBOOK_DEMO_WEBHOOK_SECRET)",
        )

    def handle(self, *args, port: int, host: str, secret: str, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                state = signature_state(body, self.headers.get(SIGNATURE_HEADER, ""), secret)
                out.write(f"webhook {self.path}: {describe(body)}; {state}")
                out.flush()
                self.send_response(204 if state != "SIGNATURE INVALID" else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        out.write(f"Webhook sink listening on http://{host}:{port}/")
        out.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
