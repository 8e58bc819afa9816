"""The enrollment's events: who hears of a change, with which body. Each is written in
the caller's transaction and delivered after it commits (portal's event log).

- `enrollment.status` → the enrollment's student (every open tab), on every status change;
- `enrollment.created` → every instructor of the course, on activation;
- `enrollment.completed` → the student and every instructor of the course, when the last
  lesson is completed (with the certificate's code and page);
- `progress.updated` → the enrollment's student, on every progress write.
"""

from catalog.models import CourseInstructor
from enrollment import presenters, selectors, shapes
from enrollment.models import Certificate, Enrollment, LessonProgress
from portal.events.publish import publish_to_user
from portal.events.types import (
    CourseSummary,
    EnrollmentCompleted,
    EnrollmentCreated,
    EnrollmentStatus,
    ProgressUpdated,
)


def enrollment_payload(enrollment_id: int) -> shapes.Enrollment:
    """The contract's Enrollment, built once per change and shared by its events."""
    return presenters.enrollment_body(selectors.enrollment_for_display(enrollment_id=enrollment_id))


def enrollment_payload_held(
    enrollment: Enrollment, payment, links: list, certificate: Certificate | None = None
) -> shapes.Enrollment:
    """The same body as enrollment_payload, from rows a transition already holds (the
    enrollment with its student and course, its payment and certificate, the course's
    instructor links): two light queries instead of the display selector's joins."""
    completed, total = selectors.lesson_counts(
        enrollment_id=enrollment.pk, course_id=enrollment.course_id
    )
    # What enrollments_for_display annotates, for enrollment_body.
    enrollment.completed_lessons, enrollment.total_lessons = completed, total  # type: ignore[attr-defined]
    return presenters.enrollment_body(
        enrollment, payment=payment, certificate=certificate, instructor_links=links
    )


def publish_status(enrollment: Enrollment, body: shapes.Enrollment | None = None) -> None:
    """`enrollment.status` to the enrollment's student (every open tab of their user)."""
    user_id = enrollment.student.user_id
    if user_id is None:
        return  # a guest has no socket; the HTTP answer carries the state
    body = body if body is not None else enrollment_payload(enrollment.pk)
    publish_to_user(user_id=user_id, event=EnrollmentStatus(enrollment=body))


def publish_created(
    enrollment: Enrollment, body: shapes.Enrollment, instructor_ids: list[int] | None = None
) -> None:
    """`enrollment.created` fanned out at write time to each instructor's own stream."""
    course = body["course"]
    summary: CourseSummary = {
        "id": course["id"],
        "slug": course["slug"],
        "title": course["title"],
        "seats_taken": course["seats_taken"],
        "capacity": course["capacity"],
    }
    if instructor_ids is None:
        instructor_ids = list(
            CourseInstructor.objects.filter(course_id=enrollment.course_id).values_list(
                "user_id", flat=True
            )
        )
    for user_id in instructor_ids:
        publish_to_user(user_id=user_id, event=EnrollmentCreated(enrollment=body, course=summary))


def publish_completed(
    enrollment: Enrollment,
    body: shapes.Enrollment,
    certificate: Certificate,
    instructor_ids: list[int],
) -> None:
    """`enrollment.completed` to the student and each instructor, once each (an instructor
    who took their own course is told once)."""
    student_id = enrollment.student.user_id
    recipients = dict.fromkeys([*([student_id] if student_id else []), *instructor_ids])
    reference = presenters.certificate_ref(certificate)
    for user_id in recipients:
        publish_to_user(
            user_id=user_id, event=EnrollmentCompleted(enrollment=body, certificate=reference)
        )


def publish_progress(
    *, enrollment: Enrollment, progress: LessonProgress, completed: int, total: int
) -> None:
    """`progress.updated` to the enrollment's student (every open tab of their user)."""
    user_id = enrollment.student.user_id
    if user_id is None:
        return
    summary = presenters.progress_body(completed=completed, total=total)
    publish_to_user(
        user_id=user_id,
        event=ProgressUpdated(
            enrollment=enrollment.pk,
            lesson=progress.lesson_id,
            completed=progress.completed,
            position_seconds=progress.position_seconds,
            percent=summary["percent"],
            progress=summary,
        ),
    )
