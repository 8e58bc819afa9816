"""The waitlist under concurrency, on real PostgreSQL with real threads: a seat given up
while students wait never reaches a stranger, two seats freed at once never make two
offers to one student, an offer used as it expires is either used or passed on (never
both), and the seat count never exceeds the capacity counting held offers."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import waitlist
from catalog.models import Course, WaitlistEntry
from enrollment.models import Enrollment
from tests.conftest import client_for
from tests.enrollment.helpers import run_concurrently
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def enroll(user, course) -> int:
    answer = client_for(user).post("/api/enrollments", {"course": course.slug}, format="json")
    return answer.status_code


def cancel(user) -> int:
    enrollment = user.student.enrollments.get(status="active")
    return client_for(user).post(f"/api/enrollments/{enrollment.pk}/cancel").status_code


def join(user, course) -> int:
    return client_for(user).post(f"/api/courses/{course.slug}/waitlist").status_code


def holders(course) -> tuple[int, int, int]:
    """(seats_taken, live enrollments, offers held) of the course."""
    taken = Course.objects.values_list("seats_taken", flat=True).get(pk=course.pk)
    live = Enrollment.objects.filter(
        course=course, status__in=("pending", "active", "completed")
    ).count()
    offers = WaitlistEntry.objects.filter(course=course, status="offered").count()
    return taken, live, offers


@pytest.mark.parametrize("round_", range(4))
def test_a_seat_given_up_goes_to_the_offer_never_to_a_racing_stranger(round_):
    course = make_course(title=f"Stranger {round_}", capacity=1)
    a, b, stranger = make_user(), make_user(), make_user()
    assert enroll(a, course) == 201
    assert join(b, course) == 201

    def work(index: int) -> int:
        if index == round_ % 2:
            time.sleep(0.02)  # both orders, alternating by round
        return cancel(a) if index == 0 else enroll(stranger, course)

    cancelled, stranger_answer = run_concurrently(2, work)
    assert (cancelled, stranger_answer) == (200, 409)
    assert WaitlistEntry.objects.get(user=b).status == "offered"
    assert holders(course) == (1, 0, 1)
    assert enroll(b, course) == 201
    assert holders(course) == (1, 1, 0)


@pytest.mark.parametrize("waiting", [1, 2])
def test_two_seats_freed_at_once_never_make_two_offers_to_one_student(waiting):
    course = make_course(capacity=2)
    a1, a2 = make_user(), make_user()
    assert enroll(a1, course) == 201 and enroll(a2, course) == 201
    line = [make_user() for _ in range(waiting)]
    for user in line:
        assert join(user, course) == 201

    assert run_concurrently(2, lambda index: cancel((a1, a2)[index])) == [200, 200]

    offered = WaitlistEntry.objects.filter(course=course, status="offered")
    assert sorted(offered.values_list("user_id", flat=True)) == sorted(u.pk for u in line)
    # One offer per waiting student; a seat nobody waits for is released.
    assert holders(course) == (waiting, 0, waiting)


@pytest.mark.parametrize("round_", range(4))
def test_an_offer_used_as_it_expires_is_used_or_passed_on_never_both(round_):
    course = make_course(title=f"Expiry {round_}", capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    enroll(a, course)
    join(b, course), join(c, course)
    cancel(a)
    WaitlistEntry.objects.filter(user=b).update(
        offer_expires_at=timezone.now() + timedelta(0, 0.05)
    )

    def work(index: int):
        if index == 0:
            time.sleep(0.05 + 0.01 * (round_ % 2))  # due by now: the sweep expires it
            return waitlist.offers_expire()
        time.sleep(0.01 * round_)
        return enroll(b, course)

    expired, b_answer = run_concurrently(2, work)
    b_entry, c_entry = WaitlistEntry.objects.get(user=b), WaitlistEntry.objects.get(user=c)
    if b_answer == 201:  # B was first: the seat is B's, C still waits
        assert (expired, b_entry.status, c_entry.status) == (0, "enrolled", "waiting")
        assert holders(course) == (1, 1, 0)
    else:  # the expiry was first: B is refused, the offer is C's
        assert b_answer == 409
        assert (expired, b_entry.status, c_entry.status) == (1, "expired", "offered")
        assert holders(course) == (1, 0, 1)


def test_churn_keeps_seats_within_capacity_counting_offers():
    """Students joining, leaving, cancelling and using offers all at once."""
    course = make_course(capacity=3)
    seated = [make_user() for _ in range(3)]
    for user in seated:
        assert enroll(user, course) == 201
    line = [make_user() for _ in range(6)]
    for user in line[:3]:
        assert join(user, course) == 201

    def work(index: int) -> int:
        if index < 3:
            return cancel(seated[index])
        if index < 6:
            return join(line[index], course)
        # The first in line leave or try to enroll (with or without an offer yet).
        user = line[index - 6]
        if index == 6:
            return client_for(user).delete(f"/api/courses/{course.slug}/waitlist").status_code
        return enroll(user, course)

    answers = run_concurrently(9, work)
    assert answers[:3] == [200, 200, 200]
    assert all(code in (200, 201, 204, 404, 409) for code in answers[3:]), answers
    waitlist.offers_expire()  # the sweep: any seat left free while students wait is offered
    taken, live, offers = holders(course)
    assert taken == live + offers <= 3
    waiting = WaitlistEntry.objects.filter(course=course, status="waiting").count()
    assert taken == 3 or waiting == 0  # no free seat while someone waits
    # No student both enrolled and in line.
    for user in line:
        entries = WaitlistEntry.objects.filter(user=user, status__in=("waiting", "offered"))
        enrolled = Enrollment.objects.filter(student__user=user, status="active").exists()
        assert not (entries.exists() and enrolled)
