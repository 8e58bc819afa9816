"""The events an enrollment change addresses to users, written in the caller's transaction."""

from django.db.models import F

from catalog import cache as catalog_cache
from catalog.models import Course, CourseInstructor
from enrollment import presenters, selectors
from enrollment.models import Enrollment
from realtime.events import publish_course_state, publish_to_user


def course_state(course_id: int) -> dict:
    row = Course.objects.values("id", "slug", "title", "seats_taken", "capacity").get(pk=course_id)
    return row


def publish_status(enrollment: Enrollment) -> None:
    """`enrollment.status` to the enrollment's student (every open tab of their user)."""
    user_id = enrollment.student.user_id
    if user_id is None:
        return  # a guest has no socket to receive it; the HTTP answer carries the state
    body = presenters.enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment.pk))
    publish_to_user(user_id=user_id, type="enrollment.status", payload={"enrollment": body})


def publish_created(enrollment: Enrollment) -> None:
    """`enrollment.created` fanned out at write time to each instructor's own stream."""
    body = presenters.enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment.pk))
    course = course_state(enrollment.course_id)
    instructor_ids = CourseInstructor.objects.filter(course_id=enrollment.course_id).values_list(
        "user_id", flat=True
    )
    for user_id in instructor_ids:
        publish_to_user(
            user_id=user_id,
            type="enrollment.created",
            payload={"enrollment": body, "course": course},
        )


def seats_changed(course_id: int) -> None:
    """Tell the course's watchers its seats moved, and retire its cached answers."""
    course = course_state(course_id)
    publish_course_state(
        slug=course["slug"],
        payload={
            "course": course["slug"],
            "seats_taken": course["seats_taken"],
            "capacity": course["capacity"],
        },
    )
    catalog_cache.invalidate_on_commit([course["slug"]])


def stats_changed(course_id: int) -> None:
    """Enrollment count or revenue moved (not seats): retire cached answers only."""
    slug = Course.objects.values_list("slug", flat=True).get(pk=course_id)
    catalog_cache.invalidate_on_commit([slug])


def release_seat(course_id: int) -> None:
    Course.objects.filter(pk=course_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    seats_changed(course_id)
