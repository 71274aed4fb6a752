"""Outbound webhooks: the settings pages (admins only), the events they subscribe to, signed
deliveries to a local HTTP receiver, retries with backoff and the delivery log."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from django.db import transaction

from accounts.signals import account_changed
from health import alerting
from health.models import Alert, AlertRule
from health.recompute import scores_computed
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.webhooks import outbox
from playbooks import ctas, delivery
from tenancy.context import use_workspace
from tests.support import wurl

from ..playbooks.hooks import webhook_receiver

pytestmark = pytest.mark.django_db(transaction=True)

ALL_EVENTS = [
    "alert.opened",
    "alert.resolved",
    "health.band_changed",
    "account.stage_changed",
    "task.created",
]


def subscribe(tw, url: str, events=None) -> WebhookEndpoint:
    with use_workspace(tw.a):
        return WebhookEndpoint.objects.create(
            url=url, events=events or ALL_EVENTS, secret="s3cret-" + "x" * 20
        )


def deliver_all(tw) -> list[int | None]:
    """Run every pending delivery once, as the worker's task would; returns the countdowns."""
    with use_workspace(tw.a):
        ids = list(
            WebhookDelivery.objects.filter(status__in=[DeliveryStatus.PENDING]).values_list("pk", flat=True)
        )
        return [outbox.attempt(pk) for pk in ids]


def documented_verify():
    """The signature check docs/api.md gives receivers, run as printed."""
    from .test_docs_examples import BLOCKS

    (snippet,) = [text for lang, text in BLOCKS if lang == "python" and "def verify_signature" in text]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - the repository's own documentation
    return namespace["verify_signature"]


def verified(received, secret: str) -> dict:
    header = received.headers["X-CS-Signature"]
    assert delivery.verify(received.body, secret, header)
    assert documented_verify()(received.body, secret, header)
    assert not documented_verify()(received.body + b" ", secret, header)
    return json.loads(received.body)


# --- pages -----------------------------------------------------------------------------------
def test_an_admin_subscribes_a_url_and_sees_its_secret(client, two_workspaces):
    tw = two_workspaces
    client.force_login(tw.a_admin)
    assert client.get(wurl(tw.a, "integrations:webhooks")).status_code == 200
    response = client.post(
        wurl(tw.a, "integrations:webhook_create"),
        {
            "url": "https://hooks.example.com/cs",
            "description": "CRM",
            "events": ["alert.opened", "task.created"],
        },
    )
    assert response.status_code == 302
    with use_workspace(tw.a):
        endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["alert.opened", "task.created"] and len(endpoint.secret) == 48
    page = client.get(response["Location"])
    assert endpoint.secret in page.content.decode()
    rotated = client.post(wurl(tw.a, "integrations:webhook_edit", pk=endpoint.pk), {"action": "rotate"})
    assert rotated.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret not in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "ftp://x.example.com/a", "events": ["task.created"]}, "url", "http"),
        ({"url": "https://hooks.example.com/a", "events": []}, "events", "at least one"),
        ({"url": "https://hooks.example.com/a", "events": ["account.deleted"]}, "events", "valid choice"),
    ],
)
def test_bad_input_is_explained(client, two_workspaces, data, field, message):
    tw = two_workspaces
    client.force_login(tw.a_admin)
    response = client.post(wurl(tw.a, "integrations:webhook_create"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    with use_workspace(tw.a):
        assert not WebhookEndpoint.objects.exists()


def test_only_admins_reach_the_webhook_pages(client, two_workspaces):
    tw = two_workspaces
    endpoint = subscribe(tw, "https://hooks.example.com/cs")
    for user in (tw.a_csm, tw.a_viewer):
        client.force_login(user)
        for name, kwargs in (
            ("integrations:webhooks", {}),
            ("integrations:deliveries", {}),
            ("integrations:webhook_create", {}),
            ("integrations:webhook_edit", {"pk": endpoint.pk}),
        ):
            assert client.get(wurl(tw.a, name, **kwargs)).status_code == 403, (user, name)
        assert client.post(wurl(tw.a, "integrations:webhook_delete", pk=endpoint.pk)).status_code == 403
    with use_workspace(tw.a):
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


# --- events ----------------------------------------------------------------------------------
def test_every_event_is_delivered_signed(two_workspaces):
    tw = two_workspaces
    account = tw.sample.account
    with webhook_receiver() as hook:
        endpoint = subscribe(tw, hook.url)
        # A health run in which the account turned red (before any alert rule exists, whose
        # evaluation would need the run's full inputs).
        with use_workspace(tw.a), transaction.atomic():
            results = pd.DataFrame({"band": ["red"], "score": [31.0]}, index=pd.Index([account.pk]))
            inputs = type(
                "Inputs", (), {"accounts": pd.DataFrame({"health_band": ["yellow"]}, index=[account.pk])}
            )
            scores_computed.send(
                sender=None,
                workspace_id=tw.a.pk,
                as_of=pd.Timestamp.now().date(),
                results=results,
                inputs=inputs,
            )
        with use_workspace(tw.a):
            with transaction.atomic():
                ctas.create_task(account, "Call the champion", assignee=tw.a_csm)
            rule = AlertRule.objects.create(kind="no_touchpoint", name="Silence", params={"days": 5})
            alert = Alert.objects.create(account=account, rule=rule, severity="high", summary="No touchpoint")
        alerting.alert_opened.send(sender=Alert, workspace_id=tw.a.pk, alert_ids=[alert.pk])
        with use_workspace(tw.a), transaction.atomic():
            alerting.resolve(Alert.objects.filter(pk=alert.pk), tw.a_csm, note="Called")
        account_changed.send(
            sender=type(account),
            workspace_id=tw.a.pk,
            field="stage",
            new_id=tw.sample.stage.pk,
            changes=[(account.pk, None)],
            source="user",
        )
        assert deliver_all(tw) == [None] * 5
        bodies = [verified(r, endpoint.secret) for r in hook.received]
    by_event = {b["event"]: b for b in bodies}
    assert sorted(by_event) == sorted(ALL_EVENTS)
    assert {r.headers["X-CS-Event"] for r in hook.received} == set(ALL_EVENTS)
    assert by_event["task.created"]["data"]["task"]["title"] == "Call the champion"
    assert by_event["alert.opened"]["data"]["alert"]["summary"] == "No touchpoint"
    assert by_event["alert.resolved"]["data"]["alert"]["status"] == "resolved"
    assert by_event["account.stage_changed"]["data"]["stage"]["key"] == tw.sample.stage.key
    assert by_event["account.stage_changed"]["data"]["previous_stage"] is None
    band = by_event["health.band_changed"]["data"]
    assert (band["previous_band"], band["band"], band["score"]) == ("yellow", "red", 31)
    for body in bodies:
        assert body["data"]["account"]["external_id"] == account.external_id
    with use_workspace(tw.a):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_only_subscribed_events_and_active_endpoints_get_deliveries(two_workspaces):
    tw = two_workspaces
    subscribe(tw, "https://hooks.example.com/tasks", ["task.created"])
    inactive = subscribe(tw, "https://hooks.example.com/off", ["task.created", "alert.opened"])
    with use_workspace(tw.a):
        WebhookEndpoint.objects.filter(pk=inactive.pk).update(is_active=False)
    account_changed.send(
        sender=None,
        workspace_id=tw.a.pk,
        field="stage",
        new_id=None,
        changes=[(tw.sample.account.pk, None)],
    )
    account_changed.send(
        sender=None,
        workspace_id=tw.a.pk,
        field="tier",
        new_id=None,
        changes=[(tw.sample.account.pk, None)],
    )
    with use_workspace(tw.a):
        with transaction.atomic():
            ctas.create_task(tw.sample.account, "Only one delivery")
        assert list(WebhookDelivery.objects.values_list("event", "endpoint__url")) == [
            ("task.created", "https://hooks.example.com/tasks")
        ]
    with use_workspace(tw.b):
        assert not WebhookDelivery.objects.exists()


def test_an_unchanged_band_or_a_first_score_is_not_a_change(two_workspaces):
    tw = two_workspaces
    subscribe(tw, "https://hooks.example.com/cs", ["health.band_changed"])
    account = tw.sample.account
    with use_workspace(tw.a), transaction.atomic():
        results = pd.DataFrame({"band": ["red"]}, index=pd.Index([account.pk]))
        for before in ("red", ""):
            inputs = type(
                "Inputs", (), {"accounts": pd.DataFrame({"health_band": [before]}, index=[account.pk])}
            )
            scores_computed.send(
                sender=None,
                workspace_id=tw.a.pk,
                as_of=pd.Timestamp.now().date(),
                results=results,
                inputs=inputs,
            )
        assert not WebhookDelivery.objects.exists()


# --- retries and the log ---------------------------------------------------------------------
def test_a_failing_endpoint_is_retried_with_backoff_then_delivered_and_logged(client, two_workspaces):
    tw = two_workspaces
    with webhook_receiver([500, 503]) as hook:
        endpoint = subscribe(tw, hook.url, ["task.created"])
        with use_workspace(tw.a), transaction.atomic():
            ctas.create_task(tw.sample.account, "Retry me")
        (countdown,) = deliver_all(tw)
        with use_workspace(tw.a):
            row = WebhookDelivery.objects.get()
        assert (countdown, row.status, row.attempts, row.http_status) == (2, DeliveryStatus.RETRYING, 1, 500)
        with use_workspace(tw.a):
            assert outbox.attempt(row.pk) == 4
            assert outbox.attempt(row.pk) is None
            row.refresh_from_db()
            assert (row.status, row.attempts, row.http_status) == (DeliveryStatus.DELIVERED, 3, 200)
            assert [e["outcome"] for e in row.log] == ["retry", "retry", "ok"]
            assert outbox.attempt(row.pk) is None  # settled: never sent again
        assert len(hook.received) == 3
        bodies = {verified(r, endpoint.secret)["id"] for r in hook.received}
        assert len(bodies) == 1  # the same event id on every attempt
        assert {r.headers["X-CS-Delivery"] for r in hook.received} == {str(row.pk)}
    client.force_login(tw.a_admin)
    page = client.get(wurl(tw.a, "integrations:deliveries"), {"endpoint": endpoint.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "task.created" in html and "HTTP 500" in html and "HTTP 503" in html and "Delivered" in html


def test_a_4xx_is_final_and_an_unreachable_endpoint_gives_up(two_workspaces):
    tw = two_workspaces
    with webhook_receiver([410]) as hook:
        subscribe(tw, hook.url, ["task.created"])
        with use_workspace(tw.a), transaction.atomic():
            ctas.create_task(tw.sample.account, "Gone")
        assert deliver_all(tw) == [None]
    with use_workspace(tw.a):
        gone = WebhookDelivery.objects.get()
        assert (gone.status, gone.attempts, gone.http_status) == (DeliveryStatus.FAILED, 1, 410)
        WebhookEndpoint.objects.update(url=hook.url)  # the server is gone now: connection refused
        with transaction.atomic():
            ctas.create_task(tw.sample.account, "Nobody listens")
        row = WebhookDelivery.objects.exclude(pk=gone.pk).get()
        countdowns = [outbox.attempt(row.pk) for _ in range(delivery.MAX_ATTEMPTS)]
        row.refresh_from_db()
    assert countdowns == [2, 4, 8, 16, None]
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, delivery.MAX_ATTEMPTS)
    assert "reach" in row.last_error
