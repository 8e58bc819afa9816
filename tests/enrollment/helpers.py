"""Shared helpers for the enrollment tests."""

import json
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.test import Client, TestCase

from catalog.models import Course
from enrollment.models import Enrollment, LessonProgress, Payment, Receipt, Student
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user


def after_commit():
    """A block whose transaction.on_commit callbacks run when it ends, as the real commits
    inside it would have run them: the test's own transaction never commits. This is
    pytest-django's django_capture_on_commit_callbacks(execute=True), for helpers without
    fixtures; in a transactional test the commits are real and it has nothing to run."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def enroll(client: Client, body: Any, **headers: str):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    with after_commit():
        return client.post("/api/enrollments", raw, content_type="application/json", **extra)


def enroll_as(user, course: Course, payment_method: str | None = None) -> dict:
    """`user` enrolls in `course` through the API (signed in); the answer, active."""
    body: dict = {"course": course.slug}
    if payment_method:
        body["payment_method"] = payment_method
    with after_commit():
        response = client_for(user).post("/api/enrollments", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active"
    return response.json()


def sale(title: str = "Compilers") -> dict:
    """A paid enrollment of a signed-in buyer (Bea Buyer) in a 49.00 course taught by Ada
    Lovelace, through the API: with its receipt issued."""
    teacher = make_instructor(name="Ada Lovelace")
    course = make_course(title=title, price="49.00", instructor=teacher)
    buyer = make_user(email="buyer@example.com", name="Bea Buyer")
    answer = enroll_as(buyer, course, "pm_card_visa")
    receipt = Receipt.objects.get(enrollment_id=answer["id"])
    return {
        "course": course,
        "buyer": buyer,
        "teacher": teacher,
        "id": answer["id"],
        "receipt": receipt,
    }


def guest_body(course: Course, email: str, payment_method: str | None = "pm_card_visa") -> dict:
    body: dict[str, Any] = {"course": course.slug, "student": {"email": email, "name": "Guest"}}
    if payment_method is not None:
        body["payment_method"] = payment_method
    return body


def run_concurrently(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in `count` threads released together; each thread has its own DB
    connection, closed when it finishes."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # surfaced to the test below
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors[:3]
    return results


def nothing_written() -> bool:
    return not (
        Enrollment.objects.exists()
        or Payment.objects.exists()
        or Student.objects.exists()
        or LessonProgress.objects.exists()
        or UserEvent.objects.exists()
    )
