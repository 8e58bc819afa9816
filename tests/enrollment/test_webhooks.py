"""POST /api/payments/stripe/webhook: signed Stripe events drive pending enrollments
(test gateway for the enrollment itself, real PostgreSQL, after-commit effects)."""

import json
import secrets
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Course
from enrollment.models import Enrollment, Payment, WebhookEvent
from enrollment.payments.webhooks import sign_payload
from portal.accounts.models import User
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, guest_body, run_concurrently
from tests.factories import make_course, make_instructor, make_user
from tests.stripe_stub import make_event

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec_portal_tests"
WEBHOOK_URL = "/api/payments/stripe/webhook"
PRICE = Decimal("49.00")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def post_event(
    payload: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    client: Client | None = None,
):
    with after_commit():
        return (client or Client()).post(
            WEBHOOK_URL,
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, secret, timestamp),
        )


def intent(payment: Payment, status: str, **fields) -> dict:
    """A PaymentIntent as Stripe sends it in payment_intent.* events."""
    return {
        "id": payment.provider_reference,
        "object": "payment_intent",
        "amount": int(payment.amount * 100),
        "currency": payment.currency,
        "status": status,
        "metadata": {"payment_id": str(payment.pk), "enrollment": payment.enrollment.number},
        **fields,
    }


def succeeded(payment: Payment) -> bytes:
    return make_event("payment_intent.succeeded", intent(payment, "succeeded"))


def payment_failed(payment: Payment, message: str = "Your card was declined.") -> bytes:
    error = {"type": "card_error", "code": "card_declined", "message": message}
    return make_event(
        "payment_intent.payment_failed",
        intent(payment, "requires_payment_method", last_payment_error=error),
    )


def charge_refunded(payment: Payment) -> bytes:
    charge = {
        "id": f"ch_{secrets.token_hex(8)}",
        "object": "charge",
        "amount": int(payment.amount * 100),
        "amount_refunded": int(payment.amount * 100),
        "refunded": True,
        "payment_intent": payment.provider_reference,
    }
    return make_event("charge.refunded", charge)


def two_instructor_course(**fields) -> tuple[Course, list[User]]:
    first, second = make_instructor(), make_instructor()
    course = make_course(instructor=first, price=str(PRICE), **fields)
    course.course_instructors.create(user=second, position=1)
    return course, [first, second]


def pending_enrollment(course: Course, user: User | None = None) -> tuple[Enrollment, Payment]:
    """An enrollment left pending by 3-D Secure, its payment referenced "pi_test_…"."""
    if user is None:
        response = enroll(
            Client(),
            guest_body(
                course, f"guest{secrets.token_hex(4)}@example.com", "pm_card_authenticationRequired"
            ),
        )
    else:
        with after_commit():
            response = client_for(user).post(
                "/api/enrollments",
                {"course": course.slug, "payment_method": "pm_card_authenticationRequired"},
                format="json",
            )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    payment = Payment.objects.select_related("enrollment").get(enrollment_id=response.json()["id"])
    assert payment.provider_reference.startswith("pi_test_")
    return payment.enrollment, payment


def active_enrollment(course: Course, email: str) -> Enrollment:
    response = enroll(Client(), guest_body(course, email, "pm_card_visa"))
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active"
    return Enrollment.objects.get(pk=response.json()["id"])


def status_events(user: User) -> list[str]:
    return [
        event.payload["enrollment"]["status"]
        for event in UserEvent.objects.filter(user=user, type="enrollment.status").order_by("seq")
    ]


def hold_ran_out(enrollment: Enrollment) -> None:
    """The checkout's seat hold ends (the sweep has not run yet): a failure then ends it."""
    Enrollment.objects.filter(pk=enrollment.pk).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )


def state(enrollment: Enrollment) -> tuple[str, str, int, int, Decimal]:
    enrollment.refresh_from_db()
    course = Course.objects.get(pk=enrollment.course_id)
    payment = Payment.objects.get(enrollment=enrollment)
    return (
        enrollment.status,
        payment.status,
        course.seats_taken,
        course.enrollment_count,
        course.revenue,
    )


# --- verification --------------------------------------------------------------------


def test_without_a_signing_secret_webhooks_are_unavailable(settings):
    course = make_course(price="10.00")
    enrollment, payment = pending_enrollment(course)
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = post_event(succeeded(payment), secret="whsec_anything")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert not WebhookEvent.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(
            lambda payload: sign_payload(payload, "whsec_someone_else"), id="other-secret"
        ),
        pytest.param(lambda payload: sign_payload(payload + b" ", WEBHOOK_SECRET), id="tampered"),
        pytest.param(lambda payload: "t=1,v1=deadbeef", id="malformed"),
        pytest.param(lambda payload: "", id="missing"),
    ],
)
def test_a_bad_signature_is_refused_in_the_error_shape(signature):
    course = make_course(price="10.00")
    enrollment, payment = pending_enrollment(course)
    payload = succeeded(payment)

    response = Client().post(
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(payload),
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert WEBHOOK_SECRET not in response.content.decode()
    assert not WebhookEvent.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_a_stale_timestamp_is_refused():
    course = make_course(price="10.00")
    enrollment, payment = pending_enrollment(course)

    response = post_event(succeeded(payment), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not WebhookEvent.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_a_fresh_timestamp_within_tolerance_is_accepted():
    course = make_course(price="10.00")
    _, payment = pending_enrollment(course)

    response = post_event(succeeded(payment), timestamp=int(time.time()) - 200)

    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"


@pytest.mark.parametrize(
    "payload",
    [b"not json at all", b"\xff\xfe\x00garbage", b'["a list"]', b'{"object": "event"}'],
    ids=["text", "binary", "list", "no-fields"],
)
def test_a_garbage_body_is_refused(payload):
    response = post_event(payload)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not WebhookEvent.objects.exists()


# --- payment_intent.succeeded ---------------------------------------------------------


def test_success_activates_a_pending_enrollment():
    course, instructors = two_instructor_course(capacity=3)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    assert state(enrollment) == ("pending", "requires_action", 1, 0, Decimal("0.00"))
    payload = succeeded(payment)

    response = post_event(payload)

    assert response.status_code == 200
    body = response.json()
    assert body == {"received": True, "event": json.loads(payload)["id"], "outcome": "applied"}
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    for instructor in instructors:
        [created] = UserEvent.objects.filter(user=instructor, type="enrollment.created")
        assert created.payload["enrollment"]["id"] == enrollment.pk
        assert created.payload["enrollment"]["status"] == "active"
        assert created.payload["course"]["seats_taken"] == 1
    assert status_events(student) == ["pending", "active"]
    record = WebhookEvent.objects.get()
    assert (record.type, record.payment_reference, record.outcome) == (
        "payment_intent.succeeded",
        payment.provider_reference,
        "applied",
    )


# Threads with connections of their own race on committed rows.
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_five_times_concurrently_changes_state_once():
    course, instructors = two_instructor_course(capacity=3)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    payload = succeeded(payment)
    signature = sign_payload(payload, WEBHOOK_SECRET)
    clients = [Client() for _ in range(5)]

    def deliver(index: int):
        response = clients[index].post(
            WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        return response.status_code, response.json()["outcome"]

    answers = run_concurrently(5, deliver)

    assert [status for status, _ in answers] == [200] * 5
    assert sorted(outcome for _, outcome in answers) == ["applied"] + ["duplicate"] * 4
    assert WebhookEvent.objects.count() == 1
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    for instructor in instructors:
        assert UserEvent.objects.filter(user=instructor, type="enrollment.created").count() == 1
    assert status_events(student).count("active") == 1


def test_a_replayed_event_later_changes_nothing():
    course, _ = two_instructor_course()
    enrollment, payment = pending_enrollment(course)
    payload = succeeded(payment)
    assert post_event(payload).json()["outcome"] == "applied"

    again = post_event(payload)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)


def test_a_second_success_event_with_another_id_changes_nothing():
    course, instructors = two_instructor_course()
    enrollment, payment = pending_enrollment(course)
    assert post_event(succeeded(payment)).json()["outcome"] == "applied"

    assert post_event(succeeded(payment)).json()["outcome"] == "applied"

    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    assert UserEvent.objects.filter(user=instructors[0], type="enrollment.created").count() == 1


def test_the_payment_is_found_by_metadata_when_its_reference_was_never_learnt():
    course, _ = two_instructor_course()
    enrollment, payment = pending_enrollment(course)
    # As after a gateway timeout: the charge's id never reached us.
    Payment.objects.filter(pk=payment.pk).update(provider_reference="", status="pending")
    payment.provider_reference = "pi_" + secrets.token_hex(12)

    response = post_event(succeeded(payment))

    assert response.json()["outcome"] == "applied"
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    assert Payment.objects.get(pk=payment.pk).provider_reference == payment.provider_reference


# --- payment_intent.payment_failed ----------------------------------------------------


def test_failure_within_the_hold_keeps_the_checkout_open_for_another_card():
    course, _ = two_instructor_course(capacity=2)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)

    response = post_event(payment_failed(payment, "Your card has insufficient funds."))

    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    # A failed 3-D Secure challenge: the seat stays held for another card until the hold ends.
    assert state(enrollment) == ("pending", "failed", 1, 0, Decimal("0.00"))
    assert Payment.objects.get(pk=payment.pk).failure_reason == "Your card has insufficient funds."
    assert status_events(student) == ["pending", "pending"]


def test_failure_after_the_hold_ran_out_cancels_and_releases_the_seat():
    course, _ = two_instructor_course(capacity=2)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    hold_ran_out(enrollment)

    response = post_event(payment_failed(payment, "Your card has insufficient funds."))

    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    assert state(enrollment) == ("cancelled", "failed", 0, 0, Decimal("0.00"))
    assert status_events(student) == ["pending", "cancelled"]


def test_a_failure_of_an_earlier_attempt_leaves_the_current_one_alone():
    course, _ = two_instructor_course(capacity=2)
    enrollment, payment = pending_enrollment(course)
    earlier = payment_failed(payment)
    Payment.objects.filter(pk=payment.pk).update(provider_reference="pi_test_second_attempt")

    response = post_event(earlier)

    assert response.json()["outcome"] == "stale_attempt"
    assert state(enrollment) == ("pending", "requires_action", 1, 0, Decimal("0.00"))


# --- out-of-order deliveries ----------------------------------------------------------


def test_a_stale_failure_after_success_leaves_the_enrollment_active():
    course, _ = two_instructor_course(capacity=2)
    enrollment, payment = pending_enrollment(course)
    failure = payment_failed(payment)  # an earlier attempt's event, delivered late
    assert post_event(succeeded(payment)).json()["outcome"] == "applied"

    response = post_event(failure)

    assert response.status_code == 200
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    assert Payment.objects.get(pk=payment.pk).failure_reason == ""


def test_a_late_success_after_a_refund_leaves_it_refunded():
    course, _ = two_instructor_course(capacity=2)
    enrollment, payment = pending_enrollment(course)
    success = succeeded(payment)

    assert post_event(charge_refunded(payment)).json()["outcome"] == "applied"
    assert state(enrollment) == ("refunded", "refunded", 0, 0, Decimal("0.00"))
    response = post_event(success)

    assert response.status_code == 200
    assert state(enrollment) == ("refunded", "refunded", 0, 0, Decimal("0.00"))


def test_a_refund_of_an_active_enrollment_then_a_replayed_success_stays_refunded():
    course, _ = two_instructor_course(capacity=2)
    enrollment = active_enrollment(course, "paid@example.com")
    payment = Payment.objects.get(enrollment=enrollment)
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)

    assert post_event(charge_refunded(payment)).json()["outcome"] == "applied"
    assert state(enrollment) == ("refunded", "refunded", 0, 0, Decimal("0.00"))
    assert post_event(succeeded(payment)).status_code == 200

    assert state(enrollment) == ("refunded", "refunded", 0, 0, Decimal("0.00"))


def test_success_after_a_failure_reactivates_when_a_seat_is_free():
    course, instructors = two_instructor_course(capacity=2)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    hold_ran_out(enrollment)
    assert post_event(payment_failed(payment)).json()["outcome"] == "applied"
    assert state(enrollment) == ("cancelled", "failed", 0, 0, Decimal("0.00"))

    # The customer tried again with another card on the same PaymentIntent.
    response = post_event(succeeded(payment))

    assert response.json()["outcome"] == "applied"
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    enrollment.refresh_from_db()
    assert enrollment.ended_at is None and enrollment.activated_at is not None
    assert Payment.objects.get(pk=payment.pk).failure_reason == ""
    assert status_events(student) == ["pending", "cancelled", "active"]
    assert UserEvent.objects.filter(user=instructors[0], type="enrollment.created").count() == 1


def test_success_after_a_failure_within_the_hold_activates_on_the_held_seat():
    course, _ = two_instructor_course(capacity=1)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    assert post_event(payment_failed(payment)).json()["outcome"] == "applied"

    response = post_event(succeeded(payment))

    assert response.json()["outcome"] == "applied"
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)
    assert status_events(student) == ["pending", "pending", "active"]


def test_success_after_a_failure_does_not_overbook_a_course_that_filled_up():
    course, _ = two_instructor_course(capacity=1)
    enrollment, payment = pending_enrollment(course)
    hold_ran_out(enrollment)
    assert post_event(payment_failed(payment)).json()["outcome"] == "applied"
    other = active_enrollment(course, "took-the-seat@example.com")
    assert Course.objects.get(pk=course.pk).seats_taken == 1

    response = post_event(succeeded(payment))

    assert response.status_code == 200
    course.refresh_from_db()
    assert course.seats_taken == course.capacity == 1
    assert (course.enrollment_count, course.revenue) == (1, PRICE)  # the other student only
    enrollment.refresh_from_db()
    assert enrollment.status == "cancelled"
    # The money that arrived anyway went back (the refund job ran after the commit).
    assert Payment.objects.get(pk=payment.pk).status == "refunded"
    other.refresh_from_db()
    assert other.status == "active"
    assert Payment.objects.get(enrollment=other).status == "succeeded"


def test_a_late_success_after_the_student_cancelled_is_refunded_not_reactivated():
    course, _ = two_instructor_course(capacity=3)
    student = make_user()
    enrollment, payment = pending_enrollment(course, student)
    with after_commit():
        cancelled = client_for(student).post(f"/api/enrollments/{enrollment.pk}/cancel")
    assert cancelled.json()["status"] == "cancelled"

    # The customer finished 3-D Secure anyway: the money must go back.
    assert post_event(succeeded(payment)).json()["outcome"] == "applied"

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.end_reason) == ("cancelled", "cancelled")
    assert Payment.objects.get(pk=payment.pk).status == "refunded"
    course.refresh_from_db()
    assert (course.seats_taken, course.enrollment_count, course.revenue) == (0, 0, Decimal("0"))


def test_a_partial_refund_keeps_the_enrollment():
    course, _ = two_instructor_course(capacity=3)
    enrollment = active_enrollment(course, "partial@example.com")
    payment = Payment.objects.get(enrollment=enrollment)
    charge = {
        "id": "ch_partial",
        "object": "charge",
        "amount": int(payment.amount * 100),
        "amount_refunded": 500,
        "refunded": False,
        "payment_intent": payment.provider_reference,
    }
    response = post_event(make_event("charge.refunded", charge))
    assert response.json()["outcome"] == "partial_refund"
    assert state(enrollment) == ("active", "succeeded", 1, 1, PRICE)


# --- events the portal does not act on ------------------------------------------------


def test_an_event_for_an_unknown_payment_is_acknowledged():
    payload = make_event(
        "payment_intent.succeeded",
        {"id": "pi_nobody_knows", "object": "payment_intent", "status": "succeeded"},
    )

    response = post_event(payload)

    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_payment"
    assert WebhookEvent.objects.get().outcome == "unknown_payment"


def test_an_unknown_payment_id_in_metadata_is_an_unknown_payment():
    payload = make_event(
        "payment_intent.succeeded",
        {"id": "", "object": "payment_intent", "metadata": {"payment_id": "987654321"}},
    )

    assert post_event(payload).json()["outcome"] == "unknown_payment"


def test_an_unhandled_event_type_is_ignored():
    course, _ = two_instructor_course()
    enrollment, payment = pending_enrollment(course)
    payload = make_event("payment_intent.created", intent(payment, "requires_payment_method"))

    response = post_event(payload)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert WebhookEvent.objects.get().type == "payment_intent.created"
    assert state(enrollment) == ("pending", "requires_action", 1, 0, Decimal("0.00"))
