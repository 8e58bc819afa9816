"""POST /api/enrollments/{id}/cancel and /progress through the real view stack."""

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog.models import Course, Lesson
from enrollment.models import Enrollment, LessonProgress, Payment
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll_as, run_concurrently
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db
PRICE = Decimal("49.00")


def cancel(client: APIClient | Client, enrollment_id: int):
    with after_commit():
        return client.post(f"/api/enrollments/{enrollment_id}/cancel")


def course_numbers(course: Course) -> tuple[int, int, Decimal]:
    course.refresh_from_db()
    return course.seats_taken, course.enrollment_count, course.revenue


# --- cancel ----------------------------------------------------------------------------


def test_cancelling_a_free_enrollment_releases_its_seat():
    course = make_course(capacity=5)
    student = make_user()
    enrollment = enroll_as(student, course)
    assert course_numbers(course) == (1, 1, Decimal("0.00"))

    response = cancel(client_for(student), enrollment["id"])

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == enrollment["id"] and body["status"] == "cancelled"
    assert body["payment"] is None
    assert body["course"]["seats_taken"] == 0
    assert course_numbers(course) == (0, 0, Decimal("0.00"))
    statuses = [
        event.payload["enrollment"]["status"]
        for event in UserEvent.objects.filter(user=student, type="enrollment.status")
    ]
    assert statuses == ["pending", "active", "cancelled"]


def test_cancelling_a_paid_enrollment_refunds_it():
    course = make_course(price=str(PRICE), capacity=5)
    student = make_user()
    enrollment = enroll_as(student, course, "pm_card_visa")
    assert course_numbers(course) == (1, 1, PRICE)

    response = cancel(client_for(student), enrollment["id"])

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "refunded"
    assert body["payment"]["status"] == "refunded" and body["payment"]["amount"] == "49.00"
    assert Payment.objects.get(enrollment_id=enrollment["id"]).status == "refunded"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


@pytest.mark.parametrize(
    ("price", "payment_method", "final"),
    [("0.00", None, "cancelled"), ("49.00", "pm_card_visa", "refunded")],
    ids=["free", "paid"],
)
def test_cancelling_twice_releases_the_seat_once(price, payment_method, final):
    course = make_course(price=price, capacity=5)
    student, neighbour = make_user(), make_user()
    enroll_as(neighbour, course, payment_method)  # holds a seat the second cancel must not free
    enrollment = enroll_as(student, course, payment_method)
    assert course_numbers(course)[:2] == (2, 2)

    first = cancel(client_for(student), enrollment["id"])
    second = cancel(client_for(student), enrollment["id"])

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == second.json()["status"] == final
    assert second.json()["payment"] == first.json()["payment"]
    assert course_numbers(course) == (1, 1, Decimal(price))


def test_cancelling_before_the_payment_completed_cancels_without_a_refund():
    course = make_course(price=str(PRICE), capacity=5)
    student = make_user()
    response = client_for(student).post(
        "/api/enrollments",
        {"course": course.slug, "payment_method": "pm_card_authenticationRequired"},
        format="json",
    )
    assert response.json()["status"] == "pending"
    assert course_numbers(course) == (1, 0, Decimal("0.00"))

    answer = cancel(client_for(student), response.json()["id"])

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["payment"]["status"] == "failed"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


# Threads with connections of their own race on committed rows.
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_cancels_of_a_paid_enrollment_refund_once():
    course = make_course(price=str(PRICE), capacity=5)
    student, neighbour = make_user(), make_user()
    enroll_as(neighbour, course, "pm_card_visa")
    enrollment = enroll_as(student, course, "pm_card_visa")
    assert course_numbers(course) == (2, 2, 2 * PRICE)
    clients = [client_for(student) for _ in range(10)]

    def work(index: int):
        response = cancel(clients[index], enrollment["id"])
        return response.status_code, response.json()["status"]

    answers = run_concurrently(10, work)

    assert answers == [(200, "refunded")] * 10
    assert course_numbers(course) == (1, 1, PRICE)
    assert Payment.objects.get(enrollment_id=enrollment["id"]).status == "refunded"
    assert (
        UserEvent.objects.filter(
            user=student, type="enrollment.status", payload__enrollment__status="refunded"
        ).count()
        == 1
    )


def test_a_stranger_cannot_see_or_cancel_it():
    course = make_course(capacity=5)
    enrollment = enroll_as(make_user(), course)

    response = cancel(client_for(make_user()), enrollment["id"])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Enrollment.objects.get(pk=enrollment["id"]).status == "active"
    assert course_numbers(course)[0] == 1


def test_the_course_instructor_may_see_it_but_not_cancel_it():
    instructor = make_instructor()
    course = make_course(instructor=instructor, capacity=5)
    enrollment = enroll_as(make_user(), course)
    teacher = client_for(instructor)
    assert teacher.get(f"/api/enrollments/{enrollment['id']}").status_code == 200

    response = cancel(teacher, enrollment["id"])

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Enrollment.objects.get(pk=enrollment["id"]).status == "active"
    assert course_numbers(course)[0] == 1


def test_staff_may_cancel_it():
    course = make_course(price=str(PRICE), capacity=5)
    enrollment = enroll_as(make_user(), course, "pm_card_visa")

    response = cancel(client_for(make_user(is_staff=True)), enrollment["id"])

    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert course_numbers(course) == (0, 0, Decimal("0.00"))


def test_anonymous_cancel_is_401():
    course = make_course(capacity=5)
    enrollment = enroll_as(make_user(), course)

    response = cancel(Client(), enrollment["id"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Enrollment.objects.get(pk=enrollment["id"]).status == "active"


# --- progress ------------------------------------------------------------------------


@pytest.fixture
def learning():
    """A student actively enrolled in a free course of 2 modules of 2 lessons."""
    instructor = make_instructor()
    course = make_course(instructor=instructor, modules=2, lessons_per_module=2)
    student = make_user()
    enrollment = enroll_as(student, course)
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("id", flat=True)
    )
    assert len(lessons) == 4
    return {
        "student": student,
        "instructor": instructor,
        "course": course,
        "id": enrollment["id"],
        "lessons": lessons,
    }


def record(client, enrollment_id: int, body):
    with after_commit():
        return client.post(f"/api/enrollments/{enrollment_id}/progress", body, format="json")


def progress_rows(enrollment_id: int) -> list[tuple[int, bool, int]]:
    return list(
        LessonProgress.objects.filter(enrollment_id=enrollment_id)
        .order_by("lesson_id")
        .values_list("lesson_id", "completed", "position_seconds")
    )


def test_completing_lessons_raises_the_percent(learning):
    student = client_for(learning["student"])
    first, second = learning["lessons"][:2]

    answer = record(student, learning["id"], {"lesson": first, "completed": True})

    assert answer.status_code == 200
    assert answer.json() == {
        "enrollment": learning["id"],
        "lesson": first,
        "completed": True,
        "position_seconds": 0,
        "percent": 25.0,
    }
    shown = student.get(f"/api/enrollments/{learning['id']}").json()["progress"]
    assert shown == {"completed_lessons": 1, "total_lessons": 4, "percent": 25.0}

    assert (
        record(student, learning["id"], {"lesson": second, "completed": True}).json()["percent"]
        == 50.0
    )
    shown = student.get(f"/api/enrollments/{learning['id']}").json()["progress"]
    assert (shown["completed_lessons"], shown["percent"]) == (2, 50.0)


def test_completing_the_same_lesson_twice_counts_it_once(learning):
    student = client_for(learning["student"])
    lesson = learning["lessons"][0]

    record(student, learning["id"], {"lesson": lesson, "completed": True})
    again = record(student, learning["id"], {"lesson": lesson, "completed": True})

    assert again.json()["percent"] == 25.0
    assert (
        LessonProgress.objects.filter(enrollment_id=learning["id"], lesson_id=lesson).count() == 1
    )


def test_uncompleting_a_lesson_lowers_the_percent(learning):
    student = client_for(learning["student"])
    first, second = learning["lessons"][:2]
    record(student, learning["id"], {"lesson": first, "completed": True})
    record(student, learning["id"], {"lesson": second, "completed": True})

    answer = record(student, learning["id"], {"lesson": first, "completed": False})

    assert answer.status_code == 200
    assert (answer.json()["completed"], answer.json()["percent"]) == (False, 25.0)
    row = LessonProgress.objects.get(enrollment_id=learning["id"], lesson_id=first)
    assert row.completed is False and row.completed_at is None
    shown = student.get(f"/api/enrollments/{learning['id']}").json()["progress"]
    assert (shown["completed_lessons"], shown["percent"]) == (1, 25.0)


def test_the_position_is_stored_for_resuming(learning):
    student = client_for(learning["student"])
    lesson = learning["lessons"][2]

    answer = record(student, learning["id"], {"lesson": lesson, "position_seconds": 120})

    assert answer.status_code == 200
    assert answer.json()["position_seconds"] == 120
    assert answer.json()["completed"] is False and answer.json()["percent"] == 0.0
    # Completing it later keeps the stored position; it is what a resume starts from.
    later = record(student, learning["id"], {"lesson": lesson, "completed": True})
    assert (later.json()["position_seconds"], later.json()["completed"]) == (120, True)
    row = LessonProgress.objects.get(enrollment_id=learning["id"], lesson_id=lesson)
    assert (row.position_seconds, row.completed) == (120, True)


def test_progress_is_pushed_to_the_student_as_an_event(learning):
    student = learning["student"]
    lesson = learning["lessons"][1]
    before = UserEvent.objects.filter(user=student).order_by("-seq").first()

    record(client_for(student), learning["id"], {"lesson": lesson, "completed": True})

    event = UserEvent.objects.get(user=student, type="progress.updated")
    assert event.seq == before.seq + 1
    assert event.payload["enrollment"] == learning["id"]
    assert event.payload["lesson"] == lesson
    assert event.payload["completed"] is True
    assert event.payload["percent"] == 25.0
    assert not UserEvent.objects.filter(user=learning["instructor"], type="progress.updated")


def test_only_the_student_may_record_progress(learning):
    lesson = learning["lessons"][0]
    before = progress_rows(learning["id"])

    by_instructor = record(
        client_for(learning["instructor"]), learning["id"], {"lesson": lesson, "completed": True}
    )
    by_stranger = record(
        client_for(make_user()), learning["id"], {"lesson": lesson, "completed": True}
    )
    by_anonymous = record(Client(), learning["id"], {"lesson": lesson, "completed": True})

    assert by_instructor.status_code == 403
    assert by_instructor.json()["error"]["code"] == "forbidden"
    assert by_stranger.status_code == 404
    assert by_stranger.json()["error"]["code"] == "not_found"
    assert by_anonymous.status_code == 401
    assert by_anonymous.json()["error"]["code"] == "not_authenticated"
    assert progress_rows(learning["id"]) == before
    assert not UserEvent.objects.filter(type="progress.updated").exists()


def test_a_lesson_of_another_course_is_refused(learning):
    other = make_course(modules=1, lessons_per_module=1)
    foreign = Lesson.objects.get(module__course=other)
    before = progress_rows(learning["id"])

    response = record(
        client_for(learning["student"]), learning["id"], {"lesson": foreign.id, "completed": True}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "lesson" in error["fields"]
    assert progress_rows(learning["id"]) == before


def test_a_cancelled_enrollment_takes_no_progress(learning):
    student = client_for(learning["student"])
    assert cancel(student, learning["id"]).json()["status"] == "cancelled"
    before = progress_rows(learning["id"])

    response = record(
        student, learning["id"], {"lesson": learning["lessons"][0], "completed": True}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_active"
    assert progress_rows(learning["id"]) == before
    assert not UserEvent.objects.filter(type="progress.updated").exists()


BAD_BODIES = [
    ("missing lesson", {"completed": True}, "lesson"),
    ("lesson not a number", {"lesson": "abc", "completed": True}, "lesson"),
    ("negative position", {"lesson": "LESSON", "position_seconds": -1}, "position_seconds"),
    ("nothing to record", {"lesson": "LESSON"}, "completed"),
    ("completed not a boolean", {"lesson": "LESSON", "completed": "maybe"}, "completed"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_bodies_are_400_and_write_nothing(learning, case, body, field):
    body = {k: (learning["lessons"][0] if v == "LESSON" else v) for k, v in body.items()}
    before = progress_rows(learning["id"])

    response = record(client_for(learning["student"]), learning["id"], body)

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert progress_rows(learning["id"]) == before
    assert not UserEvent.objects.filter(type="progress.updated").exists()


def test_recorded_progress_can_be_read_back_to_resume_on_another_device(settings):
    settings.RATE_LIMITS = {}
    student, stranger = make_user(), make_user()
    course = make_course(modules=1, lessons_per_module=2)
    client = client_for(student)
    enrollment = client.post("/api/enrollments", {"course": course.slug}, format="json").json()
    first, second = course.modules.get().lessons.order_by("position")
    client.post(
        f"/api/enrollments/{enrollment['id']}/progress",
        {"lesson": first.id, "completed": True, "position_seconds": 60},
        format="json",
    )
    client.post(
        f"/api/enrollments/{enrollment['id']}/progress",
        {"lesson": second.id, "position_seconds": 95},
        format="json",
    )
    body = client.get(f"/api/enrollments/{enrollment['id']}/progress").json()
    rows = {row["lesson"]: row for row in body["lessons"]}
    assert body["enrollment"] == enrollment["id"]
    assert body["progress"]["completed_lessons"] == 1 and body["progress"]["percent"] == 50.0
    assert rows[first.id]["completed"] is True and rows[first.id]["completed_at"].endswith("Z")
    assert (rows[second.id]["completed"], rows[second.id]["position_seconds"]) == (False, 95)
    assert (
        client_for(stranger).get(f"/api/enrollments/{enrollment['id']}/progress").status_code == 404
    )
