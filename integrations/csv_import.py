"""CSV import: parse an uploaded file, guess its column mapping, preview and run the import.

Rows go through the partner API's own serializers and batch writers (integrations/api), so a
row is validated, resolved (partner ids inside the workspace only) and upserted by
`external_id` exactly as the same record sent to `POST /api/v1/<resource>/bulk` would be. An
empty cell means "not given": on an update the stored value stays, as with an omitted field.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .api.resources import (
    AccountReferencesMixin,
    AccountViewSet,
    ContactViewSet,
    DailyUsageViewSet,
    InvoiceViewSet,
    NPSResponseViewSet,
    TicketViewSet,
)
from .api.writer import ERROR, BatchWriter, Outcome
from .models import ImportJob, ImportKind, ImportStatus

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
CHUNK_ROWS = 5000  # one bulk request's worth: duplicates are caught within a chunk, as in a batch
PREVIEW_ROWS = 1000
IGNORE = ""

VIEWSETS = {
    ImportKind.ACCOUNTS: AccountViewSet,
    ImportKind.CONTACTS: ContactViewSet,
    ImportKind.INVOICES: InvoiceViewSet,
    ImportKind.TICKETS: TicketViewSet,
    ImportKind.NPS: NPSResponseViewSet,
    ImportKind.USAGE: DailyUsageViewSet,
}
# Fields a CSV cell cannot hold (an object).
NOT_IN_CSV = {"custom_attributes"}
# Header spellings that mean a field, beyond its own name.
SYNONYMS = {
    "external_id": ["id", "externalid", "customer_id", "account_id", "record_id"],
    "account_external_id": ["account", "account_id", "customer_id", "customer", "company_id"],
    "contact_external_id": ["contact", "contact_id", "user_id"],
    "mrr": ["monthly_recurring_revenue", "monthly_revenue"],
    "name": ["account_name", "company", "company_name", "full_name"],
    "email": ["email_address", "e_mail"],
    "score": ["nps", "nps_score", "rating"],
    "responded_at": ["date", "submitted_at", "response_date"],
    "day": ["date", "usage_date"],
    "events": ["count", "event_count", "events_count"],
    "issued_on": ["issue_date", "invoice_date", "issued"],
    "due_on": ["due_date", "due"],
    "paid_on": ["paid_date", "payment_date", "paid"],
    "opened_at": ["created_at", "created", "opened"],
    "renewal_date": ["renewal", "renews_on"],
}


class ImportFileError(ValueError):
    """The file cannot be read as a CSV with a header row; the message says why."""


@dataclass
class Parsed:
    headers: list[str]
    rows: list[list[str]]


def decode(raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB; split it into smaller files."
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("The file is not text in UTF-8 (save it as “CSV UTF-8”).")


def parse(text: str) -> Parsed:
    if not text.strip():
        raise ImportFileError("The file is empty.")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text), dialect)
        lines = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise ImportFileError(f"The file is not valid CSV: {error}.") from None
    headers = [h.strip() for h in lines[0]]
    if not any(headers):
        raise ImportFileError("The first row must name the columns.")
    duplicated = sorted({h for h in headers if h and headers.count(h) > 1})
    if duplicated:
        raise ImportFileError(f"Column names must be unique; repeated: {', '.join(duplicated)}.")
    rows = lines[1:]
    if not rows:
        raise ImportFileError("The file has a header row but no data rows.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"The file has {len(rows):,} rows; import at most {MAX_ROWS:,} per file.")
    return Parsed(headers, rows)


def fields_of(kind: str) -> list[tuple[str, bool]]:
    """(field name, required) of the records this kind writes, in the serializer's order."""
    serializer = VIEWSETS[kind].serializer_class()
    return [
        (name, field.required)
        for name, field in serializer.fields.items()
        if not field.read_only and name not in NOT_IN_CSV
    ]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: field} for the headers that name a field (by its name or a common synonym);
    each field is taken by at most one column."""
    names = [name for name, _ in fields_of(kind)]
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for exact in (True, False):
        for header in headers:
            if header in mapping:
                continue
            key = _norm(header)
            for name in names:
                if name in taken:
                    continue
                if (exact and key == name) or (not exact and key in SYNONYMS.get(name, [])):
                    mapping[header] = name
                    taken.add(name)
                    break
    return mapping


def check_mapping(kind: str, mapping: dict[str, str]) -> list[str]:
    """Why a mapping cannot be imported (a required field with no column, a field twice)."""
    problems = []
    chosen = [field for field in mapping.values() if field != IGNORE]
    for name in sorted({f for f in chosen if chosen.count(f) > 1}):
        problems.append(f"Two columns are mapped to {name}; map each field once.")
    for name, required in fields_of(kind):
        if required and name not in chosen:
            problems.append(f"Map a column to {name}: every row needs it.")
    return problems


def records(job: ImportJob, parsed: Parsed) -> list[dict]:
    """Each row as the record the API would receive: mapped, non-empty cells only."""
    columns = [(i, job.mapping.get(h, IGNORE)) for i, h in enumerate(parsed.headers)]
    columns = [(i, field) for i, field in columns if field != IGNORE]
    result = []
    for row in parsed.rows:
        record = {}
        for i, field in columns:
            value = row[i].strip() if i < len(row) else ""
            if value:
                record[field] = value
        result.append(record)
    return result


def writer_for(kind: str) -> BatchWriter:
    """The API resource's writer, set up as its viewset does (references resolved in the
    current workspace)."""
    viewset = VIEWSETS[kind]
    writer = viewset.writer_class(viewset.model.objects.all())
    writer.model = viewset.model
    writer.serializer_class = viewset.serializer_class
    if issubclass(viewset, AccountReferencesMixin):
        fields = viewset.serializer_class().fields
        writer.references = {k: v for k, v in AccountReferencesMixin.references.items() if k in fields}
    return writer


@dataclass
class RowResult:
    row: int  # the line number in the file (the header is line 1)
    key: str
    status: str
    errors: list[tuple[str, str]]  # (field, message)


def _results(records_: list[dict], outcomes: list[Outcome], first_row: int) -> list[RowResult]:
    found = []
    for outcome in outcomes:
        record = records_[outcome.index]
        key = record.get("external_id") or " / ".join(
            record.get(k, "") for k in ("account_external_id", "feature", "day") if record.get(k)
        )
        errors = []
        for error in outcome.errors:
            # Pointers are "/<index>/<field>" (or "/<index>" for the record as a whole).
            parts = error["pointer"].split("/")
            field = parts[2].replace("~1", "/").replace("~0", "~") if len(parts) > 2 else ""
            errors.append((field, error["detail"]))
        status = outcome.status or "not_written"
        found.append(RowResult(first_row + outcome.index, key, status, errors))
    return found


def preview(job: ImportJob, parsed: Parsed, limit: int = PREVIEW_ROWS) -> list[RowResult]:
    """What importing the first `limit` rows would do, without writing anything."""
    batch = records(job, parsed)[:limit]
    outcomes = writer_for(job.kind).write(batch, prefix="", dry_run=True)
    return _results(batch, outcomes, first_row=2)


SUMMARY_HEADER = ["row", "key", "status", "field", "error"]


def run(job_id: int) -> ImportJob:
    """Import the file in chunks, counting progress after each; the summary CSV lists every row
    (one line per error for a refused row)."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job
    parsed = parse(job.content)
    batch = records(job, parsed)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), total_rows=len(batch), processed_rows=0
    )
    out = io.StringIO()
    summary = csv.writer(out)
    summary.writerow(SUMMARY_HEADER)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
    try:
        for start in range(0, len(batch), CHUNK_ROWS):
            chunk = batch[start : start + CHUNK_ROWS]
            outcomes = writer_for(job.kind).write(chunk, prefix="")
            for result in _results(chunk, outcomes, first_row=2 + start):
                if result.status in counts:
                    counts[result.status] += 1
                if result.status == ERROR:
                    for field, message in result.errors:
                        summary.writerow([result.row, result.key, result.status, field, message])
                else:
                    summary.writerow([result.row, result.key, result.status, "", ""])
            ImportJob.objects.filter(pk=job.pk).update(
                processed_rows=start + len(chunk),
                created_count=counts["created"],
                updated_count=counts["updated"],
                unchanged_count=counts["unchanged"],
                error_count=counts["error"],
            )
    except Exception as error:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED, error=f"The import stopped: {error}", finished_at=timezone.now()
            )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE, result=out.getvalue(), finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
