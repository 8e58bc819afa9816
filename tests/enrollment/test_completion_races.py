"""Completion exactly once, on real PostgreSQL: real threads, each with its own
connection, post progress through the whole HTTP view stack at the same moment, as two
tabs of one student would."""

import pytest

from catalog.models import Lesson
from enrollment.models import Certificate, Enrollment, LessonProgress
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.enrollment.helpers import run_concurrently
from tests.factories import make_course, make_instructor, make_user

# Threads with connections of their own race on committed rows.
pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 5


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMITS = {}


def enrolled_with_all_but(count: int) -> tuple[object, int, list[int], object]:
    """A student enrolled in a free course of 4 lessons with all but the last `count`
    completed; returns (student, enrollment id, the lessons left, the instructor)."""
    instructor = make_instructor()
    course = make_course(instructor=instructor, modules=2, lessons_per_module=2)
    student = make_user()
    client = client_for(student)
    answer = client.post("/api/enrollments", {"course": course.slug}, format="json")
    assert answer.status_code == 201, answer.json()
    lessons = list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("id", flat=True)
    )
    enrollment_id = answer.json()["id"]
    for lesson in lessons[:-count]:
        done = client.post(
            f"/api/enrollments/{enrollment_id}/progress",
            {"lesson": lesson, "completed": True},
            format="json",
        )
        assert done.status_code == 200
    return student, enrollment_id, lessons[-count:], instructor


def assert_completed_once(student, enrollment_id: int, instructor) -> None:
    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert enrollment.status == "completed"
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    assert LessonProgress.objects.filter(enrollment=enrollment, completed=True).count() == 4
    for user in (student, instructor):
        told = UserEvent.objects.filter(user=user, type="enrollment.completed")
        assert told.count() == 1, user
        assert told.get().payload["certificate"]["code"] == enrollment.certificate.code
    completions = UserEvent.objects.filter(
        user=student, type="enrollment.status", payload__enrollment__status="completed"
    )
    assert completions.count() == 1
    # The student's stream has no hole and no duplicate number.
    seqs = list(
        UserEvent.objects.filter(user=student).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def post_progress(student, enrollment_id: int, lesson: int):
    return client_for(student).post(
        f"/api/enrollments/{enrollment_id}/progress",
        {"lesson": lesson, "completed": True},
        format="json",
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_tabs_completing_the_last_two_lessons_at_once_complete_it_once(round_):
    student, enrollment_id, last_two, instructor = enrolled_with_all_but(2)

    answers = run_concurrently(2, lambda i: post_progress(student, enrollment_id, last_two[i]))

    assert [answer.status_code for answer in answers] == [200, 200]
    # Whichever committed second saw the other's lesson and completed the course.
    assert sorted(answer.json()["percent"] for answer in answers) == [75.0, 100.0]
    assert_completed_once(student, enrollment_id, instructor)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_tabs_completing_the_same_last_lesson_at_once_complete_it_once(round_):
    student, enrollment_id, (last,), instructor = enrolled_with_all_but(1)

    answers = run_concurrently(3, lambda i: post_progress(student, enrollment_id, last))

    assert [answer.status_code for answer in answers] == [200] * 3
    assert [answer.json()["percent"] for answer in answers] == [100.0] * 3
    assert_completed_once(student, enrollment_id, instructor)
