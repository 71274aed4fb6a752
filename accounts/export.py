"""Streamed CSV export of a list: the page's own filters, columns and sort, read in chunks.

Rows are written as they are read (`StreamingHttpResponse` over `QuerySet.iterator`), so an export
of 100,000 accounts holds one chunk in memory. Cells that a spreadsheet would run as a formula
(starting with = + - @, or a tab or carriage return) are prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from .columns import Column

CHUNK_SIZE = 2000  # rows read from the database at a time
LINES_PER_CHUNK = 500  # rows sent to the client at a time
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _Echo:
    """A file-like object whose `write` hands the line back, for `csv.writer` to produce lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(objects: Iterable, columns: list[Column]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([column.label for column in columns])
    for obj in objects:
        yield writer.writerow([csv_safe(column.csv(obj)) for column in columns])


def batched(lines: Iterable[str], size: int = LINES_PER_CHUNK) -> Iterator[str]:
    """Lines joined into larger pieces: each piece of a streamed response has a fixed cost on
    its way out (the workspace scope is entered around each one), so send hundreds at once."""
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= size:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def stream_csv(queryset, columns: list[Column], name: str) -> StreamingHttpResponse:
    filename = f"{name}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(
        batched(csv_lines(queryset.iterator(chunk_size=CHUNK_SIZE), columns)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
