"""Instructor reads: which courses are the caller's, revenue and enrollments per hour (one
aggregate query each, never a page walk), the roster's rows and an announcement's
recipients. Everything is computed by the database."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from catalog.models import Course, Lesson, WaitlistStatus
from enrollment.models import (
    ACCESS_STATUSES,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    Payment,
    PaymentStatus,
)
from instructor.models import AnnouncementOptOut
from portal.accounts.models import User
from portal.errors import NotFound
from portal.mail import UNDELIVERABLE_SUFFIXES

ZERO = Decimal("0.00")
HOUR = timedelta(hours=1)


def taught_courses(user: User) -> QuerySet[Course]:
    """The courses the user teaches, drafts included (staff too: only the ones they teach)."""
    return Course.objects.filter(course_instructors__user=user).distinct()


def course_for_instructor(*, slug: str, user: User) -> Course:
    """A course its instructors and staff manage; anyone else gets 404 (it does not exist
    for them), as every instructor tool answers."""
    courses = Course.objects.filter(slug=slug)
    if not user.is_staff:
        courses = courses.filter(course_instructors__user=user)
    course = courses.first()
    if course is None:
        raise NotFound("No such course.")
    return course


# --- revenue --------------------------------------------------------------------------


@dataclass
class Revenue:
    gross: Decimal = ZERO
    refunds: Decimal = ZERO
    enrollments: int = 0
    active: int = 0
    completed: int = 0

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds


@dataclass
class RevenueReport:
    # (course id, currency) → money and counts; courses in title order.
    courses: list[tuple[Course, str, Revenue]] = field(default_factory=list)
    totals: dict[str, Revenue] = field(default_factory=dict)


def revenue_report(*, user: User) -> RevenueReport:
    """Gross (succeeded + refunded payments), refunds and enrollment counts of the user's
    courses: one query over payments grouped by course and currency, one over enrollments
    grouped by course. A course with payments in a second currency (its price's currency
    changed) gets a row per currency; its enrollment counts stay on its own currency's row."""
    courses = list(taught_courses(user).order_by("title", "id"))
    ids = [course.id for course in courses]
    money = (
        Payment.objects.filter(
            enrollment__course_id__in=ids,
            status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED],
        )
        .values("enrollment__course_id", "currency")
        .annotate(
            gross=Sum("amount"),
            refunds=Coalesce(Sum("amount", filter=Q(status=PaymentStatus.REFUNDED)), ZERO),
        )
        .order_by()
    )
    counts = (
        Enrollment.objects.filter(course_id__in=ids, activated_at__isnull=False)
        .values("course_id")
        .annotate(
            total=Count("id"),
            active=Count("id", filter=Q(status=EnrollmentStatus.ACTIVE)),
            completed=Count("id", filter=Q(status=EnrollmentStatus.COMPLETED)),
        )
        .order_by()
    )
    rows: dict[tuple[int, str], Revenue] = {
        (course.id, course.currency.lower()): Revenue() for course in courses
    }
    for row in money:
        key = (row["enrollment__course_id"], row["currency"].lower())
        revenue = rows.setdefault(key, Revenue())
        revenue.gross += row["gross"]
        revenue.refunds += row["refunds"]
    by_id = {course.id: course for course in courses}
    for row in counts:
        revenue = rows[(row["course_id"], by_id[row["course_id"]].currency.lower())]
        revenue.enrollments, revenue.active = row["total"], row["active"]
        revenue.completed = row["completed"]
    report = RevenueReport()
    order = {course.id: position for position, course in enumerate(courses)}
    for (course_id, currency), revenue in sorted(
        rows.items(), key=lambda item: (order[item[0][0]], item[0][1])
    ):
        report.courses.append((by_id[course_id], currency, revenue))
        total = report.totals.setdefault(currency, Revenue())
        total.gross += revenue.gross
        total.refunds += revenue.refunds
        total.enrollments += revenue.enrollments
        total.active += revenue.active
        total.completed += revenue.completed
    return report


# --- enrollments per hour ------------------------------------------------------------------


def enrollments_per_hour(
    *, courses: QuerySet[Course], hours: int, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """(hour start in UTC, enrollments created in it) for the `hours` hours ending with the
    current one, oldest first, zeros included. An enrollment counts once it went through
    (activated, whatever happened after). One GROUP BY query; the zeros are filled here."""
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + HOUR
    start = end - hours * HOUR
    counted = (
        Enrollment.objects.filter(
            course__in=courses,
            activated_at__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {row["hour"].astimezone(UTC): row["n"] for row in counted}
    return [(start + i * HOUR, found.get(start + i * HOUR, 0)) for i in range(hours)]


# --- roster -----------------------------------------------------------------------------

ROSTER_COLUMNS = (
    "number",
    "student__name",
    "student__email",
    "status",
    "created_at",
    "completed_lessons",
    "completed_at",
    "certificate__code",
)


def lesson_total(*, course: Course) -> int:
    return Lesson.objects.filter(module__course=course).count()


def roster_rows(*, course: Course) -> QuerySet:
    """The course's enrollments as tuples of ROSTER_COLUMNS, oldest first, with each one's
    completed lessons counted by a correlated subquery: one query for the whole roster
    (read with .iterator(), so rows stream instead of being held)."""
    completed = (
        LessonProgress.objects.filter(enrollment=OuterRef("pk"), completed=True)
        .values("enrollment")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        Enrollment.objects.filter(course=course)
        .annotate(completed_lessons=Coalesce(Subquery(completed, output_field=IntegerField()), 0))
        .order_by("created_at", "id")
        .values_list(*ROSTER_COLUMNS)
    )


# --- announcements ---------------------------------------------------------------------


def announcement_recipients(*, course_id: int, after_student_id: int = 0) -> QuerySet:
    """(student id, email, name) of the course's active and completed students who have not
    opted out, in student id order from `after_student_id` (the batches' cursor). Erased
    accounts' records (an undeliverable `.invalid` address) are nobody to mail."""
    opted_out = AnnouncementOptOut.objects.filter(course_id=course_id).values("student_id")
    undeliverable = Q()
    for suffix in UNDELIVERABLE_SUFFIXES:
        undeliverable |= Q(student__email__iendswith=suffix)
    return (
        Enrollment.objects.filter(
            course_id=course_id, status__in=ACCESS_STATUSES, student_id__gt=after_student_id
        )
        .exclude(student_id__in=opted_out)
        .exclude(undeliverable)
        .order_by("student_id")
        .values_list("student_id", "student__email", "student__name")
        .distinct()
    )


def seats_board(*, user: User) -> list[dict]:
    """The seats and waitlist of each published course the user teaches: one query."""
    rows = (
        taught_courses(user)
        .filter(published_at__isnull=False)
        .annotate(
            waiting=Count("waitlist", filter=Q(waitlist__status=WaitlistStatus.WAITING)),
            offered=Count("waitlist", filter=Q(waitlist__status=WaitlistStatus.OFFERED)),
        )
        .order_by("title", "id")
        .values("slug", "title", "version", "capacity", "seats_taken", "waiting", "offered")
    )
    return list(rows)
