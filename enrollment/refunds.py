"""The refund rule of a paid enrollment: its course's `refund_days` from the purchase
(activation) and `refund_max_percent` of the lessons completed. The one home of the rule:
the cancel service enforces it (409 `refund_not_allowed`), the Enrollment body carries
its verdict (`refund`) so pages explain it before the student clicks; staff may refund
outside it from the admin."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from enrollment.models import Enrollment, EnrollmentStatus, Payment, PaymentStatus


@dataclass(frozen=True)
class RefundTerms:
    allowed: bool
    until: datetime | None  # the end of the window (None when nothing was paid)
    reason: str  # the terms when allowed, else why not, in a sentence for the student


def _day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y}"


def refund_terms(
    *, enrollment: Enrollment, payment: Payment | None, percent: float
) -> RefundTerms | None:
    """The verdict for cancelling now, or None when the enrollment is not a paid one that
    may still end (nothing to refund)."""
    if payment is None or payment.status != PaymentStatus.SUCCEEDED or payment.amount <= 0:
        return None
    if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
        return None
    course = enrollment.course
    start = enrollment.activated_at or enrollment.created_at
    until = start + timedelta(days=course.refund_days)
    if enrollment.status == EnrollmentStatus.COMPLETED:
        return RefundTerms(False, until, "A completed course is not refunded.")
    if timezone.now() > until:
        return RefundTerms(
            False, until, f"The refund window ({course.refund_days} days) ended on {_day(until)}."
        )
    if Decimal(str(percent)) > course.refund_max_percent:
        return RefundTerms(
            False,
            until,
            f"You have completed {percent:g}% of the lessons; refunds are given up to "
            f"{course.refund_max_percent}%.",
        )
    return RefundTerms(
        True,
        until,
        f"Cancel by {_day(until)}, with at most {course.refund_max_percent}% of the lessons "
        "completed, for a full refund.",
    )
