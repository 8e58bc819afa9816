"""The payment gateway interface every backend implements (Saleor-style facade)."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    # 3-D Secure or similar: the customer must act; a webhook finishes it.
    REQUIRES_ACTION = "requires_action"
    # Timeout, network or provider error: the outcome is unknown; reconcile finishes it.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class NextAction:
    """What the customer must do for a REQUIRES_ACTION charge (3-D Secure): complete it
    with Stripe.js (`use_stripe_sdk`, by the client secret) or on a page
    (`redirect_to_url`: the test gateway's challenge page stands in for the bank)."""

    type: str
    client_secret: str
    redirect_url: str = ""


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    next_action: NextAction | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, reduced to what the pipeline acts on."""

    id: str
    type: str
    payment_reference: str
    created: int
    data: dict[str, Any] = field(default_factory=dict)


class InvalidPaymentMethod(ValueError):
    """The payment method is not one the gateway accepts (answered as a 400)."""


class InvalidWebhook(ValueError):
    """Bad signature, stale timestamp or unreadable payload (answered as a 400)."""


class GatewayError(RuntimeError):
    """The provider failed in a way that leaves the outcome unknown."""


def to_minor_units(amount: Decimal) -> int:
    """49.00 → 4900 (every supported currency has two decimals)."""
    return int((amount * 100).to_integral_value())


class PaymentGateway(Protocol):
    name: str

    def validate_payment_method(self, payment_method: str) -> None:
        """Raise InvalidPaymentMethod if the method can never be charged."""

    def charge(
        self,
        *,
        amount: Decimal,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        description: str,
        metadata: dict[str, str],
    ) -> ChargeResult: ...

    def retrieve(self, *, reference: str) -> ChargeResult:
        """The current state of an earlier charge, for reconciliation."""
        ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult: ...

    def cancel(self, *, reference: str, idempotency_key: str) -> ChargeResult:
        """Cancel a charge still waiting for the customer, so it can never succeed later.
        Answers the charge's state afterwards: DECLINED when cancelled (or it had failed),
        SUCCEEDED when it had already succeeded (the caller keeps or refunds the money),
        UNKNOWN when the provider did not answer (the caller retries)."""
        ...
