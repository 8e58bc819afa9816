"""GET /api/courses/{slug}: the outline in order, 404s, and who may see drafts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CourseInstructor, Lesson, Module
from tests.conftest import client_for
from tests.contract import COURSE_KEYS
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db

MODULE_KEYS = {"id", "title", "position", "lessons"}
LESSON_KEYS = {"id", "title", "position", "duration_seconds", "kind", "preview"}


def assert_not_found(response) -> None:
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"]


def test_detail_is_a_course_plus_its_outline_in_position_order(api):
    teacher = make_instructor(name="Grace Hopper")
    course = make_course(
        title="Intro to Python",
        slug="intro-to-python",
        description="All about Python.",
        price="49.00",
        capacity=25,
        rating=Decimal("4.50"),
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        instructor=teacher,
    )
    # Inserted out of order: the answer must follow position, not id.
    later = Module.objects.create(course=course, title="2. Control flow", position=2)
    first = Module.objects.create(course=course, title="1. Getting started", position=1)
    Lesson.objects.create(module=later, title="Loops", position=2, duration_seconds=660)
    Lesson.objects.create(module=later, title="Conditions", position=1, duration_seconds=540)
    Lesson.objects.create(module=first, title="Your first program", position=3)
    Lesson.objects.create(
        module=first,
        title="Installing",
        position=1,
        duration_seconds=420,
        kind="video",
        preview=True,
    )

    response = api.get("/api/courses/intro-to-python")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= COURSE_KEYS | {"modules"}
    assert body["id"] == course.id
    assert body["slug"] == "intro-to-python"
    assert body["price"] == "49.00"
    assert body["currency"] == "usd"
    assert body["capacity"] == 25
    assert body["seats_taken"] == 0
    assert body["rating"] == 4.5
    assert body["instructor"] == {"id": teacher.id, "name": "Grace Hopper"}
    assert body["published_at"] == "2026-01-01T00:00:00Z"
    assert body["description"] == "All about Python."
    for module in body["modules"]:
        assert set(module) == MODULE_KEYS
        for lesson in module["lessons"]:
            assert set(lesson) == LESSON_KEYS
    assert [(m["id"], m["title"], m["position"]) for m in body["modules"]] == [
        (first.id, "1. Getting started", 1),
        (later.id, "2. Control flow", 2),
    ]
    assert [
        [
            (
                lesson["title"],
                lesson["position"],
                lesson["duration_seconds"],
                lesson["kind"],
                lesson["preview"],
            )
            for lesson in m["lessons"]
        ]
        for m in body["modules"]
    ] == [
        [("Installing", 1, 420, "video", True), ("Your first program", 3, 0, "text", False)],
        [("Conditions", 1, 540, "text", False), ("Loops", 2, 660, "text", False)],
    ]
    lesson_ids = {lesson["id"] for m in body["modules"] for lesson in m["lessons"]}
    assert lesson_ids == set(
        Lesson.objects.filter(module__course=course).values_list("id", flat=True)
    )


def test_detail_matches_the_list_entry(api):
    course = make_course(title="Same", capacity=10, rating=Decimal("3.25"), modules=1)
    listed = api.get("/api/courses").json()["results"][0]
    detail = api.get(f"/api/courses/{course.slug}").json()
    assert {key: detail[key] for key in COURSE_KEYS} == listed


def test_course_without_modules_has_an_empty_outline(api):
    course = make_course()
    assert api.get(f"/api/courses/{course.slug}").json()["modules"] == []


def test_every_instructor_is_listed_in_position_order(api):
    lead, helper = make_instructor(name="Lead"), make_instructor(name="Helper")
    course = make_course(instructor=lead)
    CourseInstructor.objects.create(course=course, user=helper, position=1)
    body = api.get(f"/api/courses/{course.slug}").json()
    assert body["instructor"] == {"id": lead.id, "name": "Lead"}
    assert body["instructors"] == [
        {"id": lead.id, "name": "Lead"},
        {"id": helper.id, "name": "Helper"},
    ]


@pytest.mark.parametrize("path", ["/api/courses/no-such-course", "/api/courses/bad.slug!"])
def test_unknown_course_is_404_in_the_error_shape(api, path):
    make_course(slug="real-course")
    assert_not_found(api.get(path))


def test_unpublished_course_is_hidden_from_anonymous_and_students(
    api, student_api, instructor, staff
):
    draft = make_course(slug="secret-draft", instructor=instructor, published=False, modules=1)
    stranger = client_for(make_instructor(name="Other Teacher"))

    for client in (api, student_api, stranger):
        assert_not_found(client.get("/api/courses/secret-draft"))

    # The course's own instructor, a co-instructor and staff see it.
    helper = make_instructor(name="Helper")
    CourseInstructor.objects.create(course=draft, user=helper, position=1)
    for user in (instructor, helper, staff):
        response = client_for(user).get("/api/courses/secret-draft")
        assert response.status_code == 200
        assert response.json()["id"] == draft.id
        assert response.json()["published_at"] is None
        assert len(response.json()["modules"]) == 1

    # What the instructor was shown is not served to others afterwards.
    for client in (api, student_api, stranger):
        assert_not_found(client.get("/api/courses/secret-draft"))


def test_published_course_is_visible_to_everyone(api, student_api, instructor_api, staff_api):
    course = make_course(slug="open-course")
    for client in (api, student_api, instructor_api, staff_api):
        response = client.get("/api/courses/open-course")
        assert response.status_code == 200
        assert response.json()["id"] == course.id


def _detail_queries(api, slug: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/courses/{slug}")
    assert response.status_code == 200
    return len(queries)


def test_detail_query_count_does_not_grow_with_the_outline(api):
    make_course(slug="small", modules=1, lessons_per_module=1)
    big = make_course(slug="big", modules=8, lessons_per_module=6)
    assert Lesson.objects.filter(module__course=big).count() == 48

    assert _detail_queries(api, "small") == _detail_queries(api, "big")
    assert _detail_queries(api, "big") <= 4  # course, instructors, modules, lessons
