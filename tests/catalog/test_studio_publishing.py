"""Drafts and publishing (STUDIO.md): a draft is invisible to the catalog, search, the
course page and enrollment; publishing needs a lesson and indexes the course for search
through the outbox; every curriculum change retires cached outlines."""

import pytest

from catalog.models import Course, Lesson, Module
from catalog.search import router
from portal.outbox.models import Effect
from tests.catalog.meili_stub import MeiliStub
from tests.conftest import client_for
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db

DRAFT = {
    "title": "Secret Sourdough",
    "summary": "Bread from scratch.",
    "category": "Cooking",
    "published": False,
    "refund_policy": "Full refund within 14 days.",
}


@pytest.fixture(autouse=True)
def _database_engine(settings):
    settings.MEILI_URL = ""  # the database's own search, unless a test sets a stub


def search_titles(api, q: str) -> list[str]:
    response = api.get("/api/search", {"q": q})
    assert response.status_code == 200
    return [hit["title"] for hit in response.json()["hits"]]


def catalog_slugs(api) -> list[str]:
    return [course["slug"] for course in api.get("/api/courses").json()["results"]]


def make_draft(client) -> str:
    response = client.post("/api/courses", DRAFT, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["published_at"] is None
    return response.json()["slug"]


def add_lesson(client, slug: str) -> int:
    module = client.post(f"/api/courses/{slug}/modules", {"title": "Basics"}, format="json")
    lesson = client.post(
        f"/api/modules/{module.json()['id']}/lessons", {"title": "Starter"}, format="json"
    )
    assert lesson.status_code == 201
    return lesson.json()["id"]


def test_a_draft_is_invisible_to_everyone_but_its_authors(
    api, student_api, instructor_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        slug = make_draft(instructor_api)
        add_lesson(instructor_api, slug)

    assert slug not in catalog_slugs(api)
    assert search_titles(api, "sourdough") == []
    for client in (api, student_api, client_for(make_instructor())):
        response = client.get(f"/api/courses/{slug}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # Its author sees it, in the course page's API and in the studio.
    assert instructor_api.get(f"/api/courses/{slug}").status_code == 200
    studio = instructor_api.get(f"/api/studio/courses/{slug}").json()
    assert (studio["published"], studio["refund_policy"]) == (False, DRAFT["refund_policy"])
    # Nobody can enroll in it: answered as for a course that does not exist.
    for client in (api, student_api):
        response = client.post(
            "/api/enrollments",
            {"course": slug, "student": {"email": "x@example.com", "name": "X"}},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["course"] == ["No such course."]
    unknown = api.post(
        "/api/enrollments",
        {"course": "no-such-course", "student": {"email": "x@example.com", "name": "X"}},
        format="json",
    )
    assert unknown.json()["error"] == response.json()["error"]


def test_a_course_without_a_lesson_cannot_be_published(instructor_api):
    slug = make_draft(instructor_api)
    instructor_api.post(f"/api/courses/{slug}/modules", {"title": "Empty"}, format="json")

    response = instructor_api.post(f"/api/courses/{slug}/publish")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "at least one lesson" in error["message"]
    assert Course.objects.get(slug=slug).published_at is None


def test_publishing_makes_it_visible_and_searchable(
    api, instructor_api, django_capture_on_commit_callbacks
):
    slug = make_draft(instructor_api)
    add_lesson(instructor_api, slug)
    assert search_titles(api, "sourdough") == []  # cached, too: the publish must retire it

    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_api.post(f"/api/courses/{slug}/publish")

    assert response.status_code == 200
    body = response.json()
    assert body["published"] is True
    assert body["published_at"].endswith("Z")
    assert body["version"] == 2
    assert response["ETag"] == '"2"'
    assert search_titles(api, "sourdough") == ["Secret Sourdough"]
    assert slug in catalog_slugs(api)
    assert api.get(f"/api/courses/{slug}").status_code == 200
    # Publishing again changes nothing.
    again = instructor_api.post(f"/api/courses/{slug}/publish").json()
    assert (again["version"], again["published_at"]) == (2, body["published_at"])

    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_api.post(f"/api/courses/{slug}/unpublish")
    assert (response.json()["published"], response.json()["version"]) == (False, 3)
    assert search_titles(api, "sourdough") == []
    assert slug not in catalog_slugs(api)
    assert api.get(f"/api/courses/{slug}").status_code == 404


def test_publishing_pushes_the_course_to_meilisearch_through_the_outbox(
    settings, instructor_api, django_capture_on_commit_callbacks
):
    slug = make_draft(instructor_api)
    lesson_id = add_lesson(instructor_api, slug)
    with MeiliStub(api_key="key") as stub:
        settings.MEILI_URL, settings.MEILI_MASTER_KEY, settings.MEILI_INDEX = stub.url, "key", "c"
        try:
            # A draft's edits owe the index nothing.
            with django_capture_on_commit_callbacks(execute=True):
                instructor_api.patch(f"/api/lessons/{lesson_id}", {"title": "A"}, format="json")
            assert not [r for r in stub.requests if r.path == "/indexes/c/documents"]

            with django_capture_on_commit_callbacks(execute=True):
                assert instructor_api.post(f"/api/courses/{slug}/publish").status_code == 200
            # A published course's curriculum edit re-indexes it too.
            with django_capture_on_commit_callbacks(execute=True):
                instructor_api.patch(f"/api/lessons/{lesson_id}", {"title": "B"}, format="json")
        finally:
            router.reset_breakers()
    pushed = [r.body[0] for r in stub.requests if r.path == "/indexes/c/documents"]
    assert [(d["title"], d["published"]) for d in pushed] == [
        ("Secret Sourdough", True),
        ("Secret Sourdough", True),
    ]


def test_every_curriculum_change_retires_the_cached_outline(
    api, instructor, instructor_api, django_capture_on_commit_callbacks
):
    course = make_course(
        slug="cached", instructor=instructor, modules=2, lessons_per_module=2, title="Cached"
    )
    first, second = Module.objects.filter(course=course).order_by("position")
    lesson = Lesson.objects.filter(module=first).order_by("position").first()

    def outline() -> list[tuple[str, list[str]]]:
        body = api.get("/api/courses/cached").json()
        return [(m["title"], [lesson["title"] for lesson in m["lessons"]]) for m in body["modules"]]

    changes = [
        ("patch", f"/api/modules/{second.id}", {"position": 1}),
        ("patch", f"/api/lessons/{lesson.id}", {"title": "Renamed"}),
        ("patch", f"/api/lessons/{lesson.id}", {"module": second.id}),
        ("post", f"/api/modules/{first.id}/lessons", {"title": "New"}),
        ("post", "/api/courses/cached/modules", {"title": "Third"}),
        ("delete", f"/api/lessons/{lesson.id}", None),
        ("delete", f"/api/modules/{first.id}", None),
    ]
    expected = [
        [("Module 2", ["Lesson 1", "Lesson 2"]), ("Module 1", ["Lesson 1", "Lesson 2"])],
        [("Module 2", ["Lesson 1", "Lesson 2"]), ("Module 1", ["Renamed", "Lesson 2"])],
        [("Module 2", ["Lesson 1", "Lesson 2", "Renamed"]), ("Module 1", ["Lesson 2"])],
        [("Module 2", ["Lesson 1", "Lesson 2", "Renamed"]), ("Module 1", ["Lesson 2", "New"])],
        [
            ("Module 2", ["Lesson 1", "Lesson 2", "Renamed"]),
            ("Module 1", ["Lesson 2", "New"]),
            ("Third", []),
        ],
        [("Module 2", ["Lesson 1", "Lesson 2"]), ("Module 1", ["Lesson 2", "New"]), ("Third", [])],
        [("Module 2", ["Lesson 1", "Lesson 2"]), ("Third", [])],
    ]
    assert outline()[0][0] == "Module 1"  # cached now
    for (method, path, body), after in zip(changes, expected, strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(instructor_api, method)(path, body, format="json")
        assert response.status_code in (200, 201, 204), response.content
        assert outline() == after, (method, path)


def test_a_change_owes_the_retirement_in_the_outbox(instructor, instructor_api):
    course = make_course(instructor=instructor, modules=1)
    module = Module.objects.get(course=course)
    Effect.objects.all().delete()
    instructor_api.patch(f"/api/modules/{module.id}", {"title": "Renamed"}, format="json")
    retire = Effect.objects.get(handler="catalog.cache.retire_effect")
    assert retire.payload == {"slugs": [course.slug]}


def test_patch_course_accepts_refund_policy_and_answers_the_studio_course(instructor_api):
    slug = make_draft(instructor_api)
    response = instructor_api.patch(
        f"/api/courses/{slug}", {"refund_policy": "No refunds after a week."}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["refund_policy"] == "No refunds after a week."
    assert body["version"] == 2
    assert body["published"] is False
    assert Course.objects.get(slug=slug).refund_policy == "No refunds after a week."


def test_patch_cannot_publish_a_course_without_a_lesson_either(instructor_api):
    slug = make_draft(instructor_api)
    response = instructor_api.patch(f"/api/courses/{slug}", {"published": True}, format="json")
    assert response.status_code == 400
    assert "at least one lesson" in response.json()["error"]["message"]
    assert Course.objects.get(slug=slug).published_at is None
