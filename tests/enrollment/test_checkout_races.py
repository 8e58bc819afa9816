"""A checkout's hold running out while its late success arrives, on real PostgreSQL with
real threads: the seat is released exactly once, and the money is kept only with the seat."""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Coupon, Course
from enrollment import transitions
from enrollment.models import Enrollment, Payment, TestGatewayIntent
from enrollment.payments.test_gateway import intent_authenticate
from frontend.test_bank import webhook_deliver
from tests.conftest import client_for
from tests.enrollment.helpers import run_concurrently
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("round_", range(6))
def test_expiry_racing_a_late_success_releases_the_seat_once(round_):
    course = make_course(title=f"Race {round_}", price="49.00", capacity=1)
    buyer = make_user()
    answer = client_for(buyer).post(
        "/api/enrollments",
        {"course": course.slug, "payment_method": "pm_card_authenticationRequired"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    enrollment_id = answer.json()["id"]
    payment = Payment.objects.get(enrollment_id=enrollment_id)
    Enrollment.objects.filter(pk=enrollment_id).update(hold_expires_at=timezone.now())
    # The bank approved just as the hold ran out; its webhook races the sweep.
    intent = intent_authenticate(reference=payment.provider_reference, approve=True)

    def work(index: int):
        # Released together; one side starts a moment later, alternating by round, so
        # both orders are tried (the row lock must make either one come out whole).
        if index == round_ % 2:
            time.sleep(0.03)
        if index == 0:
            return transitions.expire(enrollment_id=enrollment_id)
        return webhook_deliver(TestGatewayIntent.objects.get(pk=intent.pk))

    expired, outcome = run_concurrently(2, work)

    enrollment = Enrollment.objects.get(pk=enrollment_id)
    payment.refresh_from_db()
    course = Course.objects.get(pk=course.pk)
    assert outcome == "applied"
    if expired:  # the sweep won: the late money went back, the seat is free
        assert (enrollment.status, enrollment.end_reason) == ("cancelled", "expired")
        assert payment.status == "refunded"
        assert (course.seats_taken, course.enrollment_count) == (0, 0)
        assert course.revenue == Decimal("0.00")
    else:  # the success won: the buyer keeps the seat they paid for
        assert enrollment.status == "active"
        assert payment.status == "succeeded"
        assert (course.seats_taken, course.enrollment_count) == (1, 1)
        assert course.revenue == Decimal("49.00")
    live = Enrollment.objects.filter(course=course, status__in=["pending", "active"]).count()
    assert course.seats_taken == live


def test_twenty_buyers_racing_for_a_five_use_coupon_get_exactly_five_discounts():
    course = make_course(title="Launch", price="49.00", capacity=50)
    Coupon.objects.create(code="FIRST5", course=course, percent_off=50, max_redemptions=5)
    buyers = [make_user() for _ in range(20)]

    def buy(index: int):
        return client_for(buyers[index]).post(
            "/api/enrollments",
            {"course": course.slug, "payment_method": "pm_card_visa", "coupon": "FIRST5"},
            format="json",
        )

    responses = run_concurrently(20, buy)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [409] * 15
    refused = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert refused == {"coupon_exhausted"}
    paid = Payment.objects.filter(enrollment__course=course, status="succeeded")
    assert sorted(paid.values_list("amount", flat=True)) == [Decimal("24.50")] * 5
    assert Coupon.objects.get(code="FIRST5").redeemed == 5
    course = Course.objects.get(pk=course.pk)
    assert course.seats_taken == 5 and course.revenue == Decimal("122.50")
