"""State tests in the spirit of Zulip's verify_action: fetch the state a page starts from
(GET /api/enrollments, GET /api/enrollments/{id}/progress), perform an action through the
API, apply the events the user received to that state the way the browser does
(frontend/static/js/dashboard.js and lessonstore.js), and compare with a fresh GET.
An event that is missing, extra or carries a stale value makes the two differ."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.events.models import UserEvent
from portal.events.publish import event_message, latest_seq
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user
from tests.realtime.frames import assert_server_frame

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMITS = {}


State = dict[str, Any]


def fetch_state(client: APIClient) -> State:
    page = client.get("/api/enrollments", {"role": "student", "page_size": 100})
    assert page.status_code == 200
    enrollments = page.json()["results"]
    progress = {}
    for enrollment in enrollments:
        answer = client.get(f"/api/enrollments/{enrollment['id']}/progress")
        assert answer.status_code == 200
        body = answer.json()
        # The browser keeps a lesson's completion and position, not when it was completed.
        lessons = {
            row["lesson"]: {
                "completed": row["completed"],
                "position_seconds": row["position_seconds"],
            }
            for row in body["lessons"]
        }
        progress[enrollment["id"]] = {"progress": body["progress"], "lessons": lessons}
    return {"enrollments": enrollments, "progress": progress}


def apply_events(state: State, frames: list[dict]) -> State:
    """What the dashboard and the lesson page do with each frame."""
    state = copy.deepcopy(state)
    enrollments: list[dict] = state["enrollments"]
    for frame in frames:
        if frame["type"] in ("enrollment.status", "enrollment.completed"):
            # dashboard.js applyEvent(): replace in place, or put a new one first.
            body = frame["enrollment"]
            index = next((i for i, e in enumerate(enrollments) if e["id"] == body["id"]), None)
            if index is None:
                enrollments.insert(0, body)
                state["progress"][body["id"]] = {"progress": body["progress"], "lessons": {}}
            else:
                enrollments[index] = body
        elif frame["type"] == "progress.updated":
            # dashboard.js applyEvent() and lessonstore.js rememberProgressEvent().
            for enrollment in enrollments:
                if enrollment["id"] == frame["enrollment"]:
                    enrollment["progress"] = frame["progress"]
            page = state["progress"].get(frame["enrollment"])
            if page is not None:
                page["progress"] = frame["progress"]
                page["lessons"][frame["lesson"]] = {
                    "completed": frame["completed"],
                    "position_seconds": frame["position_seconds"],
                }
        else:
            raise AssertionError(f"a student received {frame['type']!r}")
    for page in state["progress"].values():
        page["lessons"] = dict(sorted(page["lessons"].items()))
    return state


def verify_action(user, client: APIClient, action: Callable[[], Any], *, events: int) -> list:
    before = fetch_state(client)
    seq = latest_seq(user.pk)
    action()
    frames = [
        assert_server_frame(event_message(row))
        for row in UserEvent.objects.filter(user=user, seq__gt=seq).order_by("seq")
    ]
    assert len(frames) == events, [frame["type"] for frame in frames]
    assert apply_events(before, frames) == fetch_state(client)
    return frames


@pytest.fixture
def scene():
    instructor = make_instructor()
    student = make_user()
    free = make_course(instructor=instructor, capacity=5, modules=2, lessons_per_module=2)
    paid = make_course(instructor=instructor, price="30.00", modules=1, lessons_per_module=1)
    return student, client_for(student), free, paid


def post(client: APIClient, path: str, body: dict | None = None, status: int = 200) -> dict:
    response = client.post(path, body or {}, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def lessons_of(course) -> list[int]:
    return [lesson.id for module in course.modules.all() for lesson in module.lessons.all()]


def test_enroll_progress_and_cancel_a_free_course(scene):
    student, client, free, _ = scene
    created: dict = {}

    def enroll():
        created.update(post(client, "/api/enrollments", {"course": free.slug}, status=201))

    frames = verify_action(student, client, enroll, events=2)
    assert [frame["enrollment"]["status"] for frame in frames] == ["pending", "active"]
    first, second, *_ = lessons_of(free)
    progress = f"/api/enrollments/{created['id']}/progress"

    def complete_first():
        post(client, progress, {"lesson": first, "completed": True, "position_seconds": 90})

    frames = verify_action(student, client, complete_first, events=1)
    assert frames[0]["progress"]["completed_lessons"] == 1 and frames[0]["percent"] == 25.0
    verify_action(
        student,
        client,
        lambda: post(client, progress, {"lesson": second, "position_seconds": 5}),
        events=1,
    )
    verify_action(
        student,
        client,
        lambda: post(client, progress, {"lesson": first, "completed": False}),
        events=1,
    )
    frames = verify_action(
        student, client, lambda: post(client, f"/api/enrollments/{created['id']}/cancel"), events=1
    )
    assert frames[0]["enrollment"]["status"] == "cancelled"


def test_paid_enrollment_refund_and_decline(scene):
    student, client, free, paid = scene
    verify_action(
        student,
        client,
        lambda: post(client, "/api/enrollments", {"course": free.slug}, status=201),
        events=2,
    )
    bought: dict = {}

    def buy():
        bought.update(
            post(
                client,
                "/api/enrollments",
                {"course": paid.slug, "payment_method": "pm_card_visa"},
                status=201,
            )
        )

    verify_action(student, client, buy, events=2)
    frames = verify_action(
        student, client, lambda: post(client, f"/api/enrollments/{bought['id']}/cancel"), events=1
    )
    assert frames[0]["enrollment"]["status"] == "refunded"
    declined = make_course(price="12.00")
    frames = verify_action(
        student,
        client,
        lambda: post(
            client,
            "/api/enrollments",
            {"course": declined.slug, "payment_method": "pm_card_chargeDeclined"},
            status=402,
        ),
        events=2,
    )
    assert [frame["enrollment"]["status"] for frame in frames] == ["pending", "cancelled"]


def test_a_second_tab_sees_what_the_first_one_did(scene):
    """Two clients of the same user (two tabs): the second fetched its state before the
    first acted; the events bring it level with a fresh fetch."""
    student, first_tab, free, _ = scene
    second_tab = client_for(student)
    enrollment = post(first_tab, "/api/enrollments", {"course": free.slug}, status=201)
    lesson = lessons_of(free)[-1]

    def first_tab_acts():
        post(
            first_tab,
            f"/api/enrollments/{enrollment['id']}/progress",
            {"lesson": lesson, "completed": True, "position_seconds": 33},
        )

    frames = verify_action(student, second_tab, first_tab_acts, events=1)
    assert frames[0]["lesson"] == lesson and frames[0]["position_seconds"] == 33


def test_the_reducer_notices_a_missing_event(scene):
    """The check bites: without the events, the state fetched before is stale."""
    _, client, free, _ = scene
    before = fetch_state(client)
    post(client, "/api/enrollments", {"course": free.slug}, status=201)
    assert apply_events(before, []) != fetch_state(client)


def test_completing_the_last_lesson_completes_the_enrollment(scene):
    """The last lesson's write brings `progress.updated`, `enrollment.status` (completed)
    and `enrollment.completed`; applied to the dashboard's state they give what a fresh
    fetch shows (status, completed_at, the certificate). Later writes keep it completed."""
    student, client, free, _ = scene
    enrollment = post(client, "/api/enrollments", {"course": free.slug}, status=201)
    progress = f"/api/enrollments/{enrollment['id']}/progress"
    *first, last = lessons_of(free)
    for lesson in first:
        post(client, progress, {"lesson": lesson, "completed": True})

    frames = verify_action(
        student,
        client,
        lambda: post(client, progress, {"lesson": last, "completed": True}),
        events=3,
    )
    assert [frame["type"] for frame in frames] == [
        "progress.updated",
        "enrollment.status",
        "enrollment.completed",
    ]
    certificate = frames[2]["certificate"]
    assert frames[2]["enrollment"]["certificate"] == certificate
    assert (
        client.get(f"/api/enrollments/{enrollment['id']}/certificate").json()["code"]
        == (certificate["code"])
    )
    # Unticking a lesson afterwards: the percent drops, the completion stands.
    frames = verify_action(
        student,
        client,
        lambda: post(client, progress, {"lesson": last, "completed": False}),
        events=1,
    )
    assert frames[0]["percent"] == 75.0
    assert fetch_state(client)["enrollments"][0]["status"] == "completed"


def fetch_roster(client: APIClient) -> list[dict]:
    page = client.get("/api/enrollments", {"role": "instructor", "page_size": 100})
    assert page.status_code == 200
    return page.json()["results"]


def apply_instructor_events(roster: list[dict], frames: list[dict]) -> list[dict]:
    """What instructor.js does with its frames: a new enrollment goes first, a completion
    replaces the row."""
    roster = copy.deepcopy(roster)
    for frame in frames:
        body = frame["enrollment"]
        index = next((i for i, e in enumerate(roster) if e["id"] == body["id"]), None)
        if frame["type"] == "enrollment.created":
            assert index is None
            roster.insert(0, body)
        elif frame["type"] == "enrollment.completed":
            roster[index] = body
        else:
            raise AssertionError(f"an instructor received {frame['type']!r}")
    return roster


def test_the_instructor_hears_of_enrollments_and_completions(scene):
    _, client, free, _ = scene
    instructor = free.course_instructors.get().user
    teacher = client_for(instructor)
    before, seq = fetch_roster(teacher), latest_seq(instructor.pk)
    enrollment = post(client, "/api/enrollments", {"course": free.slug}, status=201)
    for lesson in lessons_of(free):
        post(
            client,
            f"/api/enrollments/{enrollment['id']}/progress",
            {"lesson": lesson, "completed": True},
        )
    frames = [
        assert_server_frame(event_message(row))
        for row in UserEvent.objects.filter(user=instructor, seq__gt=seq).order_by("seq")
    ]
    assert [frame["type"] for frame in frames] == ["enrollment.created", "enrollment.completed"]
    after = fetch_roster(teacher)
    assert apply_instructor_events(before, frames) == after
    assert after[0]["status"] == "completed" and after[0]["certificate"] is not None
