"""GET /api/lessons/{id}: the contract's `Lesson`, and who may read it.

The access matrix: anonymous, a signed-in student of another course, the course's
students by enrollment status, its instructor, another instructor, staff; each on a
preview lesson and on a lesson that is not one, of a published course and of a draft.
Those let in get working media links; the others get no link at all.
"""

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Lesson, Module
from enrollment.access import ACCESS_STATUSES, enrollment_grants_access
from tests.catalog.media import (
    CAPTIONS_BYTES,
    CHEATSHEET_BYTES,
    VIDEO_BYTES,
    enroll_directly,
    give_resource,
    give_video,
)
from tests.conftest import client_for
from tests.contract import LESSON_KEYS
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(instructor, local_media):
    """Two modules of two lessons: a text preview, a video lesson with captions and a
    resource, two text lessons."""
    course = make_course(
        title="Lessons 101", slug="lessons-101", instructor=instructor, modules=2,
        lessons_per_module=2,
    )  # fmt: skip
    first = Module.objects.filter(course=course).order_by("position").first()
    intro = Lesson.objects.get(module=first, position=1)
    intro.preview = True
    intro.body = "# Welcome\n\nRead **this** first.\n\n```python\nprint('hi')\n```"
    services.lesson_save(lesson=intro)
    video = give_video(Lesson.objects.get(module=first, position=2))
    give_resource(video, title="Cheat sheet")
    return course


def lessons_of(course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def get_lesson(client, lesson_id: int):
    return client.get(f"/api/lessons/{lesson_id}")


def test_a_lesson_answers_the_contract_shape(api, course):
    intro, video, third, _ = lessons_of(course)
    staff = client_for(make_user(is_staff=True))

    body = get_lesson(staff, video.id).json()

    assert set(body) == LESSON_KEYS
    assert {key: body[key] for key in LESSON_KEYS - {"body_html", "media", "resources"}} == {
        "id": video.id,
        "title": video.title,
        "position": 2,
        "duration_seconds": video.duration_seconds,
        "kind": "video",
        "preview": False,
        "course": {"slug": "lessons-101", "title": "Lessons 101"},
        "module": {"id": video.module_id, "title": video.module.title},
        "previous": intro.id,
        "next": third.id,  # the next module's first lesson
    }
    media = body["media"]
    assert set(media) == {"url", "content_type", "captions"}
    assert media["content_type"] == "video/mp4"
    assert media["url"].startswith("http://testserver/media/")
    assert [(c["lang"], c["label"]) for c in media["captions"]] == [("en", "English")]
    assert media["captions"][0]["url"].startswith("http://testserver/media/")
    assert [(r["title"], r["size"]) for r in body["resources"]] == [
        ("Cheat sheet", len(CHEATSHEET_BYTES))
    ]

    # Every link serves its own file.
    assert b"".join(staff.get(media["url"]).streaming_content) == VIDEO_BYTES
    captions = staff.get(media["captions"][0]["url"])
    assert captions["Content-Type"] == "text/vtt"
    assert b"".join(captions.streaming_content) == CAPTIONS_BYTES
    download = staff.get(body["resources"][0]["url"])
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == CHEATSHEET_BYTES


def test_text_lessons_answer_their_sanitised_html_and_no_media(api, course):
    intro, _, third, fourth = lessons_of(course)
    body = get_lesson(api, intro.id).json()
    assert body["kind"] == "text"
    assert body["preview"] is True
    assert body["media"] is None
    assert body["resources"] == []
    assert body["previous"] is None
    assert body["body_html"].startswith(
        "<h2>Welcome</h2>\n<p>Read <strong>this</strong> first.</p>"
    )
    assert '<span class="nb">print</span>' in body["body_html"]

    staff = client_for(make_user(is_staff=True))
    assert get_lesson(staff, fourth.id).json()["next"] is None
    assert get_lesson(staff, fourth.id).json()["previous"] == third.id


def test_answers_are_private_to_their_reader(api, course):
    response = get_lesson(api, lessons_of(course)[0].id)
    assert response["Cache-Control"] == "private, no-store"


ACCESS = {
    # who → (preview lesson, other lesson) statuses on a published course
    "anonymous": (200, 401),
    "student of another course": (200, 403),
    "pending student": (200, 403),
    "cancelled student": (200, 403),
    "refunded student": (200, 403),
    "active student": (200, 200),
    "instructor": (200, 200),
    "another instructor": (200, 403),
    "staff": (200, 200),
}


def client_as(who: str, course):
    if who == "anonymous":
        return APIClient()
    if who == "instructor":
        return client_for(course.course_instructors.get().user)
    if who == "another instructor":
        return client_for(make_instructor())
    if who == "staff":
        return client_for(make_user(is_staff=True))
    user = make_user()
    if who == "student of another course":
        enroll_directly(user, make_course(), status="active")
    else:
        enroll_directly(user, course, status=who.split()[0])
    return client_for(user)


@pytest.mark.parametrize("who", list(ACCESS))
def test_who_may_read_a_lesson(who, course):
    preview, video, _, _ = lessons_of(course)
    client = client_as(who, course)
    expected_preview, expected_other = ACCESS[who]

    assert get_lesson(client, preview.id).status_code == expected_preview
    response = get_lesson(client, video.id)
    assert response.status_code == expected_other, response.content
    if expected_other == 200:
        media = response.json()["media"]
        assert client.get(media["url"], HTTP_RANGE="bytes=0-9").status_code == 206
    else:
        error = response.json()["error"]
        assert error["code"] == {401: "not_authenticated", 403: "forbidden"}[expected_other]
        assert "testserver/media" not in response.content.decode()


DRAFT_ACCESS = {
    "anonymous": 404,
    "student of another course": 404,
    "pending student": 404,
    "active student": 200,  # enrolled before it was unpublished: keeps reading
    "instructor": 200,
    "another instructor": 404,
    "staff": 200,
}


@pytest.mark.parametrize("who", list(DRAFT_ACCESS))
def test_lessons_of_a_draft_even_previews(who, course):
    course.published_at = None
    course.save(update_fields=["published_at"])
    preview, video, _, _ = lessons_of(course)
    client = client_as(who, course)
    for lesson in (preview, video):
        assert get_lesson(client, lesson.id).status_code == DRAFT_ACCESS[who]


def test_an_unknown_lesson_is_404(api, course):
    for path in ("/api/lessons/999999999", "/api/lessons/99999999999999999999999"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_access_statuses_are_active_and_completed():
    # Defined once (enrollment/access.py); "completed" is the status a finished course's
    # enrollment reaches.
    assert ACCESS_STATUSES == ("active", "completed")


def test_the_enrollment_check_reads_each_status(course):
    user = make_user()
    enrollment = enroll_directly(user, course, status="pending")
    assert not enrollment_grants_access(user=user, course_id=course.id)
    enrollment.status = "active"
    enrollment.save(update_fields=["status"])
    assert enrollment_grants_access(user=user, course_id=course.id)
    assert not enrollment_grants_access(user=user, course_id=make_course().id)


def test_the_lesson_answer_costs_a_fixed_number_of_queries(course, django_assert_num_queries):
    # The token, the lesson with its captions and resources, the two checks (teaches?
    # enrolled?), the lessons before and after: whatever the course's size.
    user = make_user()
    enroll_directly(user, course)
    student = client_for(user)
    student.get("/api/me")  # the token's first use is noted once (accounts.last_use)
    video = lessons_of(course)[1]
    with django_assert_num_queries(8):
        assert get_lesson(student, video.id).status_code == 200


def test_the_outline_shows_kind_and_preview_and_follows_changes(api, course):
    preview, video, third, _ = lessons_of(course)

    def outline() -> dict[int, tuple[str, bool]]:
        body = api.get(f"/api/courses/{course.slug}").json()
        return {
            lesson["id"]: (lesson["kind"], lesson["preview"])
            for module in body["modules"]
            for lesson in module["lessons"]
        }

    assert outline()[preview.id] == ("text", True)
    assert outline()[video.id] == ("video", False)
    assert "media" not in api.get(f"/api/courses/{course.slug}").content.decode()

    # A change through the lesson service retires the cached detail (read twice above).
    third.preview = True
    with after_commit():
        services.lesson_save(lesson=third)
    assert outline()[third.id] == ("text", True)
