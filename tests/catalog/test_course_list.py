"""GET /api/courses: the contract's Course shape, filters, sorting, pagination, errors."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CourseInstructor
from catalog.selectors import COURSE_SORTS
from tests.contract import COURSE_KEYS
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db

EPOCH = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [course["title"] for course in response.json()["results"]]


def query_of(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    assert parts.path == "/api/courses"
    return parse_qs(parts.query)


# --- shape -------------------------------------------------------------------------


def test_each_course_has_exactly_the_contract_shape(api):
    teacher = make_instructor(name="Grace Hopper")
    paid = make_course(
        title="Intro to Python",
        slug="intro-to-python",
        summary="Learn Python from scratch.",
        description="Not part of the list answer.",
        category="Programming",
        level="intermediate",
        price="49.00",
        capacity=25,
        seats_taken=7,
        rating=Decimal("4.80"),
        published_at=EPOCH,
        instructor=teacher,
        refund_days=14,
        refund_max_percent=25,
    )
    free = make_course(
        title="Free Python",
        slug="free-python",
        price="0",
        capacity=None,
        published_at=EPOCH - timedelta(days=1, microseconds=250),
        instructor=teacher,
    )

    response = api.get("/api/courses")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    first, second = body["results"]
    assert set(first) == COURSE_KEYS
    assert first == {
        "id": paid.id,
        "slug": "intro-to-python",
        "title": "Intro to Python",
        "summary": "Learn Python from scratch.",
        "category": "Programming",
        "level": "intermediate",
        "price": "49.00",
        "currency": "usd",
        "instructor": {"id": teacher.id, "name": "Grace Hopper"},
        "capacity": 25,
        "seats_taken": 7,
        "rating": 4.8,
        "published_at": "2026-01-10T12:00:00Z",
        "refund_days": 14,
        "refund_max_percent": 25,
    }
    assert set(second) == COURSE_KEYS
    assert second["id"] == free.id
    assert second["price"] == "0.00"
    assert second["capacity"] is None
    assert second["seats_taken"] == 0
    assert second["rating"] is None
    assert second["published_at"].endswith("Z")
    assert datetime.fromisoformat(second["published_at"]) == free.published_at


def test_the_named_instructor_is_the_lowest_position(api):
    lead = make_instructor(name="Lead")
    course = make_course(instructor=lead)
    CourseInstructor.objects.filter(course=course).update(position=1)
    helper = make_instructor(name="Helper")
    CourseInstructor.objects.create(course=course, user=helper, position=0)

    [result] = api.get("/api/courses").json()["results"]

    assert result["instructor"] == {"id": helper.id, "name": "Helper"}


def test_unpublished_courses_are_never_listed(api, instructor, instructor_api, staff_api):
    make_course(title="Live", instructor=instructor)
    make_course(title="Draft", instructor=instructor, published=False)

    for client in (api, instructor_api, staff_api):
        response = client.get("/api/courses", {"instructor": instructor.id})
        assert titles(response) == ["Live"]
        assert response.json()["count"] == 1


def test_empty_catalog_is_an_empty_page(api):
    body = api.get("/api/courses").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# --- filters -----------------------------------------------------------------------


@pytest.fixture
def teachers():
    return make_instructor(name="First"), make_instructor(name="Second")


@pytest.fixture
def filter_catalog(teachers):
    first, second = teachers
    rows = [
        ("Py Basics", "Programming", "beginner", "0.00", first),
        ("Py Pro", "Programming", "advanced", "49.00", second),
        ("Design Intro", "Design", "beginner", "19.00", first),
        ("Design Systems", "Design", "intermediate", "99.00", second),
        ("Data Deep", "Data Science", "advanced", "149.00", first),
    ]
    for title, category, level, price, teacher in rows:
        make_course(title=title, category=category, level=level, price=price, instructor=teacher)
    make_course(
        title="Hidden Draft",
        category="Programming",
        level="beginner",
        price="0.00",
        instructor=first,
        published=False,
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Py Basics", "Py Pro", "Design Intro", "Design Systems", "Data Deep"}),
        ({"category": "Design"}, {"Design Intro", "Design Systems"}),
        ({"category": "Data Science"}, {"Data Deep"}),
        ({"category": "Nope"}, set()),
        ({"level": "beginner"}, {"Py Basics", "Design Intro"}),
        ({"level": "advanced"}, {"Py Pro", "Data Deep"}),
        ({"min_price": "49"}, {"Py Pro", "Design Systems", "Data Deep"}),
        ({"min_price": "49.01"}, {"Design Systems", "Data Deep"}),
        ({"max_price": "19.00"}, {"Py Basics", "Design Intro"}),
        ({"max_price": "0"}, {"Py Basics"}),
        ({"min_price": "19", "max_price": "99"}, {"Design Intro", "Py Pro", "Design Systems"}),
        ({"min_price": "50", "max_price": "50"}, set()),
        ({"category": "Programming", "level": "advanced"}, {"Py Pro"}),
        ({"category": "Design", "max_price": "50"}, {"Design Intro"}),
        ({"level": "beginner", "min_price": "0.01"}, {"Design Intro"}),
        (
            {"category": "", "level": ""},
            {"Py Basics", "Py Pro", "Design Intro"} | {"Design Systems", "Data Deep"},
        ),
    ],
)
def test_filters_alone_and_combined(api, filter_catalog, params, expected):
    response = api.get("/api/courses", params)
    assert set(titles(response)) == expected
    assert response.json()["count"] == len(expected)


def test_instructor_filter_alone_and_combined(api, filter_catalog, teachers):
    first, second = teachers
    assert set(titles(api.get("/api/courses", {"instructor": first.id}))) == {
        "Py Basics",
        "Design Intro",
        "Data Deep",
    }
    assert set(titles(api.get("/api/courses", {"instructor": second.id}))) == {
        "Py Pro",
        "Design Systems",
    }
    combined = api.get(
        "/api/courses",
        {"instructor": first.id, "category": "Design", "level": "beginner", "max_price": "20"},
    )
    assert titles(combined) == ["Design Intro"]
    nobody = make_instructor()
    assert titles(api.get("/api/courses", {"instructor": nobody.id})) == []


def test_instructor_filter_finds_co_taught_courses_once(api, teachers):
    first, second = teachers
    shared = make_course(title="Shared", instructor=first)
    CourseInstructor.objects.create(course=shared, user=second, position=1)
    make_course(title="Solo", instructor=first)

    response = api.get("/api/courses", {"instructor": second.id})

    assert titles(response) == ["Shared"]
    assert response.json()["results"][0]["instructor"]["id"] == first.id
    both = api.get("/api/courses", {"instructor": first.id})
    assert sorted(titles(both)) == ["Shared", "Solo"]
    assert both.json()["count"] == 2


# --- sorting -----------------------------------------------------------------------

SORT_ROWS = [
    # title, price, rating, enrollment_count, published days before EPOCH
    ("Alpha", "10.00", "4.50", 5, 3),
    ("Bravo", "0.00", None, 50, 1),
    ("Charlie", "99.00", "3.00", 0, 2),
    ("Delta", "10.00", "5.00", 20, 4),
    ("Echo", "49.00", "4.50", 20, 0),
]
# Ties (Alpha/Delta on price, Alpha/Echo on rating, Delta/Echo on popularity) break by id,
# i.e. creation order; a course without a rating comes last in either rating order.
EXPECTED_ORDERS = {
    "newest": ["Echo", "Bravo", "Charlie", "Alpha", "Delta"],
    "oldest": ["Delta", "Alpha", "Charlie", "Bravo", "Echo"],
    "price": ["Bravo", "Alpha", "Delta", "Echo", "Charlie"],
    "-price": ["Charlie", "Echo", "Alpha", "Delta", "Bravo"],
    "rating": ["Delta", "Alpha", "Echo", "Charlie", "Bravo"],
    "-rating": ["Charlie", "Alpha", "Echo", "Delta", "Bravo"],
    "popular": ["Bravo", "Delta", "Echo", "Alpha", "Charlie"],
    "title": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
    "-title": ["Echo", "Delta", "Charlie", "Bravo", "Alpha"],
}


@pytest.fixture
def sort_catalog():
    for title, price, rating, enrolled, days in SORT_ROWS:
        make_course(
            title=title,
            price=price,
            rating=Decimal(rating) if rating else None,
            enrollment_count=enrolled,
            published_at=EPOCH - timedelta(days=days),
        )


def test_every_public_sort_is_covered():
    assert set(EXPECTED_ORDERS) == set(COURSE_SORTS)


@pytest.mark.parametrize("sort", sorted(EXPECTED_ORDERS))
def test_sort_orders(api, sort_catalog, sort):
    assert titles(api.get("/api/courses", {"sort": sort})) == EXPECTED_ORDERS[sort]


def test_default_sort_is_newest(api, sort_catalog):
    assert titles(api.get("/api/courses")) == EXPECTED_ORDERS["newest"]


@pytest.mark.parametrize("sort", sorted(EXPECTED_ORDERS))
def test_sorted_pages_split_the_order_without_overlap(api, sort_catalog, sort):
    seen = []
    for page in (1, 2, 3):
        seen += titles(api.get("/api/courses", {"sort": sort, "page_size": 2, "page": page}))
    assert seen == EXPECTED_ORDERS[sort]


# --- pagination --------------------------------------------------------------------


@pytest.fixture
def seven_courses():
    return [make_course(title=f"Course {letter}") for letter in "ABCDEFG"]


def test_pagination_links_and_counts(api, seven_courses):
    params = {"sort": "title", "page_size": 3, "category": "Programming"}

    first = api.get("/api/courses", params).json()
    assert first["count"] == 7
    assert [c["title"] for c in first["results"]] == ["Course A", "Course B", "Course C"]
    assert first["previous"] is None
    assert query_of(first["next"]) == {
        "sort": ["title"],
        "page_size": ["3"],
        "category": ["Programming"],
        "page": ["2"],
    }

    second = api.get(first["next"]).json()
    assert [c["title"] for c in second["results"]] == ["Course D", "Course E", "Course F"]
    assert query_of(second["next"])["page"] == ["3"]
    assert query_of(second["previous"])["page"] == ["1"]

    third = api.get(second["next"]).json()
    assert [c["title"] for c in third["results"]] == ["Course G"]
    assert third["count"] == 7
    assert third["next"] is None
    assert query_of(third["previous"]) == {
        "sort": ["title"],
        "page_size": ["3"],
        "category": ["Programming"],
        "page": ["2"],
    }


@pytest.mark.parametrize("page", [4, 50])
def test_a_page_beyond_the_end_is_empty_and_points_back_to_the_last(api, seven_courses, page):
    body = api.get("/api/courses", {"page_size": 3, "page": page}).json()
    assert body["count"] == 7
    assert body["results"] == []
    assert body["next"] is None
    assert query_of(body["previous"])["page"] == ["3"]


def test_an_absurdly_large_page_is_still_an_empty_page(api, seven_courses):
    response = api.get("/api/courses", {"page": "99999999999999999999", "page_size": 100})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["count"] == 7


def test_default_page_size_is_twenty_and_page_size_is_honoured(api):
    for number in range(25):
        make_course(title=f"C{number:02d}")

    default = api.get("/api/courses").json()
    assert default["count"] == 25
    assert len(default["results"]) == 20
    assert query_of(default["next"])["page"] == ["2"]
    assert len(api.get("/api/courses", {"page": 2}).json()["results"]) == 5
    assert len(api.get("/api/courses", {"page_size": 1}).json()["results"]) == 1
    whole = api.get("/api/courses", {"page_size": 100}).json()
    assert len(whole["results"]) == 25
    assert whole["next"] is None
    assert len({c["id"] for c in whole["results"]}) == 25


# --- invalid parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "expert"}, "level"),
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "abc"}, "max_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"max_price": "1.234"}, "max_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"min_price": "50", "max_price": "10"}, "min_price"),
        ({"page": "0"}, "page"),
        ({"page": "-3"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"sort": "bogus"}, "sort"),
        ({"sort": "price; DROP TABLE catalog_course"}, "sort"),
        ({"instructor": "abc"}, "instructor"),
        ({"instructor": "0"}, "instructor"),
        ({"category": "x" * 81}, "category"),
        ({"category": "Pro\x00gramming"}, "category"),
    ],
)
def test_invalid_parameters_answer_400_naming_the_field(api, params, field):
    make_course()
    response = api.get("/api/courses", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert all(isinstance(m, str) and m for m in error["fields"][field])
    assert error["message"]


def test_several_invalid_parameters_are_reported_together(api):
    response = api.get("/api/courses", {"level": "expert", "page": "0", "sort": "bogus"})
    assert response.status_code == 400
    assert {"level", "page", "sort"} <= set(response.json()["error"]["fields"])


def test_unknown_parameters_are_ignored(api):
    make_course(title="Only")
    assert titles(api.get("/api/courses", {"colour": "blue"})) == ["Only"]


def test_an_instructor_id_beyond_the_database_range_finds_nothing(api):
    make_course()
    response = api.get("/api/courses", {"instructor": str(2**63)})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


# --- queries -----------------------------------------------------------------------


def _list_queries(api, **params) -> tuple[int, list[dict]]:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/courses", params)
    assert response.status_code == 200
    return len(queries), response.json()["results"]


def test_list_query_count_does_not_grow_with_page_size(api):
    for number in range(60):  # each with an instructor of its own
        make_course(title=f"Course {number:02d}", instructor=make_instructor(name=f"T{number}"))

    small, small_results = _list_queries(api, page_size=5)
    large, large_results = _list_queries(api, page_size=50)

    assert len(small_results) == 5
    assert len(large_results) == 50
    assert len({r["instructor"]["id"] for r in large_results}) == 50
    assert small == large
    assert large <= 3  # count, the page, its instructors


def test_list_query_count_is_bounded_with_filters(api, django_assert_max_num_queries):
    teacher = make_instructor()
    for number in range(30):
        make_course(title=f"Course {number:02d}", instructor=teacher, category="Design")
    cache.clear()
    with django_assert_max_num_queries(3):
        response = api.get(
            "/api/courses",
            {"instructor": teacher.id, "category": "Design", "sort": "price", "page_size": 30},
        )
    assert len(response.json()["results"]) == 30
