"""The whole enrollment pipeline through the API with the Stripe gateway, against the
local stub of Stripe's API (tests/stripe_stub.py)."""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Course
from enrollment.checkout import checkout_holds_expire
from enrollment.models import Enrollment, Payment, PaymentCall
from enrollment.reconcile import payments_reconcile
from portal.accounts.models import User
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, guest_body
from tests.factories import make_course, make_user
from tests.stripe_stub import StripeStub

pytestmark = pytest.mark.django_db
SECRET_KEY = "sk_test_stub"
TIMEOUT = 0.5
PRICE = Decimal("49.00")


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    with StripeStub(api_key=SECRET_KEY) as running:
        yield running


@pytest.fixture(autouse=True)
def _stripe_settings(stub, settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_API_BASE = stub.url
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT


def intent_creates(stub: StripeStub):
    return stub.requests_to("POST", "/v1/payment_intents")


def course_numbers(course: Course) -> tuple[int, int, Decimal]:
    course.refresh_from_db()
    return course.seats_taken, course.enrollment_count, course.revenue


def checkout(course: Course, student: User, method: str) -> dict:
    """`student` enrolls with `method` through the API; the 201's body."""
    with after_commit():
        response = client_for(student).post(
            "/api/enrollments", {"course": course.slug, "payment_method": method}, format="json"
        )
    assert response.status_code == 201, response.json()
    return response.json()


def paid_enrollment(course: Course, student: User) -> dict:
    body = checkout(course, student, "pm_card_visa")
    assert body["status"] == "active"
    return body


def test_a_card_payment_charges_stripe_once_with_the_payment_id_as_key(stub):
    course = make_course(price=str(PRICE), capacity=3)

    response = enroll(Client(), guest_body(course, "ada@example.com", "pm_card_visa"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["payment"]["status"] == "succeeded"
    payment = Payment.objects.get()
    [request] = intent_creates(stub)
    assert request.idempotency_key == f"payment-{payment.pk}"
    assert request.params["amount"] == "4900" and request.params["currency"] == "usd"
    assert request.params["payment_method"] == "pm_card_visa"
    assert request.params["metadata[payment_id]"] == str(payment.pk)
    [intent_id] = stub.payment_intents
    assert (payment.provider, payment.provider_reference) == ("stripe", intent_id)
    assert stub.charges_succeeded == 1
    assert course_numbers(course) == (1, 1, PRICE)


def test_a_declined_card_is_402_and_releases_the_seat(stub):
    course = make_course(price=str(PRICE), capacity=1)
    bob = make_user()

    with after_commit():
        response = client_for(bob).post(
            "/api/enrollments",
            {"course": course.slug, "payment_method": "pm_card_chargeDeclined"},
            format="json",
        )

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "payment_declined" and error["decline_code"] == "generic_decline"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))
    payment = Payment.objects.get()
    assert payment.status == "failed" and payment.failure_reason == "Your card was declined."
    assert payment.enrollment.status == "cancelled"
    assert stub.charges_created == 1 and stub.charges_succeeded == 0
    # The seat is free for the next student.
    assert enroll(Client(), guest_body(course, "c@example.com", "pm_card_visa")).status_code == 201


def test_a_timeout_leaves_it_pending_and_reconcile_finishes_it_without_charging_twice(stub):
    course = make_course(price=str(PRICE), capacity=3)
    stub.delay = TIMEOUT * 3  # Stripe charges the card, but its answer comes too late

    response = enroll(Client(), guest_body(course, "slow@example.com", "pm_card_visa"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["payment"]["status"] == "pending"
    payment = Payment.objects.get()
    assert payment.provider_reference == ""
    assert stub.charges_created == 1  # the charge did happen at Stripe
    assert course_numbers(course) == (1, 0, Decimal("0.00"))  # the seat is held meanwhile

    stub.delay = 0
    with after_commit():
        outcomes = payments_reconcile(older_than=timedelta(0))

    assert outcomes == {"succeeded": 1}
    first, second = intent_creates(stub)
    assert first.idempotency_key == second.idempotency_key == f"payment-{payment.pk}"
    assert second.replayed
    assert stub.charges_created == 1  # no double charge
    payment.refresh_from_db()
    [intent_id] = stub.payment_intents
    assert (payment.status, payment.provider_reference) == ("succeeded", intent_id)
    assert Enrollment.objects.get().status == "active"
    assert course_numbers(course) == (1, 1, PRICE)
    # Nothing is left for a later round.
    assert payments_reconcile(older_than=timedelta(0)) == {}
    # The ledger: the charge whose answer was lost, then the same charge sent again.
    calls = list(PaymentCall.objects.filter(payment=payment).values_list("kind", "outcome"))
    assert calls == [("charge", "unknown"), ("charge", "succeeded")]
    assert PaymentCall.objects.filter(reference=intent_id).count() == 1


def test_cancelling_a_stripe_payment_refunds_it_at_stripe(stub):
    course = make_course(price=str(PRICE), capacity=3)
    student = make_user()
    enrollment = paid_enrollment(course, student)
    payment = Payment.objects.get()

    with after_commit():
        response = client_for(student).post(f"/api/enrollments/{enrollment['id']}/cancel")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "refunded"
    assert response.json()["payment"]["status"] == "refunded"
    [request] = stub.requests_to("POST", "/v1/refunds")
    assert request.idempotency_key == f"refund-{payment.pk}"
    assert request.params == {"payment_intent": payment.provider_reference, "amount": "4900"}
    assert len(stub.refunds) == 1
    assert Payment.objects.get().status == "refunded"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


def test_a_refund_failing_at_stripe_is_503_and_keeps_the_enrollment(stub):
    course = make_course(price=str(PRICE), capacity=3)
    student = make_user()
    enrollment = paid_enrollment(course, student)
    stub.fail_next(1, status=500)

    with after_commit():
        response = client_for(student).post(f"/api/enrollments/{enrollment['id']}/cancel")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert Enrollment.objects.get().status == "active"
    assert Payment.objects.get().status == "succeeded"
    assert stub.refunds == {}
    assert course_numbers(course) == (1, 1, PRICE)

    # Trying again later refunds it, once.
    with after_commit():
        again = client_for(student).post(f"/api/enrollments/{enrollment['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "refunded"
    assert len(stub.refunds) == 1
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


def test_a_payment_method_stripe_does_not_know_is_400_and_holds_no_seat(stub):
    """An unknown `pm_…` is refused by Stripe itself: bad input, not an unknown outcome.
    Such requests used to stay pending with the seat held, so a handful filled a course."""
    course = make_course(price=str(PRICE), capacity=2)

    answers = [
        enroll(Client(), guest_body(course, f"fake{n}@example.com", "pm_card_doesNotExist"))
        for n in range(3)
    ]

    for response in answers:
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        assert error["code"] == "invalid" and "payment_method" in error["fields"]
    assert course_numbers(course) == (0, 0, Decimal("0.00"))
    assert stub.charges_created == 0
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(Payment.objects.values_list("status", flat=True)) == {"failed"}
    # The seats are there for real students.
    for email in ("a@example.com", "b@example.com"):
        assert enroll(Client(), guest_body(course, email, "pm_card_visa")).status_code == 201


def test_a_network_failure_still_leaves_the_enrollment_pending(stub):
    """Only the provider's own refusal of the input is a 400: an edge failing before Stripe
    decided anything is an unknown outcome, kept pending for reconciliation."""
    course = make_course(price=str(PRICE), capacity=2)
    stub.fail_next(1, status=500)

    response = enroll(Client(), guest_body(course, "edge@example.com", "pm_card_visa"))

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert course_numbers(course) == (1, 0, Decimal("0.00"))


def test_reconcile_releases_a_pending_payment_whose_method_stripe_refuses(stub):
    """Payments left pending with a fake method (before this was a 400) are ended by the
    next reconcile round instead of holding their seats for a day."""
    course = make_course(price=str(PRICE), capacity=2)
    stub.fail_next(1, status=500)
    response = enroll(Client(), guest_body(course, "old@example.com", "pm_card_doesNotExist"))
    # The edge failed first: the request could not know, so it stayed pending.
    assert response.status_code == 201 and response.json()["status"] == "pending"

    with after_commit():
        outcomes = payments_reconcile(older_than=timedelta(0))

    assert outcomes == {"invalid": 1}
    assert Enrollment.objects.get().status == "cancelled"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


# --- 3-D Secure, another card, hold expiry ---------------------------------------------


def secure_checkout(course: Course, student: User) -> dict:
    return checkout(course, student, "pm_card_authenticationRequired")


def test_3d_secure_answers_the_intents_client_secret_and_confirm_applies_the_outcome(stub):
    course = make_course(price=str(PRICE), capacity=3)
    student = make_user()

    body = secure_checkout(course, student)

    [intent_id] = stub.payment_intents
    action = body["payment"]["next_action"]
    assert action == {
        "type": "use_stripe_sdk",
        "client_secret": stub.payment_intents[intent_id]["client_secret"],
        "redirect_url": None,
    }
    # Stripe.js's handleNextAction completed the challenge; the page confirms.
    stub.set_intent_status(intent_id, "succeeded", amount_received=4900, next_action=None)
    with after_commit():
        confirmed = client_for(student).post(f"/api/enrollments/{body['id']}/confirm")
    assert confirmed.json()["status"] == "active"
    assert stub.requests_to("GET", f"/v1/payment_intents/{intent_id}")
    assert course_numbers(course) == (1, 1, PRICE)


def test_another_card_cancels_the_intent_waiting_for_authentication_at_stripe(stub):
    course = make_course(price=str(PRICE), capacity=3)
    student = make_user()
    body = secure_checkout(course, student)
    [first] = stub.payment_intents

    with after_commit():
        paid = client_for(student).post(
            f"/api/enrollments/{body['id']}/pay", {"payment_method": "pm_card_visa"}, format="json"
        )

    assert paid.status_code == 200 and paid.json()["status"] == "active"
    assert stub.payment_intents[first]["status"] == "canceled"
    payment = Payment.objects.get(enrollment_id=body["id"])
    keys = [request.idempotency_key for request in intent_creates(stub)]
    assert keys == [f"payment-{payment.pk}", f"payment-{payment.pk}-2"]
    assert stub.charges_succeeded == 1
    kinds = list(PaymentCall.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["charge", "cancel", "charge"]


def test_an_expired_hold_cancels_the_payment_intent_at_stripe(stub):
    course = make_course(price=str(PRICE), capacity=3)
    body = secure_checkout(course, make_user())
    [intent_id] = stub.payment_intents
    Enrollment.objects.filter(pk=body["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with after_commit():
        assert checkout_holds_expire() == 1

    assert stub.payment_intents[intent_id]["status"] == "canceled"
    [cancel] = stub.requests_to("POST", f"/v1/payment_intents/{intent_id}/cancel")
    payment = Payment.objects.get(enrollment_id=body["id"])
    assert cancel.idempotency_key == f"cancel-{payment.pk}-1"
    assert Enrollment.objects.get(pk=body["id"]).end_reason == "expired"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


def test_a_stripe_cancel_that_finds_the_intent_succeeded_refunds_it(stub):
    course = make_course(price=str(PRICE), capacity=3)
    body = secure_checkout(course, make_user())
    [intent_id] = stub.payment_intents
    Enrollment.objects.filter(pk=body["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    stub.set_intent_status(
        intent_id, "succeeded", amount_received=4900, latest_charge="ch_late", next_action=None
    )

    with after_commit():
        checkout_holds_expire()

    assert Payment.objects.get(enrollment_id=body["id"]).status == "refunded"
    [refund] = stub.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent_id, 4900)
    assert course_numbers(course) == (0, 0, Decimal("0.00"))
