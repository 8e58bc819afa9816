"""Course statistics (`enrollment_count`, `revenue`): moved only here."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from catalog.models import Course


def course_stats_add(*, course_id: int, enrollments: int, revenue: Decimal) -> None:
    """Add to a course's statistics after the caller's transaction commits, in a statement
    of its own, so that transaction never waits on the course row for them."""

    def apply() -> None:
        # No cache retirement: cached answers show seats (retired when they move), not
        # these statistics; only the "popular" order may lag by the list cache's lifetime.
        Course.objects.filter(pk=course_id).update(
            enrollment_count=F("enrollment_count") + enrollments, revenue=F("revenue") + revenue
        )

    transaction.on_commit(apply)
