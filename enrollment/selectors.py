"""Enrollment reads, shaped for the presenters without N+1 queries."""

import re
from typing import Literal

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from catalog.models import Course, CourseInstructor, Lesson, Module
from enrollment.certificates import certificate_code_normalise
from enrollment.errors import InvalidEnrollment
from enrollment.models import Certificate, Enrollment, LessonProgress, Receipt, Student
from portal.accounts.models import User
from portal.errors import Forbidden, NotFound


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    """COUNT(*) of a correlated subquery (joins in the outer query cannot inflate it)."""
    counted = queryset.values(group_by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _teaches(user: User) -> Exists:
    return Exists(CourseInstructor.objects.filter(course=OuterRef("course"), user=user))


def enrollments_for_display() -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.select_related("student", "course", "payment", "certificate")
        .prefetch_related(
            Prefetch(
                "course__course_instructors",
                queryset=CourseInstructor.objects.select_related("user").order_by("position", "id"),
            )
        )
        .annotate(
            completed_lessons=_count(
                LessonProgress.objects.filter(enrollment=OuterRef("pk"), completed=True),
                "enrollment",
            ),
            total_lessons=_count(
                Lesson.objects.filter(module__course=OuterRef("course")), "module__course"
            ),
        )
    )


def enrollment_for_display(*, enrollment_id: int) -> Enrollment:
    return enrollments_for_display().get(pk=enrollment_id)


def student_for_user(user: User) -> Student | None:
    return Student.objects.filter(user=user).first()


def enrollment_visible_q(user: User) -> Q:
    """What a user may read: their own, their courses' (instructors), everything (staff)."""
    if user.is_staff:
        return Q()
    return Q(student__user=user) | Q(_teaches(user))


def enrollment_get_for(*, enrollment_id: int, user: User | AnonymousUser) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return enrollments_for_display().filter(enrollment_visible_q(user), pk=enrollment_id).first()


def enrollment_list_for(
    *, user: User, course_slug: str | None = None, as_student: bool = False
) -> QuerySet[Enrollment]:
    """A student's own enrollments; an instructor's courses' (unless as_student); staff
    see a course's whole roster with ?course=."""
    queryset = enrollments_for_display()
    if course_slug:
        queryset = queryset.filter(course__slug=course_slug)
    if course_slug and user.is_staff and not as_student:
        return queryset.order_by("-created_at", "-id")
    if user.is_instructor and not as_student:
        queryset = queryset.filter(
            _teaches(user) | Q(student__user=user) if course_slug else _teaches(user)
        )
    else:
        queryset = queryset.filter(student__user=user)
    return queryset.order_by("-created_at", "-id")


# Written once: the ORM's correlated subqueries took ~3 ms of CPU to compile on every
# activation (docs/benchmarks.md, "Enrollment throughput").
_LESSON_COUNTS_SQL = (
    f"SELECT (SELECT COUNT(*) FROM {LessonProgress._meta.db_table} "  # noqa: S608 - no user input
    "WHERE enrollment_id = %s AND completed), "
    f"(SELECT COUNT(*) FROM {Lesson._meta.db_table} lesson "
    f"JOIN {Module._meta.db_table} module ON lesson.module_id = module.id "
    "WHERE module.course_id = %s)"
)


def lesson_counts(*, enrollment_id: int, course_id: int) -> tuple[int, int]:
    """(completed lessons of the enrollment, lessons of the course) in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(_LESSON_COUNTS_SQL, [enrollment_id, course_id])
        completed, total = cursor.fetchone()
    return int(completed), int(total)


def course_instructor_links(course_id: int) -> list[CourseInstructor]:
    return list(
        CourseInstructor.objects.filter(course_id=course_id)
        .select_related("user")
        .order_by("position", "id")
    )


def lesson_progress_rows(*, enrollment_id: int) -> list[dict]:
    return [
        {
            "lesson": row["lesson_id"],
            "completed": row["completed"],
            "position_seconds": row["position_seconds"],
            "completed_at": row["completed_at"],
        }
        for row in LessonProgress.objects.filter(enrollment_id=enrollment_id)
        .order_by("lesson_id")
        .values("lesson_id", "completed", "position_seconds", "completed_at")
    ]


def lesson_progress_get(*, progress_id: int) -> LessonProgress:
    return LessonProgress.objects.select_related("enrollment").get(pk=progress_id)


def course_for_enrollment(*, ref: int | str) -> Course:
    """The published course a request names by id or slug; 400 on the `course` field if none."""
    lookup: dict[str, int | str] = {"pk": ref} if isinstance(ref, int) else {"slug": ref}
    course = Course.objects.filter(published_at__isnull=False, **lookup).first()
    if course is None:
        raise InvalidEnrollment("No such course.", {"course": ["No such course."]})
    return course


def enrollment_visible_get(*, enrollment_id: int, user: User | AnonymousUser) -> Enrollment:
    """The enrollment if this user may read it; 404 otherwise (never revealing it exists)."""
    enrollment = enrollment_get_for(enrollment_id=enrollment_id, user=user)
    if enrollment is None:
        raise NotFound("No such enrollment.")
    return enrollment


def enrollment_get_to_change(
    *, enrollment_id: int, user: User, action: Literal["cancel", "progress", "pay"]
) -> Enrollment:
    """The enrollment if this user may make this change: its student cancels, pays or
    records progress; staff may cancel too. 404 if they may not even see it, else 403."""
    enrollment = enrollment_visible_get(enrollment_id=enrollment_id, user=user)
    own = enrollment.student.user_id == user.pk
    if action == "cancel" and not (own or user.is_staff):
        raise Forbidden("Only the enrollment's student or staff may cancel it.")
    if action == "progress" and not own:
        raise Forbidden("Only the enrollment's student may record progress.")
    if action == "pay" and not own:
        raise Forbidden("Only the enrollment's student may pay for it.")
    return enrollment


def receipt_of_enrollment(*, enrollment: Enrollment) -> Receipt:
    """The receipt of an enrollment the caller may read; 404 for one nothing was paid for
    (free, or its payment never succeeded)."""
    receipt = Receipt.objects.filter(enrollment=enrollment).first()
    if receipt is None:
        raise NotFound("This enrollment has no receipt: nothing was paid for it.")
    return receipt


RECEIPT_NUMBER_SHAPE = re.compile(r"RCT-\d{4}-\d{6,}")


def receipt_by_number_for(*, number: str, user: User) -> Receipt | None:
    """The receipt a number names, if this user may read its enrollment (its buyer, the
    course's instructors, staff); None otherwise, never revealing that it exists."""
    if not user.is_authenticated or not RECEIPT_NUMBER_SHAPE.fullmatch(number):
        return None
    readable = Enrollment.objects.filter(enrollment_visible_q(user))
    return Receipt.objects.filter(number=number, enrollment__in=readable).first()


def certificate_by_code(*, code: str) -> Certificate:
    """The certificate a code names, for anyone holding the code; 404 otherwise."""
    normal = certificate_code_normalise(code)
    certificate = Certificate.objects.filter(code=normal).first() if normal else None
    if certificate is None:
        raise NotFound("No certificate has this code.")
    return certificate


def certificate_of_enrollment(*, enrollment: Enrollment) -> Certificate:
    """The certificate of an enrollment the caller may read; 404 until it is completed."""
    certificate = Certificate.objects.filter(enrollment=enrollment).first()
    if certificate is None:
        raise NotFound("This enrollment has no certificate: its course is not completed yet.")
    return certificate
