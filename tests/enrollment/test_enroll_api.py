"""POST /api/enrollments through the real view stack on PostgreSQL (test gateway)."""

import pytest
from django.test import Client

from catalog.models import Course
from enrollment.models import Enrollment, Payment, PaymentStatus, Student
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.contract import ENROLLMENT_KEYS
from tests.enrollment.helpers import enroll, guest_body, nothing_written
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db


def test_guest_enrolls_in_a_paid_course_and_pays():
    course = make_course(price="49.00", capacity=5, modules=2, lessons_per_module=3)
    response = enroll(Client(), guest_body(course, "ada@b.c"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= ENROLLMENT_KEYS
    assert body["status"] == "active"
    assert body["number"].startswith("ENR-") and body["number"].endswith(f"{body['id']:06d}")
    assert body["student"] == {"id": body["student"]["id"], "email": "ada@b.c", "name": "Guest"}
    assert body["payment"]["status"] == "succeeded"
    assert body["payment"]["amount"] == "49.00" and body["payment"]["currency"] == "usd"
    assert body["progress"] == {"completed_lessons": 0, "total_lessons": 6, "percent": 0.0}
    assert body["course"]["slug"] == course.slug and body["course"]["seats_taken"] == 1
    course.refresh_from_db()
    assert (course.seats_taken, course.enrollment_count, str(course.revenue)) == (1, 1, "49.00")
    payment = Payment.objects.get()
    assert payment.provider == "test" and payment.provider_reference.startswith("pi_test_")


def test_signed_in_student_enrolls_in_a_free_course_without_payment_method(student):
    course = make_course(price="0.00")
    response = enroll(client_for_django(student), {"course": course.id})
    assert response.status_code == 201
    body = response.json()
    assert body["payment"] is None and body["status"] == "active"
    assert Student.objects.get().user == student
    # The student's tabs were told: pending, then active.
    statuses = [
        event.payload["enrollment"]["status"]
        for event in UserEvent.objects.filter(user=student, type="enrollment.status")
    ]
    assert statuses == ["pending", "active"]


def client_for_django(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_instructors_get_enrollment_created_events():
    first, second = make_user(is_instructor=True), make_user(is_instructor=True)
    course = make_course(instructor=first)
    course.course_instructors.create(user=second, position=1)
    enroll(Client(), guest_body(course, "x@example.com", payment_method=None))
    for instructor in (first, second):
        event = UserEvent.objects.get(user=instructor, type="enrollment.created")
        assert event.payload["course"]["slug"] == course.slug
        assert event.payload["course"]["seats_taken"] == 1
        assert event.payload["enrollment"]["student"]["email"] == "x@example.com"
        assert event.seq == 1


def test_decline_returns_402_releases_the_seat_and_keeps_the_failed_payment():
    course = make_course(price="49.00", capacity=1)
    response = enroll(Client(), guest_body(course, "bob@example.com", "pm_card_chargeDeclined"))
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "payment_declined"
    assert "decline_code" not in error  # a guest is told nothing about the card
    course.refresh_from_db()
    assert course.seats_taken == 0 and course.enrollment_count == 0 and course.revenue == 0
    assert not Enrollment.objects.filter(status__in=["pending", "active"]).exists()
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.FAILED and "declined" in payment.failure_reason
    # The seat really is free again: another student takes it.
    assert enroll(Client(), guest_body(course, "carol@example.com")).status_code == 201


def test_insufficient_funds_is_a_decline_too(student):
    course = make_course(price="10.00")
    body = {"course": course.slug, "payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
    response = enroll(client_for(student), body)
    assert response.status_code == 402
    assert response.json()["error"]["decline_code"] == "insufficient_funds"


def test_authentication_required_leaves_the_enrollment_pending():
    course = make_course(price="10.00", capacity=3)
    response = enroll(
        Client(), guest_body(course, "e@example.com", "pm_card_authenticationRequired")
    )
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["payment"]["status"] == "requires_action"
    course.refresh_from_db()
    assert course.seats_taken == 1  # held while the customer acts


def test_full_course_is_409_course_full():
    course = make_course(capacity=1)
    assert enroll(Client(), guest_body(course, "a@example.com", None)).status_code == 201
    response = enroll(Client(), guest_body(course, "b@example.com", None))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "course_full"
    assert Enrollment.objects.count() == 1


def test_enrolling_twice_is_409_already_enrolled():
    course = make_course()
    assert enroll(Client(), guest_body(course, "a@example.com", None)).status_code == 201
    response = enroll(Client(), guest_body(course, "A@Example.com", None))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_enrolled"
    course.refresh_from_db()
    assert course.seats_taken == 1


def test_a_cancelled_enrollment_does_not_block_enrolling_again(student):
    course = make_course()
    client = client_for(student)
    first = client.post("/api/enrollments", {"course": course.slug}, format="json").json()
    assert client.post(f"/api/enrollments/{first['id']}/cancel").json()["status"] == "cancelled"
    again = client.post("/api/enrollments", {"course": course.slug}, format="json")
    assert again.status_code == 201
    assert again.json()["number"] != first["number"]


def test_unpublished_course_cannot_be_enrolled_in():
    course = make_course(published=False)
    response = enroll(Client(), guest_body(course, "a@example.com", None))
    assert response.status_code == 400
    assert "course" in response.json()["error"]["fields"]


def test_signed_in_student_cannot_enroll_someone_else(student):
    course = make_course()
    response = client_for(student).post(
        "/api/enrollments",
        {"course": course.slug, "student": {"email": "other@example.com", "name": "O"}},
        format="json",
    )
    assert response.status_code == 400
    assert "student.email" in response.json()["error"]["fields"]
    assert not Enrollment.objects.exists()


BAD_INPUTS = [
    ("malformed JSON", '{"course": "x", ', set()),
    ("not an object", "[1, 2, 3]", {"non_field_errors"}),
    ("missing course", {"student": {"email": "a@example.com", "name": "A"}}, {"course"}),
    (
        "course of the wrong type",
        {"course": ["x"], "student": {"email": "a@b.co", "name": "A"}},
        {"course"},
    ),
    (
        "unknown course",
        {"course": "no-such-course", "student": {"email": "a@b.co", "name": "A"}},
        {"course"},
    ),
    (
        "invalid email",
        {"course": "COURSE", "student": {"email": "not-an-email", "name": "A"}},
        {"student.email"},
    ),
    ("student of the wrong type", {"course": "COURSE", "student": "a@example.com"}, {"student"}),
    ("no student and not signed in", {"course": "COURSE"}, {"student"}),
    (
        "missing payment method",
        {"course": "COURSE", "student": {"email": "a@b.co", "name": "A"}},
        {"payment_method"},
    ),
    (
        "unknown payment method",
        {
            "course": "COURSE",
            "student": {"email": "a@b.co", "name": "A"},
            "payment_method": "pm_nope",
        },
        {"payment_method"},
    ),
    (
        "payment method of the wrong type",
        {"course": "COURSE", "student": {"email": "a@b.co", "name": "A"}, "payment_method": 42.5},
        set(),
    ),
    (
        "name too long",
        {
            "course": "COURSE",
            "student": {"email": "a@b.co", "name": "n" * 500},
            "payment_method": "pm_card_visa",
        },
        {"student.name"},
    ),
]


@pytest.mark.parametrize(("case", "body", "fields"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_the_error_shape_and_writes_nothing(case, body, fields):
    course = make_course(slug="paid-course", price="49.00", capacity=3)
    if isinstance(body, dict):
        body = {k: (course.slug if v == "COURSE" else v) for k, v in body.items()}
    response = enroll(Client(), body)
    if case == "payment method of the wrong type":
        # A number is coerced to a string, which is then an unknown payment method.
        fields = {"payment_method"}
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert fields <= set(error.get("fields", {})), error
    assert nothing_written()
    assert Course.objects.get(pk=course.pk).seats_taken == 0


def test_enormous_body_is_refused_and_writes_nothing():
    course = make_course()
    name = "x" * (2 * 1024 * 1024)
    body = f'{{"course": "{course.slug}", "student": {{"email": "a@b.co", "name": "{name}"}}}}'
    response = enroll(Client(), body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert nothing_written()


def test_sql_and_html_in_strings_are_stored_verbatim():
    course = make_course()
    name = "Robert'); DROP TABLE enrollment_enrollment;-- <img src=x onerror=alert(1)>"
    response = enroll(
        Client(), {"course": course.slug, "student": {"email": "bobby@example.com", "name": name}}
    )
    assert response.status_code == 201
    assert Student.objects.get().name == name
    assert Enrollment.objects.count() == 1
