"""GET /api/instructor/enrollments-per-hour: one GROUP BY query, one bucket per hour."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from instructor.selectors import enrollments_per_hour, taught_courses
from tests.conftest import client_for
from tests.factories import make_course, make_instructor
from tests.instructor.helpers import make_enrollment

pytestmark = pytest.mark.django_db


def hour_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")


def test_buckets_count_each_hour_and_fill_in_zeros(instructor, instructor_api):
    course = make_course(instructor=instructor)
    other = make_course(instructor=instructor)
    now = timezone.now()
    times = [
        now - timedelta(hours=2),
        now - timedelta(hours=2, minutes=1),
        now - timedelta(hours=5),
        now - timedelta(hours=30),
    ]
    for moment in times:
        make_enrollment(course, created_at=moment)
    make_enrollment(other, created_at=now - timedelta(hours=5))
    make_enrollment(
        course, created_at=now - timedelta(hours=5), activated=False, status="cancelled"
    )  # declined: never went through
    make_enrollment(make_course(), created_at=now - timedelta(hours=2))  # not mine
    make_enrollment(course, created_at=now - timedelta(hours=80))  # before the window

    body = instructor_api.get("/api/instructor/enrollments-per-hour?hours=48").json()

    assert body["hours"] == 48 and body["course"] is None
    assert len(body["buckets"]) == 48
    hours = [datetime.fromisoformat(b["hour"]) for b in body["buckets"]]
    assert all(
        later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(hours)
    )
    counts = {b["hour"]: b["count"] for b in body["buckets"]}
    expected: dict[str, int] = {}
    for moment in [*times, now - timedelta(hours=5)]:
        expected[hour_label(moment)] = expected.get(hour_label(moment), 0) + 1
    assert {hour: n for hour, n in counts.items() if n} == expected
    assert sum(counts.values()) == 5


def test_one_course_only(instructor, instructor_api):
    course = make_course(instructor=instructor)
    other = make_course(instructor=instructor)
    make_enrollment(course, created_at=timezone.now())
    make_enrollment(other, created_at=timezone.now())

    body = instructor_api.get(
        f"/api/instructor/enrollments-per-hour?hours=3&course={course.slug}"
    ).json()

    assert body["course"] == course.slug
    assert len(body["buckets"]) == 3
    assert sum(bucket["count"] for bucket in body["buckets"]) == 1


def test_a_course_that_is_not_yours_is_not_found(instructor_api):
    foreign = make_course()
    answer = instructor_api.get(f"/api/instructor/enrollments-per-hour?course={foreign.slug}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("hours", ["0", "721", "x", "-1"])
def test_hours_out_of_range_are_invalid(instructor_api, hours):
    answer = instructor_api.get(f"/api/instructor/enrollments-per-hour?hours={hours}")
    assert answer.status_code == 400
    assert "hours" in answer.json()["error"]["fields"]


def test_one_aggregate_query_for_a_month_of_hours(instructor, django_assert_num_queries):
    course = make_course(instructor=instructor)
    now = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)
    for hours_ago in range(0, 700, 7):
        make_enrollment(course, created_at=now - timedelta(hours=hours_ago))
    with django_assert_num_queries(1):
        buckets = enrollments_per_hour(courses=taught_courses(instructor), hours=720, now=now)
    assert len(buckets) == 720
    assert buckets[-1] == (datetime(2026, 12, 5, 10, tzinfo=UTC), 1)
    assert buckets[0][0] == datetime(2026, 11, 5, 11, tzinfo=UTC)
    assert sum(count for _, count in buckets) == 100


def test_students_are_refused(student_api):
    assert student_api.get("/api/instructor/enrollments-per-hour").status_code == 404


def test_default_is_48_hours():
    user = make_instructor()
    body = client_for(user).get("/api/instructor/enrollments-per-hour").json()
    assert body["hours"] == 48 and len(body["buckets"]) == 48
