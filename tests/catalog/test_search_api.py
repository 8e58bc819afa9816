"""GET /api/search: the contract's shape, filters, paging, errors, the empty query, and
cached answers retired by catalog changes."""

import importlib

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import seats
from catalog.models import Course, Synonym
from catalog.search import postgres
from catalog.search.synonyms import synonym_save, synonyms_delete
from tests.catalog.search_checks import ANSWER_KEYS
from tests.catalog.search_relevance import load_catalog
from tests.contract import COURSE_KEYS
from tests.factories import PASSWORD, make_course, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_engine(settings):
    settings.MEILI_URL = ""  # about the database backend, even where MEILI_URL is set


def get(api, **params) -> dict:
    response = api.get("/api/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(body: dict) -> list[str]:
    return [hit["title"] for hit in body["hits"]]


def test_the_answer_has_exactly_the_contract_shape(api):
    make_course(title="Intro to Python", summary="Learn Python.", category="Programming")
    body = get(api, q="pyth")
    assert set(body) == ANSWER_KEYS
    assert body["query"] == "pyth"
    assert body["suggestion"] is None and body["total_is_estimate"] is False
    assert body["engine"] == "postgres"
    assert isinstance(body["took_ms"], float)
    assert body["total"] == 1
    assert body["facets"] == {"category": {"Programming": 1}, "level": {"beginner": 1}}
    (hit,) = body["hits"]
    assert set(hit) == COURSE_KEYS | {"highlight"}
    assert hit["highlight"] == {
        "title": "Intro to <mark>Python</mark>",
        "summary": "Learn <mark>Python</mark>.",
    }
    assert hit["instructor"]["name"] == "Ivy Instructor"


def test_filters_narrow_hits_totals_and_facets(api):
    load_catalog()
    body = get(api, q="java", max_price="50")
    assert body["total"] == 4
    assert all(float(hit["price"]) <= 50 for hit in body["hits"])
    body = get(api, q="data", category="Data Science", level="beginner")
    assert titles(body) == ["Data Visualization Fundamentals"]
    assert body["facets"] == {"category": {"Data Science": 1}, "level": {"beginner": 1}}


def test_paging_with_limit_and_offset(api):
    load_catalog()
    everything = titles(get(api, q="pyth", limit=50))
    assert len(everything) == 8
    first = get(api, q="pyth", limit=3)
    second = get(api, q="pyth", limit=3, offset=3)
    assert first["total"] == second["total"] == 8
    assert titles(first) + titles(second) == everything[:6]
    assert get(api, q="pyth", offset=1000)["hits"] == []


def test_the_empty_query_answers_popular_courses_with_facets(api):
    load_catalog()
    body = get(api)
    published = Course.objects.filter(published_at__isnull=False)
    assert body["total"] == published.count()
    assert titles(body)[:3] == ["Intro to Python", "JavaScript Fundamentals", "React from Scratch"]
    assert sum(body["facets"]["category"].values()) == body["total"]
    assert body["hits"][0]["highlight"]["title"] == "Intro to Python"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1001"}, "offset"),
        ({"q": "x" * 201}, "q"),
        ({"level": "expert"}, "level"),
        ({"max_price": "-1"}, "max_price"),
        ({"max_price": "cheap"}, "max_price"),
        ({"category": "c" * 81}, "category"),
        ({"sort": "cheapest"}, "sort"),
        ({"sort": "-rating"}, "sort"),
    ],
)
def test_invalid_parameters_answer_400_in_the_contract_shape(api, params, field):
    response = api.get("/api/search", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_hostile_queries_answer_200(api):
    make_course(title="<script>alert(1)</script> Python")
    for query in ["a & b | !c:*", "'", '"', "\\", "<mark>py", "python:*A"]:
        body = get(api, q=query)
        for hit in body["hits"]:
            assert "<script>" not in hit["highlight"]["title"]


def test_answers_are_cached_and_cost_one_query_for_current_seats(api):
    course = make_course(title="Old Title Python", capacity=10)
    first = get(api, q="python")
    # Bypasses invalidation: the cached answer stays, but its seats are read again.
    Course.objects.filter(pk=course.pk).update(title="New Title Python", seats_taken=3)
    with CaptureQueriesContext(connection) as queries:
        again = get(api, q="python")
    assert titles(again) == ["Old Title Python"]
    assert len(queries) == 1 and "seats_taken" in queries[0]["sql"]
    assert again["hits"][0]["seats_taken"] == 3
    assert {k: v for k, v in again.items() if k not in ("took_ms", "hits")} == {
        k: v for k, v in first.items() if k not in ("took_ms", "hits")
    }
    assert titles(get(api, q="python", limit=5)) == ["New Title Python"]  # another key


def test_seat_moves_keep_cached_search_answers_with_current_seats(
    api, django_capture_on_commit_callbacks
):
    course = make_course(title="Seated Python", capacity=5)
    assert get(api, q="seated")["hits"][0]["seats_taken"] == 0
    Course.objects.filter(pk=course.pk).update(title="Retitled behind the cache's back")
    with django_capture_on_commit_callbacks(execute=True):
        assert seats.course_seat_take(course_id=course.pk) is not None
    body = get(api, q="seated")
    assert titles(body) == ["Seated Python"]  # not retired by the seat move
    assert body["hits"][0]["seats_taken"] == 1  # but showing it
    # Course lists and the course's detail are retired as before.
    assert api.get("/api/courses").json()["results"][0]["title"] == (
        "Retitled behind the cache's back"
    )


def test_a_patch_retires_cached_answers(
    api, instructor, instructor_api, django_capture_on_commit_callbacks
):
    course = make_course(title="Django Basics", instructor=instructor, slug="django-basics")
    assert titles(get(api, q="django")) == ["Django Basics"]
    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_api.patch(
            "/api/courses/django-basics", {"title": "Django Deep Dive"}, format="json"
        )
    assert response.status_code == 200
    assert titles(get(api, q="django")) == ["Django Deep Dive"]
    with django_capture_on_commit_callbacks(execute=True):
        assert instructor_api.delete("/api/courses/django-basics").status_code == 204
    assert get(api, q="django")["total"] == 0
    assert not Course.objects.get(pk=course.pk).is_published


def test_sort_orders_the_matches_and_keys_the_cache(api):
    load_catalog()
    relevance = titles(get(api, q="java"))
    by_price = get(api, q="java", sort="price")
    assert sorted(titles(by_price)) == sorted(relevance)
    prices = [float(hit["price"]) for hit in by_price["hits"]]
    assert prices == sorted(prices)
    by_price_desc = get(api, q="java", sort="-price")
    assert [float(hit["price"]) for hit in by_price_desc["hits"]] == sorted(prices, reverse=True)
    assert titles(get(api, q="java")) == relevance  # not the cached price order
    newest = get(api, sort="newest")["hits"]
    assert [hit["published_at"] for hit in newest] == sorted(
        (hit["published_at"] for hit in newest), reverse=True
    )


def test_a_typo_answers_with_the_corrected_query(api):
    load_catalog()
    body = get(api, q="Pyhton")
    assert body["suggestion"] == "python"
    assert body["query"] == "Pyhton"
    assert "Intro to Python" in titles(body)
    assert get(api, q="python")["suggestion"] is None


def test_a_synonym_edit_retires_cached_answers(api, django_capture_on_commit_callbacks):
    load_catalog()
    assert get(api, q="frontend")["total"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        synonym_save(synonym=Synonym(term="frontend", expansion="react"))
    assert titles(get(api, q="frontend")) == ["React from Scratch"]
    with django_capture_on_commit_callbacks(execute=True):
        synonyms_delete(synonyms=Synonym.objects.filter(term="frontend"))
    assert get(api, q="frontend")["total"] == 0


def test_staff_edit_synonyms_in_the_admin(django_capture_on_commit_callbacks):
    load_catalog()
    staff = make_user(is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(email=staff.email, password=PASSWORD)
    assert client.get("/admin/catalog/synonym/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/catalog/synonym/add/", {"term": " FrontEnd ", "expansion": " React  "}
        )
    assert response.status_code == 302, response.content
    synonym = Synonym.objects.get(term="frontend")
    assert synonym.expansion == "React"
    refused = client.post("/admin/catalog/synonym/add/", {"term": "two words", "expansion": "x"})
    assert refused.status_code == 200 and not Synonym.objects.filter(expansion="x").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/catalog/synonym/",
            {"action": "delete_selected", "_selected_action": [synonym.pk], "post": "yes"},
        )
    assert not Synonym.objects.filter(term="frontend").exists()


def test_the_migration_seeds_common_synonyms():
    seeded = importlib.import_module("catalog.migrations.0009_search_synonyms").DEFAULTS
    assert {"js", "k8s", "ml", "ai"} <= set(seeded)
    assert seeded["ml"] == ["machine learning"]


def test_broad_queries_say_their_total_is_an_estimate(api, monkeypatch):
    load_catalog()
    exact = get(api, q="a", limit=5)
    assert exact["total_is_estimate"] is False
    monkeypatch.setattr(postgres, "EXACT_CAP", 3)
    broad = get(api, q="a", limit=5, sort="price")  # another cache key
    assert broad["total_is_estimate"] is True and broad["total"] > 3
    prices = [float(hit["price"]) for hit in broad["hits"]]
    assert prices == sorted(prices) and len(prices) == 5
