import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from health.backtest_loading import MAX_HORIZON_DAYS, MAX_POINTS, create_run, default_points, run_backtest
from health.models import BacktestStatus, Scorecard
from tenancy.context import use_workspace
from tenancy.models import Workspace


class Command(BaseCommand):
    help = (
        "Backtest a scorecard against the churn that followed: AUC, churn per band, the measures' "
        "predictive power and the suggested weights. Stores the run, like the backtest page does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--scorecard", help="scorecard name (default: the workspace's default scorecard)")
        parser.add_argument(
            "--horizon", type=int, default=90, help="days after each look-back date (default 90)"
        )
        parser.add_argument("--points", type=int, default=12, help="number of look-back dates (default 12)")
        parser.add_argument(
            "--spacing", type=int, default=30, help="days between look-back dates (default 30)"
        )
        parser.add_argument(
            "--last", type=dt.date.fromisoformat, help="latest look-back date (default: today − horizon)"
        )

    def handle(self, *args, workspace, scorecard=None, horizon, points, spacing, last=None, **options):
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            raise CommandError(f"No workspace with slug {workspace!r}.")
        if not 1 <= points <= MAX_POINTS or not 1 <= horizon <= MAX_HORIZON_DAYS or spacing < 1:
            raise CommandError(f"Use 1–{MAX_POINTS} points, a 1–{MAX_HORIZON_DAYS} day horizon, spacing ≥ 1.")
        with use_workspace(ws):
            cards = Scorecard.objects.select_related("current_version")
            card = (
                cards.filter(name=scorecard).first() if scorecard else cards.filter(is_default=True).first()
            )
            if card is None:
                raise CommandError(f"No scorecard {scorecard or '(default)'} in {workspace}.")
            run = create_run(card, default_points(horizon, points, spacing, last), horizon)
            started = time.monotonic()
            run = run_backtest(run)
            elapsed = time.monotonic() - started
            if run.status != BacktestStatus.SUCCEEDED:
                raise CommandError(f"Backtest {run.pk} failed: {run.error}")
            self.report(ws, card, run, elapsed)

    def report(self, ws, card, run, elapsed: float) -> None:
        out = self.stdout.write
        r = run.results
        if r.get("empty"):
            out(r["message"])
            return
        p = r["pooled"]
        out(
            f"{ws.slug} · {card.name} {run.version_label} · {len(run.as_of_dates)} look-back dates "
            f"{run.as_of_dates[0]} … {run.as_of_dates[-1]} · horizon {run.horizon_days} days · {elapsed:.1f} s"
        )
        out(
            f"observations {p['observations']} ({p['accounts']} accounts), churn events {p['churn_events']} "
            f"({p['churned_accounts']} accounts), churn rate {fmt(p['churn_rate'], pct=True)}"
        )
        out(
            f"ROC AUC {fmt(p['auc'])} · red precision {fmt(p['red']['precision'], pct=True)} "
            f"recall {fmt(p['red']['recall'], pct=True)} · lift of the lowest decile {fmt(p['lift_lowest_decile'])}×"
        )
        for band in p["bands"]:
            out(
                f"  {band['band']:<12} {band['accounts']:>7} obs  churn {fmt(band['churn_rate'], pct=True):>6}"
                f"  lost MRR {band['lost_mrr']:>12,.2f}"
            )
        out(
            "per look-back date: "
            + ", ".join(f"{x['as_of']} AUC {fmt(x['auc'])} ({x['churned']})" for x in r["points"])
        )
        out("strongest measures: " + ", ".join(f"{m['metric']} {fmt(m['power'])}" for m in r["measures"][:6]))
        s = r["suggestion"]
        if s["status"] != "ok":
            out(f"suggestion: {s['message']}")
            return
        cv = s["cv"]
        out(
            f"suggestion, cross-validated AUC over {len(cv['folds'])} folds: draft {fmt(cv['draft_auc'])} "
            f"vs current {fmt(cv['current_auc'])}; in-sample AUC of the draft {fmt(s['draft_backtest']['auc'])}"
        )
        out("  draft: " + ", ".join(f"{m['metric']} {m['weight']:g}" for m in s["definition"]["measures"]))
        out(f"stored as backtest {run.pk}")


def fmt(value, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if pct else f"{value:.3f}"
