"""Batch upserts: validate every record, resolve partner references, classify, then write in a
few statements.

A single-record POST or PUT goes through the same path as a batch of one, so both behave alike:
references are resolved inside the current workspace only, an account's MRR or status change is
recorded as an MRR movement (by the account queryset's `bulk_create`), and the accounts whose
health inputs changed are marked stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from rest_framework import serializers
from rest_framework.settings import api_settings

from accounts.changes import record_written
from accounts.freshness import mark_inputs_changed
from accounts.models import Account, ChangeField, ChangeSource, Contact, LifecycleStage, Tier
from tenancy.context import current_workspace_id
from tenancy.locks import lock_keys

from ..models import count_ingested
from ..problems import escape_pointer_token, pointer_errors

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"


@dataclass
class Outcome:
    index: int
    status: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple | None = None
    errors: list[dict] = field(default_factory=list)
    existing: models.Model | None = None
    obj: models.Model | None = None

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


class BatchWriter:
    """How one resource is written. Subclasses describe the model; `write` does the rest."""

    model: type[models.Model]
    serializer_class: type[serializers.Serializer]
    key_fields: tuple[str, ...] = ("external_id",)
    duplicate_field = "external_id"  # where a duplicate inside a batch is pointed at
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

    def fetch_existing(self, keys: list[tuple]) -> dict[tuple, models.Model]:
        ids = [k[0] for k in keys]
        return {(obj.external_id,): obj for obj in self.queryset.filter(external_id__in=ids)}

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
    def columns(self) -> list[str]:
        """Model fields the API writes (references by their foreign key name). Computed once per
        writer: building a serializer's fields for every row of a batch was most of an update's cost."""
        if getattr(self, "_columns", None) is None:
            self._columns = [
                self.references.get(name, name)
                for name, field_ in self.serializer_class().fields.items()
                if not field_.read_only
            ]
        return self._columns

    def update_columns(self) -> list[str]:
        cols = [c for c in self.columns() if c not in self.key_fields]
        if any(f.name == "updated_at" for f in self.model._meta.concrete_fields):
            cols.append("updated_at")
        return cols

    def build(self, outcome: Outcome) -> models.Model:
        """The full row: the stored values of an existing row overlaid with the provided ones."""
        values = {}
        if outcome.existing is not None:
            for name in self.columns():
                attname = self.model._meta.get_field(name).attname
                values[attname] = getattr(outcome.existing, attname)
        for name, value in outcome.values.items():
            attname = self.model._meta.get_field(name).attname
            values[attname] = value
        return self.model(workspace_id=current_workspace_id(), **values)

    def changed(self, outcome: Outcome) -> bool:
        existing = outcome.existing
        for name, value in outcome.values.items():
            attname = self.model._meta.get_field(name).attname
            if getattr(existing, attname) != value:
                return True
        return False

    def validate(self, records: list, prefix: str) -> list[Outcome]:
        outcomes = []
        # One serializer validates every record: building its fields once, not per record, is
        # most of the cost of a large batch.
        serializer = self.serializer_class()
        for index, record in enumerate(records):
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
                    Account.objects.filter(external_id__in=wanted).values_list("external_id", "pk")
                )
        if "contact_external_id" in self.references:
            wanted = {o.values["contact_external_id"] for o in valid if o.values.get("contact_external_id")}
            if wanted:
                contacts = {
                    ext: (pk, account_id)
                    for ext, pk, account_id in Contact.objects.filter(external_id__in=wanted).values_list(
                        "external_id", "pk", "account_id"
                    )
                }
        for o in valid:
            base = f"{prefix}/{o.index}" if prefix is not None else ""
            if "account_external_id" in o.values:
                ext = o.values.pop("account_external_id")
                if ext not in account_ids:
                    o.fail(f"{base}/account_external_id", "No account with this external_id exists.")
                    continue
                o.values["account"] = account_ids[ext]
            if "contact_external_id" in o.values:
                ext = o.values.pop("contact_external_id")
                if ext is None:
                    o.values["contact"] = None
                elif ext not in contacts:
                    o.fail(f"{base}/contact_external_id", "No contact with this external_id exists.")
                    continue
                elif "account" in o.values and contacts[ext][1] != o.values["account"]:
                    o.fail(f"{base}/contact_external_id", "This contact belongs to another account.")
                    continue
                else:
                    o.values["contact"] = contacts[ext][0]
            # Foreign keys are written by id.
            for name in ("account", "contact"):
                if name in o.values:
                    o.values[f"{name}_id"] = o.values.pop(name)

    def write(
        self, records: list, prefix: str | None = "/records", atomic: bool = False, dry_run: bool = False
    ) -> list[Outcome]:
        """Validate, resolve and classify every record; write the good ones (all or none if atomic).
        `dry_run` stops after classifying: the outcomes say what a write would do (the CSV import's
        preview), with exactly the rules of a write."""
        outcomes = self.validate(records, prefix)
        self.resolve(outcomes, prefix)
        valid = [o for o in outcomes if o.status != ERROR]
        for o in valid:
            o.key = self.key_of(o.values)
        counts = Counter(o.key for o in valid if self.has_key(o.key))
        for o in valid:
            if self.has_key(o.key) and counts[o.key] > 1:
                base = f"{prefix}/{o.index}" if prefix is not None else ""
                o.fail(f"{base}/{escape_pointer_token(self.duplicate_field)}", self.duplicate_message())
        valid = [o for o in valid if o.status != ERROR]
        if dry_run:
            self.classify(valid)
            return outcomes
        with transaction.atomic():
            # Classified and written in one transaction, with the batch's keys locked: a request
            # upserting the same partner id at the same moment waits and then sees this one's row
            # (so exactly one of them creates it), and an update never overlays stale values.
            lock_keys(
                self.model._meta.label, current_workspace_id(), [o.key for o in valid if self.has_key(o.key)]
            )
            self.classify(valid)
            if atomic and any(o.status == ERROR for o in outcomes):
                for o in valid:
                    o.status = ""  # validated, not written
                return outcomes
            created = [o for o in valid if o.status == CREATED]
            updated = [o for o in valid if o.status == UPDATED]
            if created or updated:
                self.write_rows(created, updated)
                # Last in the transaction: the counter row's lock is held only until the commit.
                count_ingested(self.model._meta.model_name, len(created) + len(updated))
        if created or updated:
            self.after_write(created + updated)
        self.attach(valid)
        return outcomes

    def classify(self, valid: list[Outcome]) -> None:
        existing = self.fetch_existing([o.key for o in valid if self.has_key(o.key)])
        for o in valid:
            o.existing = existing.get(o.key)
            if o.existing is None:
                o.status = CREATED
            else:
                o.status = UPDATED if self.changed(o) else UNCHANGED

    def account_ids(self, outcomes: list[Outcome]) -> set[int]:
        return {o.values.get("account_id") or getattr(o.existing, "account_id", None) for o in outcomes} - {
            None
        }

    def after_write(self, written: list[Outcome]) -> None:
        mark_inputs_changed(current_workspace_id(), self.account_ids(written))

    def attach(self, outcomes: list[Outcome]) -> None:
        """Read the stored rows back (one query) for the response."""
        stored = self.fetch_existing([o.key for o in outcomes if self.has_key(o.key)])
        for o in outcomes:
            o.obj = stored.get(o.key)


class AccountWriter(BatchWriter):
    # Tier by name and lifecycle stage by key, resolved inside the workspace.
    LOOKUPS = {"tier": (Tier, "name", "tier"), "lifecycle_stage": (LifecycleStage, "key", "lifecycle stage")}

    def account_ids(self, outcomes: list[Outcome]) -> set[int]:
        keys = [o.key[0] for o in outcomes]
        return set(Account.objects.filter(external_id__in=keys).values_list("pk", flat=True))

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
        super().write_rows(created, updated)
        # Tier and stage changes go to the account's history, as a person's choice (override).
        written = [o for o in created + updated if "tier" in o.values or "lifecycle_stage" in o.values]
        if not written:
            return
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


class DailyUsageWriter(BatchWriter):
    """Daily rollups upsert by (account, contact, feature, day). Two partial unique constraints
    (with and without a contact) cannot serve as an ON CONFLICT target, so existing rows are
    looked up in one query and the batch is split into one insert and one update statement."""

    key_fields = ("account_id", "contact_id", "feature", "day")
    duplicate_field = "day"

    def key_of(self, values: dict) -> tuple:
        return (values.get("account_id"), values.get("contact_id"), values.get("feature"), values.get("day"))

    def has_key(self, key):
        return key is not None  # no contact is a key of its own (the account-level rollup)

    def duplicate_message(self) -> str:
        return "Another record of this batch is for the same account, contact, feature and day."

    def fetch_existing(self, keys):
        if not keys:
            return {}
        qs = self.queryset.filter(
            account_id__in={k[0] for k in keys},
            feature__in={k[2] for k in keys},
            day__in={k[3] for k in keys},
        )
        wanted = set(keys)
        return {
            key: obj
            for obj in qs
            if (key := (obj.account_id, obj.contact_id, obj.feature, obj.day)) in wanted
        }

    def write_rows(self, created, updated):
        if created:
            self.model.objects.bulk_create([self.build(o) for o in created], batch_size=1000)
        if updated:
            rows = []
            for o in updated:
                row = o.existing
                for name, value in o.values.items():
                    setattr(row, name, value)
                rows.append(row)
            self.model.objects.bulk_update(rows, ["events", "duration_seconds"], batch_size=1000)


class UsageEventWriter(BatchWriter):
    """Raw events are facts: an event whose `event_id` was already received is not written again
    (reported `unchanged`); events without an `event_id` are always inserted."""

    key_fields = ("event_id",)
    duplicate_field = "event_id"

    def key_of(self, values):
        return (values.get("event_id"),)

    def duplicate_message(self) -> str:
        return "Another record of this batch has the same event_id; send each event once."

    def fetch_existing(self, keys):
        ids = [k[0] for k in keys if k[0] is not None]
        if not ids:
            return {}
        return {(obj.event_id,): obj for obj in self.queryset.filter(event_id__in=ids)}

    def changed(self, outcome):
        return False

    def write_rows(self, created, updated):
        rows = [self.build(o) for o in created]
        self.model.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        for o, row in zip(created, rows, strict=True):
            o.obj = row

    def attach(self, outcomes):
        stored = self.fetch_existing([o.key for o in outcomes])
        for o in outcomes:
            if o.key[0] is not None:
                o.obj = stored.get(o.key)
            elif o.obj is None:
                o.obj = self.build(o)
