"""One schema test per server → client frame type: the contract's fields, with types."""

import pytest
from channels.db import database_sync_to_async

from enrollment import services
from tests.contract import COURSE_KEYS, ENROLLMENT_KEYS
from tests.factories import make_course, make_instructor, make_user
from tests.realtime.helpers import bearer, connected

# The consumer reads through database_sync_to_async in pool threads, each with a
# connection of its own: they see committed rows only.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

USER_KEYS = {"id", "email", "name", "roles"}


def assert_enrollment(body: dict) -> None:
    assert set(body) >= ENROLLMENT_KEYS
    assert set(body["course"]) >= COURSE_KEYS
    assert set(body["student"]) == {"id", "email", "name"}
    assert body["status"] in {"pending", "active", "cancelled", "refunded"}
    assert {"completed_lessons", "total_lessons", "percent"} <= set(body["progress"])
    if body["payment"] is not None:
        assert {"status", "amount", "currency"} <= set(body["payment"])


@pytest.fixture
def scene(db):
    instructor = make_instructor()
    student = make_user()
    course = make_course(instructor=instructor, capacity=4, modules=1, lessons_per_module=2)
    return instructor, student, course


async def test_hello_schema(scene):
    _, student, _ = scene
    socket, hello = await connected(token=await database_sync_to_async(bearer)(student))
    assert set(hello) == {"type", "user", "seq"}
    assert set(hello["user"]) == USER_KEYS and isinstance(hello["seq"], int)
    await socket.disconnect()


async def test_enrollment_status_created_and_progress_schemas(scene):
    instructor, student, course = scene
    student_socket, _ = await connected(token=await database_sync_to_async(bearer)(student))
    instructor_socket, _ = await connected(token=await database_sync_to_async(bearer)(instructor))

    def enroll_and_progress():
        enrollment = services.enrollment_create(
            course=course, student=None, user=student, payment_method=None
        )
        lesson = course.modules.first().lessons.first()
        services.progress_record(
            enrollment=enrollment, lesson_id=lesson.id, completed=True, position_seconds=30
        )
        return enrollment, lesson

    enrollment, lesson = await database_sync_to_async(enroll_and_progress)()
    for expected in ("pending", "active"):
        frame = await student_socket.receive_json_from(timeout=5)
        assert set(frame) == {"type", "seq", "enrollment"}
        assert frame["type"] == "enrollment.status"
        assert frame["enrollment"]["status"] == expected
        assert_enrollment(frame["enrollment"])
    progress = await student_socket.receive_json_from(timeout=5)
    assert progress["type"] == "progress.updated"
    assert {"seq", "enrollment", "lesson", "completed", "percent"} <= set(progress)
    assert (progress["enrollment"], progress["lesson"]) == (enrollment.id, lesson.id)
    assert progress["completed"] is True and progress["percent"] == 50.0

    created = await instructor_socket.receive_json_from(timeout=5)
    assert set(created) == {"type", "seq", "enrollment", "course"}
    assert created["type"] == "enrollment.created"
    assert_enrollment(created["enrollment"])
    assert set(created["course"]) == {"id", "slug", "title", "seats_taken", "capacity"}
    await student_socket.disconnect()
    await instructor_socket.disconnect()


async def test_course_seats_and_error_and_search_schemas(scene):
    _, _, course = scene
    socket, _ = await connected()
    await socket.send_json_to({"type": "watch", "course": course.slug})
    seats = await socket.receive_json_from(timeout=5)
    assert set(seats) == {"type", "course", "seats_taken", "capacity"}  # state: no seq
    await socket.send_json_to({"type": "nope"})
    error = await socket.receive_json_from(timeout=5)
    assert set(error) == {"type", "code", "message"}
    await socket.send_json_to({"type": "search", "id": 7, "q": course.title[:4], "limit": 5})
    results = await socket.receive_json_from(timeout=10)
    assert set(results) >= {"type", "id", "query", "hits", "total", "facets", "took_ms", "engine"}
    assert results["id"] == 7
    assert all(COURSE_KEYS | {"highlight"} <= set(hit) for hit in results["hits"])
    await socket.disconnect()
