"""Stripe webhook verification and signing.

`parse_stripe_event` checks the `Stripe-Signature` header (HMAC-SHA256 over
"{timestamp}.{payload}", timestamp within `tolerance` seconds) and reduces the event to a
`WebhookEvent`. `sign_payload` produces such a header, for tests and load tests.
"""

import hashlib
import hmac
import json
import time
from typing import Any

import stripe

from enrollment.payments.base import InvalidWebhook, WebhookEvent

DEFAULT_TOLERANCE_SECONDS = 300


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A valid `Stripe-Signature` header value for `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


def _verify(payload: bytes, signature_header: str, secret: str, tolerance: int) -> None:
    if not secret:
        raise InvalidWebhook("Webhook secret is not configured.")
    if not signature_header:
        raise InvalidWebhook("Missing Stripe-Signature header.")
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance)
    except UnicodeDecodeError:
        raise InvalidWebhook("Payload is not UTF-8.") from None
    except stripe.SignatureVerificationError as exc:
        # The library's message names the cause (mismatch, stale timestamp, bad header)
        # and holds no secret; the header and payload stay out of it.
        raise InvalidWebhook(exc.user_message or "Invalid signature.") from None


def _payment_reference(event_type: str, obj: dict[str, Any]) -> str:
    if event_type.startswith("payment_intent."):
        reference = obj.get("id")
    elif event_type.startswith("charge."):
        reference = obj.get("payment_intent")
    else:
        reference = None
    if isinstance(reference, dict):  # an expanded object
        reference = reference.get("id")
    return reference if isinstance(reference, str) else ""


def _event_from(body: Any) -> WebhookEvent:
    if not isinstance(body, dict) or body.get("object") != "event":
        raise InvalidWebhook("Payload is not a Stripe event.")
    event_id, event_type, created = body.get("id"), body.get("type"), body.get("created")
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidWebhook("Event lacks id, type or data.object.")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidWebhook("Event lacks a creation time.")
    return WebhookEvent(
        id=event_id,
        type=event_type,
        payment_reference=_payment_reference(event_type, obj),
        created=created,
        data=obj,
    )


def parse_stripe_event(
    payload: bytes,
    signature_header: str,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> WebhookEvent:
    """Verify and decode a Stripe webhook; raise InvalidWebhook on any problem."""
    _verify(payload, signature_header, secret, tolerance)
    try:
        body = json.loads(payload)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise InvalidWebhook("Payload is not valid JSON.") from None
    return _event_from(body)
