"""Provider webhooks drive the enrollment's state. Each event id is processed once: its
record is written in the same transaction as its effect, so a duplicate delivered
concurrently waits on the unique index and then finds it done."""

import structlog
from django.db import IntegrityError, transaction

from enrollment import transitions
from enrollment.models import Payment, WebhookEvent
from enrollment.payments import WebhookEvent as ProviderEvent

log = structlog.get_logger(__name__)

HANDLED_TYPES = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")


def _payment_for(event: ProviderEvent) -> Payment | None:
    if event.payment_reference:
        payment = Payment.objects.filter(provider_reference=event.payment_reference).first()
        if payment is not None:
            return payment
    # A charge whose answer never reached us has no reference yet: find it by metadata.
    payment_id = (event.data.get("metadata") or {}).get("payment_id", "")
    if str(payment_id).isdigit():
        return Payment.objects.filter(pk=int(payment_id)).first()
    return None


def _failure_reason(event: ProviderEvent) -> str:
    error = event.data.get("last_payment_error") or {}
    return error.get("message") or "The payment failed."


@transaction.atomic
def webhook_event_process(*, event: ProviderEvent) -> str:
    """Apply one verified event; returns what happened (for the answer and the logs)."""
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event.id, type=event.type, payment_reference=event.payment_reference
            )
    except IntegrityError:
        return "duplicate"
    outcome = _apply(event)
    record.outcome = outcome
    record.save(update_fields=["outcome"])
    # Not `event=`: structlog takes the message itself as its `event` argument.
    log.info("webhook.processed", event_id=event.id, type=event.type, outcome=outcome)
    return outcome


def _apply(event: ProviderEvent) -> str:
    if event.type not in HANDLED_TYPES:
        return "ignored"
    payment = _payment_for(event)
    if payment is None:
        return "unknown_payment"
    enrollment_id = payment.enrollment_id
    if event.type == "payment_intent.succeeded":
        transitions.activate(enrollment_id=enrollment_id, reference=event.payment_reference)
    elif event.type == "payment_intent.payment_failed":
        current = payment.provider_reference
        if current and event.payment_reference and event.payment_reference != current:
            # An earlier attempt of a checkout now paying with another card.
            return "stale_attempt"
        # A failed 3-D Secure challenge: the buyer may still try another card in the hold.
        transitions.fail(
            enrollment_id=enrollment_id,
            reason=_failure_reason(event),
            reference=event.payment_reference,
            keep_open=True,
        )
    else:
        amount, refunded = event.data.get("amount"), event.data.get("amount_refunded")
        if isinstance(amount, int) and isinstance(refunded, int) and refunded < amount:
            # A partial refund (a goodwill gesture) keeps the enrollment: record it only.
            return "partial_refund"
        transitions.refund(enrollment_id=enrollment_id)
    return "applied"
