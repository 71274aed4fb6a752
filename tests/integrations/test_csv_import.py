"""The CSV import pages: upload, the guessed column mapping, the preview with per-row errors (the
API's own rules), the import through a real Celery worker with its progress, and the summary."""

from __future__ import annotations

import csv
import io

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.models import Account, Contact, DailyUsage
from cs_platform.celery import app
from integrations.models import ImportJob, ImportStatus
from tenancy.context import use_workspace
from tests.support import wurl

from ..celery.worker import broker, executed_tasks, filesystem_options, wait_for  # noqa: F401
from .samples import upload

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = (
    "Customer ID;Company;MRR;Renewal date;Plan\n"
    "acme-1;Acme;100.00;2027-01-31;Pro\n"
    "qk-ext-7731;Quokka Alpha Holdings;4300.00;;\n"
    "bad-1;Bad MRR;-5;2027-02-30;\n"
    "acme-1;Acme again;1.00;;\n"
)


def start(client, tw, kind: str, text: str, name: str = "file.csv"):
    client.force_login(tw.a_admin)
    response = client.post(wurl(tw.a, "integrations:imports"), {"kind": kind, "file": upload(name, text)})
    assert response.status_code == 302, response.content.decode()[:2000]
    with use_workspace(tw.a):
        return ImportJob.objects.latest("pk"), response["Location"]


def test_upload_guesses_the_mapping_and_the_preview_uses_the_api_rules(client, two_workspaces):
    tw = two_workspaces
    job, location = start(client, tw, "accounts", ACCOUNTS)
    assert location == wurl(tw.a, "integrations:import_map", pk=job.pk)
    assert job.mapping == {
        "Customer ID": "external_id",
        "Company": "name",
        "MRR": "mrr",
        "Renewal date": "renewal_date",
        "Plan": "plan",
    }
    page = client.get(location)
    assert page.status_code == 200
    saved = client.post(
        location, {"col_0": "external_id", "col_1": "name", "col_2": "mrr", "col_3": "renewal_date"}
    )
    assert saved.status_code == 302
    preview = client.get(saved["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    counts = preview.context["counts"]
    assert counts == {"created": 0, "updated": 1, "unchanged": 0, "error": 3}
    errors = {(r.row, field) for r in preview.context["failed"] for field, _ in r.errors}
    # The bad row (line 4) and both rows with the same external_id (lines 2 and 5).
    assert errors == {(4, "mrr"), (4, "renewal_date"), (2, "external_id"), (5, "external_id")}
    assert "Ensure this value is greater than or equal to 0." in html
    with use_workspace(tw.a):
        assert not Account.objects.filter(external_id="acme-1").exists()  # a preview writes nothing
        assert Account.objects.get(external_id="qk-ext-7731").mrr == 4200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("external_id,name\n", "no data rows"),
        ("a,a\n1,2\n", "repeated: a"),
    ],
)
def test_a_bad_file_is_explained(client, two_workspaces, text, message):
    tw = two_workspaces
    client.force_login(tw.a_admin)
    response = client.post(
        wurl(tw.a, "integrations:imports"), {"kind": "accounts", "file": upload("x.csv", text)}
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])


def test_a_mapping_without_a_required_field_is_refused(client, two_workspaces):
    tw = two_workspaces
    _, location = start(client, tw, "contacts", "id,email\nc-1,a@example.com\n")
    response = client.post(location, {"col_0": "external_id", "col_1": "email"})
    assert response.status_code == 400
    assert "Map a column to account_external_id" in response.content.decode()
    twice = client.post(location, {"col_0": "external_id", "col_1": "external_id"})
    assert "Two columns are mapped to external_id" in twice.content.decode()


def test_only_admins_import(client, two_workspaces):
    tw = two_workspaces
    for user in (tw.a_csm, tw.a_viewer):
        client.force_login(user)
        assert client.get(wurl(tw.a, "integrations:imports")).status_code == 403
        response = client.post(wurl(tw.a, "integrations:imports"), {"kind": "accounts", "file": upload()})
        assert response.status_code == 403
    with use_workspace(tw.a):
        assert not ImportJob.objects.exists()


def import_on_a_worker(client, tw) -> ImportJob:
    contacts = (
        "id,account,email,champion\nc-1,qk-ext-7731,dana@example.com,true\nc-2,nope,x@example.com,false\n"
    )
    job, location = start(client, tw, "contacts", contacts, name="Contacts export.csv")
    assert job.mapping == {"id": "external_id", "account": "account_external_id", "email": "email"}
    client.post(
        location,
        {"col_0": "external_id", "col_1": "account_external_id", "col_2": "email", "col_3": "is_champion"},
    )
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20):
        started = client.post(wurl(tw.a, "integrations:import_preview", pk=job.pk))
        assert started.status_code == 302
        client.post(wurl(tw.a, "integrations:import_preview", pk=job.pk))  # a double click

        def finished():
            with use_workspace(tw.a):
                return ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DONE).first()

        done = wait_for(finished, timeout=30)
    assert done is not None, "the worker did not finish the import"
    return done


def test_the_import_runs_on_a_worker_with_progress_and_a_summary(
    client,
    two_workspaces,
    tmp_path,
    executed_tasks,  # noqa: F811
):
    tw = two_workspaces
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        job = import_on_a_worker(client, tw)
    assert [name for name, _ in executed_tasks].count("integrations.tasks.run_import") == 1
    assert (job.processed_rows, job.created_count, job.error_count) == (2, 1, 1)
    with use_workspace(tw.a):
        contact = Contact.objects.get(external_id="c-1")
        assert (contact.account_id, contact.is_champion) == (tw.sample.account.pk, True)
        assert not Contact.objects.filter(external_id="c-2").exists()
    progress = client.get(wurl(tw.a, "integrations:import_detail", pk=job.pk), headers={"HX-Request": "true"})
    html = progress.content.decode()
    assert "100%" in html and "hx-trigger" not in html  # finished: the page stops polling
    summary = client.get(wurl(tw.a, "integrations:import_result", pk=job.pk))
    assert summary["Content-Disposition"] == 'attachment; filename="contacts-export-result.csv"'
    rows = list(csv.reader(io.StringIO(summary.content.decode())))
    assert rows == [
        ["row", "key", "status", "field", "error"],
        ["2", "c-1", "created", "", ""],
        ["3", "c-2", "error", "account_external_id", "No account with this external_id exists."],
    ]


def test_a_running_import_is_polled(client, two_workspaces):
    tw = two_workspaces
    job, _ = start(client, tw, "usage", "account,feature,date,count\nqk-ext-7731,reports,2026-11-20,4\n")
    with use_workspace(tw.a):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, processed_rows=0)
    page = client.get(wurl(tw.a, "integrations:import_detail", pk=job.pk))
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert job.mapping == {
        "account": "account_external_id",
        "feature": "feature",
        "date": "day",
        "count": "events",
    }
    with use_workspace(tw.a):
        assert not DailyUsage.objects.filter(feature="reports").exists()
