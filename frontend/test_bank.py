"""The test gateway's 3-D Secure challenge: the page a bank would show, so the whole
authentication path runs without Stripe. The course page opens it in a frame (as
Stripe.js opens the bank's); the buyer approves or fails it, and the outcome reaches the
portal as Stripe's would: the charge's state changes at the gateway, and its webhook
event goes through the one webhook pipeline (enrollment.webhook_service). Served only
while the test gateway is the configured one."""

import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from enrollment.models import TestGatewayIntent
from enrollment.payments import WebhookEvent
from enrollment.payments.test_gateway import (
    AUTHENTICATION_FAILED,
    intent_authenticate,
    intent_by_client_secret,
)
from enrollment.webhook_service import webhook_event_process
from frontend.csp import content_security_policy


def webhook_deliver(intent: TestGatewayIntent) -> str:
    """The event the provider sends once the customer has answered the challenge."""
    succeeded = intent.status == "succeeded"
    data: dict = {"metadata": intent.metadata}
    if not succeeded:
        data["last_payment_error"] = {
            "code": AUTHENTICATION_FAILED[0],
            "message": AUTHENTICATION_FAILED[1],
        }
    event = WebhookEvent(
        id=f"evt_test_{intent.reference}_{intent.status}",
        type="payment_intent.succeeded" if succeeded else "payment_intent.payment_failed",
        payment_reference=intent.reference,
        created=int(time.time()),
        data=data,
    )
    return webhook_event_process(event=event)


@require_http_methods(["GET", "POST"])
@xframe_options_sameorigin
@ensure_csrf_cookie
def authenticate_page(request: HttpRequest, client_secret: str) -> HttpResponse:
    if settings.PAYMENT_GATEWAY != "test":
        raise Http404("Only the test gateway has a challenge page.")
    intent = intent_by_client_secret(client_secret)
    if intent is None:
        raise Http404("No payment has this client secret.")
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("approve", "fail"):
            status = 400
        else:
            intent = intent_authenticate(reference=intent.reference, approve=decision == "approve")
            webhook_deliver(intent)
    response = render(
        request,
        "frontend/test_authenticate.html",
        {"intent": intent, "bad_request": status == 400},
        status=status,
    )
    response["Content-Security-Policy"] = content_security_policy(request, framed_by_self=True)
    return response
