"""The built-in test gateway: no network, Stripe's test payment methods honoured.

It is the default when no Stripe key is set, so the portal takes payments out of the box
with `pm_card_visa` (succeeds), `pm_card_chargeDeclined…` (declines) and
`pm_card_authenticationRequired` (3-D Secure: the customer approves or fails a challenge
on the gateway's own page, `/payments/test/authenticate/{client_secret}`, standing in
for the bank). References are derived from the idempotency key, and each charge's state
is kept (TestGatewayIntent), so a repeated charge answers as the first did and a
retrieve or cancel sees what the challenge decided, as Stripe's PaymentIntents would.
"""

import hashlib
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from enrollment.models import TestGatewayIntent
from enrollment.payments.base import (
    ChargeResult,
    ChargeStatus,
    InvalidPaymentMethod,
    NextAction,
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
AUTHENTICATION_FAILED = (
    "payment_intent_authentication_failure",
    "Your bank did not approve the payment (3-D Secure authentication failed).",
)
OPEN_STATUSES = ("requires_action", "requires_payment_method")


def client_secret_of(reference: str) -> str:
    """Like Stripe's: whoever holds it may complete the charge's challenge, nothing more."""
    return f"{reference}_secret_{salted_hmac('test-gateway', reference).hexdigest()[:24]}"


def intent_by_client_secret(client_secret: str) -> TestGatewayIntent | None:
    reference = client_secret.split("_secret_", 1)[0]
    if not constant_time_compare(client_secret, client_secret_of(reference)):
        return None
    return TestGatewayIntent.objects.filter(reference=reference).first()


@transaction.atomic
def intent_authenticate(*, reference: str, approve: bool) -> TestGatewayIntent:
    """The bank's answer to the challenge: the charge succeeds, or fails authentication
    (the intent then needs another payment method, as Stripe's does). Only a charge still
    waiting for it changes; a second answer finds it decided."""
    intent = TestGatewayIntent.objects.select_for_update().get(reference=reference)
    if intent.status == "requires_action":
        intent.status = "succeeded" if approve else "requires_payment_method"
        intent.save(update_fields=["status", "updated_at"])
    return intent


def _result(intent: TestGatewayIntent) -> ChargeResult:
    reference = intent.reference
    if intent.status == "succeeded":
        return ChargeResult(ChargeStatus.SUCCEEDED, reference)
    if intent.status == "requires_action":
        action = NextAction(
            type="redirect_to_url",
            client_secret=client_secret_of(reference),
            redirect_url=reverse(
                "test-gateway-authenticate", kwargs={"client_secret": client_secret_of(reference)}
            ),
        )
        return ChargeResult(ChargeStatus.REQUIRES_ACTION, reference, next_action=action)
    if intent.status == "canceled":
        return ChargeResult(ChargeStatus.DECLINED, reference, "canceled", "Payment canceled.")
    code, message = DECLINING_METHODS.get(intent.payment_method, AUTHENTICATION_FAILED)
    return ChargeResult(ChargeStatus.DECLINED, reference, code, message)


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
        if payment_method in DECLINING_METHODS:
            status = "requires_payment_method"
        elif payment_method in ACTION_METHODS:
            status = "requires_action"
        else:
            status = "succeeded"
        intent, _ = TestGatewayIntent.objects.get_or_create(
            reference=self._reference(idempotency_key),
            defaults={
                "status": status,
                "amount": amount,
                "currency": currency,
                "payment_method": payment_method,
                "metadata": metadata or {},
            },
        )
        return _result(intent)

    def retrieve(self, *, reference: str) -> ChargeResult:
        intent = TestGatewayIntent.objects.filter(reference=reference).first()
        if intent is None:  # not one of this gateway's charges: nothing settles it here
            return ChargeResult(ChargeStatus.REQUIRES_ACTION, reference)
        return _result(intent)

    @transaction.atomic
    def cancel(self, *, reference: str, idempotency_key: str) -> ChargeResult:
        intent = TestGatewayIntent.objects.select_for_update().filter(reference=reference).first()
        if intent is None:
            return ChargeResult(ChargeStatus.DECLINED, reference, "canceled", "Payment canceled.")
        if intent.status in OPEN_STATUSES:
            intent.status = "canceled"
            intent.save(update_fields=["status", "updated_at"])
        return _result(intent)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        return RefundResult(
            True, "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        )
