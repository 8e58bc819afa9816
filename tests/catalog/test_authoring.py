"""POST /api/courses, PATCH and DELETE /api/courses/{slug}: who may, what is checked."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog import services
from catalog.models import Course, CourseInstructor, Lesson, Module
from tests.conftest import client_for
from tests.contract import COURSE_KEYS
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db

NEW_COURSE = {
    "title": "Intro to Python",
    "summary": "Learn Python from scratch.",
    "description": "A friendly start.",
    "category": "Programming",
    "level": "beginner",
    "price": "49.00",
    "currency": "usd",
    "capacity": 25,
    "modules": [
        {
            "title": "Getting started",
            "lessons": [
                {"title": "Installing Python", "duration_seconds": 420},
                {"title": "Your first program", "duration_seconds": 600},
            ],
        },
        {"title": "Control flow", "lessons": [{"title": "Loops", "duration_seconds": 660}]},
        {"title": "Wrap-up"},
    ],
}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def assert_invalid(response, *fields: str) -> dict:
    error = assert_error(response, 400, "invalid")
    assert set(fields) <= set(error["fields"]), error["fields"]
    return error


def nothing_written() -> bool:
    return not (Course.objects.exists() or Module.objects.exists() or Lesson.objects.exists())


# --- POST /api/courses ---------------------------------------------------------------


def test_anonymous_cannot_create_a_course(api):
    assert_error(api.post("/api/courses", NEW_COURSE, format="json"), 401, "not_authenticated")
    assert nothing_written()


def test_a_student_cannot_create_a_course(student_api):
    assert_error(student_api.post("/api/courses", NEW_COURSE, format="json"), 403, "forbidden")
    assert nothing_written()


def test_an_instructor_creates_a_course_with_its_outline(api, instructor, instructor_api):
    response = instructor_api.post("/api/courses", NEW_COURSE, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= COURSE_KEYS | {"modules"}
    assert body["slug"] == "intro-to-python"
    assert body["title"] == "Intro to Python"
    assert body["summary"] == "Learn Python from scratch."
    assert body["category"] == "Programming"
    assert body["level"] == "beginner"
    assert body["price"] == "49.00"
    assert body["currency"] == "usd"
    assert body["capacity"] == 25
    assert body["seats_taken"] == 0
    assert body["rating"] is None
    assert body["instructor"] == {"id": instructor.id, "name": instructor.name}
    assert body["published_at"].endswith("Z")
    assert [(m["title"], m["position"]) for m in body["modules"]] == [
        ("Getting started", 1),
        ("Control flow", 2),
        ("Wrap-up", 3),
    ]
    assert [
        [
            (lesson["title"], lesson["position"], lesson["duration_seconds"])
            for lesson in m["lessons"]
        ]
        for m in body["modules"]
    ] == [
        [("Installing Python", 1, 420), ("Your first program", 2, 600)],
        [("Loops", 1, 660)],
        [],
    ]

    course = Course.objects.get(slug="intro-to-python")
    assert course.id == body["id"]
    assert course.description == "A friendly start."
    assert course.price == Decimal("49.00")
    assert list(course.course_instructors.values_list("user_id", "position")) == [
        (instructor.id, 0)
    ]
    assert Lesson.objects.filter(module__course=course).count() == 3
    # Published straight away: anyone finds it.
    assert api.get("/api/courses/intro-to-python").json()["id"] == course.id
    assert [c["slug"] for c in api.get("/api/courses").json()["results"]] == ["intro-to-python"]


def test_staff_may_create_courses_too(staff, staff_api):
    response = staff_api.post("/api/courses", NEW_COURSE, format="json")
    assert response.status_code == 201
    assert response.json()["instructor"]["id"] == staff.id


def test_defaults_for_optional_fields(instructor_api):
    response = instructor_api.post(
        "/api/courses",
        {"title": "Minimal", "summary": "Just the basics.", "category": "Design"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["level"], body["price"], body["currency"], body["capacity"]) == (
        "beginner",
        "0.00",
        "usd",
        None,
    )
    assert body["modules"] == []
    assert Course.objects.get(slug="minimal").description == ""


def test_currency_is_normalised_to_lower_case(instructor_api):
    response = instructor_api.post("/api/courses", {**NEW_COURSE, "currency": "EUR"}, format="json")
    assert response.status_code == 201
    assert response.json()["currency"] == "eur"


def test_the_same_title_gets_a_new_unique_slug_each_time(instructor_api, staff_api):
    slugs = [
        client.post("/api/courses", NEW_COURSE, format="json").json()["slug"]
        for client in (instructor_api, instructor_api, staff_api)
    ]
    assert slugs[0] == "intro-to-python"
    assert len(set(slugs)) == 3
    assert all(slug.startswith("intro-to-python") for slug in slugs)
    assert Course.objects.filter(title="Intro to Python").count() == 3
    for slug in slugs:
        assert instructor_api.get(f"/api/courses/{slug}").status_code == 200


def test_a_slug_taken_by_an_existing_course_is_skipped(instructor_api):
    make_course(slug="intro-to-python", title="Someone else's")
    make_course(slug="intro-to-python-2", title="And another")
    response = instructor_api.post("/api/courses", NEW_COURSE, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] not in {"intro-to-python", "intro-to-python-2"}
    assert response.json()["slug"].startswith("intro-to-python-")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Café Déjà Vu: Part 2!", "cafe-deja-vu-part-2"),
        ("!!!", "course"),
        ("  Spaced   Out  ", "spaced-out"),
    ],
)
def test_slug_is_derived_from_the_title(instructor_api, title, expected):
    response = instructor_api.post("/api/courses", {**NEW_COURSE, "title": title}, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == expected
    assert instructor_api.get(f"/api/courses/{expected}").status_code == 200


def test_a_very_long_title_gets_a_usable_slug(instructor_api):
    title = "Python " * 28  # 196 characters
    first = instructor_api.post("/api/courses", {**NEW_COURSE, "title": title}, format="json")
    second = instructor_api.post("/api/courses", {**NEW_COURSE, "title": title}, format="json")
    assert first.status_code == second.status_code == 201
    slugs = {first.json()["slug"], second.json()["slug"]}
    assert len(slugs) == 2
    for slug in slugs:
        assert len(slug) <= 100
        assert instructor_api.get(f"/api/courses/{slug}").status_code == 200


def test_an_unpublished_draft_can_be_created(api, instructor_api):
    response = instructor_api.post(
        "/api/courses", {**NEW_COURSE, "published": False}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["published_at"] is None
    slug = response.json()["slug"]
    assert api.get(f"/api/courses/{slug}").status_code == 404
    assert api.get("/api/courses").json()["count"] == 0
    assert instructor_api.get(f"/api/courses/{slug}").status_code == 200


def _without(key: str) -> dict:
    return {name: value for name, value in NEW_COURSE.items() if name != key}


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        (_without("title"), ["title"]),
        (_without("summary"), ["summary"]),
        (_without("category"), ["category"]),
        ({**NEW_COURSE, "title": ""}, ["title"]),
        ({**NEW_COURSE, "title": "   "}, ["title"]),
        ({**NEW_COURSE, "title": "x" * 201}, ["title"]),
        ({**NEW_COURSE, "title": "Nul\x00byte"}, ["title"]),
        ({**NEW_COURSE, "price": "-1.00"}, ["price"]),
        ({**NEW_COURSE, "price": "abc"}, ["price"]),
        ({**NEW_COURSE, "price": "9.999"}, ["price"]),
        ({**NEW_COURSE, "price": "123456789012"}, ["price"]),
        ({**NEW_COURSE, "capacity": 0}, ["capacity"]),
        ({**NEW_COURSE, "capacity": -5}, ["capacity"]),
        ({**NEW_COURSE, "capacity": "many"}, ["capacity"]),
        ({**NEW_COURSE, "capacity": 10**10}, ["capacity"]),
        ({**NEW_COURSE, "level": "expert"}, ["level"]),
        ({**NEW_COURSE, "currency": "btc"}, ["currency"]),
        ({**NEW_COURSE, "currency": 5}, ["currency"]),
        ({**NEW_COURSE, "title": ["Intro"], "summary": {"a": 1}}, ["title", "summary"]),
        ({**NEW_COURSE, "published": "perhaps"}, ["published"]),
        ({**NEW_COURSE, "modules": "Getting started"}, ["modules"]),
        ({**NEW_COURSE, "modules": {"title": "One"}}, ["modules"]),
        ({**NEW_COURSE, "modules": ["Getting started"]}, ["modules.0"]),
        ({**NEW_COURSE, "modules": [{"lessons": []}]}, ["modules.0.title"]),
        ({**NEW_COURSE, "modules": [{"title": "M", "lessons": "L"}]}, ["modules.0.lessons"]),
        (
            {
                **NEW_COURSE,
                "modules": [
                    {"title": "Fine", "lessons": [{"title": "ok"}]},
                    {"title": "M", "lessons": [{"title": "L", "duration_seconds": -1}]},
                ],
            },
            ["modules.1.lessons.0.duration_seconds"],
        ),
        (
            {**NEW_COURSE, "modules": [{"title": "M", "lessons": [{"duration_seconds": 5}]}]},
            ["modules.0.lessons.0.title"],
        ),
    ],
)
def test_invalid_course_is_refused_and_nothing_is_written(instructor_api, payload, fields):
    response = instructor_api.post("/api/courses", payload, format="json")
    assert_invalid(response, *fields)
    assert nothing_written()


@pytest.mark.parametrize("body", ["[1, 2]", '"a course"', "{not json", ""])
def test_malformed_or_non_object_bodies_are_400(instructor_api, body):
    response = instructor_api.post("/api/courses", body, content_type="application/json")
    assert_error(response, 400, "invalid")
    assert nothing_written()


def test_a_form_encoded_body_is_415(instructor_api):
    response = instructor_api.post("/api/courses", {"title": "Form"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")
    assert nothing_written()


# Threads with connections of their own race on committed rows.
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_of_one_title_get_distinct_slugs(instructor):
    writers = 4
    barrier = threading.Barrier(writers)
    slugs: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            course = services.course_create(
                author=instructor,
                data={"title": "Race Condition", "summary": "S", "category": "Programming"},
            )
            slugs.append(course.slug)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(slugs) == writers
    assert len(set(slugs)) == writers
    assert "race-condition" in slugs
    assert Course.objects.filter(title="Race Condition").count() == writers
    assert CourseInstructor.objects.filter(course__title="Race Condition").count() == writers


# --- PATCH /api/courses/{slug} -------------------------------------------------------


@pytest.fixture
def course(instructor):
    return make_course(
        title="Owned",
        slug="owned",
        instructor=instructor,
        price="49.00",
        capacity=20,
        seats_taken=5,
        modules=2,
        lessons_per_module=2,
    )


def test_anonymous_cannot_patch(api, course):
    assert_error(
        api.patch("/api/courses/owned", {"title": "X"}, format="json"), 401, "not_authenticated"
    )
    course.refresh_from_db()
    assert course.title == "Owned"


def test_another_instructor_or_a_student_cannot_patch(student_api, course):
    stranger = client_for(make_instructor(name="Stranger"))
    for client in (stranger, student_api):
        response = client.patch("/api/courses/owned", {"title": "Hijacked"}, format="json")
        assert_error(response, 403, "forbidden")
    course.refresh_from_db()
    assert course.title == "Owned"


def test_a_stranger_gets_404_for_someone_elses_draft(instructor):
    make_course(slug="draft", instructor=instructor, published=False)
    stranger = client_for(make_instructor())
    assert_error(
        stranger.patch("/api/courses/draft", {"title": "X"}, format="json"), 404, "not_found"
    )
    assert_error(stranger.delete("/api/courses/draft"), 404, "not_found")


def test_patch_unknown_course_is_404(instructor_api):
    assert_error(
        instructor_api.patch("/api/courses/nope", {"title": "X"}, format="json"), 404, "not_found"
    )


def test_its_instructor_patches_fields_and_get_shows_them(api, instructor_api, course):
    before = Course.objects.get(pk=course.pk).updated_at
    response = instructor_api.patch(
        "/api/courses/owned",
        {"title": "Owned, revised", "price": "59.50", "level": "advanced", "capacity": 30},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "owned"  # links keep working
    assert (body["title"], body["price"], body["level"], body["capacity"]) == (
        "Owned, revised",
        "59.50",
        "advanced",
        30,
    )
    shown = api.get("/api/courses/owned").json()
    assert (shown["title"], shown["price"], shown["level"], shown["capacity"]) == (
        "Owned, revised",
        "59.50",
        "advanced",
        30,
    )
    assert shown["summary"] == "Summary of Owned"  # untouched fields stay
    assert shown["seats_taken"] == 5
    assert len(shown["modules"]) == 2
    course.refresh_from_db()
    assert course.price == Decimal("59.50")
    assert course.updated_at > before


def test_staff_may_patch_any_course(api, staff_api, course):
    response = staff_api.patch("/api/courses/owned", {"summary": "Edited by staff"}, format="json")
    assert response.status_code == 200
    assert api.get("/api/courses/owned").json()["summary"] == "Edited by staff"


def test_a_co_instructor_may_patch(course):
    helper = make_instructor(name="Helper")
    CourseInstructor.objects.create(course=course, user=helper, position=1)
    response = client_for(helper).patch("/api/courses/owned", {"category": "Data"}, format="json")
    assert response.status_code == 200
    assert response.json()["category"] == "Data"
    assert response.json()["instructor"]["id"] != helper.id


@pytest.mark.parametrize("capacity", [4, 1])
def test_capacity_below_seats_taken_is_refused(instructor_api, course, capacity):
    response = instructor_api.patch("/api/courses/owned", {"capacity": capacity}, format="json")
    error = assert_invalid(response, "capacity")
    assert "capacity" in error["fields"]
    course.refresh_from_db()
    assert course.capacity == 20


@pytest.mark.parametrize("capacity", [5, 6, None])
def test_capacity_down_to_seats_taken_or_unlimited_is_fine(instructor_api, course, capacity):
    response = instructor_api.patch("/api/courses/owned", {"capacity": capacity}, format="json")
    assert response.status_code == 200
    assert response.json()["capacity"] == capacity
    course.refresh_from_db()
    assert course.capacity == capacity


def test_a_refused_capacity_change_writes_nothing_else(instructor_api, course):
    response = instructor_api.patch(
        "/api/courses/owned", {"title": "Renamed", "capacity": 2}, format="json"
    )
    assert_invalid(response, "capacity")
    course.refresh_from_db()
    assert (course.title, course.capacity) == ("Owned", 20)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"modules": []}, "modules"),
        ({"modules": [{"title": "New"}]}, "modules"),
        ({"slug": "stolen"}, "slug"),
        ({"seats_taken": 0}, "seats_taken"),
        ({"rating": 5}, "rating"),
        ({"instructor": 1}, "instructor"),
        ({"colour": "blue", "title": "Still refused"}, "colour"),
        ({"price": "-1"}, "price"),
        ({"capacity": 0}, "capacity"),
        ({"level": "expert"}, "level"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
    ],
)
def test_patch_refuses_outline_unknown_and_invalid_fields(instructor_api, course, payload, field):
    response = instructor_api.patch("/api/courses/owned", payload, format="json")
    assert_invalid(response, field)
    course.refresh_from_db()
    assert (course.slug, course.title, course.seats_taken, course.price) == (
        "owned",
        "Owned",
        5,
        Decimal("49.00"),
    )
    assert course.modules.count() == 2


def test_patch_can_unpublish_and_republish(api, instructor_api, course):
    assert (
        instructor_api.patch("/api/courses/owned", {"published": False}, format="json").json()[
            "published_at"
        ]
        is None
    )
    assert api.get("/api/courses/owned").status_code == 404
    again = instructor_api.patch("/api/courses/owned", {"published": True}, format="json")
    assert again.status_code == 200
    assert again.json()["published_at"] is not None
    assert api.get("/api/courses/owned").status_code == 200


# --- DELETE /api/courses/{slug} ------------------------------------------------------


def test_its_instructor_deletes_and_the_course_disappears(
    api, instructor_api, course, django_capture_on_commit_callbacks
):
    assert [c["slug"] for c in api.get("/api/courses").json()["results"]] == ["owned"]

    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_api.delete("/api/courses/owned")

    assert response.status_code == 204
    assert response.content == b""
    assert api.get("/api/courses").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert_error(api.get("/api/courses/owned"), 404, "not_found")
    # Unpublished, not destroyed: the row, its outline and its seats are kept.
    course.refresh_from_db()
    assert course.published_at is None
    assert course.seats_taken == 5
    assert Lesson.objects.filter(module__course=course).count() == 4
    assert instructor_api.get("/api/courses/owned").status_code == 200


def test_staff_may_delete(api, staff_api, course):
    assert staff_api.delete("/api/courses/owned").status_code == 204
    course.refresh_from_db()
    assert course.published_at is None


def test_strangers_cannot_delete(api, student_api, course):
    stranger = client_for(make_instructor(name="Stranger"))
    assert_error(stranger.delete("/api/courses/owned"), 403, "forbidden")
    assert_error(student_api.delete("/api/courses/owned"), 403, "forbidden")
    assert_error(api.delete("/api/courses/owned"), 401, "not_authenticated")
    course.refresh_from_db()
    assert course.published_at is not None
    assert course.published_at <= timezone.now()


def test_delete_unknown_course_is_404(instructor_api):
    assert_error(instructor_api.delete("/api/courses/nope"), 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**NEW_COURSE, "title": "Python\r\nBcc: everyone@example.com"}, "title"),
        ({**NEW_COURSE, "title": "Python\nfor all"}, "title"),
        ({**NEW_COURSE, "category": "Data\rScience"}, "category"),
        ({**NEW_COURSE, "modules": [{"title": "One\ntwo"}]}, "modules.0.title"),
        (
            {**NEW_COURSE, "modules": [{"title": "M", "lessons": [{"title": "a\r\nb"}]}]},
            "modules.0.lessons.0.title",
        ),
    ],
)
def test_line_breaks_in_titles_are_refused(instructor_api, payload, field):
    # They end up in email subjects, where a line break fails every send.
    response = instructor_api.post("/api/courses", payload, format="json")

    assert_invalid(response, field)
    assert nothing_written()


def test_a_title_patched_with_a_line_break_is_refused(instructor, instructor_api):
    course = make_course(instructor=instructor, title="Clean title")

    response = instructor_api.patch(
        f"/api/courses/{course.slug}", {"title": "Clean\r\ntitle"}, format="json"
    )

    assert_invalid(response, "title")
    course.refresh_from_db()
    assert course.title == "Clean title"
