"""Write engine results: one history row per account per day (upserted), and, for today's run,
the current score denormalised onto the account row. Callers wrap this in one transaction, so a
run that dies halfway leaves the previous scores intact."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from tenancy.context import current_workspace_id

from .models import HealthScore

BATCH = 2000


def _num(value) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 2)
    )


def measures_json(row: dict, weights: dict[str, float]) -> dict:
    return {
        metric: {
            "raw": _num(row[f"raw:{metric}"]),
            "points": _num(row[f"points:{metric}"]),
            "weight": weight,
            "contribution": _num(row[f"contribution:{metric}"]),
        }
        for metric, weight in weights.items()
    }


def save_history(day: dt.date, results: pd.DataFrame, version_id: int, weights: dict[str, float]) -> int:
    now = timezone.now()
    records = results.reset_index().to_dict("records")
    rows = [
        HealthScore(
            account_id=int(r["account_id"]),
            day=day,
            score=_num(r["score"]),
            band=r["band"],
            coverage=round(float(r["coverage"]), 4),
            inputs_used=int(r["inputs_used"]),
            inputs_total=int(r["inputs_total"]),
            scorecard_version_id=version_id,
            measures=measures_json(r, weights),
            computed_at=now,
        )
        for r in records
    ]
    HealthScore.objects.bulk_create(
        rows,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["workspace", "account", "day"],
        update_fields=[
            "score",
            "band",
            "coverage",
            "inputs_used",
            "inputs_total",
            "scorecard_version",
            "measures",
            "computed_at",
        ],
    )
    return len(rows)


def save_current(results: pd.DataFrame) -> int:
    """Set health_score/band/coverage on the account rows, in a few statements (UPDATE … FROM
    VALUES in batches), always restricted to the current workspace."""
    workspace_id = current_workspace_id()
    table = Account._meta.db_table
    now = timezone.now()
    values = [
        (int(account_id), None if math.isnan(s) else round(s), band, round(float(c), 4))
        for account_id, s, band, c in zip(
            results.index, results["score"].astype(float), results["band"], results["coverage"], strict=True
        )
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH):
            batch = values[start : start + BATCH]
            placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            params = [p for row in batch for p in row]
            # A CTE names the VALUES columns the same way on PostgreSQL and SQLite.
            cursor.execute(
                f"WITH v(id, score, band, coverage) AS (VALUES {placeholders})"  # noqa: S608 (no user input)
                f" UPDATE {table} SET health_score = CAST(v.score AS integer),"
                " health_band = CAST(v.band AS varchar(6)), health_coverage = CAST(v.coverage AS real),"
                " health_computed_at = %s"
                f" FROM v WHERE {table}.id = CAST(v.id AS bigint) AND {table}.workspace_id = %s",
                [*params, now, workspace_id],
            )
    return len(values)
