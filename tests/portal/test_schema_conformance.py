"""The check every API answer of the suite goes through (tests/schema_check.py, wired in
tests/conftest.py) can fail: an answer missing a documented key, an error without the
contract's error shape and an undocumented 2xx answer are each caught, naming the path,
the status and what is wrong."""

import json

import pytest

from catalog import presenters
from tests.factories import make_course
from tests.schema_check import OpenApiCheck, SchemaViolation, openapi_document

pytestmark = pytest.mark.django_db


def test_the_check_uses_the_document_the_api_serves(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert json.loads(response.content) == openapi_document()


def test_an_answer_missing_a_key_fails_the_test_that_got_it(api, monkeypatch):
    make_course(slug="intro", title="Intro")
    summary = presenters.course_summary

    def without_seats(course, *args, **kwargs):
        body = dict(summary(course, *args, **kwargs))
        del body["seats_taken"]
        return body

    monkeypatch.setattr(presenters, "course_summary", without_seats)

    with pytest.raises(SchemaViolation) as caught:
        api.get("/api/courses")

    message = str(caught.value)
    assert "GET /api/courses answered 200" in message
    assert "$.results[0]: 'seats_taken' is a required property" in message

    with pytest.raises(SchemaViolation) as caught:
        api.get("/api/courses/intro")

    assert "GET /api/courses/intro answered 200" in str(caught.value)
    assert "'seats_taken' is a required property" in str(caught.value)


def test_the_same_answers_pass_untouched(api):
    make_course(slug="intro", title="Intro", capacity=None, rating=None)

    # No SchemaViolation: nullable keys (capacity, rating) and nested objects validate.
    assert api.get("/api/courses").status_code == 200
    assert api.get("/api/courses/intro").status_code == 200


@pytest.fixture(scope="module")
def check() -> OpenApiCheck:
    return OpenApiCheck(openapi_document())


def problems(check: OpenApiCheck, method: str, path: str, status: int, body) -> list[str]:
    content = b"" if body is None else json.dumps(body).encode()
    return check.problems(
        method=method,
        path=path,
        status=status,
        content_type="application/json",
        content=content,
    )


COURSE = {
    "id": 1,
    "slug": "intro",
    "title": "Intro",
    "summary": "S",
    "category": "Programming",
    "level": "beginner",
    "price": "0.00",
    "currency": "usd",
    "instructor": {"id": 2, "name": "Ivy"},
    "capacity": None,
    "seats_taken": 0,
    "rating": None,
    "published_at": "2026-01-10T12:00:00Z",
    "refund_days": 30,
    "refund_max_percent": 30,
}
PAGE = {"count": 1, "next": None, "previous": None, "results": [COURSE]}


def test_a_documented_answer_has_no_problems(check):
    assert problems(check, "GET", "/api/courses", 200, PAGE) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda course: course.pop("published_at"), "'published_at' is a required property"),
        (lambda course: course.update(price=49), "49 is not of type 'string'"),
        (lambda course: course.update(level="expert"), "'expert' is not one of"),
        (lambda course: course.update(seats_taken=None), "None is not of type 'integer'"),
    ],
)
def test_a_wrong_course_in_a_page_is_a_problem(check, change, expected):
    course = dict(COURSE)
    change(course)

    found = problems(check, "GET", "/api/courses", 200, {**PAGE, "results": [course]})

    assert any(expected in problem and problem.startswith("$.results[0]") for problem in found)


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "Not found."},
        {"error": {"code": "not_found"}},
        {"error": {"code": "invalid", "message": "Bad", "fields": {"email": "not a list"}}},
        None,
    ],
)
def test_an_error_without_the_error_shape_is_a_problem(check, body):
    # 405 is not documented for this operation: the error shape alone applies.
    found = problems(check, "GET", "/api/courses/intro", 405, body)

    assert found and all("against the error shape" in problem for problem in found)


@pytest.mark.parametrize("body", [{"detail": "Not found."}, {"error": {"code": "not_found"}}])
def test_a_documented_error_status_is_checked_against_the_error_component(check, body):
    found = problems(check, "GET", "/api/courses/intro", 404, body)

    assert any("against the documented GET /api/courses/{slug} 404" in p for p in found), found


def test_an_error_with_the_error_shape_passes_even_when_undocumented(check):
    body = {"error": {"code": "course_full", "message": "Full.", "fields": {"course": ["x"]}}}

    assert problems(check, "POST", "/api/enrollments", 409, body) == []
    assert problems(check, "PUT", "/api/nowhere", 405, body) == []


def test_an_undocumented_success_is_a_problem(check):
    assert problems(check, "PATCH", "/api/courses/intro", 201, COURSE) == [
        "status 201 is not documented (PATCH /api/courses/{slug} in /api/schema/)"
    ]
    assert problems(check, "GET", "/api/nowhere", 200, {}) == [
        "status 200 is not documented (no operation GET /api/nowhere in /api/schema/)"
    ]


def test_a_body_on_a_documented_empty_answer_is_a_problem(check):
    assert problems(check, "DELETE", "/api/courses/intro", 204, None) == []
    assert problems(check, "DELETE", "/api/courses/intro", 204, {"deleted": True}) == [
        "documented without a body, answered b'{\"deleted\": true}'"
    ]
