"""Finish enrollments left pending: by a gateway timeout or an action the webhook never
reported (ask the gateway for each stale payment's state and apply it), or by a request
that died after its reservation committed (a free enrollment is activated: its seat was
taken and the student asked for it)."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from enrollment import transitions
from enrollment.errors import PaymentDeclined
from enrollment.models import Enrollment, EnrollmentStatus, Payment, PaymentStatus
from enrollment.payment_calls import retrieve_call
from enrollment.payments import ChargeResult, ChargeStatus, InvalidPaymentMethod, get_gateway
from enrollment.services import apply_charge_result, charge, payment_method_refused

log = structlog.get_logger(__name__)


def stale_payments(*, older_than: timedelta) -> list[Payment]:
    cutoff = timezone.now() - older_than
    return list(
        Payment.objects.filter(
            status__in=[PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION],
            enrollment__status=EnrollmentStatus.PENDING,
            updated_at__lt=cutoff,
        ).order_by("updated_at")[:500]
    )


def payment_reconcile(*, payment: Payment, abandon_after: timedelta) -> str:
    if payment.amount <= 0:  # made free by a coupon: nothing to charge, only to activate
        transitions.activate(enrollment_id=payment.enrollment_id)
        return "succeeded"
    if payment.provider_reference:
        try:
            result: ChargeResult = retrieve_call(payment)
        except Exception:
            log.warning("reconcile.retrieve_failed", payment=payment.pk, exc_info=True)
            return "error"
    else:
        # The first answer was lost before we learnt the charge's id: send the same charge
        # again under the same idempotency key; the provider answers with the original.
        try:
            result = charge(get_gateway(payment.provider), payment)
        except InvalidPaymentMethod as exc:
            payment_method_refused(enrollment_id=payment.enrollment_id, error=exc)
            return "invalid"
    if result.status in (ChargeStatus.REQUIRES_ACTION, ChargeStatus.UNKNOWN):
        if payment.created_at < timezone.now() - abandon_after:
            transitions.fail(
                enrollment_id=payment.enrollment_id,
                reason="The payment was not completed in time.",
                reference=payment.provider_reference,
            )
            return "abandoned"
        return "waiting"
    try:
        apply_charge_result(enrollment_id=payment.enrollment_id, result=result)
    except PaymentDeclined:
        return "declined"
    return "succeeded"


def payments_reconcile(
    *, older_than: timedelta = timedelta(minutes=5), abandon_after: timedelta = timedelta(hours=24)
) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for payment in stale_payments(older_than=older_than):
        outcome = payment_reconcile(payment=payment, abandon_after=abandon_after)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes:
        log.info("reconcile.done", **outcomes)
    return outcomes


def enrollments_pending_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Activate free enrollments stuck pending: their reservation committed, then the
    request failed before activating (a cut database connection, a dead process). Paid
    ones are `payments_reconcile`'s: their outcome is the gateway's to tell."""
    cutoff = timezone.now() - older_than
    stuck = list(
        Enrollment.objects.filter(
            status=EnrollmentStatus.PENDING, payment__isnull=True, created_at__lt=cutoff
        ).values_list("id", flat=True)[:500]
    )
    for enrollment_id in stuck:
        transitions.activate(enrollment_id=enrollment_id)
    if stuck:
        log.info("sweep.activated_free", count=len(stuck))
    return len(stuck)


def enrollment_resume(*, enrollment_id: int) -> None:
    """Finish what a failed request left, when its client retries: a free enrollment
    still pending is activated, and a paid one whose charge's outcome was lost is charged
    again under the same provider idempotency key (the provider answers with the first
    charge's outcome). What still needs the customer stays pending."""
    enrollment = Enrollment.objects.get(pk=enrollment_id)
    if enrollment.status != EnrollmentStatus.PENDING:
        return
    payment = Payment.objects.filter(enrollment_id=enrollment_id).first()
    if payment is None:
        transitions.activate(enrollment_id=enrollment_id)
    elif payment.status == PaymentStatus.PENDING:
        payment_reconcile(
            payment=payment, abandon_after=timedelta(hours=settings.RECONCILE_ABANDON_HOURS)
        )
