"""The Stripe backend: PaymentIntents created and confirmed server-side in one call.

Outcome mapping (shared by `charge`, `retrieve` and webhook handling through
`charge_result_from_intent`):

- `succeeded` → SUCCEEDED.
- `requires_action` / `requires_confirmation` → REQUIRES_ACTION: the customer must act
  (3-D Secure), with the intent's `next_action` and client secret for Stripe.js's
  `handleNextAction`; the webhook or the page's confirm call finishes the enrollment.
- `processing` → UNKNOWN, with the PaymentIntent id as reference: nobody has to act, the
  provider has simply not decided yet, so it is left to the webhook and reconciliation.
- `requires_payment_method` / `canceled` → DECLINED: the attempt failed and nothing was
  captured; confirmation happens only server-side, so the intent never revives.
- anything else (e.g. `requires_capture`, which automatic capture never produces) → UNKNOWN.

Errors: a card error is a decline; an unknown payment method raises InvalidPaymentMethod;
timeouts, connection errors, rate limits and 5xx answers return UNKNOWN so the enrollment
stays pending (Stripe replays the stored answer for the same idempotency key, so a later
attempt cannot charge twice). Any other invalid request in `charge` is a decline (Stripe
charged nothing and a retry cannot succeed); authentication, permission and
idempotency-key conflicts raise GatewayError, since they mean misconfiguration or a bug.
The library's own retries are off: callers retry with the same idempotency key.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import stripe
import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from enrollment.payments.base import (
    ChargeResult,
    ChargeStatus,
    GatewayError,
    InvalidPaymentMethod,
    NextAction,
    RefundResult,
    to_minor_units,
)

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
PAYMENT_METHOD_RE = re.compile(r"pm_[A-Za-z0-9_]{1,250}")
ACTION_STATUSES = frozenset({"requires_action", "requires_confirmation"})
FAILED_STATUSES = frozenset({"requires_payment_method", "canceled"})
REFUND_OK_STATUSES = frozenset({"succeeded", "pending"})
# Failures after which the outcome is unknown and a retry with the same key is safe.
TRANSIENT_ERRORS: tuple[type[stripe.StripeError], ...] = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
)


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    # Cached so connections are reused; keyed by settings so tests can repoint it.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base.rstrip("/")} if api_base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _client_from_settings() -> stripe.StripeClient:
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY must be set to use the Stripe gateway.")
    timeout = float(getattr(settings, "STRIPE_TIMEOUT_SECONDS", None) or DEFAULT_TIMEOUT_SECONDS)
    return _client(api_key, settings.STRIPE_API_BASE or "", timeout)


def _failure_from(error: Mapping[str, Any] | None) -> tuple[str, str]:
    """(code, message) of a Stripe error object such as `last_payment_error`."""
    error = error or {}
    code = error.get("decline_code") or error.get("code") or ""
    return code, error.get("message") or ""


def _next_action(intent: Mapping[str, Any]) -> NextAction | None:
    action = intent.get("next_action") or {}
    secret = intent.get("client_secret") or ""
    if not secret:
        return None
    redirect = action.get("redirect_to_url") or {}
    return NextAction(
        type=action.get("type") or "use_stripe_sdk",
        client_secret=secret,
        redirect_url=redirect.get("url") or "",
    )


def charge_result_from_intent(intent: Mapping[str, Any]) -> ChargeResult:
    """Map a PaymentIntent (as a plain dict) to a ChargeResult; see the module docstring."""
    reference = intent.get("id") or ""
    status = intent.get("status")
    if status == "succeeded":
        return ChargeResult(ChargeStatus.SUCCEEDED, reference)
    if status in ACTION_STATUSES:
        return ChargeResult(
            ChargeStatus.REQUIRES_ACTION, reference, next_action=_next_action(intent)
        )
    if status == "canceled":
        reason = intent.get("cancellation_reason") or "canceled"
        return ChargeResult(
            ChargeStatus.DECLINED, reference, "canceled", f"Payment canceled ({reason})."
        )
    if status in FAILED_STATUSES:
        code, message = _failure_from(intent.get("last_payment_error"))
        return ChargeResult(
            ChargeStatus.DECLINED,
            reference,
            code or "payment_method_required",
            message or "The payment needs another payment method.",
        )
    return ChargeResult(ChargeStatus.UNKNOWN, reference)


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _declined(exc: stripe.CardError) -> ChargeResult:
    error = _error_body(exc)
    intent = error.get("payment_intent")
    reference = intent.get("id", "") if isinstance(intent, dict) else intent or ""
    code = error.get("decline_code") or exc.code or "card_declined"
    return ChargeResult(ChargeStatus.DECLINED, reference, code, exc.user_message or "")


def _is_payment_method_error(exc: stripe.InvalidRequestError) -> bool:
    # Covers "resource_missing" (no such PaymentMethod) and unusable methods alike.
    return exc.param == "payment_method"


def _unexpected(exc: stripe.StripeError, operation: str) -> GatewayError:
    log.error(
        "stripe.request_refused",
        operation=operation,
        error=type(exc).__name__,
        code=exc.code,
        status=exc.http_status,
        request_id=exc.request_id,
    )
    return GatewayError(f"Stripe refused the {operation} request ({type(exc).__name__}).")


def _log_transient(exc: stripe.StripeError, operation: str) -> None:
    log.warning(
        "stripe.outcome_unknown",
        operation=operation,
        error=type(exc).__name__,
        status=exc.http_status,
        request_id=exc.request_id,
    )


def _refund_result(refund: Mapping[str, Any]) -> RefundResult:
    status = refund.get("status") or ""
    if status in REFUND_OK_STATUSES:
        return RefundResult(True, refund.get("id") or "")
    return RefundResult(False, refund.get("id") or "", refund.get("failure_reason") or status)


class StripeGateway:
    name = "stripe"

    def __init__(self, client: stripe.StripeClient | None = None) -> None:
        self.client = client or _client_from_settings()

    def validate_payment_method(self, payment_method: str) -> None:
        # Local only: Stripe itself answers for methods that look right but do not exist.
        if not isinstance(payment_method, str) or not PAYMENT_METHOD_RE.fullmatch(payment_method):
            raise InvalidPaymentMethod("A payment method id such as pm_card_visa is required.")

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
        params: dict[str, Any] = {
            "amount": to_minor_units(amount),
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            # Card-only, server-side confirmation: no redirect methods, so no return_url.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": metadata or {},
        }
        if description:
            params["description"] = description
        try:
            intent = self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.InvalidRequestError as exc:
            return self._invalid_charge(exc)
        except TRANSIENT_ERRORS as exc:
            _log_transient(exc, "charge")
            return ChargeResult(ChargeStatus.UNKNOWN)
        except stripe.StripeError as exc:
            raise _unexpected(exc, "charge") from exc
        return charge_result_from_intent(intent.to_dict())

    def _invalid_charge(self, exc: stripe.InvalidRequestError) -> ChargeResult:
        if _is_payment_method_error(exc):
            raise InvalidPaymentMethod(exc.user_message or "Unknown payment method.") from exc
        log.error(
            "stripe.charge_invalid", code=exc.code, param=exc.param, request_id=exc.request_id
        )
        return ChargeResult(
            ChargeStatus.DECLINED,
            failure_code=exc.code or "invalid_request",
            failure_message=exc.user_message or "",
        )

    def retrieve(self, *, reference: str) -> ChargeResult:
        try:
            intent = self.client.v1.payment_intents.retrieve(reference)
        except TRANSIENT_ERRORS as exc:
            _log_transient(exc, "retrieve")
            return ChargeResult(ChargeStatus.UNKNOWN, reference)
        except stripe.StripeError as exc:
            raise _unexpected(exc, "retrieve") from exc
        return charge_result_from_intent(intent.to_dict())

    def cancel(self, *, reference: str, idempotency_key: str) -> ChargeResult:
        """A PaymentIntent Stripe no longer lets us cancel (it succeeded, or is being
        processed) answers `payment_intent_unexpected_state`: its state is then read back."""
        try:
            intent = self.client.v1.payment_intents.cancel(
                reference, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise _unexpected(exc, "cancel") from exc
            return self.retrieve(reference=reference)
        except TRANSIENT_ERRORS as exc:
            _log_transient(exc, "cancel")
            return ChargeResult(ChargeStatus.UNKNOWN, reference)
        except stripe.StripeError as exc:
            raise _unexpected(exc, "cancel") from exc
        return charge_result_from_intent(intent.to_dict())

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": reference, "amount": to_minor_units(amount)},
                options={"idempotency_key": idempotency_key},
            )
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            return RefundResult(False, failure_message=exc.user_message or "Refund refused.")
        except TRANSIENT_ERRORS as exc:
            _log_transient(exc, "refund")
            raise GatewayError("Stripe did not answer the refund request.") from exc
        except stripe.StripeError as exc:
            raise _unexpected(exc, "refund") from exc
        return _refund_result(refund.to_dict())
