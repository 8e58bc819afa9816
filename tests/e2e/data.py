"""Test data for the browser tests, made through the services (so events and seats are
real), in a thread of its own (see conftest.in_thread)."""

from enrollment import selectors, services
from enrollment.models import Enrollment
from tests.e2e.conftest import in_thread


def enroll(user, course, payment_method: str | None = None) -> Enrollment:
    """`user` enrolls in `course` (a free course needs no payment method)."""
    return in_thread(
        lambda: services.enrollment_create(
            course=course, student=None, user=user, payment_method=payment_method
        )
    )


def enroll_guest(course, email: str, name: str, payment_method: str | None = None) -> Enrollment:
    return in_thread(
        lambda: services.enrollment_create(
            course=course,
            student=services.StudentInput(email=email, name=name),
            user=None,
            payment_method=payment_method,
        )
    )


def record_progress(enrollment: Enrollment, lesson_id: int, *, completed=None, position=None):
    def run():
        fresh = selectors.enrollment_for_display(enrollment_id=enrollment.pk)
        return services.progress_record(
            enrollment=fresh, lesson_id=lesson_id, completed=completed, position_seconds=position
        )

    return in_thread(run)


def lesson_ids(course) -> list[int]:
    from catalog.models import Lesson

    return list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("id", flat=True)
    )
