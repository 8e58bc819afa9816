"""Nothing committed is stranded: an enrollment whose request failed after its
reservation committed is finished by the retry with its Idempotency-Key (never 409) or by
the sweeper, and a dependency outage answers 503 `unavailable`."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from enrollment import transitions
from enrollment.models import Enrollment, Payment
from enrollment.reconcile import enrollments_pending_sweep, payments_reconcile
from portal.idempotency.models import IdempotencyKey
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def activation_fails_once(monkeypatch):
    """The database connection is cut right after the reservation committed."""
    real = transitions.activate
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(transitions, "activate", flaky)
    return calls


def test_a_cut_connection_answers_503_and_the_retry_returns_the_enrollment(
    activation_fails_once,
):
    course = make_course(price="0.00", capacity=5)
    body = guest_body(course, "blip@example.com", None)

    first = enroll(Client(), body, **{"Idempotency-Key": "k-blip"})

    assert first.status_code == 503
    assert first.json()["error"]["code"] == "unavailable"
    assert first["Retry-After"]
    stranded = Enrollment.objects.get()
    assert stranded.status == "pending"  # committed, holding its seat
    assert IdempotencyKey.objects.get().resource_id == stranded.pk

    again = enroll(Client(), body, **{"Idempotency-Key": "k-blip"})

    assert again.status_code == 201, again.json()
    assert again.json()["id"] == stranded.pk
    assert again.json()["status"] == "active"
    course.refresh_from_db()
    assert course.seats_taken == 1
    replay = enroll(Client(), body, **{"Idempotency-Key": "k-blip"})
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == stranded.pk


def test_the_sweeper_activates_free_enrollments_stuck_pending(activation_fails_once):
    free = make_course(price="0.00")
    assert enroll(Client(), guest_body(free, "stuck@example.com", None)).status_code == 503
    paid = make_course(price="20.00")
    pending_paid = enroll(
        Client(), guest_body(paid, "wait@example.com", "pm_card_authenticationRequired")
    )
    stuck = Enrollment.objects.get(course=free)

    assert enrollments_pending_sweep(older_than=timedelta(minutes=1)) == 0  # too recent
    Enrollment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    Enrollment.objects.filter(course=paid).update(created_at=timezone.now() - timedelta(hours=1))

    assert enrollments_pending_sweep(older_than=timedelta(minutes=1)) == 1

    stuck.refresh_from_db()
    assert stuck.status == "active" and stuck.activated_at is not None
    # A paid one is left to its payment's outcome (webhook, reconcile).
    assert pending_paid.status_code == 201
    assert Enrollment.objects.get(course=paid).status == "pending"


def test_a_payment_never_completed_holds_its_seat_for_a_bounded_time():
    course = make_course(price="20.00", capacity=1)
    waiting = enroll(
        Client(), guest_body(course, "slow@example.com", "pm_card_authenticationRequired")
    )
    assert waiting.status_code == 201 and waiting.json()["status"] == "pending"
    course.refresh_from_db()
    assert course.seats_taken == 1  # held while the buyer may still authenticate
    two_hours_ago = timezone.now() - timedelta(hours=2)
    Enrollment.objects.update(created_at=two_hours_ago)
    Payment.objects.update(created_at=two_hours_ago, updated_at=two_hours_ago)

    assert payments_reconcile(
        older_than=timedelta(minutes=5), abandon_after=timedelta(hours=3)
    ) == {"waiting": 1}
    assert payments_reconcile(
        older_than=timedelta(minutes=5), abandon_after=timedelta(hours=1)
    ) == {"abandoned": 1}

    enrollment = Enrollment.objects.get()
    assert enrollment.status == "cancelled" and enrollment.payment.status == "failed"
    course.refresh_from_db()
    assert course.seats_taken == 0
    # The seat is free for the next buyer.
    assert enroll(Client(), guest_body(course, "next@example.com")).status_code == 201


def test_a_database_outage_on_a_page_is_a_503_page(monkeypatch):
    from frontend import views

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(views, "render", down)
    response = Client().get("/")
    assert response.status_code == 503
    assert b"unavailable" in response.content
