"""Django's PostgreSQL backend, plus the per-transaction workspace settings of `tenancy.rls`.

Before the first statement of a transaction the backend runs `set_config(…, true)` for the
current workspace and bypass (only when they differ from what the transaction already carries);
a statement outside any transaction (autocommit) gets a short transaction of its own so the
settings reach it. The settings die with the transaction, so a pooled connection (pgbouncer in
transaction mode) never hands one workspace's setting to the next client.
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.postgresql import base, operations

from tenancy import rls


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        # The application role has no TRUNCATE (nobody but the owner may empty a table in one
        # statement). DELETE works for it: the foreign keys are deferred to the commit, and the
        # bypass lets the statement see every workspace's rows.
        if not tables:
            return []
        sql = [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in tables]
        if reset_sequences:
            with self.connection.cursor() as cursor:
                sequences = [
                    s for t in tables for s in self.connection.introspection.get_sequences(cursor, t)
                ]
            sql.extend(self.sequence_reset_by_name_sql(style, sequences))
        return sql

    def execute_sql_flush(self, sql_list):
        with rls.platform_access():
            super().execute_sql_flush(sql_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the open transaction carries: EMPTY when it is fresh, None when not known.
        self._rls_carried = rls.EMPTY
        self.execute_wrappers.append(self._rls_wrapper)

    def rls_before_statement(self) -> None:
        values = rls.wanted()
        if self._rls_carried == values:
            return
        rls.apply_settings(self.connection, values)
        self._rls_carried = values

    def _rls_wrapper(self, execute, sql, params, many, context):
        if not self.get_autocommit():
            self.rls_before_statement()
            return execute(sql, params, many, context)
        if rls.wanted() == rls.EMPTY:
            return execute(sql, params, many, context)
        # Autocommit: the statement gets a transaction of its own to carry the settings.
        with transaction.atomic(using=self.alias, savepoint=False):
            self.rls_before_statement()
            return execute(sql, params, many, context)

    # A new transaction starts with nothing set: forget what the last one carried.
    def _commit(self):
        self._rls_carried = rls.EMPTY
        return super()._commit()

    def _rollback(self):
        self._rls_carried = rls.EMPTY
        return super()._rollback()

    def _savepoint_rollback(self, sid):
        super()._savepoint_rollback(sid)
        self._rls_carried = None  # a set_config inside the savepoint is undone: not known now

    def _set_autocommit(self, autocommit):
        self._rls_carried = rls.EMPTY
        return super()._set_autocommit(autocommit)

    def connect(self):
        self._rls_carried = rls.EMPTY
        return super().connect()
