"""Playbooks without a worker: triggers create de-duplicated, filtered and capped runs; the
runner carries out each kind of step, logs every attempt and retries what is worth retrying."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from types import SimpleNamespace

import pandas as pd
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, Touchpoint
from health.alerting import alert_opened
from health.models import Alert, AlertRule
from health.recompute import scores_computed
from playbooks import runner, steps, triggers
from playbooks.models import (
    Playbook,
    PlaybookRun,
    RunStatus,
    StepKind,
    StepRun,
    StepStatus,
    Task,
    TaskSource,
    TriggerKind,
)
from playbooks.provisioning import create_playbook, ensure_default_playbooks
from tenancy.context import use_workspace
from tenancy.models import Role

from .. import factories as f
from .hooks import webhook_receiver

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def team(workspace):
    csm = f.UserFactory(full_name="Casey Csm", email="casey@example.test")
    other = f.UserFactory(full_name="Robin Rep", email="robin@example.test")
    viewer = f.UserFactory(full_name="Val Viewer")
    f.MembershipFactory(user=csm, workspace=workspace, role=Role.CSM)
    f.MembershipFactory(user=other, workspace=workspace, role=Role.CSM)
    f.MembershipFactory(user=viewer, workspace=workspace, role=Role.VIEWER)
    return SimpleNamespace(csm=csm, other=other, viewer=viewer, workspace=workspace)


def rescue(**fields) -> Playbook:
    defaults = {"trigger": TriggerKind.BAND_ENTERED, "band": "red"}
    defaults.update(fields)
    return create_playbook(
        fields.pop("name", "Rescue"),
        "",
        [(StepKind.CREATE_TASK, {"title": "Rescue plan for {account.name}", "due_in_days": 3})],
        **{k: v for k, v in defaults.items() if k != "name"},
    )


def band_run(accounts_before: dict, accounts_after: dict, as_of=TODAY, workspace_id=None):
    ids = list(accounts_after)
    results = pd.DataFrame({"band": [accounts_after[i] for i in ids]}, index=pd.Index(ids, name="account_id"))
    inputs = SimpleNamespace(
        accounts=pd.DataFrame({"health_band": [accounts_before.get(i, "") for i in ids]}, index=ids)
    )
    scores_computed.send(sender=None, workspace_id=workspace_id, as_of=as_of, results=results, inputs=inputs)


def run_now(run: PlaybookRun) -> list[tuple[int, int]]:
    """Carry out a run in-process; returns the (step run id, countdown) retries it asked for."""
    retries: list[tuple[int, int]] = []
    runner.execute_run(run.pk, lambda pk, countdown: retries.append((pk, countdown)))
    return retries


# --- triggers --------------------------------------------------------------------------------
def test_band_entering_red_creates_one_run_per_account_that_entered(team):
    playbook = rescue()
    turned = f.AccountFactory(name="Turned Red", csm_owner=team.csm)
    stayed = f.AccountFactory(name="Was Red", csm_owner=team.csm)
    fine = f.AccountFactory(name="Still Green")
    band_run(
        {turned.pk: "yellow", stayed.pk: "red", fine.pk: "green"},
        {turned.pk: "red", stayed.pk: "red", fine.pk: "green"},
        workspace_id=team.workspace.pk,
    )
    runs = list(PlaybookRun.objects.all())
    assert [(r.playbook_id, r.account_id, r.occurrence) for r in runs] == [
        (playbook.pk, turned.pk, f"band:red:{TODAY.isoformat()}")
    ]


def test_the_same_occurrence_twice_makes_one_run(team, django_capture_on_commit_callbacks):
    rescue()
    account = f.AccountFactory(csm_owner=team.csm)
    with django_capture_on_commit_callbacks() as enqueued:
        band_run({account.pk: "green"}, {account.pk: "red"}, workspace_id=team.workspace.pk)
        band_run({account.pk: "green"}, {account.pk: "red"}, workspace_id=team.workspace.pk)
    assert PlaybookRun.objects.count() == 1
    # (Other receivers of the health run enqueue their own work, e.g. the tier/stage rules.)
    runs_enqueued = [c for c in enqueued if "playbooks.tasks" in repr(c)]
    assert len(runs_enqueued) == 1, "a de-duplicated occurrence must not be enqueued again"


def test_backfill_runs_never_start_playbooks(team):
    rescue()
    account = f.AccountFactory()
    band_run({account.pk: "green"}, {account.pk: "red"}, as_of=TODAY - dt.timedelta(days=3),
             workspace_id=team.workspace.pk)  # fmt: skip
    assert not PlaybookRun.objects.exists()


def test_frequency_cap_holds_back_a_new_occurrence_within_the_cap(team):
    playbook = rescue(frequency_cap_days=30)
    account = f.AccountFactory()
    first = triggers.start_runs(playbook, {account.pk: "band:red:2026-01-01"})
    second = triggers.start_runs(playbook, {account.pk: "band:red:2026-01-05"})
    assert len(first) == 1 and second == []
    PlaybookRun.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert len(triggers.start_runs(playbook, {account.pk: "band:red:2026-02-05"})) == 1


def test_filter_by_tier_and_stage_and_inactive_playbooks(team):
    tier = f.TierFactory(name="Enterprise")
    stage = f.LifecycleStageFactory(name="Adoption", key="adoption")
    playbook = rescue(filter_tier=tier, filter_stage=stage)
    rescue(name="Off", is_active=False)
    match = f.AccountFactory(tier=tier, lifecycle_stage=stage)
    other_tier = f.AccountFactory(lifecycle_stage=stage)
    churned = f.AccountFactory(tier=tier, lifecycle_stage=stage, status="churned")
    band_run({}, {match.pk: "red", other_tier.pk: "red", churned.pk: "red"}, workspace_id=team.workspace.pk)
    assert list(PlaybookRun.objects.values_list("playbook_id", "account_id")) == [(playbook.pk, match.pk)]


def test_alert_opened_starts_playbooks_of_that_rule_or_any_rule(team):
    silence = AlertRule.objects.create(kind="no_touchpoint", name="Silence", params={"days": 5})
    drop = AlertRule.objects.create(kind="usage_drop", name="Drop", params={"percent": 30})
    for_silence = rescue(name="On silence", trigger=TriggerKind.ALERT_OPENED, alert_rule=silence, band="")
    for_any = rescue(name="On anything", trigger=TriggerKind.ALERT_OPENED, band="")
    account = f.AccountFactory()
    a1 = Alert.objects.create(account=account, rule=drop, severity="high", summary="Usage fell 40%")
    alert_opened.send(sender=Alert, workspace_id=team.workspace.pk, alert_ids=[a1.pk])
    assert list(PlaybookRun.objects.values_list("playbook_id", "occurrence")) == [
        (for_any.pk, f"alert:{a1.pk}")
    ]
    a2 = Alert.objects.create(account=account, rule=silence, severity="low", summary="No touchpoint")
    alert_opened.send(sender=Alert, workspace_id=team.workspace.pk, alert_ids=[a2.pk])
    runs = set(PlaybookRun.objects.values_list("playbook_id", "occurrence"))
    assert runs == {(for_any.pk, f"alert:{a1.pk}"), (for_any.pk, f"alert:{a2.pk}"),
                    (for_silence.pk, f"alert:{a2.pk}")}  # fmt: skip
    run = PlaybookRun.objects.get(playbook=for_silence)
    assert run.context["alert"]["summary"] == "No touchpoint"


def test_renewal_within_days_runs_once_per_renewal_date(team):
    playbook = rescue(name="Renewal", trigger=TriggerKind.RENEWAL_WITHIN, renewal_days=60, band="")
    soon = f.AccountFactory(renewal_date=TODAY + dt.timedelta(days=45))
    f.AccountFactory(renewal_date=TODAY + dt.timedelta(days=90))
    f.AccountFactory(renewal_date=TODAY - dt.timedelta(days=1))
    assert triggers.start_renewal_runs() == 1
    assert triggers.start_renewal_runs() == 0
    run = PlaybookRun.objects.get()
    assert (run.playbook_id, run.account_id) == (playbook.pk, soon.pk)
    assert run.occurrence == f"renewal:{soon.renewal_date.isoformat()}"


# --- steps -----------------------------------------------------------------------------------
def test_create_task_for_the_accounts_csm_with_rendered_title(team):
    playbook = rescue()
    account = f.AccountFactory(name="Acme <Rockets>", csm_owner=team.csm)
    (run_id,) = triggers.start_runs(playbook, {account.pk: "manual:1"})
    assert run_now(PlaybookRun.objects.get(pk=run_id)) == []
    task = Task.objects.get()
    assert task.title == "Rescue plan for Acme <Rockets>"  # plain text, not HTML-escaped
    assert (task.assignee, task.source, task.source_ref) == (team.csm, TaskSource.PLAYBOOK, f"run:{run_id}")
    assert task.due_on == TODAY + dt.timedelta(days=3)
    run = PlaybookRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.finished_at
    step = run.step_runs.get()
    assert (step.status, step.attempts, step.result["task_id"]) == (StepStatus.SUCCEEDED, 1, task.pk)
    assert step.log[0]["outcome"] == "ok"
    # Running it again (a redelivered task) makes nothing new.
    run_now(run)
    assert Task.objects.count() == 1


def test_a_stale_copy_of_a_step_never_attempts_it_twice(team):
    playbook = rescue()
    (run_id,) = triggers.start_runs(playbook, {f.AccountFactory(csm_owner=team.csm).pk: "x"})
    run = PlaybookRun.objects.get(pk=run_id)
    (stale,) = runner.prepare(run)
    run_now(run)  # one delivery does the step
    assert runner.attempt(stale, run) is None  # another, holding the old row, finds it taken
    assert Task.objects.count() == 1 and StepRun.objects.get().attempts == 1


def test_an_account_without_csm_gets_a_round_robin_assignee(team):
    playbook = rescue()
    account = f.AccountFactory(csm_owner=team.viewer)  # a viewer cannot take tasks
    (run_id,) = triggers.start_runs(playbook, {account.pk: "x"})
    run_now(PlaybookRun.objects.get(pk=run_id))
    assert Task.objects.get().assignee in (team.csm, team.other)


def test_without_a_csm_the_email_goes_to_whoever_got_the_runs_task(team, settings):
    settings.PLAYBOOK_DEMO_WEBHOOK_URL = ""
    ensure_default_playbooks()
    playbook = Playbook.objects.get(name="Rescue red accounts")
    account = f.AccountFactory(name="Orphan Co", csm_owner=None)
    (run_id,) = triggers.start_runs(playbook, {account.pk: "x"})
    run_now(PlaybookRun.objects.get(pk=run_id))
    task = Task.objects.get()
    assert task.assignee in (team.csm, team.other)
    assert [m.to for m in mail.outbox] == [[task.assignee.email]]
    assert mail.outbox[0].subject == "Orphan Co is now red"
    assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED


def test_email_note_and_stage_steps(team):
    stage = f.LifecycleStageFactory(name="At risk", key="at-risk")
    playbook = create_playbook(
        "Mixed",
        "",
        [
            (
                StepKind.SEND_EMAIL,
                {"to": "csm", "subject": "{account.name} needs you", "body": "MRR {account.mrr}"},
            ),
            (StepKind.ADD_NOTE, {"text": "Rescue started for {account.name}"}),
            (StepKind.SET_STAGE, {"stage": "at-risk"}),
        ],
        trigger=TriggerKind.BAND_ENTERED,
        band="red",
    )
    account = f.AccountFactory(name="Globex", csm_owner=team.csm, mrr="1200.00")
    (run_id,) = triggers.start_runs(playbook, {account.pk: "x"})
    run_now(PlaybookRun.objects.get(pk=run_id))
    assert [m.subject for m in mail.outbox] == ["Globex needs you"]
    assert mail.outbox[0].to == [team.csm.email] and "MRR 1,200.00" in mail.outbox[0].body
    note = Touchpoint.objects.get(account=account)
    assert (note.kind, note.subject, note.notes) == ("other", "Playbook: Mixed", "Rescue started for Globex")
    assert Account.objects.get(pk=account.pk).lifecycle_stage == stage
    assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED


def test_placeholders_cannot_reach_beyond_the_listed_fields(team):
    account = f.AccountFactory(name="Initech")
    text = "{account.name} {account.__class__} {account.csm_owner.password} {0} {settings.SECRET_KEY}"
    assert steps.render(text, account) == (
        "Initech {account.__class__} {account.csm_owner.password} {0} {settings.SECRET_KEY}"
    )


def test_webhook_is_signed_and_a_5xx_is_retried_then_logged(team):
    with webhook_receiver([500]) as hook:
        playbook = create_playbook(
            "Hook",
            "",
            [
                (
                    StepKind.CALL_WEBHOOK,
                    {"url": hook.url, "secret": "s3cret-s3cret-s3cret", "event": "rescue"},
                ),
                (StepKind.CREATE_TASK, {"title": "After the hook", "due_in_days": 1}),
            ],
            trigger=TriggerKind.BAND_ENTERED,
            band="red",
        )
        account = f.AccountFactory(name="Hooli", external_id="hooli-1", csm_owner=team.csm)
        (run_id,) = triggers.start_runs(playbook, {account.pk: "x"})
        retries = run_now(PlaybookRun.objects.get(pk=run_id))
        hook_step = StepRun.objects.get(run_id=run_id, kind=StepKind.CALL_WEBHOOK)
        assert retries == [(hook_step.pk, 2)]
        # The failing webhook did not hold back the next step.
        assert Task.objects.filter(title="After the hook").exists()
        assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.RUNNING
        assert runner.execute_step(hook_step.pk) is None
    hook_step.refresh_from_db()
    assert (hook_step.status, hook_step.attempts) == (StepStatus.SUCCEEDED, 2)
    assert [(e["outcome"], e.get("http_status")) for e in hook_step.log] == [("retry", 500), ("ok", 200)]
    assert all("duration_ms" in e and "at" in e for e in hook_step.log)
    assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
    request = hook.received[-1]
    expected = hmac.new(b"s3cret-s3cret-s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-CS-Signature"] == f"sha256={expected}"
    assert request.headers["X-CS-Event"] == "rescue"
    payload = json.loads(request.body)
    assert payload["account"]["external_id"] == "hooli-1" and payload["playbook"]["name"] == "Hook"
    assert payload["event"] == "rescue" and payload["sent_at"]


def test_a_4xx_is_final_and_the_run_fails_visibly(team):
    with webhook_receiver([404]) as hook:
        playbook = create_playbook(
            "Hook",
            "",
            [(StepKind.CALL_WEBHOOK, {"url": hook.url})],
            trigger=TriggerKind.BAND_ENTERED,
            band="red",
        )
        (run_id,) = triggers.start_runs(playbook, {f.AccountFactory().pk: "x"})
        assert run_now(PlaybookRun.objects.get(pk=run_id)) == []
    step = StepRun.objects.get(run_id=run_id)
    assert (step.status, step.attempts) == (StepStatus.FAILED, 1)
    assert "404" in step.last_error and step.log[0]["http_status"] == 404
    assert PlaybookRun.objects.get(pk=run_id).status == RunStatus.FAILED


def test_an_unreachable_endpoint_gives_up_after_the_last_attempt(team):
    with webhook_receiver() as hook:
        url = hook.url  # the server is gone once the block ends: connection refused
    playbook = create_playbook(
        "Hook", "", [(StepKind.CALL_WEBHOOK, {"url": url})], trigger=TriggerKind.BAND_ENTERED, band="red"
    )
    (run_id,) = triggers.start_runs(playbook, {f.AccountFactory().pk: "x"})
    ((step_id, countdown),) = run_now(PlaybookRun.objects.get(pk=run_id))
    countdowns = [countdown]
    while (countdown := runner.execute_step(step_id)) is not None:
        countdowns.append(countdown)
    step = StepRun.objects.get(pk=step_id)
    assert countdowns == [2, 4, 8, 16]
    assert (step.status, step.attempts) == (StepStatus.FAILED, runner.MAX_ATTEMPTS)
    assert [e["outcome"] for e in step.log] == ["retry"] * 4 + ["failed"]
    assert "reach" in step.last_error


def test_a_timeout_is_retried(team, monkeypatch):
    import time as time_module

    monkeypatch.setattr(steps, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    with webhook_receiver() as hook:
        hook.delay_seconds = 1.0
        playbook = create_playbook(
            "Hook",
            "",
            [(StepKind.CALL_WEBHOOK, {"url": hook.url})],
            trigger=TriggerKind.BAND_ENTERED,
            band="red",
        )
        (run_id,) = triggers.start_runs(playbook, {f.AccountFactory().pk: "x"})
        started = time_module.monotonic()
        ((step_id, countdown),) = run_now(PlaybookRun.objects.get(pk=run_id))
        assert time_module.monotonic() - started < 1.0
        hook.delay_seconds = 0
        assert runner.execute_step(step_id) is None
    step = StepRun.objects.get(pk=step_id)
    assert countdown == 2 and [e["outcome"] for e in step.log] == ["retry", "ok"]
    assert "timed out" in step.log[0]["error"]


def test_a_broken_playbook_never_breaks_the_health_run(team, monkeypatch):
    rescue()
    account = f.AccountFactory()

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(triggers, "start_runs", explode)
    band_run({}, {account.pk: "red"}, workspace_id=team.workspace.pk)  # logs, does not raise
    assert not PlaybookRun.objects.exists()


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        (StepKind.CREATE_TASK, {"title": "", "due_in_days": 3}, "title"),
        (StepKind.CREATE_TASK, {"title": "x", "due_in_days": -1}, "due_in_days"),
        (StepKind.CREATE_TASK, {"title": "{account.password}", "due_in_days": 1}, "title"),
        (StepKind.CREATE_TASK, {"title": "x", "assignee": "member", "member": 999999}, "member"),
        (StepKind.SEND_EMAIL, {"to": "not an address", "subject": "s", "body": "b"}, "to"),
        (StepKind.CALL_WEBHOOK, {"url": "ftp://example.com/x"}, "url"),
        (StepKind.CALL_WEBHOOK, {"url": "javascript:alert(1)"}, "url"),
        (StepKind.CALL_WEBHOOK, {"url": "https://"}, "url"),
        (StepKind.CALL_WEBHOOK, {"url": "https://hooks.example.com", "secret": "short"}, "secret"),
        (StepKind.SET_STAGE, {"stage": "nowhere"}, "stage"),
        (StepKind.ADD_NOTE, {"text": " "}, "text"),
    ],
)
def test_step_configuration_is_validated_per_kind(team, kind, config, field):
    with pytest.raises(ValidationError) as raised:
        steps.validate_config(kind, config)
    assert field in raised.value.message_dict


def test_a_webhook_step_gets_a_secret_when_none_is_given(team):
    cleaned = steps.validate_config(StepKind.CALL_WEBHOOK, {"url": "https://hooks.example.com/cs"})
    assert len(cleaned["secret"]) >= 32 and cleaned["event"] == "playbook.run"


# --- provisioning ----------------------------------------------------------------------------
def test_provisioning_seeds_the_rescue_playbook_once(team, settings):
    settings.PLAYBOOK_DEMO_WEBHOOK_URL = ""
    ensure_default_playbooks()
    ensure_default_playbooks()
    rescue_pb = Playbook.objects.get(name="Rescue red accounts")
    assert (rescue_pb.trigger, rescue_pb.band) == (TriggerKind.BAND_ENTERED, "red")
    assert [s.kind for s in rescue_pb.steps.all()] == [StepKind.CREATE_TASK, StepKind.SEND_EMAIL]
    assert rescue_pb.steps.first().config["title"] == "Rescue plan for {account.name}"


def test_provisioning_adds_a_webhook_step_when_a_demo_url_is_set(team, settings):
    settings.PLAYBOOK_DEMO_WEBHOOK_URL = "http://127.0.0.1:9/hooks"
    ensure_default_playbooks()
    kinds = list(Playbook.objects.get(name="Rescue red accounts").steps.values_list("kind", flat=True))
    assert kinds == [StepKind.CREATE_TASK, StepKind.SEND_EMAIL, StepKind.CALL_WEBHOOK]


def test_playbooks_of_another_workspace_never_fire(team):
    rescue()
    other = f.WorkspaceFactory()
    with use_workspace(other):
        account = f.AccountFactory()
    band_run({}, {account.pk: "red"}, workspace_id=other.pk)
    with use_workspace(other):
        assert not PlaybookRun.objects.exists()
    assert not PlaybookRun.objects.exists()


def test_a_real_health_run_starts_the_seeded_playbooks(team, settings, django_capture_on_commit_callbacks):
    """The seeded set-up end to end in-process: an account whose health run puts it in red gets a
    rescue run, and the champion-left alert opened in the same run starts its playbook."""
    from health.alerting import ensure_default_rules
    from health.defaults import ensure_default_scorecards
    from health.recompute import recompute

    settings.PLAYBOOK_DEMO_WEBHOOK_URL = ""
    ensure_default_scorecards()
    ensure_default_rules()
    ensure_default_playbooks()
    account = f.AccountFactory(name="Fading Co", licenses_purchased=50, csm_owner=team.csm)
    for n in range(91, 181):
        f.DailyUsageFactory(account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=10)
    for n in range(1, 91, 3):
        f.DailyUsageFactory(account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=5)
    f.CSMScoreFactory(account=account, score=1)
    f.NPSResponseFactory(account=account, score=1, responded_at=timezone.now())
    f.ContactFactory(account=account, is_champion=True, is_active=False, deactivated_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        recompute(team.workspace.pk)
    assert Account.objects.get(pk=account.pk).health_band == "red"
    runs = dict(PlaybookRun.objects.values_list("playbook__name", "occurrence"))
    assert runs["Rescue red accounts"] == f"band:red:{TODAY.isoformat()}"
    champion_alert = Alert.objects.get(rule__kind="champion_left")
    assert runs["Champion left"] == f"alert:{champion_alert.pk}"
    # A second run the same day changes nothing: the account was red before it.
    with django_capture_on_commit_callbacks(execute=True):
        recompute(team.workspace.pk)
    assert PlaybookRun.objects.count() == 2
