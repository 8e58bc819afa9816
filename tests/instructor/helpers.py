"""Made-up enrollments and payments for the instructor tools' tests, written directly (the
pipeline that makes real ones is tested in tests/enrollment)."""

import itertools
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from catalog.models import Course
from enrollment.models import Enrollment, Payment, Student

_numbers = itertools.count(1)


def make_student(*, email: str | None = None, name: str = "Sam Student") -> Student:
    number = next(_numbers)
    return Student.objects.create(email=email or f"student{number}@example.test", name=name)


def make_enrollment(
    course: Course,
    *,
    student: Student | None = None,
    status: str = "active",
    amount: str | None = None,
    payment_status: str = "succeeded",
    currency: str | None = None,
    created_at: datetime | None = None,
    activated: bool = True,
) -> Enrollment:
    now = timezone.now()
    enrollment = Enrollment.objects.create(
        number=f"ENR-T-{next(_numbers):06d}",
        student=student or make_student(),
        course=course,
        status=status,
        activated_at=now if activated else None,
    )
    if created_at is not None:  # auto_now_add ignores a value given to create()
        Enrollment.objects.filter(pk=enrollment.pk).update(created_at=created_at)
    if amount is not None:
        Payment.objects.create(
            enrollment=enrollment,
            amount=Decimal(amount),
            currency=currency or course.currency,
            status=payment_status,
            provider="test",
        )
    return enrollment
