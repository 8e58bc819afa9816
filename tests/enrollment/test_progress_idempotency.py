"""POST /api/enrollments/{id}/progress with an Idempotency-Key: a browser replays the writes
it queued while offline, each with its own key, and the server applies each once."""

import pytest
from django.db import OperationalError

from catalog.models import Lesson
from enrollment import services
from enrollment.models import LessonProgress
from portal.events.models import UserEvent
from portal.idempotency.models import IdempotencyKey
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, run_concurrently
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db


def enrolled(student=None) -> dict:
    student = student or make_user()
    course = make_course(modules=1, lessons_per_module=3)
    with after_commit():
        answer = client_for(student).post(
            "/api/enrollments", {"course": course.slug}, format="json"
        )
    assert answer.status_code == 201, answer.json()
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .order_by("position")
        .values_list("id", flat=True)
    )
    return {"student": student, "id": answer.json()["id"], "lessons": lessons}


def write(client, enrollment_id: int, body: dict, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    with after_commit():
        return client.post(
            f"/api/enrollments/{enrollment_id}/progress", body, format="json", **headers
        )


def progress_events(student) -> int:
    return UserEvent.objects.filter(user=student, type="progress.updated").count()


def row(enrollment_id: int, lesson_id: int) -> tuple[bool, int]:
    progress = LessonProgress.objects.get(enrollment_id=enrollment_id, lesson_id=lesson_id)
    return progress.completed, progress.position_seconds


def test_a_replayed_write_is_applied_once_and_answers_as_the_first_time():
    learning = enrolled()
    client = client_for(learning["student"])
    lesson = learning["lessons"][0]
    body = {"lesson": lesson, "completed": True, "position_seconds": 30}

    first = write(client, learning["id"], body, "k-1")
    again = write(client, learning["id"], body, "k-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert progress_events(learning["student"]) == 1
    assert IdempotencyKey.objects.get(key="k-1").state == "completed"


def test_replaying_an_older_write_does_not_undo_a_later_one():
    """Writes are replayed in order, but a retry of one the server already has may arrive
    after later ones (its answer was lost): it must not move the position back."""
    learning = enrolled()
    client = client_for(learning["student"])
    lesson = learning["lessons"][1]

    write(client, learning["id"], {"lesson": lesson, "position_seconds": 10}, "k-a")
    write(client, learning["id"], {"lesson": lesson, "position_seconds": 20}, "k-b")
    retried = write(client, learning["id"], {"lesson": lesson, "position_seconds": 10}, "k-a")

    assert retried.status_code == 200 and retried["Idempotent-Replayed"] == "true"
    assert row(learning["id"], lesson) == (False, 20)
    assert progress_events(learning["student"]) == 2


def test_a_key_reused_with_another_body_or_enrollment_is_a_conflict():
    student = make_user()
    one, other = enrolled(student), enrolled(student)
    client = client_for(student)
    lesson = one["lessons"][0]
    write(client, one["id"], {"lesson": lesson, "position_seconds": 5}, "k-same")

    changed = write(client, one["id"], {"lesson": lesson, "position_seconds": 6}, "k-same")
    elsewhere = write(
        client, other["id"], {"lesson": other["lessons"][0], "position_seconds": 5}, "k-same"
    )
    # The same body sent to another enrollment is another request, not a replay of this one.
    same_body_elsewhere = write(
        client, other["id"], {"lesson": lesson, "position_seconds": 5}, "k-same"
    )

    for answer in (changed, elsewhere, same_body_elsewhere):
        assert answer.status_code == 409, answer.json()
        assert answer.json()["error"]["code"] == "idempotency_conflict"
    assert row(one["id"], lesson) == (False, 5)
    assert not LessonProgress.objects.filter(enrollment_id=other["id"], position_seconds=5)


def test_a_refused_write_is_refused_again_on_replay():
    learning = enrolled()
    client = client_for(learning["student"])
    with after_commit():
        client.post(f"/api/enrollments/{learning['id']}/cancel")
    body = {"lesson": learning["lessons"][0], "completed": True}

    first = write(client, learning["id"], body, "k-late")
    again = write(client, learning["id"], body, "k-late")

    assert first.status_code == again.status_code == 409
    assert again.json()["error"]["code"] == "not_active"
    assert again["Idempotent-Replayed"] == "true"


def test_a_write_recorded_before_its_request_failed_is_not_written_again(monkeypatch):
    """The connection is cut after the write committed, before it was answered: the claim
    names the progress row (attached in the write's transaction), so the retry takes it
    over and answers the lesson's progress without a second write or event."""
    learning = enrolled()
    client = client_for(learning["student"])
    lesson = learning["lessons"][2]
    real = services.progress_record
    calls = {"n": 0}

    def committed_then_cut(**kwargs):
        calls["n"] += 1
        answer = real(**kwargs)
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return answer

    monkeypatch.setattr(services, "progress_record", committed_then_cut)
    body = {"lesson": lesson, "completed": True, "position_seconds": 42}

    first = write(client, learning["id"], body, "k-cut")
    assert first.status_code == 503
    claim = IdempotencyKey.objects.get(key="k-cut")
    progress = LessonProgress.objects.get(enrollment_id=learning["id"], lesson_id=lesson)
    assert (claim.state, claim.resource_id) == ("in_progress", progress.pk)
    assert progress_events(learning["student"]) == 1

    retry = write(client, learning["id"], body, "k-cut")

    assert retry.status_code == 200, retry.json()
    assert retry.json() == {
        "enrollment": learning["id"],
        "lesson": lesson,
        "completed": True,
        "position_seconds": 42,
        "percent": 33.3,
    }
    assert progress_events(learning["student"]) == 1
    assert IdempotencyKey.objects.get(key="k-cut").state == "completed"


def test_without_a_key_every_write_is_applied():
    learning = enrolled()
    client = client_for(learning["student"])
    body = {"lesson": learning["lessons"][0], "position_seconds": 7}

    write(client, learning["id"], body, None)
    write(client, learning["id"], body, None)

    assert progress_events(learning["student"]) == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_queued_write_apply_it_once():
    """Two tabs replaying the same queue send the same entry at once."""
    learning = enrolled()
    body = {"lesson": learning["lessons"][0], "completed": True, "position_seconds": 3}

    answers = run_concurrently(
        4, lambda _: write(client_for(learning["student"]), learning["id"], body, "k-race")
    )

    assert [answer.status_code for answer in answers] == [200] * 4
    assert all(answer.json() == answers[0].json() for answer in answers)
    assert progress_events(learning["student"]) == 1
