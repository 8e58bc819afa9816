"""Payment and enrollment state changes, shared by the request path, webhooks, reconcile
and cancellation. Each runs in a transaction holding the enrollment row lock, then the
payment row lock (always in that order, so concurrent paths cannot deadlock), and is safe
to apply twice: a second success, failure or refund finds the state already changed.
"""

from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.coupons import CouponExhausted, CouponInvalid, coupon_redeem, coupon_release
from catalog.seats import course_seat_take
from catalog.stats import course_stats_add
from catalog.waitlist import seat_free
from enrollment import notify, selectors
from enrollment.certificates import certificate_issue
from enrollment.errors import AlreadyCompleted
from enrollment.models import (
    ACCESS_STATUSES,
    LIVE_STATUSES,
    Certificate,
    Enrollment,
    EnrollmentStatus,
    Payment,
    PaymentStatus,
)
from enrollment.payment_calls import refund_call
from enrollment.payments import GatewayError
from enrollment.receipts import receipt_issue
from portal.enqueue import job_enqueue_on_commit
from portal.jobs.base import RetryableJobError

log = structlog.get_logger(__name__)
OPEN_PAYMENT = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


def lock(enrollment_id: int) -> tuple[Enrollment, Payment | None]:
    # Only the enrollment row is locked ("of self"): its student and course come along for
    # reading, and locking the course row here would serialise every activation.
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("student", "course")
        .get(pk=enrollment_id)
    )
    payment = Payment.objects.select_for_update().filter(enrollment_id=enrollment_id).first()
    return enrollment, payment


# What every activation owes once it commits (see enrollment.tasks / enrollment.followups):
# one message from the request, which a worker turns into these, each on its own queue
# (and `send_receipt_email` when a receipt was issued).
AFTER_ACTIVATION_JOB = "enrollment.tasks.queue_activation_followups"
AFTER_ACTIVATION_JOBS = (
    "enrollment.tasks.send_welcome_email",
    "enrollment.tasks.process_course_access",
    "enrollment.tasks.notify_instructors",
)


@transaction.atomic
def activate(*, enrollment_id: int, reference: str = "") -> Enrollment:
    """The payment succeeded (or the course is free): the enrollment becomes active."""
    enrollment, payment = lock(enrollment_id)
    if payment is not None:
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            return enrollment  # already applied
        payment.status = PaymentStatus.SUCCEEDED
        payment.provider_reference = reference or payment.provider_reference
        payment.failure_reason = ""
        payment.next_action = None
        payment.save(
            update_fields=[
                "status",
                "provider_reference",
                "failure_reason",
                "next_action",
                "updated_at",
            ]
        )
    if enrollment.status != EnrollmentStatus.PENDING:
        if enrollment.status in ACCESS_STATUSES:
            return enrollment
        # Money arrived for an enrollment that ended. After a decline (the customer retried
        # and paid) take the seat back if there is one; after a cancellation, or with no
        # seat left, refund.
        if enrollment.end_reason != "declined" or not _retake_seat(enrollment, payment):
            _refund_later(payment)
            return enrollment
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.activated_at = timezone.now()
    enrollment.ended_at = None
    enrollment.end_reason = ""
    enrollment.save(
        update_fields=["status", "activated_at", "ended_at", "end_reason", "updated_at"]
    )
    links = selectors.course_instructor_links(enrollment.course_id)
    body = notify.enrollment_payload_held(enrollment, payment, links)
    notify.publish_status(enrollment, body)
    # The contract's Enrollment as committed, for the answer (presenters.enrollment_answer).
    enrollment.snapshot = body  # type: ignore[attr-defined]
    course_stats_add(
        course_id=enrollment.course_id,
        enrollments=1,
        revenue=payment.amount if payment else Decimal("0"),
    )
    if payment is not None:
        receipt_issue(enrollment=enrollment, payment=payment)
    job_enqueue_on_commit(AFTER_ACTIVATION_JOB, enrollment.pk)
    # Last: every activation of the course numbers an event of the same instructors, so
    # their cursor rows are locked from here to the commit, which comes next.
    notify.publish_created(enrollment, body, [link.user_id for link in links])
    log.info("enrollment.activated", enrollment=enrollment.number, course=enrollment.course_id)
    return enrollment


@transaction.atomic
def complete(*, enrollment_id: int) -> Certificate | None:
    """Every lesson is completed: the enrollment becomes `completed` and its certificate is
    issued, in the caller's transaction (the progress write that completed the last lesson).
    Exactly once: the enrollment's row lock serialises concurrent completions, and the one
    that finds it no longer active does nothing (None). The seat is kept: the student keeps
    reviewing the course. Nothing undoes it; a lesson added later lowers the percent only."""
    enrollment, payment = lock(enrollment_id)
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return None
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    links = selectors.course_instructor_links(enrollment.course_id)
    certificate = certificate_issue(enrollment=enrollment, instructor_links=links)
    body = notify.enrollment_payload_held(enrollment, payment, links, certificate)
    notify.publish_status(enrollment, body)
    notify.publish_completed(enrollment, body, certificate, [link.user_id for link in links])
    log.info("enrollment.completed", enrollment=enrollment.number, certificate=certificate.code)
    return certificate


def _retake_seat(enrollment: Enrollment, payment: Payment | None) -> bool:
    """Money arrived for a declined checkout: its seat back if there is one (and its
    coupon's use, given back on the decline, if one is left), all or nothing."""
    try:
        with transaction.atomic():
            Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.PENDING)
            if course_seat_take(course_id=enrollment.course_id) is None:
                raise _NoSeat
            if payment is not None and payment.coupon_code:
                coupon_redeem(course=enrollment.course, code=payment.coupon_code)
    except (IntegrityError, _NoSeat, CouponInvalid, CouponExhausted):
        # Enrolled again meanwhile, no seat or no coupon use left: rolled back, refunded.
        return False
    return True


class _NoSeat(Exception):
    pass


def _coupon_back(payment: Payment | None) -> None:
    """An unpaid checkout ended: its coupon's use is given back (a paid one keeps it)."""
    if payment is not None and payment.coupon_id and payment.status != PaymentStatus.SUCCEEDED:
        coupon_release(coupon_id=payment.coupon_id)


def _refund_later(payment: Payment | None) -> None:
    if payment is None:
        return
    log.warning("payment.orphan_success_refunding", payment=payment.pk)
    job_enqueue_on_commit("enrollment.tasks.refund_orphan_payment", payment.pk)


def hold_open(enrollment: Enrollment) -> bool:
    """A pending checkout whose seat hold has not run out: a failed attempt keeps it open
    for another card (POST /api/enrollments/{id}/pay) until then."""
    return (
        enrollment.status == EnrollmentStatus.PENDING
        and enrollment.hold_expires_at is not None
        and enrollment.hold_expires_at > timezone.now()
    )


@transaction.atomic
def fail(
    *, enrollment_id: int, reason: str, reference: str = "", keep_open: bool = False
) -> Enrollment:
    """The payment was declined: record it, cancel the enrollment, release the seat.

    `keep_open`: the buyer already holds this checkout (its 201 was answered: a 3-D Secure
    challenge failed, another card was declined): while its hold lasts the enrollment of a
    signed-in buyer stays pending with its seat, the failure shown, for another card or a
    cancel."""
    enrollment, payment = lock(enrollment_id)
    if payment is None or payment.status not in OPEN_PAYMENT:
        return enrollment  # a success or refund already decided it
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = reason[:255]
    payment.provider_reference = reference or payment.provider_reference
    payment.next_action = None
    payment.save(
        update_fields=[
            "status",
            "failure_reason",
            "provider_reference",
            "next_action",
            "updated_at",
        ]
    )
    # Kept open only for a buyer who can act on it (signed in: /pay, cancel); a guest's
    # checkout ends, so their next POST /api/enrollments starts afresh.
    if keep_open and hold_open(enrollment) and enrollment.student.user_id is not None:
        notify.publish_status(enrollment)
        return enrollment
    if enrollment.status in LIVE_STATUSES:
        _coupon_back(payment)
        _end(enrollment, EnrollmentStatus.CANCELLED, reason="declined")
    return enrollment


@transaction.atomic
def await_action(
    *,
    enrollment_id: int,
    reference: str,
    unknown: bool,
    next_action: dict[str, str] | None = None,
) -> Enrollment:
    """The outcome is not known yet: keep the enrollment pending for webhook/reconcile.
    A charge waiting for the customer (3-D Secure) keeps what they must do."""
    enrollment, payment = lock(enrollment_id)
    if payment is not None and payment.status in OPEN_PAYMENT:
        payment.status = PaymentStatus.PENDING if unknown else PaymentStatus.REQUIRES_ACTION
        payment.provider_reference = reference or payment.provider_reference
        payment.next_action = None if unknown else next_action
        payment.save(update_fields=["status", "provider_reference", "next_action", "updated_at"])
    return enrollment


@transaction.atomic
def expire(*, enrollment_id: int) -> bool:
    """The checkout's hold ran out: cancel the enrollment and release its seat, once (the
    row lock orders it against a late success: whichever comes second finds it decided,
    and money arriving after this is refunded by activate). Owed after commit: the
    charge cancelled at the gateway, and the buyer's one reminder."""
    enrollment, payment = lock(enrollment_id)
    if enrollment.status != EnrollmentStatus.PENDING or hold_open(enrollment):
        return False
    if enrollment.hold_expires_at is None:
        return False  # not a held checkout (a free enrollment waiting for its sweep)
    charge_open = payment is not None and payment.status in OPEN_PAYMENT
    if payment is not None and payment.status != PaymentStatus.SUCCEEDED:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = "The checkout expired before the payment was completed."
        payment.next_action = None
        payment.save(update_fields=["status", "failure_reason", "next_action", "updated_at"])
        _coupon_back(payment)
    _end(enrollment, EnrollmentStatus.CANCELLED, reason="expired")
    if charge_open and payment is not None and payment.provider_reference:
        job_enqueue_on_commit("enrollment.tasks.cancel_gateway_charge", payment.pk)
    job_enqueue_on_commit("enrollment.tasks.send_payment_reminder", enrollment.pk)
    log.info("enrollment.hold_expired", enrollment=enrollment.number)
    return True


@transaction.atomic
def refund(*, enrollment_id: int) -> Enrollment:
    """The gateway refunded the payment: the enrollment is refunded and its seat released."""
    enrollment, payment = lock(enrollment_id)
    if payment is None or payment.status == PaymentStatus.REFUNDED:
        return enrollment
    if payment.status == PaymentStatus.SUCCEEDED:
        course_stats_add(course_id=enrollment.course_id, enrollments=0, revenue=-payment.amount)
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "updated_at"])
    if enrollment.status in LIVE_STATUSES:
        _end(enrollment, EnrollmentStatus.REFUNDED, reason="refunded")
    return enrollment


@transaction.atomic
def cancel_unpaid(*, enrollment_id: int) -> Enrollment:
    """Cancel an enrollment with nothing to refund (free, or a payment never completed)."""
    enrollment, payment = lock(enrollment_id)
    if enrollment.status not in LIVE_STATUSES:
        return enrollment
    if enrollment.status == EnrollmentStatus.COMPLETED:
        raise AlreadyCompleted("A completed enrollment cannot be cancelled.")
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED and payment.amount > 0:
        raise ValueError("a paid enrollment is cancelled through a refund")
    if payment is not None and payment.status in OPEN_PAYMENT:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = "Cancelled before the payment completed."
        payment.next_action = None
        payment.save(update_fields=["status", "failure_reason", "next_action", "updated_at"])
        if payment.provider_reference:  # a challenge left open could still be completed
            job_enqueue_on_commit("enrollment.tasks.cancel_gateway_charge", payment.pk)
    _coupon_back(payment)  # also after a failed attempt kept the checkout open
    _end(enrollment, EnrollmentStatus.CANCELLED, reason="cancelled")
    return enrollment


def _end(enrollment: Enrollment, status: str, *, reason: str) -> None:
    # A completed enrollment that ends (a refund made at the provider) keeps its
    # completed_at and certificate: they record what the student did.
    if enrollment.status in ACCESS_STATUSES:
        course_stats_add(course_id=enrollment.course_id, enrollments=-1, revenue=Decimal("0"))
    enrollment.status = status
    enrollment.ended_at = timezone.now()
    enrollment.end_reason = reason
    enrollment.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    # The seat goes to the course's waitlist if anyone waits (or back to an offer a
    # declined first card was using), else it is released.
    seat_free(
        course_id=enrollment.course_id, enrollment_id=enrollment.pk, declined=reason == "declined"
    )
    notify.publish_status(enrollment)
    log.info("enrollment.ended", enrollment=enrollment.number, status=status)


def refund_orphan(*, payment_id: int) -> str:
    """Refund a succeeded payment whose enrollment stayed ended (no revenue was counted)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentStatus.SUCCEEDED:
        return "nothing_to_refund"
    try:
        result = refund_call(payment)
    except GatewayError as exc:
        raise RetryableJobError(f"refund of payment {payment.pk} failed: {exc}") from exc
    if not result.succeeded:
        # Kept money for a dropped enrollment must not be forgotten: retry, then FailedJob.
        raise RetryableJobError(f"refund refused: {result.failure_message}")
    with transaction.atomic():
        enrollment, locked = lock(payment.enrollment_id)
        if locked is None or locked.status != PaymentStatus.SUCCEEDED:
            return "nothing_to_refund"
        if enrollment.status in LIVE_STATUSES:
            return "kept"  # it was re-activated meanwhile; keep the money
        locked.status = PaymentStatus.REFUNDED
        locked.save(update_fields=["status", "updated_at"])
    return "refunded"
