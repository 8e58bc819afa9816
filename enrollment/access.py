"""Which enrollments open a course's lessons to their student: the one place that says so.

An `active` enrollment does, and so does a `completed` one (a student who finished a
course keeps reading it). Pending, cancelled and refunded ones do not. The catalog asks
through the check registered at start-up (catalog.access, EnrollmentConfig.ready).
"""

from enrollment.models import ACCESS_STATUSES, Enrollment
from portal.accounts.models import User


def enrollment_grants_access(*, user: User, course_id: int) -> bool:
    """Whether `user` studies `course_id`: an enrollment of theirs in an access status."""
    if not user.is_authenticated:
        return False
    return Enrollment.objects.filter(
        student__user=user, course_id=course_id, status__in=ACCESS_STATUSES
    ).exists()
