"""Who may read a lesson (its text, its media and resources) and who may change it.

A lesson is readable by:
- staff, and the course's instructors (drafts included);
- anyone, signed in or not, when it is a `preview` of a published course;
- the course's learners: whoever the registered learner checks say learns in it.

The catalog knows who teaches and what is a preview; who *learns* in a course is the
enrollment app's knowledge (enrollment/access.py: an enrollment in an access status). The
catalog never imports it (pyproject.toml's import contracts): enrollment registers its
check here at start-up (EnrollmentConfig.ready). With no check registered, only staff,
instructors and previews get in: the rule fails closed.

Refusals: 401 to the anonymous, 403 to the signed in, 404 for a lesson that does not
exist or belongs to a draft the caller may not see.
"""

from typing import Protocol

from catalog import selectors
from catalog.models import Lesson
from portal.accounts.models import User
from portal.errors import Forbidden, NotAuthenticated, NotFound


class LearnerCheck(Protocol):
    def __call__(self, *, user: User, course_id: int) -> bool: ...


_learner_checks: list[LearnerCheck] = []


def learner_check_register(fn: LearnerCheck) -> LearnerCheck:
    """Count `fn(user=…, course_id=…)` returning True as learning in that course.
    Registering the same function again does nothing (ready() may run more than once)."""
    if fn not in _learner_checks:
        _learner_checks.append(fn)
    return fn


def course_is_learned_by(*, user: User, course_id: int) -> bool:
    return any(check(user=user, course_id=course_id) for check in _learner_checks)


def lesson_read_check(*, lesson: Lesson, user: User | None) -> None:
    """Return if `user` may read `lesson`; raise the refusal otherwise."""
    course = lesson.module.course
    reader = user if user is not None and user.is_authenticated else None
    if reader is not None and (
        reader.is_staff or selectors.course_is_taught_by(course=course, user=reader)
    ):
        return
    if not course.is_published:
        if reader is not None and course_is_learned_by(user=reader, course_id=course.id):
            return  # an unpublished course stays open to those who enrolled
        raise NotFound("No such lesson.")
    if lesson.preview:
        return
    if reader is None:
        raise NotAuthenticated("Sign in to read this lesson.")
    if course_is_learned_by(user=reader, course_id=course.id):
        return
    raise Forbidden("Enroll in this course to read this lesson.")


def lesson_edit_check(*, lesson: Lesson, user: User | None) -> None:
    """Return if `user` may change `lesson` (its course's instructors, staff)."""
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("Authentication credentials were not provided.")
    course = lesson.module.course
    if selectors.course_can_edit(course=course, user=user):
        return
    if not course.is_published:
        raise NotFound("No such lesson.")
    raise Forbidden("Only this course's instructors and staff may change its lessons.")
