"""POST /api/courses/{slug}/announcements: queued (202), sent in batches by jobs on the
`notifications` queue, each mail with a working one-click unsubscribe link."""

import re

import pytest
from django.core import mail
from django.test import Client

from instructor.models import Announcement, AnnouncementOptOut
from instructor.services import announcement_batch_send
from instructor.unsubscribe import unsubscribe_token
from portal.jobs.models import JobRun
from tests.enrollment.helpers import after_commit
from tests.factories import make_course
from tests.instructor.helpers import make_enrollment, make_student

pytestmark = pytest.mark.django_db
BODY = {"subject": "Live Q&A on Friday", "body": "Hello all,\n\nBring your questions.\n"}
LINK = re.compile(r"http://[^\s]+/unsubscribe/([^\s>]+)")


def announce(client, course, body=BODY):
    with after_commit():
        return client.post(f"/api/courses/{course.slug}/announcements", body, format="json")


@pytest.fixture
def course(instructor):
    return make_course(title="Data Science", instructor=instructor)


def test_active_and_completed_students_get_it_in_batches(settings, course, instructor_api):
    settings.ANNOUNCEMENT_BATCH_SIZE = 2
    students = [make_student(email=f"s{n}@example.test") for n in range(5)]
    for student in students[:4]:
        make_enrollment(course, student=student)
    make_enrollment(course, student=students[4], status="completed")
    make_enrollment(course, status="cancelled")
    make_enrollment(course, status="pending", activated=False)
    make_enrollment(make_course(), student=make_student(email="other@example.test"))

    answer = announce(instructor_api, course)

    assert answer.status_code == 202
    body = answer.json()
    assert body["recipients"] == 5 and body["status"] == "queued"
    assert sorted(message.to[0] for message in mail.outbox) == sorted(s.email for s in students)
    message = mail.outbox[0]
    assert message.subject == "[Data Science] Live Q&A on Friday"
    assert "Bring your questions." in message.body
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", [])
    link = LINK.search(message.body)
    assert link and message.extra_headers["List-Unsubscribe"] == f"<{link.group(0)}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    announcement = Announcement.objects.get(pk=body["id"])
    assert (announcement.status, announcement.sent) == ("sent", 5)
    # Three batches of two: 0 → after s1 → after s3 (the last, short one ends it).
    assert JobRun.objects.filter(key__startswith=f"announcement:{announcement.pk}:").count() == 3


def test_a_batch_runs_once_and_a_retry_resumes_after_the_last_mailed(settings, course, instructor):
    settings.ANNOUNCEMENT_BATCH_SIZE = 10
    for n in range(3):
        make_enrollment(course, student=make_student(email=f"r{n}@example.test"))
    announcement = Announcement.objects.create(
        course=course, author=instructor, subject="Hi", body="Text", recipients=3
    )
    # A first run that mailed the first student, then died (its cursor says so).
    Announcement.objects.filter(pk=announcement.pk).update(
        cursor=min(e.student_id for e in course.enrollments.all()), sent=1
    )
    with after_commit():
        assert (
            announcement_batch_send(announcement_id=announcement.pk, after_student_id=0)
            == "sent 2, done"
        )
    assert len(mail.outbox) == 2
    with after_commit():  # delivered again: done already
        assert (
            announcement_batch_send(announcement_id=announcement.pk, after_student_id=0)
            == "skipped"
        )
    assert len(mail.outbox) == 2
    assert Announcement.objects.get(pk=announcement.pk).sent == 3


def test_the_unsubscribe_link_opts_out_and_later_announcements_skip_them(course, instructor_api):
    ada = make_student(email="ada@example.test")
    make_enrollment(course, student=ada)
    make_enrollment(course, student=make_student(email="bob@example.test"))
    announce(instructor_api, course)
    token = LINK.search(next(m for m in mail.outbox if m.to == ["ada@example.test"]).body).group(1)
    browser = Client()

    page = browser.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert b"Stop announcements from Data Science?" in page.content
    assert b'<form method="post"' in page.content
    assert not AnnouncementOptOut.objects.exists()  # a GET (a link scanner) changes nothing

    done = browser.post(f"/unsubscribe/{token}")
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    assert AnnouncementOptOut.objects.filter(student=ada, course=course).exists()

    mail.outbox.clear()
    answer = announce(instructor_api, course)
    assert answer.json()["recipients"] == 1
    assert [m.to for m in mail.outbox] == [["bob@example.test"]]


def test_one_click_post_needs_no_csrf_token_nor_session(course):
    ada = make_student()
    make_enrollment(course, student=ada)
    token = unsubscribe_token(student_id=ada.pk, course_id=course.pk)
    mail_client = Client(enforce_csrf_checks=True)
    answer = mail_client.post(
        f"/unsubscribe/{token}",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert AnnouncementOptOut.objects.filter(student=ada, course=course).count() == 1
    again = mail_client.post(f"/unsubscribe/{token}")  # twice is harmless
    assert again.status_code == 200
    assert AnnouncementOptOut.objects.count() == 1


@pytest.mark.parametrize("token", ["nonsense", "WzEsMl0:forged:signature"])
def test_a_forged_or_broken_token_does_nothing(course, token):
    answer = Client(enforce_csrf_checks=True).post(f"/unsubscribe/{token}")
    assert answer.status_code == 404
    assert b"This link does not work" in answer.content
    assert not AnnouncementOptOut.objects.exists()


def test_a_token_signed_for_another_purpose_is_refused(course):
    from django.core import signing

    ada = make_student()
    token = signing.dumps([ada.pk, course.pk], salt="something.else")
    assert Client().post(f"/unsubscribe/{token}").status_code == 404
    assert not AnnouncementOptOut.objects.exists()


def test_a_course_that_is_not_yours_is_not_found(instructor_api, student_api):
    foreign = make_course()
    make_enrollment(foreign)
    assert announce(instructor_api, foreign).status_code == 404
    assert announce(student_api, foreign).status_code == 404
    assert not Announcement.objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    "body, field",
    [
        ({"subject": "", "body": "x"}, "subject"),
        ({"subject": "Two\nlines", "body": "x"}, "subject"),
        ({"subject": "x" * 201, "body": "x"}, "subject"),
        ({"subject": "Hi"}, "body"),
        ({"subject": "Hi", "body": 5}, "body"),
    ],
)
def test_bad_input_is_invalid(course, instructor_api, body, field):
    answer = announce(instructor_api, course, body)
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_rate_limited_per_instructor_with_retry_after(
    settings, rate_limits, course, instructor_api
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "announce": (2, 3600)}
    make_enrollment(course)
    assert announce(instructor_api, course).status_code == 202
    assert announce(instructor_api, course, {"subject": "", "body": "x"}).status_code == 400
    assert announce(instructor_api, course).status_code == 202
    third = announce(instructor_api, course)
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "throttled"
    assert 0 < int(third["Retry-After"]) <= 3601
    assert Announcement.objects.count() == 2
