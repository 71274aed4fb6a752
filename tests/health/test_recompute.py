"""Health runs against the database: scores, history, as_of, incremental rescoring, the lock."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account
from health.defaults import ensure_default_scorecards
from health.models import HealthRun, HealthScore, RunStatus
from health.recompute import LOCK_NAME, recompute
from tenancy import locks
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def usage(account, days_ago_from: int, days_ago_to: int, events: int, feature: str = "reports"):
    for n in range(days_ago_to, days_ago_from + 1):
        f.DailyUsageFactory(account=account, feature=feature, day=TODAY - dt.timedelta(days=n), events=events)


@pytest.fixture
def scored_workspace(workspace):
    ensure_default_scorecards()
    healthy = f.AccountFactory(
        name="Healthy", licenses_purchased=5, contract_start=TODAY - dt.timedelta(days=400)
    )
    declining = f.AccountFactory(
        name="Declining", licenses_purchased=50, contract_start=TODAY - dt.timedelta(days=400)
    )
    usage(healthy, 120, 1, 20)
    usage(declining, 120, 31, 40)
    usage(declining, 30, 25, 2)
    for n, contact in enumerate(("a", "b", "c")):
        person = f.ContactFactory(account=healthy, name=contact, is_champion=n == 0)
        f.DailyUsageFactory(
            account=healthy, contact=person, feature="dashboards", day=TODAY - dt.timedelta(days=2), events=3
        )
    f.NPSResponseFactory(account=healthy, score=10, responded_at=timezone.now() - dt.timedelta(days=5))
    f.NPSResponseFactory(account=declining, score=2, responded_at=timezone.now() - dt.timedelta(days=5))
    f.InvoiceFactory(
        account=declining,
        status="open",
        issued_on=TODAY - dt.timedelta(days=100),
        due_on=TODAY - dt.timedelta(days=70),
    )
    f.CSMScoreFactory(account=healthy, score=5)
    f.CSMScoreFactory(account=declining, score=1)
    return {"workspace": workspace, "healthy": healthy, "declining": declining}


def test_recompute_scores_every_account_and_explains_it(scored_workspace):
    run = recompute(scored_workspace["workspace"].pk)
    assert run.status == RunStatus.SUCCEEDED and run.accounts_scored == 2
    healthy = Account.objects.get(pk=scored_workspace["healthy"].pk)
    declining = Account.objects.get(pk=scored_workspace["declining"].pk)
    assert healthy.health_score > declining.health_score
    assert healthy.health_band == "green" and declining.health_band == "red"
    history = HealthScore.objects.get(account=declining, day=TODAY)
    assert history.measures["usage_trend"]["raw"] == pytest.approx((12 / (40 * 90 / 3) - 1) * 100, rel=0.01)
    contributions = sum(m["contribution"] or 0 for m in history.measures.values())
    assert contributions == pytest.approx(history.score, abs=0.1)
    assert history.scorecard_version.scorecard.is_default


def test_rerun_is_idempotent_one_history_row_per_day(scored_workspace):
    recompute(scored_workspace["workspace"].pk)
    recompute(scored_workspace["workspace"].pk)
    assert HealthScore.objects.filter(day=TODAY).count() == 2


def test_as_of_ignores_data_recorded_after_that_date(scored_workspace):
    ws = scored_workspace["workspace"]
    past = TODAY - dt.timedelta(days=10)
    recompute(ws.pk, as_of=past)
    before = HealthScore.objects.get(account=scored_workspace["healthy"], day=past)
    f.NPSResponseFactory(account=scored_workspace["healthy"], score=0, responded_at=timezone.now())
    f.InvoiceFactory(
        account=scored_workspace["healthy"],
        status="failed",
        issued_on=TODAY - dt.timedelta(days=3),
        due_on=TODAY,
    )
    recompute(ws.pk, as_of=past)
    after = HealthScore.objects.get(account=scored_workspace["healthy"], day=past)
    assert after.score == before.score and after.measures == before.measures
    # Scoring a past date never touches the current score on the account row.
    assert Account.objects.get(pk=scored_workspace["healthy"].pk).health_score is None


def test_incremental_run_scores_only_stale_accounts(scored_workspace):
    ws = scored_workspace["workspace"]
    recompute(ws.pk)
    Account.objects.update(health_stale=False)
    f.TouchpointFactory(account=scored_workspace["declining"])  # marks it stale
    assert list(Account.objects.filter(health_stale=True).values_list("name", flat=True)) == ["Declining"]
    run = recompute(ws.pk, stale_only=True)
    assert run.accounts_scored == 1
    assert not Account.objects.filter(health_stale=True).exists()


def test_a_held_lock_skips_the_run_and_scores_nothing(scored_workspace):
    token = locks.acquire(LOCK_NAME, dt.timedelta(minutes=5))
    try:
        run = recompute(scored_workspace["workspace"].pk)
    finally:
        locks.release(LOCK_NAME, token)
    assert run.status == RunStatus.SKIPPED
    assert not HealthScore.objects.exists()
    assert recompute(scored_workspace["workspace"].pk).status == RunStatus.SUCCEEDED


def test_an_expired_lock_is_taken_over(scored_workspace):
    locks.acquire(LOCK_NAME, dt.timedelta(seconds=-1))  # a holder that died long ago
    assert recompute(scored_workspace["workspace"].pk).status == RunStatus.SUCCEEDED


def test_a_redelivered_task_takes_over_its_own_lock_and_closes_the_dead_run(scored_workspace):
    """A worker that died mid-run left the lock (under its task id) and a 'running' run; the
    same task delivered again takes the lock over, another owner is still turned away."""
    ws = scored_workspace["workspace"]
    assert locks.acquire(LOCK_NAME, dt.timedelta(minutes=30), owner="task-1") is not None
    dead = HealthRun.objects.create(kind="scheduled", as_of=dt.date.today())
    assert locks.acquire(LOCK_NAME, dt.timedelta(minutes=30), owner="task-2") is None
    assert recompute(ws.pk).status == RunStatus.SKIPPED  # not a task: turned away too
    assert locks.acquire(LOCK_NAME, dt.timedelta(minutes=30), owner="task-1") == "t:task-1"
    locks.release(LOCK_NAME, "t:task-1")
    run = recompute(ws.pk)
    assert run.status == RunStatus.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "Worker lost" in dead.error


def test_failed_run_is_recorded_and_previous_scores_stay(scored_workspace):
    ws = scored_workspace["workspace"]
    recompute(ws.pk)
    before = dict(Account.objects.values_list("pk", "health_score"))
    from health.models import Scorecard

    Scorecard.objects.update(is_active=False)  # nothing left to score with
    run = recompute(ws.pk)
    assert run.status == RunStatus.FAILED and "No active scorecard" in run.error
    assert HealthRun.objects.filter(status=RunStatus.FAILED).count() == 1
    assert dict(Account.objects.values_list("pk", "health_score")) == before


def test_a_scorecard_for_a_saved_list_scores_its_members(scored_workspace):
    from health.defaults import DEFAULT_DEFINITION, save_version
    from health.models import Scorecard
    from segments.models import SavedList, Visibility

    red_list = SavedList.objects.create(name="Big seats", query="q=Declining", visibility=Visibility.PUBLIC)
    card = Scorecard.objects.create(name="For the list", saved_list=red_list)
    save_version(card, DEFAULT_DEFINITION, note="list scorecard")
    recompute(scored_workspace["workspace"].pk)
    applied = dict(
        HealthScore.objects.filter(day=TODAY).values_list("account_id", "scorecard_version__scorecard")
    )
    assert applied[scored_workspace["declining"].pk] == card.pk
    assert applied[scored_workspace["healthy"].pk] != card.pk
    assert card.segment_label == "list Big seats"
    # A list that no longer parses leaves its scorecard out instead of scoring everyone with it.
    red_list.query = "tier=999999"
    red_list.save()
    recompute(scored_workspace["workspace"].pk)
    applied = dict(
        HealthScore.objects.filter(day=TODAY).values_list("account_id", "scorecard_version__scorecard")
    )
    assert card.pk not in applied.values()


def test_a_run_of_several_chunks_switches_the_accounts_at_once(scored_workspace, monkeypatch):
    """A workspace larger than one chunk: each chunk's history is saved as it goes, but no account
    shows its new score until every chunk is scored, then all switch in one transaction — a page
    never sees some chunks new and others old. Scores equal those of a one-chunk run."""
    from health import recompute as module
    from health.recompute import scores_computed

    ws = scored_workspace["workspace"]
    for n in range(3):
        f.AccountFactory(name=f"Extra {n}", licenses_purchased=5)
    one_chunk = recompute(ws.pk)
    expected = dict(Account.objects.values_list("pk", "health_score"))
    Account.objects.update(health_score=None, health_band="", health_coverage=None, health_computed_at=None)
    HealthScore.objects.all().delete()

    seen_during_chunks = []

    def look(sender, **kwargs):
        seen_during_chunks.append(
            (
                HealthScore.objects.filter(day=TODAY).count(),
                Account.objects.exclude(health_score=None).count(),
            )
        )

    scores_computed.connect(look, dispatch_uid="test-chunks")
    monkeypatch.setattr(module, "CHUNK_SIZE", 2)
    try:
        run = recompute(ws.pk)
    finally:
        scores_computed.disconnect(dispatch_uid="test-chunks")
    assert run.status == RunStatus.SUCCEEDED and run.accounts_scored == one_chunk.accounts_scored == 5
    # Three chunks: history grew chunk by chunk, the accounts' current scores stayed untouched …
    assert [history for history, _ in seen_during_chunks] == [2, 4, 5]
    assert [current for _, current in seen_during_chunks] == [0, 0, 0]
    # … and then all switched, to exactly the one-chunk run's scores.
    assert dict(Account.objects.values_list("pk", "health_score")) == expected
