"""The payment ledger's one writer: every gateway call goes through payment_call, which
records a PaymentCall row for it (its kind, idempotency key, outcome, reference, error),
also when the call raised. The calls are made outside transactions (no lock is held over
the network), so a row is committed as soon as it is written."""

from collections.abc import Callable
from typing import Literal, TypeVar

from enrollment.models import Payment, PaymentCall
from enrollment.payments import ChargeResult, RefundResult, get_gateway

Result = TypeVar("Result", ChargeResult, RefundResult)
Kind = Literal["charge", "retrieve", "refund", "cancel"]


def _recorded(result: ChargeResult | RefundResult) -> dict[str, str]:
    if isinstance(result, RefundResult):
        return {
            "outcome": "succeeded" if result.succeeded else "refused",
            "reference": result.reference,
            "error": result.failure_message,
        }
    error = ": ".join(part for part in (result.failure_code, result.failure_message) if part)
    return {"outcome": str(result.status), "reference": result.reference, "error": error}


def payment_call(
    *, payment: Payment, kind: Kind, idempotency_key: str, call: Callable[[], Result]
) -> Result:
    try:
        result = call()
    except Exception as exc:
        PaymentCall.objects.create(
            payment=payment,
            kind=kind,
            idempotency_key=idempotency_key,
            outcome="error",
            error=f"{type(exc).__name__}: {exc}"[:255],
        )
        raise
    fields = _recorded(result)
    PaymentCall.objects.create(
        payment=payment,
        kind=kind,
        idempotency_key=idempotency_key,
        outcome=fields["outcome"][:20],
        reference=fields["reference"][:255],
        error=fields["error"][:255],
    )
    return result


def refund_call(payment: Payment) -> RefundResult:
    """The whole payment refunded, under the one idempotency key of its refund (a cancel
    and the orphan-refund job asking twice refund once)."""
    key = f"refund-{payment.pk}"
    return payment_call(
        payment=payment,
        kind="refund",
        idempotency_key=key,
        call=lambda: get_gateway(payment.provider).refund(
            reference=payment.provider_reference, amount=payment.amount, idempotency_key=key
        ),
    )


def retrieve_call(payment: Payment) -> ChargeResult:
    """How the payment's current charge stands at its gateway (reconcile, the page's
    confirm call)."""
    return payment_call(
        payment=payment,
        kind="retrieve",
        idempotency_key="",
        call=lambda: get_gateway(payment.provider).retrieve(reference=payment.provider_reference),
    )


def cancel_call(payment: Payment) -> ChargeResult:
    """Cancel the payment's current charge at its gateway, under the attempt's own key
    (an expired or cancelled checkout, another card tried)."""
    key = f"cancel-{payment.pk}-{payment.attempt}"
    return payment_call(
        payment=payment,
        kind="cancel",
        idempotency_key=key,
        call=lambda: get_gateway(payment.provider).cancel(
            reference=payment.provider_reference, idempotency_key=key
        ),
    )
