"""Write engine results: one history row per account per day (upserted), and, for today's run,
the current score denormalised onto the account row. Callers wrap this in one transaction, so a
run that dies halfway leaves the previous scores intact.

On PostgreSQL the rows go through COPY into a temporary table, then one INSERT … ON CONFLICT and
one UPDATE … FROM: a few statements whatever the number of accounts. Elsewhere (SQLite) the ORM's
bulk upsert and batched UPDATE … FROM VALUES do the same job.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from tenancy import rls
from tenancy.context import current_workspace_id

from .models import HealthScore

BATCH = 2000
HISTORY_FIELDS = [
    "score",
    "band",
    "coverage",
    "inputs_used",
    "inputs_total",
    "scorecard_version",
    "measures",
    "computed_at",
]


def _num(value) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 2)
    )


def measures_json(results: pd.DataFrame, weights_by_version: dict[int, dict[str, float]]) -> list[dict]:
    """Per row: {metric: {raw, points, weight, contribution}} for the measures of its scorecard."""
    columns = {c: results[c].to_numpy(dtype="float64") for c in results.columns if ":" in c}
    versions = results["scorecard_version_id"].to_numpy()
    out = []
    for i, version in enumerate(versions):
        out.append(
            {
                metric: {
                    "raw": _num(columns[f"raw:{metric}"][i]),
                    "points": _num(columns[f"points:{metric}"][i]),
                    "weight": weight,
                    "contribution": _num(columns[f"contribution:{metric}"][i]),
                }
                for metric, weight in weights_by_version[int(version)].items()
            }
        )
    return out


def save(
    day: dt.date, results: pd.DataFrame, weights_by_version: dict[int, dict[str, float]], current: bool
) -> int:
    """Persist one chunk's results: history for `day`, and the account rows when `current`."""
    if results.empty:
        return 0
    measures = measures_json(results, weights_by_version)
    if connection.vendor == "postgresql":
        _save_postgres(day, results, measures, current)
    else:
        _save_portable(day, results, measures, current)
    return len(results)


def _rows(results: pd.DataFrame, measures: list[dict]):
    scores = results["score"].to_numpy(dtype="float64")
    coverage = results["coverage"].to_numpy(dtype="float64")
    return zip(
        results.index.to_numpy(),
        [None if np.isnan(s) else round(float(s), 2) for s in scores],
        results["band"].tolist(),
        [round(float(c), 4) for c in coverage],
        results["inputs_used"].tolist(),
        results["inputs_total"].tolist(),
        results["scorecard_version_id"].tolist(),
        measures,
        strict=True,
    )


def _save_postgres(day: dt.date, results: pd.DataFrame, measures: list[dict], current: bool) -> None:
    workspace_id = current_workspace_id()
    now = timezone.now()
    history = HealthScore._meta.db_table
    connection.ensure_connection()
    rls.sync(connection)  # raw psycopg below: carry the workspace into this transaction
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE health_results (account_id bigint, score double precision, band varchar(6),"
            " coverage double precision, inputs_used smallint, inputs_total smallint, version_id bigint,"
            " measures jsonb) ON COMMIT DROP"
        )
        with cursor.copy("COPY health_results FROM STDIN") as copy:
            for account_id, score, band, cov, used, total, version, m in _rows(results, measures):
                copy.write_row(
                    (int(account_id), score, band, cov, int(used), int(total), int(version), json.dumps(m))
                )
        cursor.execute(
            f"INSERT INTO {history} (workspace_id, account_id, day, score, band, coverage, inputs_used,"  # noqa: S608
            " inputs_total, scorecard_version_id, measures, computed_at)"
            " SELECT %s, account_id, %s, score, band, coverage, inputs_used, inputs_total, version_id, measures, %s"
            " FROM health_results"
            " ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET score = EXCLUDED.score,"
            " band = EXCLUDED.band, coverage = EXCLUDED.coverage, inputs_used = EXCLUDED.inputs_used,"
            " inputs_total = EXCLUDED.inputs_total, scorecard_version_id = EXCLUDED.scorecard_version_id,"
            " measures = EXCLUDED.measures, computed_at = EXCLUDED.computed_at",
            [workspace_id, day, now],
        )
        if current:
            _update_current_from(cursor, "health_results", now, workspace_id)
        cursor.execute("DROP TABLE health_results")


def _update_current_from(cursor, source: str, now: dt.datetime, workspace_id: int) -> None:
    """The accounts' current health from a temporary table of (account_id, score, band, coverage).
    Only rows whose score, band or coverage changed are rewritten: an hourly run that rewrote
    every account would bloat the table the list pages scan."""
    accounts = Account._meta.db_table
    cursor.execute(
        f"UPDATE {accounts} AS a SET health_score = round(r.score)::integer, health_band = r.band,"  # noqa: S608
        " health_coverage = r.coverage, health_computed_at = %s"
        f" FROM {source} AS r WHERE a.id = r.account_id AND a.workspace_id = %s"
        " AND (a.health_score IS DISTINCT FROM round(r.score)::integer OR a.health_band IS DISTINCT FROM r.band"
        " OR a.health_coverage IS DISTINCT FROM r.coverage::real)",
        [now, workspace_id],
    )


def publish_current(results: pd.DataFrame) -> None:
    """Write the accounts' current health (score, band, coverage) from a whole run's results in
    one statement: a run of several chunks saves each chunk's history with `current=False` and
    then switches every account at once, so no page sees some chunks new and others old."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        _save_current_portable(results, now)
        return
    workspace_id = current_workspace_id()
    connection.ensure_connection()
    rls.sync(connection)  # raw psycopg below: carry the workspace into this transaction
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE health_current (account_id bigint, score double precision, band varchar(6),"
            " coverage double precision) ON COMMIT DROP"
        )
        with cursor.copy("COPY health_current FROM STDIN") as copy:
            for account_id, score, band, cov in zip(
                results.index,
                results["score"].astype(float),
                results["band"],
                results["coverage"],
                strict=True,
            ):
                copy.write_row((int(account_id), None if math.isnan(score) else score, band, float(cov)))
        _update_current_from(cursor, "health_current", now, workspace_id)
        cursor.execute("DROP TABLE health_current")


def _save_portable(day: dt.date, results: pd.DataFrame, measures: list[dict], current: bool) -> None:
    now = timezone.now()
    rows = [
        HealthScore(
            account_id=int(account_id),
            day=day,
            score=score,
            band=band,
            coverage=cov,
            inputs_used=int(used),
            inputs_total=int(total),
            scorecard_version_id=int(version),
            measures=m,
            computed_at=now,
        )
        for account_id, score, band, cov, used, total, version, m in _rows(results, measures)
    ]
    HealthScore.objects.bulk_create(
        rows,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["workspace", "account", "day"],
        update_fields=HISTORY_FIELDS,
    )
    if current:
        _save_current_portable(results, now)


def _save_current_portable(results: pd.DataFrame, now: dt.datetime) -> None:
    """UPDATE … FROM VALUES in batches, always restricted to the current workspace."""
    workspace_id = current_workspace_id()
    table = Account._meta.db_table
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
                f" FROM v WHERE {table}.id = CAST(v.id AS bigint) AND {table}.workspace_id = %s"
                f" AND ({table}.health_score IS DISTINCT FROM CAST(v.score AS integer)"
                f" OR {table}.health_band IS DISTINCT FROM CAST(v.band AS varchar(6))"
                f" OR {table}.health_coverage IS DISTINCT FROM CAST(v.coverage AS real))",
                [*params, now, workspace_id],
            )
