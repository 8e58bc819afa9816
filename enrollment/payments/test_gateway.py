"""The built-in test gateway: no network, Stripe's test payment methods honoured.

It is the default when no Stripe key is set, so the portal takes payments out of the box
with `pm_card_visa` (succeeds), `pm_card_chargeDeclined…` (declines) and
`pm_card_authenticationRequired` (needs customer action). References are derived from the
idempotency key, so a repeated charge answers exactly as the first did, as Stripe's would.
"""

import hashlib
from decimal import Decimal

from enrollment.payments.base import (
    ChargeResult,
    ChargeStatus,
    InvalidPaymentMethod,
    RefundResult,
)

SUCCEEDING_METHODS = frozenset(
    {
        "pm_card_visa",
        "pm_card_visa_debit",
        "pm_card_mastercard",
        "pm_card_mastercard_debit",
        "pm_card_amex",
        "pm_card_discover",
        "pm_card_diners",
        "pm_card_jcb",
        "pm_card_unionpay",
        "pm_card_us",
        "pm_card_gb",
        "pm_card_de",
        "pm_card_fr",
    }
)
# Stripe's test methods that decline, with the decline code Stripe reports.
DECLINING_METHODS: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedFraudulent": ("fraudulent", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": (
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error",
        "An error occurred while processing your card.",
    ),
    "pm_card_chargeDeclinedLostCard": ("lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": ("stolen_card", "Your card was declined."),
}
ACTION_METHODS = frozenset({"pm_card_authenticationRequired", "pm_card_threeDSecure2Required"})
KNOWN_METHODS = SUCCEEDING_METHODS | set(DECLINING_METHODS) | ACTION_METHODS


class TestGateway:
    """Deterministic and in-process; see the module docstring."""

    __test__ = False  # not a pytest test class
    name = "test"

    def validate_payment_method(self, payment_method: str) -> None:
        if payment_method not in KNOWN_METHODS:
            raise InvalidPaymentMethod(
                f"Unknown payment method {payment_method!r}; use a Stripe test method "
                "such as pm_card_visa."
            )

    def _reference(self, idempotency_key: str) -> str:
        return "pi_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

    def charge(
        self,
        *,
        amount: Decimal,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        description: str = "",
        metadata: dict[str, str] | None = None,
    ) -> ChargeResult:
        self.validate_payment_method(payment_method)
        reference = self._reference(idempotency_key)
        if payment_method in DECLINING_METHODS:
            code, message = DECLINING_METHODS[payment_method]
            return ChargeResult(ChargeStatus.DECLINED, reference, code, message)
        if payment_method in ACTION_METHODS:
            return ChargeResult(ChargeStatus.REQUIRES_ACTION, reference)
        return ChargeResult(ChargeStatus.SUCCEEDED, reference)

    def retrieve(self, *, reference: str) -> ChargeResult:
        # Test charges settle at once; one still pending needed customer action.
        return ChargeResult(ChargeStatus.REQUIRES_ACTION, reference)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        return RefundResult(
            True, "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        )
