"""Rate limits on login, registration and enrollment; the after-commit jobs (run eagerly,
in-process, as the suite runs Celery without a broker) and their failure records."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from enrollment import tasks
from enrollment.models import Enrollment, LessonProgress
from portal.accounts.models import User
from portal.jobs.models import FailedJob, JobRun
from portal.jobs.services import failed_jobs_retry
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import PASSWORD, make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
EXPLODING = f"{__name__}.ExplodingBackend"
WINDOW = 3600  # long windows: a test never straddles a window boundary
# Eager results are read through `.result`, not `.get()`: Celery guards `.get()` with a
# process-wide flag that concurrent eager runs in other tests' threads can leave set.


class ExplodingBackend(BaseEmailBackend):
    """A mail backend failing in a way portal.jobs does not treat as transient."""

    def send_messages(self, email_messages):
        raise RuntimeError("the mail relay is misconfigured")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.EMAIL_BACKEND = LOCMEM


@pytest.fixture
def limits(settings, rate_limits):
    """Limits on (opted in), tightened so that a test reaches them quickly."""
    settings.RATE_LIMITS = {
        "login": (3, WINDOW),
        "login_ip": (100, WINDOW),
        "register": (2, WINDOW),
        "enroll": (2, WINDOW),
    }


def post_json(path: str, body: dict, remote_addr: str = "127.0.0.1"):
    return Client().post(
        path, json.dumps(body), content_type="application/json", REMOTE_ADDR=remote_addr
    )


def login(email: str, password: str, remote_addr: str = "127.0.0.1"):
    return post_json("/api/auth/token", {"email": email, "password": password}, remote_addr)


def register(email: str, remote_addr: str = "127.0.0.1"):
    body = {"email": email, "password": "a-long-unusual-passphrase", "name": "New Person"}
    return post_json("/api/auth/register", body, remote_addr)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    retry_after = response["Retry-After"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= WINDOW + 1


# --- rate limits ---------------------------------------------------------------------


def test_the_fourth_bad_login_for_an_email_is_throttled(limits):
    user = make_user()

    answers = [login(user.email, "wrong-password").status_code for _ in range(3)]
    fourth = login(user.email, "wrong-password")

    assert answers == [401, 401, 401]
    assert_throttled(fourth)
    # Even the right password waits now: the limit counts attempts, not failures.
    assert_throttled(login(user.email, PASSWORD))


def test_login_buckets_are_per_email_and_per_address(limits):
    user, other = make_user(), make_user()
    for _ in range(3):
        login(user.email, "wrong-password")
    assert_throttled(login(user.email, PASSWORD))

    assert login(other.email, PASSWORD).status_code == 200
    assert login(user.email, PASSWORD, remote_addr="10.0.0.2").status_code == 200


def test_login_per_address_limit_covers_many_emails(settings, rate_limits):
    settings.RATE_LIMITS = {"login": (100, WINDOW), "login_ip": (2, WINDOW)}

    assert login("a@example.com", "x").status_code == 401
    assert login("b@example.com", "x").status_code == 401
    assert_throttled(login("c@example.com", "x"))
    assert login("c@example.com", "x", remote_addr="10.0.0.9").status_code == 401


def test_registration_is_limited_per_address(limits):
    assert register("one@example.com").status_code == 201
    assert register("two@example.com").status_code == 201

    third = register("three@example.com")

    assert_throttled(third)
    assert not User.objects.filter(email="three@example.com").exists()
    assert register("three@example.com", remote_addr="10.0.0.3").status_code == 201


def test_enrollment_is_limited(limits):
    course = make_course()

    first = enroll(Client(), guest_body(course, "e1@example.com", None))
    second = enroll(Client(), guest_body(course, "e2@example.com", None))
    third = enroll(Client(), guest_body(course, "e3@example.com", None))

    assert (first.status_code, second.status_code) == (201, 201)
    assert_throttled(third)
    assert Enrollment.objects.count() == 2
    course.refresh_from_db()
    assert course.seats_taken == 2
    elsewhere = enroll(Client(REMOTE_ADDR="10.0.0.4"), guest_body(course, "e3@example.com", None))
    assert elsewhere.status_code == 201


def test_rate_limits_off_means_unlimited(settings):
    settings.RATE_LIMITS = {}
    user = make_user()

    assert {login(user.email, "wrong-password").status_code for _ in range(12)} == {401}


# --- after-commit jobs ---------------------------------------------------------------


def enrolled(course=None, email: str = "learner@example.com") -> Enrollment:
    """An active enrollment whose after-commit jobs ran (enroll() runs the request's
    commit callbacks as it ends)."""
    course = course or make_course(modules=2, lessons_per_module=2)
    response = enroll(Client(), guest_body(course, email, None))
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active"
    return Enrollment.objects.select_related("course", "student").get(pk=response.json()["id"])


def welcome_mails(to: str) -> list:
    return [m for m in mail.outbox if m.to == [to] and m.subject.startswith("Welcome to")]


def test_activation_sends_one_multipart_welcome_email_even_when_run_twice():
    enrollment = enrolled()

    again = tasks.send_welcome_email.apply(args=[enrollment.pk])

    assert again.result == "skipped"
    [message] = welcome_mails("learner@example.com")
    assert message.subject == f"Welcome to {enrollment.course.title}"
    assert message.body.strip()
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "<" in html
    mime = message.message()
    assert mime.is_multipart()
    assert [part.get_content_type() for part in mime.get_payload()] == [
        "text/plain",
        "text/html",
    ]
    enrollment.refresh_from_db()
    assert enrollment.welcome_email_sent_at is not None


def test_course_access_creates_one_progress_row_per_lesson_however_often_it_runs():
    enrollment = enrolled()
    lessons = 4
    assert LessonProgress.objects.filter(enrollment=enrollment).count() == lessons

    assert tasks.process_course_access.apply(args=[enrollment.pk]).result == "skipped"
    # A run killed mid-way (late ack: the job is delivered again) left its lease, lapsed
    # by now, and no done mark: the redelivery does the work again.
    JobRun.objects.filter(key=f"enrollment.access_granted_at:{enrollment.pk}").update(
        done_at=None, lease_until=timezone.now() - timedelta(seconds=1)
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(access_granted_at=None)
    assert tasks.process_course_access.apply(args=[enrollment.pk]).result == "granted"

    rows = LessonProgress.objects.filter(enrollment=enrollment)
    assert rows.count() == lessons
    assert rows.values("lesson").distinct().count() == lessons


def test_each_instructor_is_emailed_once():
    first, second = make_instructor(), make_instructor()
    course = make_course(instructor=first)
    course.course_instructors.create(user=second, position=1)
    enrollment = enrolled(course)

    assert tasks.notify_instructors.apply(args=[enrollment.pk]).result == "skipped"

    notices = [m for m in mail.outbox if m.subject.startswith("New enrollment in")]
    recipients = [address for message in notices for address in message.to]
    assert sorted(recipients) == sorted([first.email, second.email])
    assert "learner@example.com" not in recipients


def test_jobs_do_nothing_for_an_enrollment_that_is_not_active():
    enrollment = enrolled()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status="cancelled", welcome_email_sent_at=None
    )
    mail.outbox.clear()

    assert tasks.send_welcome_email.apply(args=[enrollment.pk]).result == "skipped"
    assert mail.outbox == []


def test_a_failing_job_is_recorded_and_its_claim_released(settings):
    enrollment = enrolled()
    # As if the welcome email had not been sent yet.
    Enrollment.objects.filter(pk=enrollment.pk).update(welcome_email_sent_at=None)
    JobRun.objects.filter(key=f"enrollment.welcome_email_sent_at:{enrollment.pk}").delete()
    mail.outbox.clear()
    settings.EMAIL_BACKEND = EXPLODING

    result = tasks.send_welcome_email.apply(args=[enrollment.pk])

    assert result.failed()
    job = FailedJob.objects.get()
    assert job.task_name == "enrollment.tasks.send_welcome_email"
    assert job.args == [enrollment.pk] and job.kwargs == {}
    assert "RuntimeError" in job.exception and "misconfigured" in job.exception
    assert "RuntimeError" in job.traceback
    assert job.retried_at is None
    enrollment.refresh_from_db()
    assert enrollment.welcome_email_sent_at is None  # released for a later run
    run = JobRun.objects.get(key=f"enrollment.welcome_email_sent_at:{enrollment.pk}")
    assert run.done_at is None and run.lease_until is None

    settings.EMAIL_BACKEND = LOCMEM
    assert tasks.send_welcome_email.apply(args=[enrollment.pk]).result == "sent"
    assert len(welcome_mails("learner@example.com")) == 1


def test_jobs_failing_after_an_enrollment_do_not_undo_it(settings):
    settings.EMAIL_BACKEND = EXPLODING

    enrollment = enrolled()

    assert enrollment.status == "active"
    assert set(FailedJob.objects.values_list("task_name", flat=True)) == {
        "enrollment.tasks.send_welcome_email",
        "enrollment.tasks.notify_instructors",
    }
    enrollment.refresh_from_db()
    assert enrollment.welcome_email_sent_at is None
    assert enrollment.instructors_notified_at is None
    assert enrollment.access_granted_at is not None  # the job without email went through


def test_retrying_a_failed_job_runs_it_again(settings):
    settings.EMAIL_BACKEND = EXPLODING
    enrollment = enrolled()
    job = FailedJob.objects.get(task_name="enrollment.tasks.send_welcome_email")
    settings.EMAIL_BACKEND = LOCMEM

    assert failed_jobs_retry(jobs=[job]) == 1

    job.refresh_from_db()
    assert job.retried_at is not None
    [message] = welcome_mails("learner@example.com")
    assert enrollment.course.title in message.subject
    enrollment.refresh_from_db()
    assert enrollment.welcome_email_sent_at is not None


def test_the_failed_jobs_admin_lists_and_retries(settings):
    settings.EMAIL_BACKEND = EXPLODING
    enrollment = enrolled()
    job = FailedJob.objects.get(task_name="enrollment.tasks.send_welcome_email")
    settings.EMAIL_BACKEND = LOCMEM
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))

    page = admin.get("/admin/jobs/failedjob/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "enrollment.tasks.send_welcome_email" in content
    assert "enrollment.tasks.notify_instructors" in content
    assert "retry_jobs" in content

    answer = admin.post(
        "/admin/jobs/failedjob/",
        {"action": "retry_jobs", "_selected_action": [job.pk]},
    )

    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.retried_at is not None
    other = FailedJob.objects.get(task_name="enrollment.tasks.notify_instructors")
    assert other.retried_at is None  # only the selected job
    assert len(welcome_mails("learner@example.com")) == 1
    enrollment.refresh_from_db()
    assert enrollment.welcome_email_sent_at is not None


def test_the_failed_jobs_admin_is_closed_to_non_staff():
    client = Client()
    client.force_login(make_user())

    response = client.get("/admin/jobs/failedjob/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
