"""Set-based upserts on PostgreSQL: COPY a batch into a temporary table, then one
`INSERT … SELECT … ON CONFLICT … DO UPDATE` from it (a handful of rows: one `INSERT … VALUES …
ON CONFLICT …` with parameters instead).

The batch writers (integrations/api/writer.py) use this for the resources written in volume
(accounts, daily usage); the values are already validated and resolved, in the columns' Python
types. Must run inside a transaction: the temporary table is dropped at its commit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from django.db import connection, models
from psycopg.types.json import Jsonb

from tenancy import rls

_names = itertools.count()
# Batches of fewer rows are inserted with parameters (one statement) instead of COPY through a
# temporary table (four statements).
COPY_FROM = 50


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    conflict: Sequence[str],
    conflict_where: str = "",
    update: Sequence[str],
    only_changed: bool = False,
    returning: Sequence[str] = (),
    inserted: bool = False,
) -> list[tuple]:
    """Insert `rows` (values of `columns`, by attname) into the model's table; a row whose
    `conflict` columns match a stored row (of the unique index `conflict_where` qualifies, for a
    partial one) sets that row's `update` columns instead (nothing when `update` is empty).

    `only_changed` leaves a stored row whose `update` columns already hold the values untouched.
    Returns the `returning` columns of every row inserted or updated (not of untouched ones),
    plus, with `inserted`, whether the row was inserted (True) or updated (False).
    """
    if not rows:
        return []
    fields = {f.attname: f for f in model._meta.concrete_fields}
    table = _quote(model._meta.db_table)
    json_columns = [i for i, name in enumerate(columns) if fields[name].get_internal_type() == "JSONField"]
    if json_columns:
        rows = [_with_jsonb(row, json_columns) for row in rows]
    cols = ", ".join(_quote(name) for name in columns)
    target = ", ".join(_quote(name) for name in conflict)
    if conflict_where:
        target += f") WHERE ({conflict_where}"
    if update:
        sets = ", ".join(f"{_quote(name)} = EXCLUDED.{_quote(name)}" for name in update)
        action = f"DO UPDATE SET {sets}"
        if only_changed:
            mine = ", ".join(f"t.{_quote(name)}" for name in update)
            theirs = ", ".join(f"EXCLUDED.{_quote(name)}" for name in update)
            action += f" WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs})"
    else:
        action = "DO NOTHING"
    back = [f"t.{_quote(name)}" for name in returning]
    if inserted:
        back.append("(t.xmax = 0)")
    tail = f" ON CONFLICT ({target}) {action}"
    if back:
        tail += f" RETURNING {', '.join(back)}"
    # Only names from the model's metadata are formatted into the SQL, never a value.
    with connection.cursor() as cursor:
        if len(rows) < COPY_FROM:
            # A few rows (a single-record write): one statement, the values as parameters.
            row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
            values = ", ".join([row_sql] * len(rows))
            cursor.execute(
                f"INSERT INTO {table} AS t ({cols}) VALUES {values}{tail}",  # noqa: S608
                [value for row in rows for value in row],
            )
            return cursor.fetchall() if back else []
        temp = _quote(f"ingest_{model._meta.model_name}_{next(_names)}")
        definition = ", ".join(f"{_quote(name)} {fields[name].db_type(connection)}" for name in columns)
        rls.sync(connection)  # raw psycopg COPY below: carry the workspace into this transaction
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({definition}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {temp}{tail}")  # noqa: S608
        found = cursor.fetchall() if back else []
        cursor.execute(f"DROP TABLE {temp}")
    return found


def _with_jsonb(row: Sequence, indexes: list[int]) -> list:
    row = list(row)
    for i in indexes:
        if row[i] is not None:
            row[i] = Jsonb(row[i])
    return row
