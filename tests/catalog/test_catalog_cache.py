"""Catalog answers are served from Redis and retired when a change commits.

Stale answers are provoked with queryset .update(), which bypasses the services (and so
the invalidation): seeing the old value afterwards proves the answer came from the cache.
"""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog import cache as catalog_cache
from catalog import services
from catalog.models import Course
from tests.catalog.test_authoring import NEW_COURSE
from tests.factories import make_course

pytestmark = pytest.mark.django_db


def list_titles(api, **params) -> list[str]:
    response = api.get("/api/courses", params)
    assert response.status_code == 200
    return [course["title"] for course in response.json()["results"]]


def detail(api, slug: str) -> dict:
    response = api.get(f"/api/courses/{slug}")
    assert response.status_code == 200
    return response.json()


def bypass_update(course: Course, **fields) -> None:
    assert Course.objects.filter(pk=course.pk).update(**fields) == 1


def test_the_cache_is_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_list_is_served_from_the_cache(api):
    course = make_course(title="Old title", category="Programming")
    assert list_titles(api) == ["Old title"]

    bypass_update(course, title="New title")

    assert list_titles(api) == ["Old title"]  # the cached page
    # Other parameters are another cache entry, read fresh from the database.
    assert list_titles(api, category="Programming") == ["New title"]
    assert list_titles(api, page_size=5) == ["New title"]


def test_a_cached_list_costs_no_query(api):
    make_course()
    list_titles(api)
    with CaptureQueriesContext(connection) as queries:
        list_titles(api)
    assert len(queries) == 0


def test_detail_is_served_from_the_cache(api):
    course = make_course(title="Old title", slug="cached", modules=1, lessons_per_module=1)
    body = detail(api, "cached")
    assert cache.get(catalog_cache.detail_key("cached")) == body

    bypass_update(course, title="New title", summary="New summary")

    with CaptureQueriesContext(connection) as queries:
        again = detail(api, "cached")
    assert again == body
    assert again["title"] == "Old title"
    assert len(queries) == 0


def test_unpublished_details_are_not_cached(instructor, instructor_api):
    make_course(slug="draft", instructor=instructor, published=False)
    assert detail(instructor_api, "draft")["published_at"] is None
    assert cache.get(catalog_cache.detail_key("draft")) is None


def test_unknown_slugs_leave_no_lasting_keys(api):
    # Anyone can ask for any slug: nothing kept without an expiry may pile up for them.
    client = redis.Redis.from_url(settings.REDIS_URL)
    for number in range(3):
        assert api.get(f"/api/courses/no-such-course-{number}").status_code == 404
    keys = client.keys("*no-such-course-*")
    assert all(client.ttl(key) > 0 for key in keys), {key: client.ttl(key) for key in keys}


def test_patch_invalidates_list_and_detail_on_commit(
    api, instructor, instructor_api, django_capture_on_commit_callbacks
):
    course = make_course(title="Old title", slug="course-a", instructor=instructor)
    assert list_titles(api) == ["Old title"]
    assert detail(api, "course-a")["title"] == "Old title"

    with django_capture_on_commit_callbacks() as callbacks:
        response = instructor_api.patch(
            "/api/courses/course-a", {"title": "New title", "price": "12.00"}, format="json"
        )
        assert response.status_code == 200
        # Not committed yet: the cached answers are still what readers get.
        assert list_titles(api) == ["Old title"]
        assert detail(api, "course-a")["title"] == "Old title"

    assert len(callbacks) >= 1
    for callback in callbacks:  # the commit
        callback()

    assert list_titles(api) == ["New title"]
    shown = detail(api, "course-a")
    assert (shown["title"], shown["price"]) == ("New title", "12.00")
    course.refresh_from_db()
    assert course.title == "New title"


def test_a_change_retires_every_cached_list_but_only_its_own_detail(
    api, instructor_api, instructor, django_capture_on_commit_callbacks
):
    make_course(title="Mine", slug="mine", instructor=instructor, category="Design")
    other = make_course(title="Other", slug="other", category="Programming")
    assert list_titles(api, category="Programming") == ["Other"]
    detail(api, "mine")
    detail(api, "other")
    bypass_update(other, summary="Changed behind the cache's back")

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            instructor_api.patch("/api/courses/mine", {"summary": "Mine, edited"}, format="json")
        ).status_code == 200

    # A list that does not even contain the edited course is read afresh...
    [listed] = api.get("/api/courses", {"category": "Programming"}).json()["results"]
    assert listed["summary"] == "Changed behind the cache's back"
    # ...while another course's cached detail is left alone.
    assert detail(api, "other")["summary"] == f"Summary of {other.title}"
    assert detail(api, "mine")["summary"] == "Mine, edited"


def test_delete_invalidates_list_and_detail(
    api, instructor, instructor_api, django_capture_on_commit_callbacks
):
    make_course(title="Doomed", slug="doomed", instructor=instructor)
    make_course(title="Stays", slug="stays")
    assert sorted(list_titles(api)) == ["Doomed", "Stays"]
    assert detail(api, "doomed")["title"] == "Doomed"

    with django_capture_on_commit_callbacks(execute=True):
        assert instructor_api.delete("/api/courses/doomed").status_code == 204

    assert list_titles(api) == ["Stays"]
    response = api.get("/api/courses/doomed")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_post_invalidates_the_lists(api, instructor_api, django_capture_on_commit_callbacks):
    make_course(title="Existing")
    assert list_titles(api) == ["Existing"]
    assert api.get("/api/courses").json()["count"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        created = instructor_api.post("/api/courses", NEW_COURSE, format="json")
    assert created.status_code == 201

    body = api.get("/api/courses").json()
    assert body["count"] == 2
    assert sorted(course["title"] for course in body["results"]) == ["Existing", "Intro to Python"]


def test_a_refused_patch_leaves_the_cache_alone(
    api, instructor, instructor_api, django_capture_on_commit_callbacks
):
    course = make_course(title="Old title", slug="full", instructor=instructor, capacity=5)
    bypass_update(course, seats_taken=5)
    assert detail(api, "full")["seats_taken"] == 5

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = instructor_api.patch("/api/courses/full", {"capacity": 1}, format="json")
    assert response.status_code == 400
    assert callbacks == []
    assert cache.get(catalog_cache.detail_key("full")) is not None


# Real commits: the tests above capture the callbacks; this one shows a COMMIT runs them.
@pytest.mark.django_db(transaction=True)
def test_invalidation_with_real_commits(api, instructor, instructor_api):
    make_course(title="Old title", slug="real", instructor=instructor)
    assert list_titles(api) == ["Old title"]
    assert detail(api, "real")["title"] == "Old title"

    assert (
        instructor_api.patch("/api/courses/real", {"title": "Committed"}, format="json")
    ).status_code == 200
    assert list_titles(api) == ["Committed"]
    assert detail(api, "real")["title"] == "Committed"

    assert instructor_api.delete("/api/courses/real").status_code == 204
    assert list_titles(api) == []
    assert api.get("/api/courses/real").status_code == 404

    assert instructor_api.post("/api/courses", NEW_COURSE, format="json").status_code == 201
    assert list_titles(api) == ["Intro to Python"]


# A real ROLLBACK of the outermost transaction, not of a savepoint inside the test's.
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_invalidates_nothing(api, instructor):
    course = make_course(title="Old title", slug="rolled", instructor=instructor)
    assert detail(api, "rolled")["title"] == "Old title"
    assert list_titles(api) == ["Old title"]
    bypass_update(course, summary="Only the database knows")

    with pytest.raises(RuntimeError), transaction.atomic():
        services.course_update(course=course, data={"title": "Never committed"})
        raise RuntimeError("abort")

    course.refresh_from_db()
    assert course.title == "Old title"
    # Had the invalidation run, these would show the bypassed summary.
    assert detail(api, "rolled")["summary"] == "Summary of Old title"
    assert api.get("/api/courses").json()["results"][0]["summary"] == "Summary of Old title"


def test_the_catalog_answers_from_the_database_while_redis_is_away(
    settings, api, instructor_api, django_capture_on_commit_callbacks
):
    from portal.outbox.models import Effect
    from tests.live import free_port

    course = make_course(title="Readable Anyway")
    # Nothing listens on this port: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    assert "Readable Anyway" in list_titles(api)
    assert detail(api, course.slug)["title"] == "Readable Anyway"
    assert api.get("/api/search", {"q": "readable"}).json()["total"] == 1
    # A write commits; the retirement of cached answers waits in the outbox.
    with django_capture_on_commit_callbacks(execute=True):
        created = instructor_api.post("/api/courses", NEW_COURSE, format="json")
    assert created.status_code == 201
    assert Effect.objects.filter(handler="catalog.cache.retire_effect").exists()
