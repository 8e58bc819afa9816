"""The payment ledger: one PaymentCall row per gateway call (charge, retrieve, refund),
with its outcome, reference, error and idempotency key, also when the call raised."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from enrollment import transitions
from enrollment.models import Enrollment, Payment, PaymentCall
from enrollment.payments.test_gateway import TestGateway
from enrollment.reconcile import payments_reconcile
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, enroll_as, guest_body
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db


def ledger(payment: Payment) -> list[tuple[str, str]]:
    return [(call.kind, call.outcome) for call in PaymentCall.objects.filter(payment=payment)]


@pytest.mark.parametrize(
    ("method", "status", "outcome"),
    [
        ("pm_card_visa", 201, "succeeded"),
        ("pm_card_chargeDeclinedInsufficientFunds", 402, "declined"),
        ("pm_card_authenticationRequired", 201, "requires_action"),
    ],
)
def test_a_charge_is_one_row_with_its_outcome(method, status, outcome):
    course = make_course(price="30.00")
    assert enroll(Client(), guest_body(course, "row@example.com", method)).status_code == status

    payment = Payment.objects.get()
    [call] = PaymentCall.objects.filter(payment=payment)
    assert (call.kind, call.outcome) == ("charge", outcome)
    assert call.idempotency_key == f"payment-{payment.pk}"
    assert call.reference.startswith("pi_test_")
    if outcome == "declined":
        assert call.error == "insufficient_funds: Your card has insufficient funds."


def test_a_refund_on_cancel_and_a_retrieve_by_reconcile_are_rows_too():
    student = make_user()
    paid = enroll_as(student, make_course(price="30.00"), "pm_card_visa")
    with after_commit():
        assert client_for(student).post(f"/api/enrollments/{paid['id']}/cancel").status_code == 200
    payment = Payment.objects.get(enrollment_id=paid["id"])
    assert ledger(payment) == [("charge", "succeeded"), ("refund", "succeeded")]
    assert PaymentCall.objects.get(kind="refund").idempotency_key == f"refund-{payment.pk}"

    waiting = enroll(
        Client(),
        guest_body(
            make_course(price="10.00"), "wait@example.com", "pm_card_authenticationRequired"
        ),
    )
    pending = Payment.objects.get(enrollment_id=waiting.json()["id"])
    Payment.objects.filter(pk=pending.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    payments_reconcile(older_than=timedelta(minutes=5))
    assert ledger(pending) == [("charge", "requires_action"), ("retrieve", "requires_action")]


def test_a_call_that_raised_is_recorded_as_an_error(monkeypatch):
    def down(self, **kwargs):
        raise ConnectionError("gateway unreachable")

    monkeypatch.setattr(TestGateway, "charge", down)
    answer = enroll(Client(), guest_body(make_course(price="30.00"), "e@example.com"))

    assert answer.status_code == 201 and answer.json()["status"] == "pending"  # unknown outcome
    [call] = PaymentCall.objects.all()
    assert (call.kind, call.outcome) == ("charge", "error")
    assert call.error == "ConnectionError: gateway unreachable"


def test_an_orphan_refund_is_a_row():
    student = make_user()
    paid = enroll_as(student, make_course(price="30.00"), "pm_card_visa")
    payment = Payment.objects.get(enrollment_id=paid["id"])
    Enrollment.objects.filter(pk=paid["id"]).update(status="cancelled", end_reason="cancelled")
    assert transitions.refund_orphan(payment_id=payment.pk) == "refunded"
    assert ledger(payment) == [("charge", "succeeded"), ("refund", "succeeded")]


def test_staff_read_the_ledger_in_the_payment_admin():
    paid = enroll_as(make_user(), make_course(price="30.00"), "pm_card_visa")
    payment = Payment.objects.get(enrollment_id=paid["id"])
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/enrollment/payment/{payment.pk}/change/").content.decode()
    assert f"payment-{payment.pk}" in page and "succeeded" in page
    assert 'name="calls-0-outcome"' not in page  # read-only
