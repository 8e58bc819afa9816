"""The roster as CSV, produced row by row: the rows come from one query read in chunks
(QuerySet.iterator), each chunk of lines is encoded and handed on, so memory holds one
chunk whatever the course's size.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or
carriage return that hides one) are prefixed with ' (OWASP's CSV injection advice): the
names and emails are the students' own input."""

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

from asgiref.sync import sync_to_async

from catalog.models import Course
from instructor import selectors

HEADER = (
    "number",
    "student_name",
    "student_email",
    "status",
    "enrolled_at",
    "completed_lessons",
    "total_lessons",
    "percent",
    "completed_at",
    "certificate_code",
)
CHUNK_ROWS = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def roster_filename(course: Course) -> str:
    return f"{course.slug}-roster.csv"  # a slug: [a-z0-9-] only, safe in a header


def roster_csv_chunks(*, course: Course, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The CSV in UTF-8 chunks of up to `chunk_rows` lines (the first starts with a BOM, so
    spreadsheet programs read the names' accents right)."""
    total = selectors.lesson_total(course=course)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADER)
    rows = selectors.roster_rows(course=course).iterator(chunk_size=chunk_rows)
    for line, (number, name, email, status, enrolled, done, completed, code) in enumerate(
        rows, start=1
    ):
        percent = round(100 * done / total, 1) if total else 0.0
        writer.writerow(
            [csv_safe(cell) for cell in (number, name, email, status, enrolled)]
            + [done, total, percent, csv_safe(completed), csv_safe(code)]
        )
        if line % chunk_rows == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


async def aiter_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The same chunks for an ASGI server, each pulled on Django's sync thread (the one
    holding the database cursor). Django's ASGI handler would otherwise read a sync
    iterator into a list first: the whole roster in memory."""
    pull = sync_to_async(_next_chunk, thread_sensitive=True)
    while True:
        chunk = await pull(chunks)
        if chunk is None:
            return
        yield chunk
