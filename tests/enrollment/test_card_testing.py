"""Card testing: declines tell anonymous callers nothing about the card, are limited per
address, per student email and per account, and new accounts bring no new enrollment
quota (test gateway, real view stack, rate limits opted in)."""

import pytest
from django.test import Client

from enrollment.models import Enrollment, Payment
from tests.conftest import client_for
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db
WINDOW = 3600  # long windows: a test never straddles a window boundary
STOLEN = "pm_card_chargeDeclinedStolenCard"


@pytest.fixture
def paid_course():
    return make_course(price="49.00", capacity=50)


def limit(settings, rate_limits, **scopes: int) -> None:
    settings.RATE_LIMITS = {
        **rate_limits,
        "enroll": (1000, WINDOW),
        "enroll_ip": (1000, WINDOW),
        "decline": (1000, WINDOW),
        "decline_ip": (1000, WINDOW),
        **{scope: (count, WINDOW) for scope, count in scopes.items()},
    }


def signed_in(user, address: str = "127.0.0.1"):
    client = client_for(user)
    client.defaults["REMOTE_ADDR"] = address
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.json()
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= WINDOW + 1


# --- what a decline says -----------------------------------------------------------------


def test_a_guest_decline_names_no_decline_code(paid_course):
    response = enroll(Client(), guest_body(paid_course, "thief@example.com", STOLEN))

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "payment_declined"
    assert "decline_code" not in error
    assert error["message"] == "Your card was declined."
    # The portal keeps the provider's reason for its staff.
    assert Payment.objects.get().failure_reason == "Your card was declined."


def test_staff_enrolling_a_guest_do_not_see_the_guests_decline_code(paid_course):
    staff = make_user(is_staff=True)
    body = guest_body(paid_course, "someone@example.com", "pm_card_chargeDeclinedIncorrectCvc")

    response = enroll(client_for(staff), body)

    assert response.status_code == 402
    error = response.json()["error"]
    assert "decline_code" not in error and "security code" not in error["message"]


def test_a_signed_in_student_learns_why_their_own_card_was_declined(paid_course):
    student = make_user()
    body = {"course": paid_course.slug, "payment_method": "pm_card_chargeDeclinedIncorrectCvc"}

    response = enroll(client_for(student), body)

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["decline_code"] == "incorrect_cvc"
    assert error["message"] == "Your card's security code is incorrect."


# --- declines are limited --------------------------------------------------------------------


def test_declines_are_limited_per_student_email(settings, rate_limits, paid_course):
    limit(settings, rate_limits, decline=2)
    tester = "tester@example.com"

    declined = [
        enroll(Client(REMOTE_ADDR=f"10.1.0.{n}"), guest_body(paid_course, tester, STOLEN))
        for n in range(2)
    ]
    assert [response.status_code for response in declined] == [402, 402]
    payments = Payment.objects.count()

    # A third attempt for that email, from yet another address and with a good card, is
    # refused before anything is reserved or charged.
    third = enroll(Client(REMOTE_ADDR="10.1.0.9"), guest_body(paid_course, tester, "pm_card_visa"))

    assert_throttled(third)
    assert Payment.objects.count() == payments
    assert not Enrollment.objects.filter(status__in=["pending", "active"]).exists()
    paid_course.refresh_from_db()
    assert paid_course.seats_taken == 0
    # Other students are not affected, nor are free courses for this one.
    other = enroll(Client(), guest_body(paid_course, "honest@example.com", "pm_card_visa"))
    assert other.status_code == 201
    free = enroll(Client(REMOTE_ADDR="10.1.0.9"), guest_body(make_course(), tester, None))
    assert free.status_code == 201


def test_declines_are_limited_per_address(settings, rate_limits, paid_course):
    limit(settings, rate_limits, decline_ip=2)
    for n in range(2):
        body = guest_body(paid_course, f"card{n}@example.com", STOLEN)
        assert enroll(Client(REMOTE_ADDR="10.2.0.1"), body).status_code == 402

    fresh_email = guest_body(paid_course, "card9@example.com", "pm_card_visa")
    assert_throttled(enroll(Client(REMOTE_ADDR="10.2.0.1"), fresh_email))
    assert enroll(Client(REMOTE_ADDR="10.2.0.2"), fresh_email).status_code == 201


def test_declines_are_limited_per_account(settings, rate_limits, paid_course):
    limit(settings, rate_limits, decline=2)
    student = make_user()
    body = {"course": paid_course.slug, "payment_method": STOLEN}
    for n in range(2):
        assert enroll(signed_in(student, f"10.3.0.{n}"), body).status_code == 402

    again = {"course": paid_course.slug, "payment_method": "pm_card_visa"}
    assert_throttled(enroll(client_for(student), again))


# --- new accounts bring no new quota ---------------------------------------------------------


def test_the_enrollment_quota_is_per_address_whatever_the_account(settings, rate_limits):
    limit(settings, rate_limits, enroll=2, enroll_ip=3)
    courses = [make_course() for _ in range(4)]

    answers = [
        enroll(client_for(make_user()), {"course": course.slug}).status_code for course in courses
    ]

    assert answers[:3] == [201, 201, 201]
    assert answers[3] == 429
    elsewhere = signed_in(make_user(), "10.4.0.1")
    assert enroll(elsewhere, {"course": courses[3].slug}).status_code == 201


def test_the_per_account_quota_follows_the_account_across_addresses(settings, rate_limits):
    limit(settings, rate_limits, enroll=2)
    student = make_user()
    courses = [make_course() for _ in range(3)]

    answers = [
        enroll(signed_in(student, f"10.5.0.{n}"), {"course": course.slug})
        for n, course in enumerate(courses)
    ]

    assert [response.status_code for response in answers[:2]] == [201, 201]
    assert_throttled(answers[2])
