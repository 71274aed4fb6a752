"""Outbound webhooks: a workspace's own systems subscribe URLs to events (`events.py` turns the
domain apps' signals into deliveries, `outbox.py` sends them, signed and retried)."""
