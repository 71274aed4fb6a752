"""Workspace A's objects for the read-only API resources (health history, alerts, tasks), made
on first use so the sweeps and the read tests share them. Every one carries the "quokka" marker."""

from __future__ import annotations

from django.utils import timezone

from tenancy.context import use_workspace


def a_health_score(tw):
    """A day of A's sample account's health history (and its current score on the account)."""
    if "health_score" not in tw.extra:
        from health.defaults import DEFAULT_DEFINITION, save_version
        from health.models import HealthScore, Scorecard

        with use_workspace(tw.a):
            card = Scorecard.objects.filter(name="Quokka API scorecard").first()
            if card is None:
                card = Scorecard.objects.create(name="Quokka API scorecard")
                save_version(card, DEFAULT_DEFINITION)
            now = timezone.now()
            tw.extra["health_score"] = HealthScore.objects.create(
                account=tw.sample.account,
                day=timezone.localdate(),
                score=31.5,
                band="red",
                coverage=0.8,
                inputs_used=4,
                inputs_total=5,
                scorecard_version=card.current_version,
                measures={"csm_score": {"raw": 2, "points": 25, "weight": 10, "contribution": 7.5}},
                computed_at=now,
            )
            type(tw.sample.account).objects.filter(pk=tw.sample.account.pk).update(
                health_score=31, health_band="red", health_coverage=0.8, health_computed_at=now
            )
    return tw.extra["health_score"]


def a_alert(tw):
    if "api_alert" not in tw.extra:
        from health.models import Alert, AlertRule

        with use_workspace(tw.a):
            rule = AlertRule.objects.create(
                kind="no_touchpoint", name="Quokka API silence", params={"days": 5}
            )
            tw.extra["api_alert"] = Alert.objects.create(
                account=tw.sample.account, rule=rule, severity="high", summary="Quokka API alert summary"
            )
        tw.strings_of_a += ["Quokka API silence", "Quokka API alert summary"]
    return tw.extra["api_alert"]


def a_task(tw):
    if "api_task" not in tw.extra:
        from playbooks import ctas

        with use_workspace(tw.a):
            tw.extra["api_task"] = ctas.create_task(
                tw.sample.account, "Quokka API follow-up", assignee=tw.a_csm, created_by=tw.a_admin
            )
        tw.strings_of_a.append("Quokka API follow-up")
    return tw.extra["api_task"]


# For the sweeps: API route name → URL kwargs pointing at (and making) A's objects.
READ_ONLY_SAMPLES = {
    "api:health-list": lambda tw: a_health_score(tw) and {},
    "api:health-detail": lambda tw: a_health_score(tw) and {"external_id": tw.sample.account.external_id},
    "api:health-history-list": lambda tw: a_health_score(tw) and {},
    "api:health-history-detail": lambda tw: {"pk": a_health_score(tw).pk},
    "api:alert-list": lambda tw: a_alert(tw) and {},
    "api:alert-detail": lambda tw: {"pk": a_alert(tw).pk},
    "api:task-list": lambda tw: a_task(tw) and {},
    "api:task-detail": lambda tw: {"pk": a_task(tw).pk},
    "api:tier-list": lambda tw: {},
    "api:tier-detail": lambda tw: {"pk": tw.sample.tier.pk},
    "api:stage-list": lambda tw: {},
    "api:stage-detail": lambda tw: {"key": tw.sample.stage.key},
}


def a_webhook(tw):
    """A's webhook endpoint with one failed delivery (the delivery log's sample)."""
    if "webhook" not in tw.extra:
        from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

        with use_workspace(tw.a):
            endpoint = WebhookEndpoint.objects.create(
                url="https://quokka-hooks.example.com/cs",
                description="Quokka CRM sync",
                events=["alert.opened", "task.created"],
                secret="quokka-secret-0123456789abcdef",
            )
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event="task.created",
                payload={"event": "task.created", "data": {"task": {"title": "Quokka hook task"}}},
                status=DeliveryStatus.FAILED,
                attempts=1,
                http_status=410,
                last_error="Quokka endpoint refused the call with 410.",
            )
        tw.extra["webhook"] = endpoint
        tw.strings_of_a += [endpoint.url, endpoint.description, "Quokka endpoint refused"]
    return tw.extra["webhook"]


def webhook_form(url: str) -> dict:
    return {"url": url, "description": "Sweep probe", "events": ["task.created"], "is_active": "on"}


# For the page sweep: page name → URL kwargs pointing at (and making) A's objects, and a valid
# POST for each page that accepts one.
PAGE_SAMPLES = {
    "integrations:webhooks": lambda tw: a_webhook(tw) and {},
    "integrations:webhook_create": lambda tw: {},
    "integrations:webhook_edit": lambda tw: {"pk": a_webhook(tw).pk},
    "integrations:webhook_delete": lambda tw: {"pk": a_webhook(tw).pk},
    "integrations:deliveries": lambda tw: a_webhook(tw) and {},
}
PAGE_POST_PAYLOADS = {
    "integrations:webhook_create": lambda tw: webhook_form("https://hooks.example.com/sweep"),
    "integrations:webhook_edit": lambda tw: webhook_form("https://hooks.example.com/sweep"),
    "integrations:webhook_delete": lambda tw: {},
}


SAMPLE_CSV = "external_id,name,mrr\nqk-import-1,Quokka Imported,10.00\nqk-import-2,Quokka Bad,-5\n"


def a_import(tw, done: bool = False):
    """A's uploaded (not yet imported) CSV, or one that finished, with its result summary."""
    key = "import_done" if done else "import"
    if key not in tw.extra:
        from integrations.models import ImportJob, ImportStatus

        with use_workspace(tw.a):
            tw.extra[key] = ImportJob.objects.create(
                kind="accounts",
                filename=f"quokka-accounts{'-done' if done else ''}.csv",
                content=SAMPLE_CSV,
                headers=["external_id", "name", "mrr"],
                mapping={"external_id": "external_id", "name": "name", "mrr": "mrr"},
                total_rows=2,
                status=ImportStatus.DONE if done else ImportStatus.UPLOADED,
                processed_rows=2 if done else 0,
                result="row,key,status,field,error\n2,quokka-import-1,created,,\n" if done else "",
            )
        tw.strings_of_a += [tw.extra[key].filename]
    return tw.extra[key]


def upload(name: str = "sweep.csv", text: str = "external_id,name\nsweep-1,Sweep probe\n"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


PAGE_SAMPLES.update(
    {
        "integrations:imports": lambda tw: a_import(tw) and {},
        "integrations:import_map": lambda tw: {"pk": a_import(tw).pk},
        "integrations:import_preview": lambda tw: {"pk": a_import(tw).pk},
        "integrations:import_detail": lambda tw: {"pk": a_import(tw).pk},
        "integrations:import_result": lambda tw: {"pk": a_import(tw, done=True).pk},
    }
)
PAGE_POST_PAYLOADS.update(
    {
        "integrations:imports": lambda tw: {"kind": "accounts", "file": upload()},
        "integrations:import_map": lambda tw: {"col_0": "external_id", "col_1": "name", "col_2": ""},
        "integrations:import_preview": lambda tw: {},
    }
)


def a_key(tw):
    """An active API key of A, for its rate-limit page."""
    if "rate_key" not in tw.extra:
        from tenancy.models import ApiKey

        with use_workspace(tw.a):
            tw.extra["rate_key"], _ = ApiKey.issue("Quokka nightly sync", ["read", "write"])
        tw.strings_of_a.append("Quokka nightly sync")
    return tw.extra["rate_key"]


PAGE_SAMPLES["integrations:api_key_rate"] = lambda tw: {"pk": a_key(tw).pk}
PAGE_POST_PAYLOADS["integrations:api_key_rate"] = lambda tw: {"requests_per_minute": "120"}
