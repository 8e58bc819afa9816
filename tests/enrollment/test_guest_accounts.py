"""Guest purchases and accounts, over HTTP: a guest checkout never reads, links or changes
an account; its purchases join an account only once that account has verified the
address (by the emailed link, a password reset, or the guest's claim link)."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from enrollment.models import Enrollment, Payment, Student
from portal.accounts.models import User
from portal.accounts.tokens import account_token_make
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, guest_body
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db


def link_in(message, path: str) -> str:
    found = re.search(rf"https?://[^\s\"]+{path}\?token=([^\s\"&<]+)", message.body)
    assert found, message.body
    return found.group(1)


PASSPHRASE = "a-long-Passphrase-9"


def register(email: str, name: str = "Mallory", password: str = PASSPHRASE) -> dict:
    with after_commit():
        response = Client().post(
            "/api/auth/register",
            {"email": email, "password": password, "name": name},
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    return response.json()


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_registering_a_guests_address_takes_over_nothing():
    """The takeover scenario: a victim buys as a guest; an attacker registers that
    address (unverified) and enrolls in a free course. The victim's purchase stays out of
    the attacker's reach: not listed, not readable, no progress, no cancel."""
    paid = make_course(title="Paid", price="49.00", modules=1, lessons_per_module=2)
    free = make_course(title="Free")
    bought = enroll(Client(), guest_body(paid, "victim@example.net"))
    assert bought.status_code == 201
    victim_enrollment = bought.json()["id"]

    attacker = register("victim@example.net")
    client = bearer(attacker["token"])
    with after_commit():
        own = client.post(
            "/api/enrollments", {"course": free.slug}, content_type="application/json"
        )
    assert own.status_code == 201
    assert own.json()["student"]["name"] == "Mallory"

    listed = client.get("/api/enrollments").json()["results"]
    assert [e["id"] for e in listed] == [own.json()["id"]]
    assert client.get(f"/api/enrollments/{victim_enrollment}").status_code == 404
    lesson = paid.modules.first().lessons.first()
    progress = client.post(
        f"/api/enrollments/{victim_enrollment}/progress",
        {"lesson": lesson.pk, "completed": True},
        content_type="application/json",
    )
    assert progress.status_code == 404
    assert client.post(f"/api/enrollments/{victim_enrollment}/cancel").status_code == 404
    victim = Enrollment.objects.get(pk=victim_enrollment)
    assert victim.status == "active" and victim.student.user_id is None
    assert Payment.objects.get(enrollment=victim).status == "succeeded"


def test_a_guest_checkout_with_an_accounts_email_neither_joins_nor_echoes_it():
    course = make_course(price="49.00")
    owner = make_user(email="ada@example.com", name="Ada Lovelace")

    response = enroll(Client(), guest_body(course, "ada@example.com"))

    assert response.status_code == 201
    assert response.json()["student"]["name"] == "Guest"  # what the caller sent
    assert not Enrollment.objects.filter(student__user=owner).exists()
    assert client_for(owner).get("/api/enrollments").json()["results"] == []


def _shape(body: dict) -> dict:
    """An enrollment answer without what differs between any two checkouts."""
    volatile = {
        "id",
        "number",
        "created_at",
        "activated_at",
        "hold_expires_at",
        "until",
        "seats_taken",
    }
    return {
        key: (_shape(value) if isinstance(value, dict) else value)
        for key, value in body.items()
        if key not in volatile
    }


@pytest.mark.parametrize("method", ["pm_card_visa", "pm_card_authenticationRequired"])
def test_guest_checkout_answers_the_same_for_known_and_unknown_emails(method):
    course = make_course(price="49.00")
    make_user(email="known@example.com", name="Known Person")

    known = enroll(Client(), guest_body(course, "known@example.com", method))
    unknown = enroll(Client(), guest_body(course, "nobody@example.com", method))

    assert known.status_code == unknown.status_code == 201
    known_body, unknown_body = _shape(known.json()), _shape(unknown.json())
    known_body["student"].pop("email")
    unknown_body["student"].pop("email")
    if method != "pm_card_visa":
        for body in (known_body, unknown_body):
            body["payment"].pop("next_action")
    assert known_body == unknown_body


def test_the_same_address_from_elsewhere_learns_nothing_of_an_earlier_purchase():
    course = make_course(price="49.00")
    first = enroll(Client(REMOTE_ADDR="10.1.1.1"), guest_body(course, "ada@example.com"))
    again_here = enroll(Client(REMOTE_ADDR="10.1.1.1"), guest_body(course, "ada@example.com"))
    elsewhere = enroll(Client(REMOTE_ADDR="10.2.2.2"), guest_body(course, "ada@example.com"))

    assert first.status_code == 201
    # The same client meets its own purchase; another one is not told of it.
    assert again_here.status_code == 409
    assert elsewhere.status_code == 201
    assert elsewhere.json()["id"] != first.json()["id"]


def test_guest_purchases_join_an_account_only_once_it_verifies_the_address():
    course = make_course(title="Compilers", price="49.00")
    bought = enroll(Client(), guest_body(course, "gil@example.com"))
    assert bought.status_code == 201
    mail.outbox.clear()

    account = register("gil@example.com", name="Gil")
    client = bearer(account["token"])
    assert account["user"]["email_verified"] is False
    assert client.get("/api/enrollments").json()["results"] == []

    [verification] = [m for m in mail.outbox if m.to == ["gil@example.com"]]
    token = link_in(verification, "/verify-email")
    with after_commit():
        verified = Client().post(
            "/api/auth/verify-email", {"token": token}, content_type="application/json"
        )

    assert verified.status_code == 200 and verified.json()["user"]["email_verified"] is True
    listed = client.get("/api/enrollments").json()["results"]
    assert [e["id"] for e in listed] == [bought.json()["id"]]
    user = User.objects.get(email="gil@example.com")
    # Its open tabs were told (the dashboard adds it live).
    events = UserEvent.objects.filter(user=user, type="enrollment.status")
    assert [e.payload["enrollment"]["id"] for e in events] == [bought.json()["id"]]
    assert not Student.objects.filter(user__isnull=True, email="gil@example.com").exists()
    # The link works once.
    again = Client().post(
        "/api/auth/verify-email", {"token": token}, content_type="application/json"
    )
    assert again.status_code == 400 and "token" in again.json()["error"]["fields"]


def test_joining_when_the_account_already_holds_the_course_refunds_the_duplicate():
    course = make_course(title="Compilers", price="49.00", capacity=5)
    owner = make_user(email="dup@example.com", name="Dee", email_verified_at=None)
    guest = enroll(Client(), guest_body(course, "dup@example.com"))
    # The account holds the course already (bought by staff on its behalf, say).
    own_record = Student.objects.create(user=owner, email=owner.email, name=owner.name)
    held = Enrollment.objects.create(
        number="ENR-HELD-1", student=own_record, course=course, status="active"
    )
    token = account_token_make(user=owner, purpose="verify")
    with after_commit():
        verified = Client().post(
            "/api/auth/verify-email", {"token": token}, content_type="application/json"
        )

    assert verified.status_code == 200
    duplicate = Enrollment.objects.get(pk=guest.json()["id"])
    assert duplicate.status == "refunded" and duplicate.student_id == own_record.pk
    assert Payment.objects.get(enrollment=duplicate).status == "refunded"
    assert Enrollment.objects.get(pk=held.pk).status == "active"
    assert Enrollment.objects.filter(student=own_record, status="active").count() == 1


def test_buying_needs_a_verified_address_learning_free_courses_does_not():
    paid = make_course(price="49.00")
    free = make_course(title="Free")
    user = make_user(email_verified_at=None)
    client = client_for(user)

    refused = client.post(
        "/api/enrollments", {"course": paid.slug, "payment_method": "pm_card_visa"}, format="json"
    )
    with after_commit():
        allowed = client.post("/api/enrollments", {"course": free.slug}, format="json")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_unverified"
    assert user.email in refused.json()["error"]["message"]
    assert not Payment.objects.exists()
    assert allowed.status_code == 201 and allowed.json()["status"] == "active"


def test_a_guest_claims_the_purchase_with_a_new_account_from_the_welcome_email():
    course = make_course(title="Compilers", price="49.00")
    mail.outbox.clear()
    bought = enroll(Client(), guest_body(course, "new@example.com"))
    [welcome] = [m for m in mail.outbox if m.subject.startswith("Welcome")]
    token = link_in(welcome, "/claim")
    client = Client()

    state = client.post("/api/auth/claim/check", {"token": token}, content_type="application/json")
    assert state.json() == {"email": "new@example.com", "account": False}
    weak = client.post(
        "/api/auth/claim",
        {"token": token, "name": "New", "password": "        "},
        content_type="application/json",
    )
    assert weak.status_code == 400 and "password" in weak.json()["error"]["fields"]
    with after_commit():
        claimed = client.post(
            "/api/auth/claim",
            {"token": token, "name": "New Person", "password": PASSPHRASE},
            content_type="application/json",
        )

    assert claimed.status_code == 201
    assert claimed.json()["user"]["email_verified"] is True
    listed = client.get("/api/enrollments").json()["results"]  # signed in by the claim
    assert [e["id"] for e in listed] == [bought.json()["id"]]
    assert client.post(
        "/api/auth/claim/check", {"token": token}, content_type="application/json"
    ).json() == {"email": "new@example.com", "account": True}


def test_claiming_into_an_existing_account_needs_that_account_signed_in():
    course = make_course(title="Compilers", price="49.00")
    owner = make_user(email="ada@example.com", name="Ada", email_verified_at=None)
    mail.outbox.clear()
    enroll(Client(), guest_body(course, "ada@example.com"))
    [welcome] = [m for m in mail.outbox if m.subject.startswith("Welcome")]
    token = link_in(welcome, "/claim")

    signed_out = Client().post("/api/auth/claim", {"token": token}, content_type="application/json")
    someone_else = client_for(make_user()).post("/api/auth/claim", {"token": token}, format="json")
    with after_commit():
        claimed = client_for(owner).post("/api/auth/claim", {"token": token}, format="json")

    assert signed_out.status_code == 401
    assert someone_else.status_code == 403
    assert claimed.status_code == 200 and claimed.json()["user"]["email_verified"] is True
    assert Enrollment.objects.filter(student__user=owner).count() == 1
    # A new account cannot be made for an address that has one.
    taken = Client().post(
        "/api/auth/claim",
        {"token": token, "name": "X", "password": PASSPHRASE},
        content_type="application/json",
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "account_exists"
    assert Decimal(Payment.objects.get().amount) == Decimal("49.00")
