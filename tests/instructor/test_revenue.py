"""GET /api/instructor/revenue: money and counts of the caller's courses only."""

import pytest

from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user
from tests.instructor.helpers import make_enrollment

pytestmark = pytest.mark.django_db


def test_revenue_per_course_and_totals_per_currency(instructor, instructor_api):
    python = make_course(title="Python", instructor=instructor, price="49.00")
    rust = make_course(title="Rust", instructor=instructor, price="30.00", currency="eur")
    free = make_course(title="Free Talk", instructor=instructor)
    make_enrollment(python, amount="49.00")
    make_enrollment(python, amount="49.00", status="completed")
    make_enrollment(python, amount="49.00", status="refunded", payment_status="refunded")
    make_enrollment(
        python, amount="49.00", status="cancelled", payment_status="failed", activated=False
    )  # declined: no money, not counted
    make_enrollment(
        python, amount="49.00", status="pending", payment_status="pending", activated=False
    )
    make_enrollment(rust, amount="30.00")
    make_enrollment(free)
    someone_elses = make_course(title="Not Mine", price="99.00")
    make_enrollment(someone_elses, amount="99.00")

    answer = instructor_api.get("/api/instructor/revenue")

    assert answer.status_code == 200
    body = answer.json()
    rows = {row["slug"]: row for row in body["courses"]}
    assert list(rows) == [free.slug, python.slug, rust.slug]  # by title; not someone else's
    assert rows[python.slug] == {
        "slug": python.slug,
        "title": "Python",
        "currency": "usd",
        "gross": "147.00",
        "refunds": "49.00",
        "net": "98.00",
        "enrollments": 3,
        "active": 1,
        "completed": 1,
    }
    assert rows[rust.slug]["gross"] == "30.00" and rows[rust.slug]["currency"] == "eur"
    assert rows[free.slug]["gross"] == "0.00" and rows[free.slug]["enrollments"] == 1
    assert body["totals"] == [
        {"currency": "eur", "gross": "30.00", "refunds": "0.00", "net": "30.00", "enrollments": 1},
        {
            "currency": "usd",
            "gross": "147.00",
            "refunds": "49.00",
            "net": "98.00",
            "enrollments": 4,
        },
    ]


def test_a_payment_in_another_currency_gets_a_row_of_its_own(instructor, instructor_api):
    course = make_course(title="Moved", instructor=instructor, price="10.00")
    make_enrollment(course, amount="10.00")
    make_enrollment(course, amount="9.00", currency="eur")

    body = instructor_api.get("/api/instructor/revenue").json()

    assert [(row["currency"], row["gross"], row["enrollments"]) for row in body["courses"]] == [
        ("eur", "9.00", 0),
        ("usd", "10.00", 2),
    ]
    assert {total["currency"]: total["gross"] for total in body["totals"]} == {
        "eur": "9.00",
        "usd": "10.00",
    }


def test_staff_see_only_the_courses_they_teach():
    staff = make_user(is_staff=True)
    taught = make_course(instructor=staff, price="5.00")
    make_enrollment(taught, amount="5.00")
    make_enrollment(make_course(price="7.00"), amount="7.00")

    body = client_for(staff).get("/api/instructor/revenue").json()

    assert [row["slug"] for row in body["courses"]] == [taught.slug]
    assert body["totals"][0]["gross"] == "5.00"


def test_an_instructor_without_courses_gets_empty_lists():
    answer = client_for(make_instructor()).get("/api/instructor/revenue")
    assert answer.status_code == 200
    assert answer.json() == {"totals": [], "courses": []}


def test_students_get_404_and_anonymous_401(student_api, api):
    assert student_api.get("/api/instructor/revenue").status_code == 404
    assert api.get("/api/instructor/revenue").status_code == 401


def test_two_queries_whatever_the_number_of_courses(
    instructor, instructor_api, django_assert_max_num_queries
):
    for _number in range(5):
        course = make_course(instructor=instructor, price="3.00")
        make_enrollment(course, amount="3.00")
    # Authentication (session + user) and three reads: courses, payments, enrollments.
    with django_assert_max_num_queries(6):
        assert instructor_api.get("/api/instructor/revenue").status_code == 200
