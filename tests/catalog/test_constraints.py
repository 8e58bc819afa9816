"""Database-level rules: PostgreSQL refuses bad rows even when Python validation is bypassed."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Course, Lesson, Module
from enrollment.models import Enrollment, LessonProgress, Payment, Student
from tests.factories import make_course

pytestmark = pytest.mark.django_db


def _refused(write) -> None:
    """The write fails with IntegrityError, inside a savepoint so the test DB stays usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def _course_row(course: Course) -> dict:
    return Course.objects.values("seats_taken", "capacity", "price", "rating", "slug").get(
        pk=course.pk
    )


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"capacity": 10, "seats_taken": 11}, "course_seats_within_capacity"),
        # PositiveIntegerField's own CHECK may fire before the named one: either will do.
        ({"seats_taken": -1}, "course_seats_nonnegative|seats_taken_check"),
        ({"capacity": 0}, "course_capacity_positive"),
        ({"price": Decimal("-0.01")}, "course_price_nonnegative"),
        ({"rating": Decimal("5.01")}, "course_rating_range"),
        ({"rating": Decimal("-0.5")}, "course_rating_range"),
        ({"revenue": Decimal("-1.00")}, "course_revenue_nonnegative"),
    ],
)
def test_course_check_constraints_refuse_bad_updates(changes, constraint):
    course = make_course(capacity=10, price="49.00")
    course.seats_taken = 3
    course.save(update_fields=["seats_taken"])
    before = _course_row(course)

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(**changes)

    assert _course_row(course) == before


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE catalog_course SET seats_taken = capacity + 1 WHERE id = %s",
        "UPDATE catalog_course SET seats_taken = -1 WHERE id = %s",
        "UPDATE catalog_course SET capacity = 0, seats_taken = 0 WHERE id = %s",
        "UPDATE catalog_course SET price = -5 WHERE id = %s",
        "UPDATE catalog_course SET rating = 5.5 WHERE id = %s",
    ],
)
def test_course_constraints_hold_against_raw_sql(sql):
    course = make_course(capacity=5, price="10.00")

    def write():
        with connection.cursor() as cursor:
            cursor.execute(sql, [course.pk])

    _refused(write)
    course.refresh_from_db()
    assert (course.capacity, course.seats_taken, course.price) == (5, 0, Decimal("10.00"))


def test_course_inserts_with_bad_values_are_refused():
    _refused(lambda: make_course(capacity=2, seats_taken=3))
    _refused(lambda: make_course(capacity=0))
    _refused(lambda: make_course(price="-1.00"))
    _refused(lambda: make_course(rating=Decimal("6")))
    assert not Course.objects.exists()


def test_course_limits_that_are_allowed():
    full = make_course(capacity=3, seats_taken=3)
    unlimited = make_course(capacity=None, seats_taken=10_000)
    edges = make_course(price="0.00", rating=Decimal("5.00"))
    low = make_course(rating=Decimal("0.00"))
    assert Course.objects.filter(pk__in=[full.pk, unlimited.pk, edges.pk, low.pk]).count() == 4


def test_duplicate_slug_is_refused():
    make_course(slug="intro-to-python")
    _refused(lambda: make_course(slug="intro-to-python"))
    assert Course.objects.filter(slug="intro-to-python").count() == 1


def test_duplicate_module_position_in_a_course_is_refused():
    course = make_course(modules=2)
    _refused(lambda: Module.objects.create(course=course, title="Again", position=2))
    other = make_course()
    Module.objects.create(course=other, title="Same position elsewhere", position=2)
    assert list(course.modules.values_list("position", flat=True)) == [1, 2]


def test_duplicate_lesson_position_in_a_module_is_refused():
    course = make_course(modules=2, lessons_per_module=3)
    first, second = course.modules.order_by("position")
    _refused(lambda: Lesson.objects.create(module=first, title="Again", position=3))
    Lesson.objects.create(module=second, title="Fourth", position=4)
    assert first.lessons.count() == 3
    assert second.lessons.count() == 4


# --- enrollment/models.py ------------------------------------------------------------


def _student(email: str = "ada@example.com") -> Student:
    return Student.objects.create(email=email, name="Ada")


def _enroll(student: Student, course: Course, number: str, status: str = "pending"):
    return Enrollment.objects.create(number=number, student=student, course=course, status=status)


@pytest.mark.parametrize(
    ("first", "second"),
    [("pending", "pending"), ("pending", "active"), ("active", "active"), ("active", "pending")],
)
def test_two_live_enrollments_of_one_student_in_one_course_are_refused(first, second):
    course = make_course()
    student = _student()
    _enroll(student, course, "ENR-2026-000001", first)
    _refused(lambda: _enroll(student, course, "ENR-2026-000002", second))
    assert Enrollment.objects.filter(student=student, course=course).count() == 1


@pytest.mark.parametrize("ended", ["cancelled", "refunded"])
def test_ended_enrollments_do_not_block_a_new_live_one(ended):
    course = make_course()
    student = _student()
    _enroll(student, course, "ENR-2026-000001", ended)
    _enroll(student, course, "ENR-2026-000002", ended)
    _enroll(student, course, "ENR-2026-000003", "active")
    assert Enrollment.objects.filter(student=student, course=course).count() == 3


def test_reviving_an_ended_enrollment_beside_a_live_one_is_refused():
    course = make_course()
    student = _student()
    old = _enroll(student, course, "ENR-2026-000001", "cancelled")
    _enroll(student, course, "ENR-2026-000002", "active")
    _refused(lambda: Enrollment.objects.filter(pk=old.pk).update(status="pending"))
    old.refresh_from_db()
    assert old.status == "cancelled"


def test_the_same_student_may_be_live_in_different_courses_and_students_share_a_course():
    first, second = make_course(), make_course()
    ada, bob = _student("ada@example.com"), _student("bob@example.com")
    _enroll(ada, first, "ENR-2026-000001")
    _enroll(ada, second, "ENR-2026-000002")
    _enroll(bob, first, "ENR-2026-000003")
    assert Enrollment.objects.count() == 3


def test_enrollment_number_is_unique_and_status_must_be_known():
    course = make_course()
    _enroll(_student("a@example.com"), course, "ENR-2026-000001")
    _refused(lambda: _enroll(_student("b@example.com"), course, "ENR-2026-000001"))
    _refused(lambda: _enroll(_student("c@example.com"), course, "ENR-2026-000009", "done"))
    assert Enrollment.objects.count() == 1


def test_a_guest_record_is_unique_per_address_and_client_case_insensitively():
    _student("ada@example.com")
    _refused(lambda: _student("ADA@Example.COM"))
    _refused(lambda: _student("ada@example.com"))
    # Another client's checkout with the address has a record of its own.
    Student.objects.create(email="ada@example.com", name="Ada", guest_key="another-client")
    assert Student.objects.filter(email__iexact="ada@example.com").count() == 2


def test_payment_amount_must_not_be_negative():
    enrollment = _enroll(_student(), make_course(price="49.00"), "ENR-2026-000001")

    def pay(amount: str) -> Payment:
        return Payment.objects.create(
            enrollment=enrollment, amount=Decimal(amount), currency="usd", provider="test"
        )

    _refused(lambda: pay("-0.01"))
    assert not Payment.objects.exists()
    assert pay("0.00").amount == Decimal("0.00")


def test_payment_status_must_be_known():
    enrollment = _enroll(_student(), make_course(), "ENR-2026-000001")
    _refused(
        lambda: Payment.objects.create(
            enrollment=enrollment,
            amount=Decimal("1.00"),
            currency="usd",
            provider="test",
            status="paid",
        )
    )
    assert not Payment.objects.exists()


def test_lesson_progress_completed_needs_completed_at():
    course = make_course(modules=1, lessons_per_module=2)
    first, second = Lesson.objects.filter(module__course=course).order_by("position")
    enrollment = _enroll(_student(), course, "ENR-2026-000001", "active")

    _refused(
        lambda: LessonProgress.objects.create(
            enrollment=enrollment, lesson=first, completed=True, completed_at=None
        )
    )
    started = LessonProgress.objects.create(enrollment=enrollment, lesson=first)
    done = LessonProgress.objects.create(
        enrollment=enrollment, lesson=second, completed=True, completed_at=timezone.now()
    )
    _refused(lambda: LessonProgress.objects.filter(pk=started.pk).update(completed=True))
    _refused(lambda: LessonProgress.objects.create(enrollment=enrollment, lesson=second))
    assert LessonProgress.objects.filter(completed=True).get() == done
