"""Course statistics (`enrollment_count`, `revenue`): moved only here."""

from decimal import Decimal

from django.db import connection

from catalog.models import Course
from portal.outbox.registry import effect_handler
from portal.outbox.services import effect_record


def course_stats_add(*, course_id: int, enrollments: int, revenue: Decimal) -> None:
    """Add to a course's statistics after the caller's transaction commits, in a
    transaction of its own, so the caller's never waits on the course row for them. An
    outbox effect: applied exactly once, even if this process dies right after commit."""
    effect_record(
        "catalog.stats.course_stats_apply",
        course_id=course_id,
        enrollments=enrollments,
        revenue=str(revenue),
    )


# Written once: one statement per activation, after its commit.
_ADD_SQL = (
    f"UPDATE {Course._meta.db_table} SET enrollment_count = enrollment_count + %s, "  # noqa: S608 - no user input
    "revenue = revenue + %s WHERE id = %s"
)


@effect_handler
def course_stats_apply(*, course_id: int, enrollments: int, revenue: str) -> None:
    # No cache retirement: cached answers show seats (retired when they move), not
    # these statistics; only the "popular" order may lag by the list cache's lifetime.
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL, [enrollments, Decimal(revenue), course_id])
