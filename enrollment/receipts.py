"""Receipts: issued once per paid enrollment, in the transaction that activates it
(enrollment.transitions.activate), with what was sold and to whom copied in; the buyer's
copy is emailed by a job on the `emails` queue (enrollment.followups.receipt_email_send).

Numbers run in issue order (RCT-<year>-<sequence>), as a shop's receipts do; they are not
secrets: the receipt is read by its buyer (signed in) or staff only, and guests get theirs
by email.
"""

from django.utils import timezone

from enrollment.models import Enrollment, Payment, Receipt


def receipt_number(receipt_id: int, year: int) -> str:
    return f"RCT-{year}-{receipt_id:06d}"


def receipt_issue(*, enrollment: Enrollment, payment: Payment) -> Receipt | None:
    """The enrollment's receipt, issued now unless it has one (an activation after a
    declined attempt is still one sale); None for nothing paid. Runs in the caller's
    transaction, holding the enrollment's row lock."""
    if Receipt.objects.filter(enrollment=enrollment).exists():
        return None
    if payment.amount <= 0 and not payment.coupon_code:
        return None  # nothing sold (a coupon that took the whole price still made a sale)
    now = timezone.now()
    receipt = Receipt.objects.create(
        enrollment=enrollment,
        number=f"pending-{enrollment.pk}",  # unique until the id is known, just below
        issued_at=now,
        amount=payment.amount,
        currency=payment.currency,
        coupon=payment.coupon_code,
        course_title=enrollment.course.title,
        course_slug=enrollment.course.slug,
        student_name=enrollment.student.name,
        student_email=enrollment.student.email,
    )
    receipt.number = receipt_number(receipt.pk, now.year)
    receipt.save(update_fields=["number"])
    return receipt
