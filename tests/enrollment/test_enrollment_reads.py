"""GET /api/enrollments and /api/enrollments/{id}: who sees what, paging, query counts."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Course
from portal.accounts.models import User
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db


def enroll_as(user: User, course: Course) -> int:
    body = {"course": course.slug}
    if not course.is_free:
        body["payment_method"] = "pm_card_visa"
    with after_commit():
        response = client_for(user).post("/api/enrollments", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def listed(user: User, **query) -> dict:
    response = client_for(user).get("/api/enrollments", query)
    assert response.status_code == 200, response.json()
    return response.json()


def ids(page: dict) -> set[int]:
    return {item["id"] for item in page["results"]}


@pytest.fixture(scope="module")
def school(django_db_setup, django_db_blocker):
    """Two instructors with a course each; students spread over them. Built once for the
    module (the tests only read) in a transaction rolled back after its last test; each
    test's own transaction is a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _school()
        transaction.set_rollback(True)


def _school() -> dict:
    ivy, oscar = make_instructor(name="Ivy"), make_instructor(name="Oscar")
    python = make_course(instructor=ivy, slug="python", modules=1, lessons_per_module=2)
    rust = make_course(instructor=ivy, slug="rust", price="20.00")
    go = make_course(instructor=oscar, slug="go")
    ann, bob = make_user(name="Ann"), make_user(name="Bob")
    enrolled = {
        "ann-python": enroll_as(ann, python),
        "ann-go": enroll_as(ann, go),
        "bob-python": enroll_as(bob, python),
        "bob-rust": enroll_as(bob, rust),
        # Oscar teaches Go and studies Python with Ivy.
        "oscar-python": enroll_as(oscar, python),
    }
    return {
        "ivy": ivy,
        "oscar": oscar,
        "ann": ann,
        "bob": bob,
        "staff": make_user(is_staff=True),
        "python": python,
        "rust": rust,
        "go": go,
        "enrolled": enrolled,
    }


def test_a_student_lists_only_their_own(school):
    page = listed(school["ann"])

    assert ids(page) == {school["enrolled"]["ann-python"], school["enrolled"]["ann-go"]}
    assert page["count"] == 2
    assert {item["student"]["email"] for item in page["results"]} == {school["ann"].email}
    item = next(i for i in page["results"] if i["course"]["slug"] == "python")
    assert item["progress"] == {"completed_lessons": 0, "total_lessons": 2, "percent": 0.0}
    assert item["course"]["instructor"] == {"id": school["ivy"].id, "name": "Ivy"}


def test_an_instructor_lists_the_enrollments_in_their_courses(school):
    enrolled = school["enrolled"]

    page = listed(school["ivy"])

    assert ids(page) == {
        enrolled["ann-python"],
        enrolled["bob-python"],
        enrolled["bob-rust"],
        enrolled["oscar-python"],
    }
    paid = next(i for i in page["results"] if i["id"] == enrolled["bob-rust"])
    assert paid["payment"]["status"] == "succeeded" and paid["payment"]["amount"] == "20.00"


def test_an_instructor_filters_by_course(school):
    enrolled = school["enrolled"]

    assert ids(listed(school["ivy"], course="rust")) == {enrolled["bob-rust"]}
    assert ids(listed(school["ivy"], course="python")) == {
        enrolled["ann-python"],
        enrolled["bob-python"],
        enrolled["oscar-python"],
    }


def test_an_instructor_sees_nothing_of_a_course_they_do_not_teach(school):
    page = listed(school["ivy"], course="go")

    assert page["results"] == [] and page["count"] == 0


def test_an_instructor_lists_their_own_as_a_student_with_role_student(school):
    assert ids(listed(school["oscar"])) == {school["enrolled"]["ann-go"]}
    assert ids(listed(school["oscar"], role="student")) == {school["enrolled"]["oscar-python"]}


def test_staff_lists_any_course_with_course_filter(school):
    enrolled = school["enrolled"]

    assert ids(listed(school["staff"], course="python")) == {
        enrolled["ann-python"],
        enrolled["bob-python"],
        enrolled["oscar-python"],
    }
    assert ids(listed(school["staff"], course="go")) == {enrolled["ann-go"]}


def test_a_student_filtering_by_someone_elses_course_gets_nothing(school):
    # Bob is not in Go and does not teach it: Ann's enrollment there must not show.
    page = listed(school["bob"], course="go")

    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_student_filtering_by_their_own_course_sees_their_enrollment(school):
    page = listed(school["ann"], course="go")

    assert ids(page) == {school["enrolled"]["ann-go"]}


def test_an_instructor_studying_a_course_sees_their_own_enrollment_in_it(school):
    # Oscar teaches Go but studies Python: ?course=python shows his enrollment only.
    assert ids(listed(school["oscar"], course="python")) == {school["enrolled"]["oscar-python"]}
    assert ids(listed(school["oscar"], role="student")) == {school["enrolled"]["oscar-python"]}


def test_the_list_is_paginated(school):
    first = listed(school["ivy"], page_size=3)
    second = listed(school["ivy"], page_size=3, page=2)

    assert set(first) == {"count", "next", "previous", "results"}
    assert (first["count"], first["previous"], len(first["results"])) == (4, None, 3)
    assert first["next"] == "http://testserver/api/enrollments?page_size=3&page=2"
    assert (second["count"], second["next"], len(second["results"])) == (4, None, 1)
    assert second["previous"] == "http://testserver/api/enrollments?page_size=3&page=1"
    assert ids(first) | ids(second) == ids(listed(school["ivy"]))
    assert not ids(first) & ids(second)


def test_a_bad_list_query_is_400(school):
    response = client_for(school["ivy"]).get("/api/enrollments", {"page_size": 1000})

    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


def test_anonymous_list_is_401():
    response = Client().get("/api/enrollments")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        ("ann", 200),  # its student
        ("ivy", 200),  # the course's instructor
        ("staff", 200),
        ("bob", 404),  # another student
        ("oscar", 404),  # another instructor (not teaching Python, not this student)
    ],
)
def test_who_may_read_one_enrollment(school, reader, expected):
    enrollment_id = school["enrolled"]["ann-python"]

    response = client_for(school[reader]).get(f"/api/enrollments/{enrollment_id}")

    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["id"] == enrollment_id
        assert body["student"]["email"] == school["ann"].email
        assert body["course"]["slug"] == "python"
    else:
        assert response.json()["error"]["code"] == "not_found"
        assert school["ann"].email not in response.content.decode()


def test_anonymous_read_is_401(school):
    response = Client().get(f"/api/enrollments/{school['enrolled']['ann-python']}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_reading_a_missing_enrollment_is_404(school):
    response = client_for(school["staff"]).get("/api/enrollments/987654321")

    assert response.status_code == 404


def _count_list_queries(user: User) -> tuple[int, int]:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/enrollments")
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("reader", ["student", "instructor"])
def test_list_queries_do_not_grow_with_the_number_of_enrollments(reader):
    def build(courses: int, per_course: int) -> User:
        teacher = make_instructor()
        student = make_user()
        for number in range(courses):
            course = make_course(
                instructor=teacher if reader == "instructor" else make_instructor(),
                price="10.00" if number % 2 else "0.00",
                modules=1,
                lessons_per_module=2,
            )
            course.course_instructors.create(user=make_instructor(), position=1)
            if reader == "student":
                enroll_as(student, course)
            else:
                for _ in range(per_course):
                    enroll_as(make_user(), course)
        return student if reader == "student" else teacher

    small = build(courses=3, per_course=1)
    large = (
        build(courses=8, per_course=1) if reader == "student" else build(courses=4, per_course=2)
    )

    small_queries, small_results = _count_list_queries(small)
    large_queries, large_results = _count_list_queries(large)

    assert (small_results, large_results) == (3, 8)
    assert large_queries == small_queries, (small_queries, large_queries)
