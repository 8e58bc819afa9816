"""GET /api/search: the contract's shape, filters, paging, errors, the empty query, and
cached answers retired by catalog changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Course
from tests.catalog.search_relevance import load_catalog
from tests.contract import COURSE_KEYS
from tests.factories import make_course

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
    assert set(body) == {"query", "hits", "total", "facets", "took_ms", "engine"}
    assert body["query"] == "pyth"
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


def test_answers_are_cached_and_cost_no_query(api):
    course = make_course(title="Old Title Python")
    first = get(api, q="python")
    Course.objects.filter(pk=course.pk).update(title="New Title Python")  # bypasses invalidation
    with CaptureQueriesContext(connection) as queries:
        again = get(api, q="python")
    assert titles(again) == ["Old Title Python"]
    assert len(queries) == 0
    assert {k: v for k, v in again.items() if k != "took_ms"} == {
        k: v for k, v in first.items() if k != "took_ms"
    }
    assert titles(get(api, q="python", limit=5)) == ["New Title Python"]  # another key


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
