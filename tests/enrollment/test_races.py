"""Races on real PostgreSQL: real threads, each with its own connection, going through the
whole HTTP view stack (Django's test client) at the same moment."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client

from catalog.models import Course
from enrollment.models import Enrollment, Payment, PaymentStatus
from portal.idempotency.models import IdempotencyKey
from tests.enrollment.helpers import enroll, guest_body, run_concurrently
from tests.factories import make_course

# Threads with connections of their own race on committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_students_race_for_the_last_seat():
    course = make_course(price="49.00", capacity=1)
    results = run_concurrently(
        50, lambda i: enroll(Client(), guest_body(course, f"racer{i}@example.com"))
    )
    statuses = sorted(response.status_code for response in results)
    assert statuses == [201] + [409] * 49
    codes = {r.json()["error"]["code"] for r in results if r.status_code == 409}
    assert codes == {"course_full"}
    course.refresh_from_db()
    assert course.seats_taken == 1
    assert course.enrollment_count == 1
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1
    assert Enrollment.objects.filter(status="active").count() == 1


def test_two_hundred_requests_for_ten_seats_take_exactly_ten():
    course = make_course(price="19.00", capacity=10)

    def attempt(index: int):
        try:
            return enroll(Client(), guest_body(course, f"crowd{index}@example.com")).status_code
        finally:
            connections.close_all()

    # 200 requests, 64 in flight at once: PostgreSQL's default max_connections is 100.
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(attempt, range(200)))
    assert statuses.count(201) == 10
    assert statuses.count(409) == 190
    course.refresh_from_db()
    assert course.seats_taken == 10
    assert Enrollment.objects.filter(course=course, status="active").count() == 10
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 10
    assert str(course.revenue) == "190.00"


def test_double_submit_with_one_idempotency_key_charges_once():
    course = make_course(price="49.00", capacity=5)
    body = guest_body(course, "double@example.com")
    key = "4b0d7b7e-9a43-4d1e-8f3f-double-submit"
    results = run_concurrently(20, lambda i: enroll(Client(), body, **{"Idempotency-Key": key}))
    assert {response.status_code for response in results} == {201}
    bodies = [response.json() for response in results]
    assert all(item == bodies[0] for item in bodies)
    assert Enrollment.objects.count() == 1
    assert Payment.objects.count() == 1
    assert Course.objects.get(pk=course.pk).seats_taken == 1
    replayed = [r for r in results if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 19
    # The same guest's key with another body is a conflict, and changes nothing.
    other = guest_body(course, "double@example.com", "pm_card_mastercard")
    conflict = enroll(Client(), other, **{"Idempotency-Key": key})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert Enrollment.objects.count() == 1
    assert IdempotencyKey.objects.get(key=key).response_status == 201


@pytest.mark.django_db  # one request after the other: no race
def test_a_declined_answer_is_replayed_too():
    course = make_course(price="49.00", capacity=5)
    body = guest_body(course, "declined@example.com", "pm_card_chargeDeclined")
    first = enroll(Client(), body, **{"Idempotency-Key": "decline-key"})
    second = enroll(Client(), body, **{"Idempotency-Key": "decline-key"})
    assert first.status_code == second.status_code == 402
    assert first.json() == second.json()
    assert Payment.objects.count() == 1


def test_one_student_double_submitting_without_a_key_gets_one_enrollment():
    course = make_course(capacity=10)
    body = guest_body(course, "impatient@example.com", None)
    results = run_concurrently(10, lambda i: enroll(Client(), body))
    statuses = sorted(response.status_code for response in results)
    assert statuses == [201] + [409] * 9
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "already_enrolled"
    }
    assert Course.objects.get(pk=course.pk).seats_taken == 1
