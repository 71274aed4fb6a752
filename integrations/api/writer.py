"""Batch upserts: validate every record, resolve partner references, classify, then write in a
few statements.

A single-record POST or PUT goes through the same path as a batch of one, so both behave alike:
references are resolved inside the current workspace only, an account's MRR or status change is
recorded as an MRR movement, and the accounts whose health inputs changed are marked stale.

Records are validated by the resource's compiled validator (integrations/api/validation.py); only
a record it does not accept goes through the DRF serializer, which gives its errors. Stored rows
are read as plain tuples of the columns the writer needs, not as model instances.

On PostgreSQL, accounts and daily usage are written set-based (integrations/api/pg.py): the rows
are COPied into a temporary table and upserted from it with one `INSERT … ON CONFLICT … DO UPDATE`
each, which also says which rows it created or changed. Elsewhere (SQLite) the ORM's
`bulk_create` / `bulk_update` write them, with the same outcomes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.settings import api_settings

from accounts.changes import record_written
from accounts.freshness import mark_inputs_changed
from accounts.models import Account, ChangeField, ChangeSource, Contact, LifecycleStage, Tier
from accounts.mrr import record_changes
from tenancy.context import current_workspace_id
from tenancy.locks import lock_keys
from tenancy.lookups import one_of

from ..models import count_ingested
from ..problems import escape_pointer_token, pointer_errors
from . import pg
from .validation import RecordValidator

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"


@dataclass
class Outcome:
    index: int
    status: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple | None = None
    errors: list[dict] = field(default_factory=list)
    existing: Any = None  # the stored row (a named tuple of the writer's columns), if any
    obj: models.Model | None = None  # the stored record, read back only when asked for
    pk: int | None = None  # the row's id, when the write returned it

    def fail(self, pointer: str, detail: str) -> None:
        self.status = ERROR
        self.errors.append({"pointer": pointer, "detail": detail})


class StrictSerializerMixin:
    """Rejects unknown fields and non-string values for text fields (DRF would coerce 12 to "12").

    Read-only fields are accepted and ignored, so a record read from the API can be sent back.
    """

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Expected a JSON object with the record's fields."]}
            )
        errors: dict[str, list[str]] = {}
        for name in data:
            if name not in self.fields:
                errors[name] = ["Unknown field."]
        clean = {}
        for name, value in data.items():
            field_ = self.fields.get(name)
            if field_ is None or field_.read_only:
                continue
            text_field = isinstance(field_, serializers.CharField | serializers.ChoiceField)
            if text_field and value is not None and not isinstance(value, str):
                errors[name] = [f"Expected a string, got {type(value).__name__}."]
                continue
            clean[name] = value
        try:
            values = super().to_internal_value(clean)
        except serializers.ValidationError as exc:
            flagged = set(errors)
            for name, messages in exc.detail.items():
                if name not in flagged:  # a wrongly typed value also reads as missing
                    errors[name] = messages if isinstance(messages, list) else [messages]
            values = None
        if errors:
            raise serializers.ValidationError(errors)
        return values


_validators: dict[type, RecordValidator] = {}


def validator_for(serializer_class: type[serializers.Serializer]) -> RecordValidator:
    """One compiled validator per serializer class, built on first use."""
    validator = _validators.get(serializer_class)
    if validator is None:
        validator = _validators[serializer_class] = RecordValidator(serializer_class)
    return validator


class BatchWriter:
    """How one resource is written. Subclasses describe the model; `write` does the rest."""

    model: type[models.Model]
    serializer_class: type[serializers.Serializer]
    key_fields: tuple[str, ...] = ("external_id",)
    duplicate_field = "external_id"  # where a duplicate inside a batch is pointed at
    id_field: str | None = "external_id"  # the partner id a bulk answer repeats for each record
    # Serializer fields naming other rows by partner id → the model's foreign key.
    references: dict[str, str] = {}

    def __init__(self, queryset):
        self.queryset = queryset

    # --- hooks -------------------------------------------------------------------------------
    def key_of(self, values: dict) -> tuple:
        return tuple(values.get(name) for name in self.key_fields)

    def has_key(self, key: tuple | None) -> bool:
        """Whether a record's key identifies one row (a usage event without event_id does not)."""
        return key is not None and None not in key

    def fetch_existing(self, keys: list[tuple]) -> dict[tuple, Any]:
        ids = [k[0] for k in keys]
        if not ids:
            return {}
        rows = self.stored().filter(one_of("external_id", ids))
        return {(row.external_id,): row for row in rows}

    def write_rows(self, created: list[Outcome], updated: list[Outcome]) -> None:
        rows = [self.build(o) for o in created + updated]
        self.model.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["workspace", *self.key_fields],
            update_fields=self.update_columns(),
        )

    def duplicate_message(self) -> str:
        names = " / ".join(self.key_fields)
        return f"Another record of this batch has the same {names}; send each record once."

    # --- machinery ---------------------------------------------------------------------------
    def validator(self) -> RecordValidator:
        return validator_for(self.serializer_class)

    def columns(self) -> list[str]:
        """Model fields the API writes (references by their foreign key name)."""
        if getattr(self, "_columns", None) is None:
            fields = self.validator().serializer.fields
            self._columns = [
                self.references.get(name, name) for name, field_ in fields.items() if not field_.read_only
            ]
        return self._columns

    def attname(self, name: str) -> str:
        names = self.__dict__.setdefault("_attnames", {})
        if name not in names:
            names[name] = self.model._meta.get_field(name).attname
        return names[name]

    def stored_columns(self) -> list[str]:
        """The columns read from a stored row: its id and every column the API writes."""
        return ["pk", *dict.fromkeys(self.attname(c) for c in self.columns())]

    def stored(self):
        """The workspace's rows as named tuples of `stored_columns()`."""
        return self.model.objects.order_by().values_list(*self.stored_columns(), named=True)

    def update_columns(self) -> list[str]:
        cols = [c for c in self.columns() if c not in self.key_fields]
        if any(f.name == "updated_at" for f in self.model._meta.concrete_fields):
            cols.append("updated_at")
        return cols

    def full_values(self, outcome: Outcome) -> dict[str, Any]:
        """The written columns by attname: the stored values of an existing row overlaid with the
        provided ones."""
        attname = self.attname
        if outcome.existing is not None:
            existing = outcome.existing._asdict()
            values = {a: existing[a] for a in (attname(name) for name in self.columns())}
        else:
            values = {}
        for name, value in outcome.values.items():
            values[attname(name)] = value
        return values

    def build(self, outcome: Outcome) -> models.Model:
        """The full row as a model instance."""
        return self.model(workspace_id=current_workspace_id(), **self.full_values(outcome))

    def changed(self, outcome: Outcome) -> bool:
        existing = outcome.existing
        attname = self.attname
        return any(getattr(existing, attname(name)) != value for name, value in outcome.values.items())

    def validate(self, records: list, prefix: str | None) -> list[Outcome]:
        outcomes = []
        compiled = self.validator()
        serializer = None
        for index, record in enumerate(records):
            values = compiled(record)
            if values is not None:
                outcomes.append(Outcome(index=index, values=values))
                continue
            # Not accepted by the compiled rules: the serializer says why (or accepts it).
            if serializer is None:
                serializer = self.serializer_class()
            outcome = Outcome(index=index)
            base = f"{prefix}/{index}" if prefix is not None else ""
            try:
                outcome.values = dict(serializer.run_validation(record))
            except serializers.ValidationError as exc:
                outcome.status = ERROR
                outcome.errors = pointer_errors(exc.detail, base)
            outcomes.append(outcome)
        return outcomes

    def resolve(self, outcomes: list[Outcome], prefix: str | None) -> None:
        valid = [o for o in outcomes if o.status != ERROR]
        account_ids: dict[str, int] = {}
        contacts: dict[str, tuple[int, int]] = {}
        if "account_external_id" in self.references:
            wanted = {o.values["account_external_id"] for o in valid if o.values.get("account_external_id")}
            if wanted:
                account_ids = dict(
                    Account.objects.filter(one_of("external_id", wanted)).values_list("external_id", "pk")
                )
        if "contact_external_id" in self.references:
            wanted = {o.values["contact_external_id"] for o in valid if o.values.get("contact_external_id")}
            if wanted:
                contacts = {
                    ext: (pk, account_id)
                    for ext, pk, account_id in Contact.objects.filter(
                        one_of("external_id", wanted)
                    ).values_list("external_id", "pk", "account_id")
                }
        if not self.references:
            return
        for o in valid:
            values = o.values
            if "account_external_id" in values:
                ext = values.pop("account_external_id")
                if ext not in account_ids:
                    base = f"{prefix}/{o.index}" if prefix is not None else ""
                    o.fail(f"{base}/account_external_id", "No account with this external_id exists.")
                    continue
                values["account"] = account_ids[ext]
            if "contact_external_id" in values:
                ext = values.pop("contact_external_id")
                base = f"{prefix}/{o.index}" if prefix is not None else ""
                if ext is None:
                    values["contact"] = None
                elif ext not in contacts:
                    o.fail(f"{base}/contact_external_id", "No contact with this external_id exists.")
                    continue
                elif "account" in values and contacts[ext][1] != values["account"]:
                    o.fail(f"{base}/contact_external_id", "This contact belongs to another account.")
                    continue
                else:
                    values["contact"] = contacts[ext][0]
            # Foreign keys are written by id.
            if "account" in values:
                values["account_id"] = values.pop("account")
            if "contact" in values:
                values["contact_id"] = values.pop("contact")

    def classify(self, valid: list[Outcome]) -> None:
        """created / updated / unchanged, from the stored rows (one query)."""
        existing = self.fetch_existing([o.key for o in valid if self.has_key(o.key)])
        for o in valid:
            o.existing = existing.get(o.key)
            if o.existing is None:
                o.status = CREATED
            else:
                o.status = UPDATED if self.changed(o) else UNCHANGED

    def classifies_on_write(self) -> bool:
        """Whether `write_classified` writes the valid records and tells their outcomes itself,
        without reading the stored rows first."""
        return False

    def write_classified(self, valid: list[Outcome]) -> None:
        raise NotImplementedError

    def write(
        self,
        records: list,
        prefix: str | None = "/records",
        atomic: bool = False,
        dry_run: bool = False,
        objects: bool = False,
    ) -> list[Outcome]:
        """Validate, resolve and classify every record; write the good ones (all or none if atomic).
        `dry_run` stops after classifying: the outcomes say what a write would do (the CSV import's
        preview), with exactly the rules of a write. `objects` reads the stored records back into
        `outcome.obj` (for answers that show them)."""
        outcomes = self.validate(records, prefix)
        self.resolve(outcomes, prefix)
        valid = [o for o in outcomes if o.status != ERROR]
        key_of, has_key = self.key_of, self.has_key
        for o in valid:
            o.key = key_of(o.values)
        counts = Counter(o.key for o in valid if has_key(o.key))
        if len(counts) != sum(counts.values()):
            for o in valid:
                if has_key(o.key) and counts[o.key] > 1:
                    base = f"{prefix}/{o.index}" if prefix is not None else ""
                    o.fail(f"{base}/{escape_pointer_token(self.duplicate_field)}", self.duplicate_message())
            valid = [o for o in valid if o.status != ERROR]
        failed = len(valid) != len(outcomes)
        if atomic and failed and not dry_run:
            return outcomes  # validated, not written: the valid records keep an empty status
        if dry_run:
            self.classify(valid)
            return outcomes
        with transaction.atomic():
            # Classified and written in one transaction, with the batch's keys locked: a request
            # upserting the same partner id at the same moment waits and then sees this one's row
            # (so exactly one of them creates it), and an update never overlays stale values.
            lock_keys(
                self.model._meta.label, current_workspace_id(), [o.key for o in valid if has_key(o.key)]
            )
            if self.classifies_on_write():
                self.write_classified(valid)
                written = [o for o in valid if o.status in (CREATED, UPDATED)]
            else:
                self.classify(valid)
                written = [o for o in valid if o.status in (CREATED, UPDATED)]
                if written:
                    self.write_rows(
                        [o for o in written if o.status == CREATED],
                        [o for o in written if o.status == UPDATED],
                    )
            if written:
                # Last in the transaction: the counter row's lock is held only until the commit.
                count_ingested(self.model._meta.model_name, len(written))
        if written:
            self.after_write(written)
        if objects:
            self.attach(valid)
        return outcomes

    def account_ids(self, outcomes: list[Outcome]) -> set[int]:
        return {o.values.get("account_id") or getattr(o.existing, "account_id", None) for o in outcomes} - {
            None
        }

    def after_write(self, written: list[Outcome]) -> None:
        mark_inputs_changed(current_workspace_id(), self.account_ids(written))

    def fetch_objects(self, keys: list[tuple]) -> dict[tuple, models.Model]:
        ids = [k[0] for k in keys]
        return {(obj.external_id,): obj for obj in self.queryset.filter(one_of("external_id", ids))}

    def attach(self, outcomes: list[Outcome]) -> None:
        """Read the stored records back (one query) for the response."""
        stored = self.fetch_objects([o.key for o in outcomes if self.has_key(o.key)])
        for o in outcomes:
            o.obj = stored.get(o.key)


class _Revenue:
    """An account's revenue state after a write, as `accounts.mrr.record_changes` reads it."""

    __slots__ = ("churned_at", "contract_start", "mrr", "pk", "status", "workspace_id")

    def __init__(self, workspace_id, pk, values):
        self.workspace_id = workspace_id
        self.pk = pk
        self.mrr = values["mrr"]
        self.status = values["status"]
        self.contract_start = values["contract_start"]
        self.churned_at = values["churned_at"]


class AccountWriter(BatchWriter):
    # Tier by name and lifecycle stage by key, resolved inside the workspace.
    LOOKUPS = {"tier": (Tier, "name", "tier"), "lifecycle_stage": (LifecycleStage, "key", "lifecycle stage")}

    def account_ids(self, outcomes: list[Outcome]) -> set[int]:
        if all(o.pk is not None for o in outcomes):
            return {o.pk for o in outcomes}
        keys = [o.key[0] for o in outcomes]
        return set(Account.objects.filter(one_of("external_id", keys)).values_list("pk", flat=True))

    def fetch_existing(self, keys: list[tuple]) -> dict[tuple, Any]:
        if not transaction.get_connection().in_atomic_block:
            return super().fetch_existing(keys)  # a preview (dry run) reads without locking
        # In the write's transaction the compared rows are locked until it commits: a page
        # changing one of these accounts' MRR meanwhile cannot make the recorded MRR movement wrong.
        ids = [k[0] for k in keys]
        rows = self.stored().filter(one_of("external_id", ids)).select_for_update() if ids else []
        return {(row.external_id,): row for row in rows}

    def resolve(self, outcomes: list[Outcome], prefix: str | None) -> None:
        super().resolve(outcomes, prefix)
        for name, (model, attr, label) in self.LOOKUPS.items():
            wanted = {o.values[name] for o in outcomes if o.status != ERROR and o.values.get(name)}
            ids = (
                dict(model.objects.filter(**{f"{attr}__in": wanted}).values_list(attr, "pk"))
                if wanted
                else {}
            )
            for o in outcomes:
                if o.status == ERROR or name not in o.values or o.values[name] is None:
                    continue
                if o.values[name] not in ids:
                    base = f"{prefix}/{o.index}" if prefix is not None else ""
                    o.fail(f"{base}/{name}", f"No {label} “{o.values[name]}” in this workspace.")
                else:
                    o.values[name] = ids[o.values[name]]

    def write_rows(self, created: list[Outcome], updated: list[Outcome]) -> None:
        if connection.vendor == "postgresql":
            self.upsert_pg(created, updated)
            pks = {o.key[0]: o.pk for o in created + updated}
        else:
            # The account queryset's bulk_create records the MRR movements of an upsert.
            super().write_rows(created, updated)
            pks = None
        # Tier and stage changes go to the account's history, as a person's choice (override).
        written = [o for o in created + updated if "tier" in o.values or "lifecycle_stage" in o.values]
        if not written:
            return
        if pks is None:
            pks = dict(
                Account.objects.filter(external_id__in=[o.key[0] for o in written]).values_list(
                    "external_id", "pk"
                )
            )
        for name, changed_field in (("tier", ChangeField.TIER), ("lifecycle_stage", ChangeField.STAGE)):
            rows = [
                (pks[o.key[0]], getattr(o.existing, f"{name}_id", None), o.values[name])
                for o in written
                if name in o.values
            ]
            record_written(changed_field, rows, source=ChangeSource.API)

    def upsert_pg(self, created: list[Outcome], updated: list[Outcome]) -> None:
        """One COPY and one upsert for the whole batch, then the MRR movements of the written
        accounts, classified by `accounts.mrr` from their state before and after — what the
        account queryset's `bulk_create` does for the ORM path."""
        workspace_id = current_workspace_id()
        now = timezone.now()
        fields = [f for f in Account._meta.concrete_fields if not f.primary_key]
        names = [f.attname for f in fields]
        defaults = {f.attname: f.get_default() for f in fields}
        defaults.update(workspace_id=workspace_id, created_at=now, updated_at=now)
        written = created + updated
        full = []
        for o in written:
            values = defaults.copy()
            values.update(self.full_values(o))
            full.append(values)
        row_of = itemgetter(*names)
        update = [self.attname(c) for c in self.update_columns()]
        returned = pg.upsert(
            Account,
            names,
            [row_of(values) for values in full],
            conflict=["workspace_id", "external_id"],
            update=update,
            returning=["external_id", "id"],
        )
        pks = dict(returned)
        changes = []
        for o, values in zip(written, full, strict=True):
            o.pk = pks[o.key[0]]
            before = None if o.existing is None else (o.existing.mrr, o.existing.status)
            changes.append((_Revenue(workspace_id, o.pk, values), before))
        record_changes(changes)


class DailyUsageWriter(BatchWriter):
    """Daily rollups upsert by (account, contact, feature, day). Two partial unique constraints
    (with and without a contact) are the conflict targets: on PostgreSQL one upsert per kind of
    row (`ON CONFLICT (…) WHERE contact_id IS [NOT] NULL`) writes them and tells created from
    updated; elsewhere existing rows are looked up in one query and the batch is split into one
    insert and one update statement."""

    key_fields = ("account_id", "contact_id", "feature", "day")
    duplicate_field = "day"
    id_field = None
    VALUE_COLUMNS = ("events", "duration_seconds")

    def key_of(self, values: dict) -> tuple:
        return (values.get("account_id"), values.get("contact_id"), values.get("feature"), values.get("day"))

    def has_key(self, key):
        return key is not None  # no contact is a key of its own (the account-level rollup)

    def duplicate_message(self) -> str:
        return "Another record of this batch is for the same account, contact, feature and day."

    def _matching(self, queryset, keys):
        qs = queryset.filter(
            account_id__in={k[0] for k in keys},
            feature__in={k[2] for k in keys},
            day__in={k[3] for k in keys},
        )
        return qs

    def fetch_existing(self, keys):
        if not keys:
            return {}
        wanted = set(keys)
        return {
            key: row
            for row in self._matching(self.stored(), keys)
            if (key := (row.account_id, row.contact_id, row.feature, row.day)) in wanted
        }

    def fetch_objects(self, keys):
        if not keys:
            return {}
        wanted = set(keys)
        return {
            key: obj
            for obj in self._matching(self.queryset, keys)
            if (key := (obj.account_id, obj.contact_id, obj.feature, obj.day)) in wanted
        }

    def write_rows(self, created, updated):
        if created:
            self.model.objects.bulk_create([self.build(o) for o in created], batch_size=1000)
        if updated:
            rows = []
            for o in updated:
                row = self.build(o)
                row.pk = o.existing.pk
                rows.append(row)
            self.model.objects.bulk_update(rows, list(self.VALUE_COLUMNS), batch_size=1000)

    def classifies_on_write(self) -> bool:
        return connection.vendor == "postgresql"

    def write_classified(self, valid: list[Outcome]) -> None:
        """One upsert per kind of row — with or without a contact, and by which of `events` and
        `duration_seconds` the records give (an omitted one keeps its stored value) — usually one
        or two. A row whose given values equal the stored ones is not touched (`unchanged`)."""
        groups: dict[tuple, list[Outcome]] = {}
        for o in valid:
            values = o.values
            given = tuple(name for name in self.VALUE_COLUMNS if name in values)
            groups.setdefault((values.get("contact_id") is None, given), []).append(o)
        defaults = {f.attname: f.get_default() for f in self.model._meta.concrete_fields}
        names = ["account_id", "contact_id", "feature", "day", *self.VALUE_COLUMNS]
        workspace_id = current_workspace_id()
        for (no_contact, given), outcomes in groups.items():
            rows = []
            for o in outcomes:
                values = o.values
                rows.append(
                    [
                        workspace_id,
                        values["account_id"],
                        values.get("contact_id"),
                        values["feature"],
                        values["day"],
                        values.get("events", defaults["events"]),
                        values.get("duration_seconds", defaults["duration_seconds"]),
                    ]
                )
            conflict = ["workspace_id", "account_id", "feature", "day"]
            if not no_contact:
                conflict.insert(2, "contact_id")
            returned = pg.upsert(
                self.model,
                ["workspace_id", *names],
                rows,
                conflict=conflict,
                conflict_where="contact_id IS NULL" if no_contact else "contact_id IS NOT NULL",
                update=list(given),
                only_changed=True,
                returning=["account_id", "contact_id", "feature", "day"],
                inserted=True,
            )
            statuses = {tuple(row[:4]): CREATED if row[4] else UPDATED for row in returned}
            for o in outcomes:
                o.status = statuses.get(o.key, UNCHANGED)


class UsageEventWriter(BatchWriter):
    """Raw events are facts: an event whose `event_id` was already received is not written again
    (reported `unchanged`); events without an `event_id` are always inserted."""

    key_fields = ("event_id",)
    duplicate_field = "event_id"
    id_field = "event_id"

    def key_of(self, values):
        return (values.get("event_id"),)

    def duplicate_message(self) -> str:
        return "Another record of this batch has the same event_id; send each event once."

    def fetch_existing(self, keys):
        ids = [k[0] for k in keys if k[0] is not None]
        if not ids:
            return {}
        return {(row.event_id,): row for row in self.stored().filter(one_of("event_id", ids))}

    def fetch_objects(self, keys):
        ids = [k[0] for k in keys if k[0] is not None]
        if not ids:
            return {}
        return {(obj.event_id,): obj for obj in self.queryset.filter(one_of("event_id", ids))}

    def changed(self, outcome):
        return False

    def write_rows(self, created, updated):
        rows = [self.build(o) for o in created]
        self.model.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        for o, row in zip(created, rows, strict=True):
            o.obj = row

    def attach(self, outcomes):
        stored = self.fetch_objects([o.key for o in outcomes])
        for o in outcomes:
            if o.key[0] is not None:
                o.obj = stored.get(o.key)
            elif o.obj is None:
                o.obj = self.build(o)
