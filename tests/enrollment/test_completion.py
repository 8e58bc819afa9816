"""Completion and certificates through the real view stack: the last lesson's progress
write completes the enrollment and issues its certificate in the same transaction;
both survive later edits of the course; cancel and refund rules around a completion;
GET /api/enrollments/{id}/certificate and GET /api/certificates/{code}."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import CourseInstructor, Lesson, Module
from enrollment import certificates, services, transitions
from enrollment.models import Certificate, Enrollment, LessonProgress
from enrollment.shapes import Certificate as CertificateShape
from portal.events.models import UserEvent
from portal.shapes import keys_of
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll_as
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMITS = {}


def lessons_of(course) -> list[int]:
    return list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("id", flat=True)
    )


def record(client, enrollment_id: int, body: dict):
    with after_commit():
        return client.post(f"/api/enrollments/{enrollment_id}/progress", body, format="json")


def complete_all(client, enrollment_id: int, lessons: list[int]) -> None:
    for lesson in lessons:
        answer = record(client, enrollment_id, {"lesson": lesson, "completed": True})
        assert answer.status_code == 200, answer.json()


@pytest.fixture
def scene():
    """A student in a free course of 2 modules of 2 lessons taught by two instructors."""
    ada = make_instructor(name="Ada Lovelace")
    grace = make_instructor(name="Grace Hopper")
    course = make_course(
        title="Compilers", instructor=ada, capacity=3, modules=2, lessons_per_module=2
    )
    CourseInstructor.objects.create(course=course, user=grace, position=2)
    student = make_user(name="Sam Student")
    enrollment = enroll_as(student, course)
    return {
        "course": course,
        "student": student,
        "client": client_for(student),
        "id": enrollment["id"],
        "lessons": lessons_of(course),
        "instructors": [ada, grace],
    }


def events_of(user, kind: str) -> list[dict]:
    return [event.payload for event in UserEvent.objects.filter(user=user, type=kind)]


def test_the_last_lesson_completes_the_enrollment_and_issues_its_certificate(scene):
    client, enrollment_id = scene["client"], scene["id"]
    *first, last = scene["lessons"]
    complete_all(client, enrollment_id, first)
    assert Enrollment.objects.get(pk=enrollment_id).status == "active"
    assert not Certificate.objects.exists()

    answer = record(client, enrollment_id, {"lesson": last, "completed": True})

    assert answer.status_code == 200 and answer.json()["percent"] == 100.0
    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert enrollment.status == "completed" and enrollment.completed_at is not None
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert CODE.match(certificate.code), certificate.code
    assert certificate.student_name == "Sam Student"
    assert certificate.course_title == "Compilers"
    assert certificate.instructor_names == ["Ada Lovelace", "Grace Hopper"]
    assert certificate.issued_at == enrollment.completed_at
    shown = client.get(f"/api/enrollments/{enrollment_id}").json()
    assert shown["status"] == "completed"
    assert shown["completed_at"] is not None
    assert shown["certificate"] == {
        "code": certificate.code,
        "url": f"/certificates/{certificate.code}",
    }
    # The seat stays taken: the student keeps reviewing the course.
    scene["course"].refresh_from_db()
    assert scene["course"].seats_taken == 1 and scene["course"].enrollment_count == 1


def test_completion_tells_the_student_and_every_instructor_once(scene):
    complete_all(scene["client"], scene["id"], scene["lessons"])
    record(scene["client"], scene["id"], {"lesson": scene["lessons"][0], "completed": True})

    code = Certificate.objects.get().code
    for user in [scene["student"], *scene["instructors"]]:
        told = events_of(user, "enrollment.completed")
        assert len(told) == 1, user
        assert told[0]["certificate"] == {"code": code, "url": f"/certificates/{code}"}
        assert told[0]["enrollment"]["status"] == "completed"
    statuses = [e["enrollment"]["status"] for e in events_of(scene["student"], "enrollment.status")]
    assert statuses == ["pending", "active", "completed"]
    for instructor in scene["instructors"]:
        assert events_of(instructor, "enrollment.status") == []


def test_an_instructor_who_takes_their_own_course_is_told_once():
    teacher = make_instructor()
    course = make_course(instructor=teacher, modules=1, lessons_per_module=1)
    enrollment = enroll_as(teacher, course)
    complete_all(client_for(teacher), enrollment["id"], lessons_of(course))
    assert len(events_of(teacher, "enrollment.completed")) == 1


def test_a_guest_completion_tells_the_instructors():
    """A guest's enrollment (no account, no socket) is completed by the same rule; only
    the instructors have a stream to hear it on."""
    teacher = make_instructor()
    course = make_course(instructor=teacher, modules=1, lessons_per_module=2)
    guest = services.enrollment_create(
        course=course,
        student=services.StudentInput(email="guest@example.com", name="Gus Guest"),
        user=None,
        payment_method=None,
    )
    for lesson in lessons_of(course):
        services.progress_record(
            enrollment=guest, lesson_id=lesson, completed=True, position_seconds=None
        )
    assert Certificate.objects.get().student_name == "Gus Guest"
    assert len(events_of(teacher, "enrollment.completed")) == 1


def test_the_completion_commits_with_the_progress_write_or_not_at_all(scene, monkeypatch):
    """One transaction: when the certificate cannot be issued, the last lesson's progress,
    the status and every event roll back with it."""
    client, enrollment_id = scene["client"], scene["id"]
    *first, last = scene["lessons"]
    complete_all(client, enrollment_id, first)
    taken = Certificate.objects.create(
        enrollment=Enrollment.objects.create(
            number="ENR-TAKEN",
            student=services.student_for(
                student=services.StudentInput("other@example.com", "Other"), user=None
            ),
            course=make_course(),
            status="cancelled",
        ),
        code="AAAA-AAAA-AAAA-AAAA",
        student_name="Other",
        course_title="Other",
        course_slug="other",
        issued_at=Enrollment.objects.get(pk=enrollment_id).created_at,
    )
    events_before = UserEvent.objects.count()
    monkeypatch.setattr(certificates, "certificate_code_new", lambda: taken.code)
    enrollment = Enrollment.objects.select_related("student").get(pk=enrollment_id)

    with pytest.raises(RuntimeError, match="no free certificate code"):
        services.progress_record(
            enrollment=enrollment, lesson_id=last, completed=True, position_seconds=None
        )

    assert Enrollment.objects.get(pk=enrollment_id).status == "active"
    assert not LessonProgress.objects.filter(
        enrollment_id=enrollment_id, lesson_id=last, completed=True
    ).exists()
    assert Certificate.objects.count() == 1  # only the one made above
    assert UserEvent.objects.count() == events_before


def test_completion_and_certificate_survive_later_course_edits(scene):
    client, enrollment_id, course = scene["client"], scene["id"], scene["course"]
    complete_all(client, enrollment_id, scene["lessons"])
    issued = client.get(f"/api/enrollments/{enrollment_id}/certificate").json()

    # The course grows a lesson, is renamed, and an instructor renames themselves.
    module = Module.objects.filter(course=course).last()
    added = Lesson.objects.create(module=module, title="Bonus", position=9, duration_seconds=60)
    course.title = "Compilers, second edition"
    course.save(update_fields=["title"])
    ada = scene["instructors"][0]
    ada.name = "Augusta Ada King"
    ada.save(update_fields=["name"])

    shown = client.get(f"/api/enrollments/{enrollment_id}").json()
    assert shown["status"] == "completed"
    assert shown["progress"] == {"completed_lessons": 4, "total_lessons": 5, "percent": 80.0}
    assert client.get(f"/api/enrollments/{enrollment_id}/certificate").json() == issued
    assert issued["course"]["title"] == "Compilers"
    assert issued["instructors"] == ["Ada Lovelace", "Grace Hopper"]

    # Progress is still recorded; completing the new lesson issues nothing new.
    answer = record(client, enrollment_id, {"lesson": added.id, "completed": True})
    assert answer.status_code == 200 and answer.json()["percent"] == 100.0
    answer = record(client, enrollment_id, {"lesson": added.id, "completed": False})
    assert answer.status_code == 200 and answer.json()["percent"] == 80.0
    assert Enrollment.objects.get(pk=enrollment_id).status == "completed"
    assert Certificate.objects.count() == 1
    assert len(events_of(scene["student"], "enrollment.completed")) == 1


def test_a_completed_free_enrollment_is_not_cancelled(scene):
    complete_all(scene["client"], scene["id"], scene["lessons"])
    with after_commit():
        answer = scene["client"].post(f"/api/enrollments/{scene['id']}/cancel")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "already_completed"
    assert Enrollment.objects.get(pk=scene["id"]).status == "completed"
    scene["course"].refresh_from_db()
    assert scene["course"].seats_taken == 1
    staff = make_user(is_staff=True)
    with after_commit():
        answer = client_for(staff).post(f"/api/enrollments/{scene['id']}/cancel")
    assert answer.status_code == 409


def test_a_completed_paid_enrollment_is_not_refunded_and_cannot_be_taken_twice():
    course = make_course(price="49.00", capacity=2, modules=1, lessons_per_module=1)
    student = make_user()
    client = client_for(student)
    enrollment = enroll_as(student, course, "pm_card_visa")
    complete_all(client, enrollment["id"], lessons_of(course))

    with after_commit():
        answer = client.post(f"/api/enrollments/{enrollment['id']}/cancel")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "refund_not_allowed"
    shown = client.get(f"/api/enrollments/{enrollment['id']}").json()
    assert shown["status"] == "completed" and shown["payment"]["status"] == "succeeded"

    with after_commit():
        again = client.post(
            "/api/enrollments",
            {"course": course.slug, "payment_method": "pm_card_visa"},
            format="json",
        )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_enrolled"


def test_a_refund_made_at_the_provider_keeps_the_certificate():
    """Money returned outside the portal (Stripe's dashboard → charge.refunded) is
    recorded; what the student did stays on record and verifiable."""
    course = make_course(price="20.00", capacity=2, modules=1, lessons_per_module=1)
    student = make_user()
    enrollment = enroll_as(student, course, "pm_card_visa")
    complete_all(client_for(student), enrollment["id"], lessons_of(course))
    code = Certificate.objects.get().code

    with after_commit():
        transitions.refund(enrollment_id=enrollment["id"])

    ended = Enrollment.objects.get(pk=enrollment["id"])
    assert ended.status == "refunded" and ended.completed_at is not None
    course.refresh_from_db()
    assert (course.seats_taken, course.enrollment_count, course.revenue) == (0, 0, Decimal("0"))
    assert Client().get(f"/api/certificates/{code}").status_code == 200


# --- the certificate API -----------------------------------------------------------------


CERTIFICATE_KEYS = set(keys_of(CertificateShape))


def test_the_certificate_is_404_before_completion_then_readable(scene):
    path = f"/api/enrollments/{scene['id']}/certificate"
    before = scene["client"].get(path)
    assert before.status_code == 404 and before.json()["error"]["code"] == "not_found"

    complete_all(scene["client"], scene["id"], scene["lessons"])
    body = scene["client"].get(path).json()

    assert set(body) == CERTIFICATE_KEYS
    assert {"code", "url", "issued_at", "course", "student_name"} <= set(body)
    certificate = Certificate.objects.get()
    assert body == {
        "code": certificate.code,
        "url": f"/certificates/{certificate.code}",
        "pdf_url": f"/certificates/{certificate.code}.pdf",
        "issued_at": certificate.issued_at.isoformat().replace("+00:00", "Z"),
        "course": {"slug": scene["course"].slug, "title": "Compilers"},
        "student_name": "Sam Student",
        "instructors": ["Ada Lovelace", "Grace Hopper"],
    }


def test_who_may_read_an_enrollments_certificate(scene):
    complete_all(scene["client"], scene["id"], scene["lessons"])
    path = f"/api/enrollments/{scene['id']}/certificate"
    assert client_for(scene["instructors"][1]).get(path).status_code == 200
    assert client_for(make_user(is_staff=True)).get(path).status_code == 200
    assert client_for(make_user()).get(path).status_code == 404  # never reveals it exists
    assert client_for(make_instructor()).get(path).status_code == 404
    assert Client().get(path).status_code == 401


def test_anyone_verifies_a_certificate_by_its_code(scene):
    complete_all(scene["client"], scene["id"], scene["lessons"])
    own = scene["client"].get(f"/api/enrollments/{scene['id']}/certificate").json()

    anonymous = Client().get(f"/api/certificates/{own['code']}")
    assert anonymous.status_code == 200 and anonymous.json() == own
    # Typed from paper: lower case, and O for 0 or I/L for 1 (Crockford).
    typed = own["code"].lower().replace("0", "o").replace("1", "l")
    assert Client().get(f"/api/certificates/{typed}").json() == own
    # A bad bearer token does not stand in the way of a public read.
    assert (
        Client(HTTP_AUTHORIZATION="Bearer nope").get(f"/api/certificates/{own['code']}").status_code
        == 200
    )


@pytest.mark.parametrize(
    "code", ["AAAA-BBBB-CCCC-DDDD", "nope", "x" * 200, "AAAA-BBBB-CCCC-DDD%00", "%F0%9F%98%80"]
)
def test_an_unknown_code_is_404(code):
    answer = Client().get(f"/api/certificates/{code}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_codes_are_random_and_readable():
    codes = {certificates.certificate_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(code) for code in codes)
    assert set("".join(codes).replace("-", "")) == set(certificates.CODE_ALPHABET)


def test_deleting_the_only_lesson_a_student_had_left_completes_their_enrollment(scene):
    """Through the authoring API: the lesson's deletion queues the job that finds who has
    now finished; a student with lessons still to do stays active."""
    client, enrollment_id = scene["client"], scene["id"]
    *first, last = scene["lessons"]
    complete_all(client, enrollment_id, first)
    bea = make_user(name="Bea Behind")
    behind = enroll_as(bea, scene["course"])
    complete_all(client_for(bea), behind["id"], first[:1])
    ada = client_for(scene["instructors"][0])

    with after_commit():
        assert ada.delete(f"/api/lessons/{last}").status_code == 204

    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert enrollment.status == "completed" and enrollment.completed_at is not None
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    assert [p["enrollment"]["id"] for p in events_of(scene["student"], "enrollment.completed")] == [
        enrollment_id
    ]
    assert Enrollment.objects.get(pk=behind["id"]).status == "active"
    # Once: the job run again (a redelivery) completes no one twice.
    assert services.finished_enrollments_complete(course_id=scene["course"].pk) == 0
    assert Certificate.objects.count() == 1


def test_deleting_a_module_completes_whoever_had_done_every_other_lesson(scene):
    client, enrollment_id = scene["client"], scene["id"]
    complete_all(client, enrollment_id, scene["lessons"][:2])  # all of module 1
    second = Module.objects.get(course=scene["course"], position=2)

    with after_commit():
        answer = client_for(scene["instructors"][1]).delete(f"/api/modules/{second.pk}")
    assert answer.status_code == 204

    assert Enrollment.objects.get(pk=enrollment_id).status == "completed"
