"""What an enrollment change tells others: events written in the caller's transaction,
course stats and seats, and cached answers to retire. Hot paths take the course row lock
for one statement at a time (see enrollment.services)."""

from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from catalog import cache as catalog_cache
from catalog.models import Course, CourseInstructor
from enrollment import presenters, selectors
from enrollment.models import Enrollment
from portal.events.publish import publish_course_state, publish_to_user
from portal.events.types import CourseSeats, EnrollmentCreated, EnrollmentStatus


def enrollment_payload(enrollment_id: int) -> dict[str, Any]:
    """The contract's Enrollment, built once per change and shared by its events."""
    return presenters.enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment_id))


def enrollment_payload_held(enrollment: Enrollment, payment, links: list) -> dict[str, Any]:
    """The same body as enrollment_payload, from rows a transition already holds (the
    enrollment with its student and course, its payment, the course's instructor links):
    two light queries instead of the display selector's joins, on every activation."""
    completed, total = selectors.lesson_counts(
        enrollment_id=enrollment.pk, course_id=enrollment.course_id
    )
    enrollment.completed_lessons, enrollment.total_lessons = completed, total
    return presenters.enrollment_body(enrollment, payment=payment, instructor_links=links)


def publish_status(enrollment: Enrollment, body: dict[str, Any] | None = None) -> None:
    """`enrollment.status` to the enrollment's student (every open tab of their user)."""
    user_id = enrollment.student.user_id
    if user_id is None:
        return  # a guest has no socket; the HTTP answer carries the state
    body = body if body is not None else enrollment_payload(enrollment.pk)
    publish_to_user(user_id=user_id, event=EnrollmentStatus(enrollment=body))


def publish_created(
    enrollment: Enrollment, body: dict[str, Any], instructor_ids: list[int] | None = None
) -> None:
    """`enrollment.created` fanned out at write time to each instructor's own stream."""
    course = body["course"]
    summary = {key: course[key] for key in ("id", "slug", "title", "seats_taken", "capacity")}
    if instructor_ids is None:
        instructor_ids = list(
            CourseInstructor.objects.filter(course_id=enrollment.course_id).values_list(
                "user_id", flat=True
            )
        )
    for user_id in instructor_ids:
        publish_to_user(user_id=user_id, event=EnrollmentCreated(enrollment=body, course=summary))


def seats_changed(*, slug: str, seats_taken: int, capacity: int | None) -> None:
    """Tell the course's watchers (after commit) and retire its cached answers."""
    publish_course_state(state=CourseSeats(course=slug, seats_taken=seats_taken, capacity=capacity))
    catalog_cache.invalidate_on_commit([slug])


def _move_seat(
    course_id: int, sql_condition: str, delta: str
) -> tuple[str, int, int | None] | None:
    """One conditional UPDATE … RETURNING: the row lock lasts from here to the commit."""
    table = connection.ops.quote_name(Course._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seats_taken = seats_taken {delta} "  # noqa: S608 - no user input
            f"WHERE id = %s AND {sql_condition} RETURNING slug, seats_taken, capacity",
            [course_id],
        )
        return cursor.fetchone()


def take_seat(course_id: int) -> tuple[str, int, int | None] | None:
    """Reserve a seat if one is free (and the course is published); None when full."""
    return _move_seat(
        course_id,
        "published_at IS NOT NULL AND (capacity IS NULL OR seats_taken < capacity)",
        "+ 1",
    )


def release_seat(course_id: int) -> None:
    row = _move_seat(course_id, "seats_taken > 0", "- 1")
    if row is not None:
        slug, seats_taken, capacity = row
        seats_changed(slug=slug, seats_taken=seats_taken, capacity=capacity)


def count_after_commit(*, course_id: int, enrollments: int, revenue: Decimal) -> None:
    """Course stats move after commit, in a statement of their own, so the transaction
    that changed the enrollment never waits on the course row for them."""

    def apply() -> None:
        # No cache invalidation: cached answers show seats (retired when they move), not
        # these stats; only the "popular" order may lag by the list cache's lifetime.
        Course.objects.filter(pk=course_id).update(
            enrollment_count=F("enrollment_count") + enrollments, revenue=F("revenue") + revenue
        )

    transaction.on_commit(apply)
