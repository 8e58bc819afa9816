"""The waitlist over HTTP, with the events each student gets (the per-user event log, as
their sockets replay it): joining, leaving, offers made when seats free, offers used,
expired and passed on, and the refusals. Jobs run in-process after commit."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from catalog import waitlist
from catalog.models import Course, WaitlistEntry
from portal.events.models import UserEvent
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/courses/{}/waitlist"


def events(user, *types: str) -> list[dict]:
    rows = UserEvent.objects.filter(user=user).order_by("seq")
    if types:
        rows = rows.filter(type__in=types)
    return [{"type": row.type, **row.payload} for row in rows]


def enroll(user, course, **body):
    return client_for(user).post("/api/enrollments", {"course": course.slug, **body}, format="json")


def join(user, course):
    return client_for(user).post(URL.format(course.slug))


def expire_offers_now(course) -> None:
    WaitlistEntry.objects.filter(course=course, status="offered").update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    waitlist.offers_expire()


def seats(course) -> int:
    return Course.objects.values_list("seats_taken", flat=True).get(pk=course.pk)


@pytest.fixture
def full_course():
    """A free course of one seat, taken by A."""
    course = make_course(title="Compilers", capacity=1)
    a = make_user(name="Ada")
    assert enroll(a, course).status_code == 201
    return course, a


def test_the_issue_scenario_offer_position_stranger_expiry_and_enrollment(full_course):
    course, a = full_course
    b, c, d = make_user(name="Bo"), make_user(name="Cy"), make_user(name="Di")

    answer_b, answer_c = join(b, course), join(c, course)
    assert (answer_b.status_code, answer_b.json()["position"]) == (201, 1)
    assert (answer_c.status_code, answer_c.json()["position"]) == (201, 2)
    assert answer_c.json()["course"] == course.slug
    assert events(c, "waitlist.position")[-1]["position"] == 2

    # A cancels: the seat goes to B as an offer, C moves up to 1.
    a_enrollment = a.student.enrollments.get()
    assert client_for(a).post(f"/api/enrollments/{a_enrollment.pk}/cancel").status_code == 200
    offer = events(b, "waitlist.offer")
    assert len(offer) == 1 and offer[0]["course"] == course.slug
    assert events(c, "waitlist.position")[-1] == {
        "type": "waitlist.position",
        "course": course.slug,
        "position": 1,
    }
    assert seats(course) == 1  # held for B
    assert [message.to for message in mail.outbox if "seat" in message.subject] == [[b.email]]
    place = client_for(b).get(URL.format(course.slug)).json()
    assert (place["status"], place["position"]) == ("offered", None)
    assert place["offer_expires_at"] == offer[0]["offer_expires_at"]

    # A stranger cannot take the held seat.
    refused = enroll(d, course)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "course_full")

    # B's offer runs out: B is told, the offer passes to C, the seat stays held.
    expire_offers_now(course)
    assert events(b, "waitlist.expired") == [{"type": "waitlist.expired", "course": course.slug}]
    assert len(events(c, "waitlist.offer")) == 1
    assert seats(course) == 1
    late = enroll(b, course)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "offer_expired")

    # C enrolls within the offer: the held seat is theirs.
    taken = enroll(c, course)
    assert taken.status_code == 201, taken.json()
    assert taken.json()["status"] == "active"
    assert seats(course) == 1
    assert WaitlistEntry.objects.get(user=c).status == "enrolled"
    assert client_for(c).get(URL.format(course.slug)).status_code == 404


def test_an_offer_used_within_its_time_enrolls(full_course):
    course, a = full_course
    b = make_user()
    join(b, course)
    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    answer = enroll(b, course)
    assert answer.status_code == 201 and answer.json()["status"] == "active"
    assert seats(course) == 1
    assert WaitlistEntry.objects.get(user=b).enrollment_id == answer.json()["id"]


def test_a_paid_offer_survives_a_declined_card_until_it_expires():
    course = make_course(price="49.00", capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    assert enroll(a, course, payment_method="pm_card_visa").status_code == 201
    join(b, course), join(c, course)
    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    assert WaitlistEntry.objects.get(user=b).status == "offered"

    declined = enroll(b, course, payment_method="pm_card_chargeDeclined")
    assert declined.status_code == 402
    # The seat went back to B's offer, not to C.
    assert WaitlistEntry.objects.get(user=b).status == "offered"
    assert WaitlistEntry.objects.get(user=c).status == "waiting"
    assert seats(course) == 1
    paid = enroll(b, course, payment_method="pm_card_visa")
    assert paid.status_code == 201 and paid.json()["status"] == "active"


def test_an_expired_checkout_of_an_offer_passes_the_seat_on():
    course = make_course(price="49.00", capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    enroll(a, course, payment_method="pm_card_visa")
    join(b, course), join(c, course)
    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    pending = enroll(b, course, payment_method="pm_card_authenticationRequired")
    assert pending.json()["status"] == "pending"
    from enrollment.checkout import checkout_holds_expire
    from enrollment.models import Enrollment

    Enrollment.objects.filter(pk=pending.json()["id"]).update(hold_expires_at=timezone.now())
    assert checkout_holds_expire() == 1
    assert WaitlistEntry.objects.get(user=c).status == "offered"
    assert seats(course) == 1


def test_leaving_moves_those_behind_up_and_a_left_offer_passes_on(full_course):
    course, a = full_course
    b, c, d = make_user(), make_user(), make_user()
    for user in (b, c, d):
        join(user, course)
    assert client_for(c).delete(URL.format(course.slug)).status_code == 204
    assert events(c, "waitlist.left") == [{"type": "waitlist.left", "course": course.slug}]
    assert events(d, "waitlist.position")[-1]["position"] == 2
    assert len(events(b, "waitlist.position")) == 1  # B's place did not move: not told again

    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    assert client_for(b).delete(URL.format(course.slug)).status_code == 204  # declines the offer
    assert len(events(d, "waitlist.offer")) == 1
    assert seats(course) == 1

    gone = client_for(b).delete(URL.format(course.slug))
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_in_waitlist")


def test_a_capacity_raised_makes_as_many_offers_at_once(full_course):
    course, _ = full_course
    instructor = course.course_instructors.get().user
    waiting = [make_user() for _ in range(5)]
    for user in waiting:
        join(user, course)
    studio = client_for(instructor)
    version = studio.get(f"/api/studio/courses/{course.slug}").json()["version"]
    answer = studio.patch(
        f"/api/courses/{course.slug}", {"capacity": 4, "version": version}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    offered = [user for user in waiting if events(user, "waitlist.offer")]
    assert offered == waiting[:3]
    assert [events(user, "waitlist.position")[-1]["position"] for user in waiting[3:]] == [1, 2]
    assert seats(course) == 4

    line = studio.get(URL.format(course.slug)).json()
    assert (line["waiting"], line["offered"]) == (2, 3)
    assert [row["status"] for row in line["results"]] == ["offered"] * 3 + ["waiting"] * 2
    assert [row["position"] for row in line["results"][3:]] == [1, 2]


def test_joining_is_refused_when_it_makes_no_sense(full_course):
    course, a = full_course
    roomy = make_course(capacity=5)
    unlimited = make_course()
    b = make_user()
    for target in (roomy, unlimited):
        answer = join(b, target)
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "course_not_full")
    enrolled = join(a, course)
    assert (enrolled.status_code, enrolled.json()["error"]["code"]) == (409, "already_enrolled")
    unverified = join(make_user(email_verified_at=None), course)
    assert (unverified.status_code, unverified.json()["error"]["code"]) == (
        403,
        "email_unverified",
    )
    anonymous = client_for(b)
    anonymous.credentials()
    assert anonymous.post(URL.format(course.slug)).status_code == 401
    assert join(b, make_course(capacity=1, published=False)).status_code == 404
    # Joining twice answers the place held.
    assert join(b, course).status_code == 201
    again = join(b, course)
    assert (again.status_code, again.json()["position"]) == (200, 1)
    assert WaitlistEntry.objects.filter(user=b).count() == 1


def test_only_the_course_s_instructors_see_the_line(full_course):
    course, _ = full_course
    b = make_user(name="Bo")
    join(b, course)
    other = make_instructor()
    assert client_for(other).get(URL.format(course.slug)).status_code == 404  # not in it
    line = client_for(course.course_instructors.get().user).get(URL.format(course.slug))
    assert line.json()["results"][0]["name"] == "Bo"
    mine = client_for(b).get(URL.format(course.slug)).json()
    assert set(mine) == {"course", "title", "position", "status", "joined_at", "offer_expires_at"}


def test_a_waiting_student_who_finds_a_free_seat_leaves_the_line():
    course = make_course(capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    enroll(a, course)
    join(b, course), join(c, course)
    # A seat appears without passing through the line (before the sweep offers it).
    Course.objects.filter(pk=course.pk).update(capacity=2)
    answer = enroll(b, course)
    assert answer.status_code == 201
    assert WaitlistEntry.objects.get(user=b).status == "enrolled"
    assert [event["position"] for event in events(c, "waitlist.position")] == [2, 1]


def test_the_sweep_offers_a_seat_that_is_free_while_students_wait():
    course = make_course(capacity=1)
    enroll(make_user(), course)
    b = make_user()
    join(b, course)
    Course.objects.filter(pk=course.pk).update(capacity=2)  # a seat no transition offered
    waitlist.offers_expire()
    assert WaitlistEntry.objects.get(user=b).status == "offered"
    assert seats(course) == 2


@override_settings(WAITLIST_OFFER_MINUTES=0.5)
def test_offers_last_the_configured_time(full_course):
    course, a = full_course
    b = make_user()
    join(b, course)
    before = timezone.now()
    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    expires = WaitlistEntry.objects.get(user=b).offer_expires_at
    assert timedelta(seconds=25) < expires - before < timedelta(seconds=35)
    waitlist.offers_expire()  # not due yet
    assert WaitlistEntry.objects.get(user=b).status == "offered"


def test_an_erased_account_s_offer_passes_on_and_its_places_are_in_its_export(full_course):
    course, a = full_course
    b, c = make_user(), make_user()
    join(b, course), join(c, course)
    export = client_for(b).get("/api/me/export").json()
    assert [(row["course"]["slug"], row["status"]) for row in export["waitlist"]] == [
        (course.slug, "waiting")
    ]
    client_for(a).post(f"/api/enrollments/{a.student.enrollments.get().pk}/cancel")
    assert WaitlistEntry.objects.get(user=b).status == "offered"

    other = make_course(capacity=1)
    enroll(make_user(), other)
    d = make_user()
    join(b, other), join(d, other)  # B is also first in another line, D behind

    erased = client_for(b).delete("/api/me", {"password": "correct-horse-battery"}, format="json")
    assert erased.status_code == 204
    assert not WaitlistEntry.objects.filter(user_id=b.pk).exists()
    assert WaitlistEntry.objects.get(user=c).status == "offered"  # the seat passed on
    assert seats(course) == 1
    assert events(d, "waitlist.position")[-1]["position"] == 1  # moved up in the other line


def test_my_waitlist_lists_the_caller_s_places_only(full_course):
    course, _ = full_course
    other = make_course(capacity=1)
    enroll(make_user(), other)
    b = make_user()
    join(b, course), join(b, other), join(make_user(), course)
    places = client_for(b).get("/api/me/waitlist").json()["results"]
    assert [(p["course"], p["position"]) for p in places] == [(course.slug, 1), (other.slug, 1)]
    only = client_for(b).get(f"/api/me/waitlist?course={other.slug}").json()["results"]
    assert [p["course"] for p in only] == [other.slug]
    assert client_for(make_user()).get("/api/me/waitlist").json() == {"results": []}
