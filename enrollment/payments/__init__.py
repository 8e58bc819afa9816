"""Payments facade: `get_gateway()` picks the backend named by settings.PAYMENT_GATEWAY
("test", the keyless default, or "stripe")."""

from django.conf import settings
from django.utils.module_loading import import_string

from enrollment.payments.base import (
    ChargeResult,
    ChargeStatus,
    GatewayError,
    InvalidPaymentMethod,
    InvalidWebhook,
    NextAction,
    PaymentGateway,
    RefundResult,
    WebhookEvent,
)

GATEWAYS = {
    "test": "enrollment.payments.test_gateway.TestGateway",
    "stripe": "enrollment.payments.stripe_gateway.StripeGateway",
}


def get_gateway(name: str | None = None) -> PaymentGateway:
    return import_string(GATEWAYS[name or settings.PAYMENT_GATEWAY])()


__all__ = [
    "ChargeResult",
    "ChargeStatus",
    "GatewayError",
    "InvalidPaymentMethod",
    "InvalidWebhook",
    "NextAction",
    "PaymentGateway",
    "RefundResult",
    "WebhookEvent",
    "get_gateway",
]
