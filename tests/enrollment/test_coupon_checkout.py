"""Coupons at checkout, over the API with the test gateway: the discounted amount is what
the gateway charges and the receipt records; a coupon that takes the whole price makes
the course free without a card; an unpaid checkout that ends gives its use back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Coupon, Course
from enrollment.checkout import checkout_holds_expire
from enrollment.models import Enrollment, Payment, PaymentCall, Receipt, TestGatewayIntent
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def course() -> Course:
    return make_course(title="Compilers", price="49.00", capacity=5)


def coupon(course: Course | None, code: str = "LAUNCH20", **terms) -> Coupon:
    terms.setdefault("percent_off", None if "amount_off" in terms else 20)
    return Coupon.objects.create(code=code, course=course, **terms)


def buy(user, course: Course, **body):
    with after_commit():
        return client_for(user).post(
            "/api/enrollments", {"course": course.slug, **body}, format="json"
        )


def redeemed(code: str) -> int:
    return Coupon.objects.get(code=code).redeemed


def test_a_percent_coupon_charges_the_discounted_amount_and_shows_on_the_receipt(course):
    coupon(course)
    buyer = make_user()

    response = buy(buyer, course, payment_method="pm_card_visa", coupon=" launch20 ")

    assert response.status_code == 201, response.json()
    payment = response.json()["payment"]
    assert (payment["amount"], payment["list_price"], payment["coupon"]) == (
        "39.20",
        "49.00",
        "LAUNCH20",
    )
    assert response.json()["status"] == "active"
    [charged] = TestGatewayIntent.objects.all()
    assert charged.amount == Decimal("39.20")
    receipt = client_for(buyer).get(f"/api/enrollments/{response.json()['id']}/receipt").json()
    assert (receipt["amount"], receipt["coupon"]) == ("39.20", "LAUNCH20")
    assert redeemed("LAUNCH20") == 1
    assert Course.objects.get(pk=course.pk).revenue == Decimal("39.20")


def test_a_coupon_for_the_whole_price_needs_no_card_and_charges_nothing(course):
    coupon(course, "FREEBIE", percent_off=100)
    buyer = make_user()

    response = buy(buyer, course, coupon="freebie")  # no payment_method at all

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert (body["payment"]["amount"], body["payment"]["coupon"]) == ("0.00", "FREEBIE")
    assert body["hold_expires_at"] is None and body["refund"] is None
    assert not PaymentCall.objects.exists() and not TestGatewayIntent.objects.exists()
    receipt = Receipt.objects.get(enrollment_id=body["id"])
    assert (receipt.amount, receipt.coupon) == (Decimal("0.00"), "FREEBIE")
    # Leaving it refunds nothing and keeps the coupon's use: it was used.
    with after_commit():
        left = client_for(buyer).post(f"/api/enrollments/{body['id']}/cancel")
    assert left.json()["status"] == "cancelled"
    assert not PaymentCall.objects.exists()
    assert redeemed("FREEBIE") == 1
    assert Course.objects.get(pk=course.pk).seats_taken == 0


def test_an_amount_off_larger_than_the_price_also_makes_it_free(course):
    coupon(course, "BIGGIFT", amount_off=Decimal("60.00"))

    response = buy(make_user(), course, coupon="BIGGIFT")

    assert response.json()["payment"]["amount"] == "0.00"
    assert response.json()["status"] == "active"


def test_a_bad_coupon_is_refused_before_anything_is_written(course):
    other = make_course(title="Other", price="49.00")
    coupon(other, "OTHERS")
    coupon(course, "OLD", expires_at=timezone.now() - timedelta(days=1))
    coupon(course, "USEDUP", max_redemptions=1, redeemed=1)
    buyer = make_user()
    Enrollment.objects.all().delete()

    for code, status, error in [
        ("NOPE", 400, "coupon_invalid"),
        ("OTHERS", 400, "coupon_invalid"),
        ("OLD", 400, "coupon_invalid"),
        ("USEDUP", 409, "coupon_exhausted"),
    ]:
        response = buy(buyer, course, payment_method="pm_card_visa", coupon=code)
        assert response.status_code == status, (code, response.json())
        assert response.json()["error"]["code"] == error
        if status == 400:
            assert "coupon" in response.json()["error"]["fields"]
    assert not Enrollment.objects.exists() and not Payment.objects.exists()
    assert Course.objects.get(pk=course.pk).seats_taken == 0
    assert redeemed("USEDUP") == 1


def test_a_coupon_on_a_free_course_is_refused():
    free = make_course(title="Free", price="0.00")
    coupon(None, "EVERYWHERE")

    response = buy(make_user(), free, coupon="EVERYWHERE")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "coupon_invalid"
    assert not Enrollment.objects.filter(course=free).exists()


def test_a_declined_card_gives_the_coupons_use_back(course):
    coupon(course, max_redemptions=1)

    declined = buy(make_user(), course, payment_method="pm_card_chargeDeclined", coupon="LAUNCH20")

    assert declined.status_code == 402
    assert redeemed("LAUNCH20") == 0
    # So the next buyer can still use it.
    assert (
        buy(make_user(), course, payment_method="pm_card_visa", coupon="LAUNCH20").status_code
        == 201
    )
    assert redeemed("LAUNCH20") == 1


def test_an_expired_or_cancelled_checkout_gives_the_coupons_use_back(course):
    coupon(course, max_redemptions=2)
    first, second = make_user(), make_user()
    expiring = buy(
        first, course, payment_method="pm_card_authenticationRequired", coupon="LAUNCH20"
    )
    cancelling = buy(
        second, course, payment_method="pm_card_authenticationRequired", coupon="LAUNCH20"
    )
    assert redeemed("LAUNCH20") == 2
    assert expiring.json()["payment"]["amount"] == "39.20"

    Enrollment.objects.filter(pk=expiring.json()["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with after_commit():
        checkout_holds_expire()
    assert redeemed("LAUNCH20") == 1
    with after_commit():
        client_for(second).post(f"/api/enrollments/{cancelling.json()['id']}/cancel")
    assert redeemed("LAUNCH20") == 0


def test_a_coupon_is_not_given_back_while_the_checkout_stays_open(course):
    coupon(course, max_redemptions=1)
    buyer = make_user()
    body = buy(buyer, course, payment_method="pm_card_authenticationRequired", coupon="LAUNCH20")

    with after_commit():
        declined = client_for(buyer).post(
            f"/api/enrollments/{body.json()['id']}/pay",
            {"payment_method": "pm_card_chargeDeclined"},
            format="json",
        )

    assert declined.status_code == 402
    assert redeemed("LAUNCH20") == 1  # still this buyer's, for their next card
    with after_commit():
        paid = client_for(buyer).post(
            f"/api/enrollments/{body.json()['id']}/pay",
            {"payment_method": "pm_card_visa"},
            format="json",
        )
    assert paid.json()["status"] == "active"
    assert paid.json()["payment"]["amount"] == "39.20"
    assert Client().get("/api/courses/" + course.slug).json()["seats_taken"] == 1
