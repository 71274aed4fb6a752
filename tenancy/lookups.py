"""`column IN (…)` for thousands of values, as one array parameter on PostgreSQL.

`filter(pk__in=ids)` sends one placeholder per value; with psycopg's client-side binding, turning
a query with 5,000 placeholders into SQL costs more than running it. `one_of("pk", ids)` is the
same condition as `Q(pk__in=ids)`, written `= ANY(%s)` with the values as one array on
PostgreSQL (elsewhere it is that `Q`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import F, Lookup, Q


class AnyOf(Lookup):
    """`lhs = ANY(array)`: PostgreSQL only."""

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]


def one_of(field: str, values: Iterable):
    values = list(values)
    if connection.vendor == "postgresql":
        return AnyOf(F(field), values)
    return Q(**{f"{field}__in": values})
