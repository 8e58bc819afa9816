"""An open checkout (a paid enrollment still pending) after its first charge: the buyer
completes a 3-D Secure challenge and the page confirms it, or tries another card
(`/pay`), within the seat hold; holds that run out are expired (transitions.expire)
and their charges cancelled at the gateway, so a challenge left open can never take
money for a seat that was given back.

Each gateway call is made outside any transaction (no lock held over the network) and
recorded in the payment ledger; the state it leads to is applied under the enrollment's
row lock (enrollment.transitions), where a racing webhook or sweep finds it decided."""

from collections.abc import Callable

import structlog
from django.db import transaction
from django.utils import timezone

from enrollment import transitions
from enrollment.errors import (
    HoldExpired,
    InvalidEnrollment,
    NotPending,
    PaymentDeclined,
    PaymentInProgress,
    PaymentUnavailable,
)
from enrollment.models import Enrollment, EnrollmentStatus, Payment, PaymentStatus
from enrollment.payment_calls import cancel_call, retrieve_call
from enrollment.payments import (
    ChargeStatus,
    GatewayError,
    InvalidPaymentMethod,
    get_gateway,
)
from enrollment.services import apply_charge_result, charge
from portal.jobs.base import RetryableJobError

log = structlog.get_logger(__name__)


def _open_checkout_check(enrollment: Enrollment, payment: Payment | None) -> Payment:
    """The checkout's payment, if another card may still be tried on it: checked before
    any gateway call, and again under the row locks before the attempt is taken."""
    if enrollment.status != EnrollmentStatus.PENDING or payment is None:
        raise NotPending("This enrollment has no checkout waiting for a payment.")
    if not transitions.hold_open(enrollment):
        raise HoldExpired("The seat hold of this checkout ran out; enroll again.")
    return payment


def _settle_earlier_attempt(payment: Payment) -> Enrollment | None:
    """Before another card is charged, the attempt waiting for the customer is cancelled,
    so completing its challenge later cannot charge twice. Had it succeeded meanwhile,
    the enrollment is activated with it (returned); unknown → 503, nothing charged."""
    if payment.status != PaymentStatus.REQUIRES_ACTION or not payment.provider_reference:
        return None
    try:
        result = cancel_call(payment)
    except GatewayError as exc:
        raise PaymentUnavailable("The payment provider did not answer; try again.") from exc
    if result.status == ChargeStatus.SUCCEEDED:
        return transitions.activate(enrollment_id=payment.enrollment_id, reference=result.reference)
    if result.status == ChargeStatus.UNKNOWN:
        raise PaymentUnavailable("The payment provider did not answer; try again.")
    return None


@transaction.atomic
def _next_attempt(
    *, enrollment_id: int, payment_method: str, on_attempt: Callable[[Payment], None] | None
) -> Payment:
    """Under the row locks: the checkout is still open and no charge of it is being
    decided; the payment moves to its next attempt with the new card."""
    enrollment, locked = transitions.lock(enrollment_id)
    payment = _open_checkout_check(enrollment, locked)
    if payment.status not in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED):
        raise PaymentInProgress("A payment for this checkout is still being confirmed.")
    payment.attempt += 1
    payment.payment_method = payment_method
    payment.status = PaymentStatus.PENDING
    payment.provider_reference = ""
    payment.failure_reason = ""
    payment.next_action = None
    payment.save(
        update_fields=[
            "attempt",
            "payment_method",
            "status",
            "provider_reference",
            "failure_reason",
            "next_action",
            "updated_at",
        ]
    )
    if on_attempt is not None:  # what it records commits with the attempt
        on_attempt(payment)
    return payment


def enrollment_pay(
    *,
    enrollment: Enrollment,
    payment_method: str,
    on_attempt: Callable[[Payment], None] | None = None,
) -> Enrollment:
    """POST /api/enrollments/{id}/pay: charge the open checkout with another card. A
    decline answers 402 and leaves the checkout open (its hold goes on); a card needing
    3-D Secure answers the pending enrollment with its `next_action`."""
    payment = _open_checkout_check(
        enrollment, Payment.objects.filter(enrollment=enrollment).first()
    )
    gateway = get_gateway(payment.provider)
    try:
        gateway.validate_payment_method(payment_method)
    except InvalidPaymentMethod as exc:
        raise InvalidEnrollment(str(exc), {"payment_method": [str(exc)]}) from exc
    settled = _settle_earlier_attempt(payment)
    if settled is not None:
        return settled
    payment = _next_attempt(
        enrollment_id=enrollment.pk, payment_method=payment_method, on_attempt=on_attempt
    )
    try:
        result = charge(gateway, payment)
    except InvalidPaymentMethod as exc:
        message = str(exc) or "Unknown payment method."
        transitions.fail(
            enrollment_id=enrollment.pk, reason=f"Invalid payment method: {message}", keep_open=True
        )
        raise InvalidEnrollment(message, {"payment_method": [message]}) from exc
    return apply_charge_result(enrollment_id=enrollment.pk, result=result, keep_open=True)


def enrollment_confirm(*, enrollment: Enrollment) -> Enrollment:
    """POST /api/enrollments/{id}/confirm: the page finished the customer's action (3-D
    Secure); ask the gateway how the charge stands and apply it now, instead of waiting
    for its webhook. Safe to call any number of times, and racing the webhook."""
    payment = Payment.objects.filter(enrollment=enrollment).first()
    if enrollment.status != EnrollmentStatus.PENDING or payment is None:
        return enrollment
    if payment.status not in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.PENDING):
        return enrollment
    if not payment.provider_reference:
        return enrollment  # the charge's answer was lost: reconcile resends it
    try:
        result = retrieve_call(payment)
    except GatewayError as exc:
        raise PaymentUnavailable("The payment provider did not answer; try again.") from exc
    try:
        return apply_charge_result(enrollment_id=enrollment.pk, result=result, keep_open=True)
    except PaymentDeclined:
        return enrollment  # the answer shows the failure; the checkout stays open


def checkout_holds_expire(*, limit: int = 500) -> int:
    """Expire the checkouts whose hold ran out (beat, every few seconds). Each in its own
    transaction; one paid or cancelled meanwhile is left as it is. Returns how many."""
    due = list(
        Enrollment.objects.filter(
            status=EnrollmentStatus.PENDING, hold_expires_at__lte=timezone.now()
        )
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = sum(transitions.expire(enrollment_id=pk) for pk in due)
    if expired:
        log.info("checkout.holds_expired", count=expired)
    return expired


def gateway_charge_cancel(*, payment_id: int) -> str:
    """The job after an expired or cancelled checkout: cancel its charge at the gateway.
    Had the customer completed it meanwhile, the success is applied (activate refunds
    money that arrives for an ended enrollment); no answer → retried."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.provider_reference or payment.status == PaymentStatus.SUCCEEDED:
        return "nothing_to_cancel"
    try:
        result = cancel_call(payment)
    except GatewayError as exc:
        raise RetryableJobError(f"cancel of payment {payment.pk} failed: {exc}") from exc
    if result.status == ChargeStatus.UNKNOWN:
        raise RetryableJobError(f"cancel of payment {payment.pk}: no answer")
    if result.status == ChargeStatus.SUCCEEDED:
        transitions.activate(enrollment_id=payment.enrollment_id, reference=result.reference)
        return "succeeded_late"
    return "cancelled"
