"""An open checkout over the API, against the test gateway (its 3-D Secure challenge page
stands in for the bank): the challenge approved or failed, another card (`/pay`), the
page's confirm call, the seat hold running out, the reminder, and the ledger of every
gateway call."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from catalog.models import Course
from enrollment import transitions
from enrollment.checkout import checkout_holds_expire
from enrollment.followups import payment_reminder_send
from enrollment.models import Enrollment, Payment, PaymentCall, TestGatewayIntent
from enrollment.payments.test_gateway import intent_authenticate
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_user

PRICE = Decimal("49.00")
pytestmark = pytest.mark.django_db


@pytest.fixture
def course() -> Course:
    return make_course(title="Compilers", price=str(PRICE), capacity=2)


def start(user, course: Course, method: str = "pm_card_authenticationRequired") -> dict:
    with after_commit():
        response = client_for(user).post(
            "/api/enrollments", {"course": course.slug, "payment_method": method}, format="json"
        )
    assert response.status_code == 201, response.json()
    return response.json()


def post(user, path: str, body: dict | None = None):
    with after_commit():
        return client_for(user).post(path, body or {}, format="json")


def challenge(body: dict, decision: str, client: Client | None = None):
    """The buyer answers the bank's challenge on its page (as in the course page's frame)."""
    url = body["payment"]["next_action"]["redirect_url"]
    client = client or Client()
    page = client.get(url)
    assert page.status_code == 200
    assert b'id="bank-approve"' in page.content
    with after_commit():
        return client.post(url, {"decision": decision})


def ledger(enrollment_id: int) -> list[tuple[str, str]]:
    return list(
        PaymentCall.objects.filter(payment__enrollment_id=enrollment_id).values_list(
            "kind", "outcome"
        )
    )


def seats(course: Course) -> int:
    return Course.objects.get(pk=course.pk).seats_taken


def statuses(user) -> list[tuple[str, str | None]]:
    return [
        (event.payload["enrollment"]["status"], event.payload["enrollment"]["payment"]["status"])
        for event in UserEvent.objects.filter(user=user, type="enrollment.status").order_by("seq")
    ]


def test_a_card_needing_authentication_answers_its_next_action_and_holds_the_seat(course):
    buyer = make_user()
    before = timezone.now()

    body = start(buyer, course)

    assert body["status"] == "pending"
    assert body["payment"]["status"] == "requires_action"
    action = body["payment"]["next_action"]
    assert action["type"] == "redirect_to_url"
    assert action["client_secret"].startswith("pi_test_")
    assert action["redirect_url"] == f"/payments/test/authenticate/{action['client_secret']}"
    hold = Enrollment.objects.get(pk=body["id"]).hold_expires_at
    assert body["hold_expires_at"] == hold.isoformat().replace("+00:00", "Z")
    assert timedelta(minutes=14) < hold - before <= timedelta(minutes=15, seconds=5)
    assert seats(course) == 1
    assert ledger(body["id"]) == [("charge", "requires_action")]


def test_approving_the_challenge_activates_the_enrollment_through_the_webhook_path(course):
    buyer = make_user()
    body = start(buyer, course)

    page = challenge(body, "approve")

    assert page.status_code == 200 and b"Payment approved" in page.content
    assert b'data-outcome="approved"' in page.content
    enrollment = Enrollment.objects.get(pk=body["id"])
    assert enrollment.status == "active"
    assert Payment.objects.get(enrollment=enrollment).status == "succeeded"
    assert seats(course) == 1
    assert statuses(buyer) == [("pending", "pending"), ("active", "succeeded")]
    # The next read shows no hold and no action left.
    fresh = client_for(buyer).get(f"/api/enrollments/{body['id']}").json()
    assert fresh["hold_expires_at"] is None and fresh["payment"]["next_action"] is None
    # A second answer to the challenge changes nothing.
    again = Client().post(body["payment"]["next_action"]["redirect_url"], {"decision": "fail"})
    assert b"Payment approved" in again.content
    assert Enrollment.objects.get(pk=body["id"]).status == "active"


def test_failing_the_challenge_keeps_the_checkout_open_for_another_card(course):
    buyer = make_user()
    body = start(buyer, course)

    page = challenge(body, "fail")

    assert b"Authentication failed" in page.content
    fresh = client_for(buyer).get(f"/api/enrollments/{body['id']}").json()
    assert fresh["status"] == "pending"
    assert fresh["payment"]["status"] == "failed"
    assert "authentication failed" in fresh["payment"]["failure_reason"]
    assert fresh["payment"]["next_action"] is None
    assert fresh["hold_expires_at"] == body["hold_expires_at"]
    assert seats(course) == 1  # still held for this buyer

    paid = post(buyer, f"/api/enrollments/{body['id']}/pay", {"payment_method": "pm_card_visa"})

    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "active"
    assert paid.json()["payment"]["attempts"] == 2
    assert seats(course) == 1
    keys = list(
        PaymentCall.objects.filter(payment__enrollment_id=body["id"], kind="charge").values_list(
            "idempotency_key", flat=True
        )
    )
    payment_id = Payment.objects.get(enrollment_id=body["id"]).pk
    assert keys == [f"payment-{payment_id}", f"payment-{payment_id}-2"]
    assert ledger(body["id"]) == [("charge", "requires_action"), ("charge", "succeeded")]
    # One enrollment, one receipt, however many cards were tried.
    assert Enrollment.objects.filter(course=course).count() == 1


def test_another_card_instead_of_authenticating_cancels_the_waiting_charge_first(course):
    buyer = make_user()
    body = start(buyer, course)
    first = Payment.objects.get(enrollment_id=body["id"]).provider_reference

    paid = post(buyer, f"/api/enrollments/{body['id']}/pay", {"payment_method": "pm_card_visa"})

    assert paid.json()["status"] == "active"
    assert ledger(body["id"]) == [
        ("charge", "requires_action"),
        ("cancel", "declined"),
        ("charge", "succeeded"),
    ]
    # The old challenge can no longer take money.
    assert TestGatewayIntent.objects.get(reference=first).status == "canceled"
    page = Client().get(body["payment"]["next_action"]["redirect_url"])
    assert b'id="bank-approve"' not in page.content


def test_a_declined_retry_answers_402_and_keeps_the_hold(course):
    buyer = make_user()
    body = start(buyer, course)

    declined = post(
        buyer, f"/api/enrollments/{body['id']}/pay", {"payment_method": "pm_card_chargeDeclined"}
    )

    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    fresh = client_for(buyer).get(f"/api/enrollments/{body['id']}").json()
    assert (fresh["status"], fresh["payment"]["status"]) == ("pending", "failed")
    assert fresh["payment"]["failure_reason"] == "Your card was declined."
    assert seats(course) == 1
    again = post(buyer, f"/api/enrollments/{body['id']}/pay", {"payment_method": "pm_card_visa"})
    assert again.json()["status"] == "active"
    assert again.json()["payment"]["attempts"] == 3


def test_a_second_card_that_needs_authentication_answers_a_new_challenge(course):
    buyer = make_user()
    body = start(buyer, course)
    challenge(body, "fail")

    retry = post(
        buyer,
        f"/api/enrollments/{body['id']}/pay",
        {"payment_method": "pm_card_authenticationRequired"},
    )

    assert retry.status_code == 200
    action = retry.json()["payment"]["next_action"]
    assert (
        action is not None
        and action["client_secret"] != body["payment"]["next_action"]["client_secret"]
    )
    challenge(retry.json(), "approve")
    assert Enrollment.objects.get(pk=body["id"]).status == "active"


def test_pay_refusals(course):
    buyer = make_user()
    body = start(buyer, course)
    url = f"/api/enrollments/{body['id']}/pay"

    # Another user: not even told it exists. Anonymous: 401. No card: 400.
    assert post(make_user(), url, {"payment_method": "pm_card_visa"}).status_code == 404
    assert Client().post(url, {"payment_method": "pm_card_visa"}).status_code in (401, 403)
    missing = post(buyer, url, {})
    assert missing.status_code == 400 and "payment_method" in missing.json()["error"]["fields"]
    unknown = post(buyer, url, {"payment_method": "pm_card_nonsense"})
    assert unknown.status_code == 400 and "payment_method" in unknown.json()["error"]["fields"]
    assert ledger(body["id"]) == [("charge", "requires_action")]  # nothing was sent

    # A charge whose outcome is not known yet: another card could charge twice.
    Payment.objects.filter(enrollment_id=body["id"]).update(status="pending")
    busy = post(buyer, url, {"payment_method": "pm_card_visa"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "payment_in_progress"

    # After the hold: 409 hold_expired, nothing charged.
    Payment.objects.filter(enrollment_id=body["id"]).update(status="requires_action")
    Enrollment.objects.filter(pk=body["id"]).update(hold_expires_at=timezone.now())
    late = post(buyer, url, {"payment_method": "pm_card_visa"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "hold_expired"
    assert ledger(body["id"]) == [("charge", "requires_action")]

    # An active enrollment has nothing to pay.
    paid = start(make_user(), course, "pm_card_visa")
    other = Enrollment.objects.get(pk=paid["id"]).student.user
    done = post(other, f"/api/enrollments/{paid['id']}/pay", {"payment_method": "pm_card_visa"})
    assert done.status_code == 409 and done.json()["error"]["code"] == "not_pending"


def test_confirm_applies_the_banks_answer_before_any_webhook(course):
    buyer = make_user()
    body = start(buyer, course)
    reference = Payment.objects.get(enrollment_id=body["id"]).provider_reference
    intent_authenticate(reference=reference, approve=True)  # the bank said yes; no webhook yet
    assert Enrollment.objects.get(pk=body["id"]).status == "pending"

    confirmed = post(buyer, f"/api/enrollments/{body['id']}/confirm")

    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "active"
    assert ledger(body["id"]) == [("charge", "requires_action"), ("retrieve", "succeeded")]
    # Again (the page retried): answered as it stands, nothing applied twice.
    assert post(buyer, f"/api/enrollments/{body['id']}/confirm").json()["status"] == "active"
    assert Course.objects.get(pk=course.pk).enrollment_count == 1
    assert post(make_user(), f"/api/enrollments/{body['id']}/confirm").status_code == 404


def test_confirm_of_a_failed_challenge_answers_the_failure_and_keeps_the_hold(course):
    buyer = make_user()
    body = start(buyer, course)
    reference = Payment.objects.get(enrollment_id=body["id"]).provider_reference
    intent_authenticate(reference=reference, approve=False)

    confirmed = post(buyer, f"/api/enrollments/{body['id']}/confirm")

    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["payment"]["status"]) == (
        "pending",
        "failed",
    )
    assert seats(course) == 1


def expire_now(enrollment_id: int) -> int:
    Enrollment.objects.filter(pk=enrollment_id).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with after_commit():
        return checkout_holds_expire()


def test_a_hold_that_runs_out_cancels_releases_the_seat_and_cancels_the_charge(course):
    buyer = make_user()
    body = start(buyer, course)
    reference = Payment.objects.get(enrollment_id=body["id"]).provider_reference
    mail.outbox.clear()

    assert expire_now(body["id"]) == 1

    enrollment = Enrollment.objects.get(pk=body["id"])
    assert (enrollment.status, enrollment.end_reason) == ("cancelled", "expired")
    assert seats(course) == 0
    assert statuses(buyer)[-1] == ("cancelled", "failed")
    assert TestGatewayIntent.objects.get(reference=reference).status == "canceled"
    assert ledger(body["id"]) == [("charge", "requires_action"), ("cancel", "declined")]
    # The buyer's one reminder, with the way back.
    [reminder] = mail.outbox
    assert reminder.to == [enrollment.student.email]
    assert f"/courses/{course.slug}" in reminder.body
    assert enrollment.reminder_sent_at is not None
    # The challenge page now tells the buyer it is over; the sweep finds nothing more.
    page = Client().get(body["payment"]["next_action"]["redirect_url"])
    assert b'id="bank-approve"' not in page.content
    with after_commit():
        assert checkout_holds_expire() == 0
    assert len(mail.outbox) == 1


def reminders() -> list:
    return [message for message in mail.outbox if "is waiting" in message.subject]


def test_the_reminder_goes_once_and_not_to_a_buyer_who_came_back(course):
    buyer = make_user()
    first = start(buyer, course)
    expire_now(first["id"])
    assert [message.to for message in reminders()] == [[buyer.email]]
    assert payment_reminder_send(enrollment_id=first["id"]) == "skipped"  # a redelivery
    assert len(reminders()) == 1

    # A buyer who enrolled again before the reminder job ran gets none.
    returning = make_user()
    left = start(returning, course)
    Enrollment.objects.filter(pk=left["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert transitions.expire(enrollment_id=left["id"])  # its jobs not run yet
    start(returning, course, "pm_card_visa")

    assert payment_reminder_send(enrollment_id=left["id"]) == "enrolled_again"
    assert [message.to for message in reminders()] == [[buyer.email]]
    assert Enrollment.objects.get(pk=left["id"]).reminder_sent_at is not None


def test_success_arriving_after_the_hold_ran_out_is_refunded(course):
    buyer = make_user()
    body = start(buyer, course)
    reference = Payment.objects.get(enrollment_id=body["id"]).provider_reference
    Enrollment.objects.filter(pk=body["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    # The bank approves just before the sweep (its webhook not processed yet).
    intent_authenticate(reference=reference, approve=True)

    with after_commit():
        checkout_holds_expire()

    # The cancel found the charge succeeded: the money went back, the seat stays free.
    payment = Payment.objects.get(enrollment_id=body["id"])
    assert payment.status == "refunded"
    assert Enrollment.objects.get(pk=body["id"]).status == "cancelled"
    assert seats(course) == 0
    assert [kind for kind, _ in ledger(body["id"])] == ["charge", "cancel", "refund"]
    assert Course.objects.get(pk=course.pk).revenue == Decimal("0.00")


def test_a_cancelled_checkout_cancels_its_waiting_charge(course):
    buyer = make_user()
    body = start(buyer, course)
    reference = Payment.objects.get(enrollment_id=body["id"]).provider_reference

    cancelled = post(buyer, f"/api/enrollments/{body['id']}/cancel")

    assert cancelled.json()["status"] == "cancelled"
    assert TestGatewayIntent.objects.get(reference=reference).status == "canceled"
    assert seats(course) == 0


def test_the_challenge_page_refuses_a_wrong_secret_and_a_bad_decision(course, settings):
    body = start(make_user(), course)
    url = body["payment"]["next_action"]["redirect_url"]

    assert Client().get(url[:-3] + "abc").status_code == 404
    bad = Client().post(url, {"decision": "maybe"})
    assert bad.status_code == 400
    assert Enrollment.objects.get(pk=body["id"]).status == "pending"
    # It may be framed by the portal's own pages only.
    policy = Client().get(url)["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    settings.PAYMENT_GATEWAY = "stripe"
    assert Client().get(url).status_code == 404


def test_a_guests_failed_challenge_ends_the_checkout_so_they_can_start_again(course):
    body = {
        "course": course.slug,
        "student": {"email": "guest@example.com", "name": "Guest"},
        "payment_method": "pm_card_authenticationRequired",
    }
    with after_commit():
        first = Client().post("/api/enrollments", body, content_type="application/json")
    assert first.json()["payment"]["next_action"]["redirect_url"]

    challenge(first.json(), "fail")

    # A guest cannot try another card on it (no account to act with): it ends at once.
    assert Enrollment.objects.get(pk=first.json()["id"]).status == "cancelled"
    assert seats(course) == 0
    with after_commit():
        again = Client().post(
            "/api/enrollments",
            {**body, "payment_method": "pm_card_visa"},
            content_type="application/json",
        )
    assert again.status_code == 201 and again.json()["status"] == "active"


def test_without_a_broker_the_schedule_expires_holds_in_process(course):
    """`manage.py run_schedule --once` (what the embedded default runs in the server's
    thread) runs every beat entry once: a hold past its end is expired."""
    body = start(make_user(), course)
    Enrollment.objects.filter(pk=body["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with after_commit():
        call_command("run_schedule", "--once")

    assert Enrollment.objects.get(pk=body["id"]).end_reason == "expired"
    assert seats(course) == 0
