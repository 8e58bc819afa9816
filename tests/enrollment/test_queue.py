"""Jobs are queued after commit, never before, on their own queues — checked in the real
Redis broker, and end to end with a real Celery worker and a local SMTP server (the
welcome email; an instructor's announcement in batches, and its unsubscribe link)."""

import base64
import json
import os
import re
import socket
import subprocess
import time
from email import message_from_bytes
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client

from enrollment import services
from enrollment.models import Enrollment, Receipt
from instructor.models import Announcement, AnnouncementOptOut
from portal.celery import app
from portal.events.models import UserEvent
from portal.jobs.models import JobRun
from tests.conftest import client_for
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course, make_instructor
from tests.faults.stack import QUEUES, WORKER_COMMAND
from tests.instructor.helpers import make_enrollment, make_student

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker():
    """The real Redis broker, emptied, with eager execution switched off."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    # Only the queues' messages: kombu's binding keys must outlive the test (the producer
    # declares them once per process).
    client.delete(*QUEUES)
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = True
    client.delete(*QUEUES)


def queued(client: redis.Redis) -> dict[str, list[tuple[str, list]]]:
    """Per queue: (task name, args) of each waiting message."""
    found: dict[str, list[tuple[str, list]]] = {}
    for queue in QUEUES:
        messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
        found[queue] = [
            (m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages
        ]
    return found


def run_queued_followups(client: redis.Redis) -> None:
    """Take the activation's one message off `emails` and run it, as a worker would."""
    message = json.loads(client.rpop("emails"))
    assert message["headers"]["task"] == "enrollment.tasks.queue_activation_followups"
    app.tasks["enrollment.tasks.queue_activation_followups"].apply(
        args=json.loads(base64.b64decode(message["body"]))[0]
    )


@pytest.mark.parametrize(
    ("price", "paid_jobs"), [("0.00", []), ("20.00", ["enrollment.tasks.send_receipt_email"])]
)
def test_a_committed_enrollment_queues_one_job_that_queues_its_followups(broker, price, paid_jobs):
    course = make_course(price=price)
    card = "pm_card_visa" if paid_jobs else None
    response = enroll(Client(), guest_body(course, "q@example.com", card))
    assert response.status_code == 201
    enrollment_id = response.json()["id"]
    # The request published one message; the follow-ups are the worker's to queue.
    assert queued(broker) == {
        "emails": [("enrollment.tasks.queue_activation_followups", [enrollment_id])],
        "default": [],
        "notifications": [],
    }
    run_queued_followups(broker)
    assert queued(broker) == {
        "emails": [
            *[(name, [enrollment_id]) for name in paid_jobs],
            ("enrollment.tasks.send_welcome_email", [enrollment_id]),
        ],
        "default": [("enrollment.tasks.process_course_access", [enrollment_id])],
        "notifications": [("enrollment.tasks.notify_instructors", [enrollment_id])],
    }


def test_a_rolled_back_transaction_queues_nothing_and_leaves_no_event(
    broker, instructor, django_capture_on_commit_callbacks
):
    course = make_course(price="0.00", instructor=instructor)

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        enrollment = services.enrollment_create(
            course=course,
            student=services.StudentInput(email="r@example.com", name="R"),
            user=None,
            payment_method=None,
        )
        assert enrollment.status == "active"  # it got all the way, inside the transaction
        raise Abort
    assert callbacks == []
    assert queued(broker) == {queue: [] for queue in QUEUES}
    assert not Enrollment.objects.exists()
    assert not UserEvent.objects.exists()
    course.refresh_from_db()
    assert course.seats_taken == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def mail_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker on every queue, reading the test database, and the local SMTP
    server it delivers to: (inbox, worker, its log file)."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with django_db_blocker.unblock():
        database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{database['USER']}:{database['PASSWORD']}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "ANNOUNCEMENT_BATCH_SIZE": "2",  # three students: two jobs, the first queues the next
    }
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(WORKER_COMMAND, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        yield inbox, worker, log_path
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        smtp.stop()


def wait_for(condition, worker, log_path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert worker.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{what}: {log_path.read_text()[-3000:]}"
        time.sleep(0.2)


def mails_to(inbox: Inbox, address: str) -> list:
    return [message_from_bytes(m) for rcpt, m in inbox.messages if rcpt == [address]]


# The worker is another process: it reads the enrollment only once it is committed.
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_welcome_email_and_the_receipt_over_smtp(broker, mail_worker):
    inbox, worker, log_path = mail_worker
    course = make_course(price="49.00", title="Queue Theory")
    response = enroll(Client(), guest_body(course, "mail-me@example.com"))
    assert response.status_code == 201
    enrollment_id = response.json()["id"]
    wait_for(
        lambda: (
            Enrollment.objects.filter(
                pk=enrollment_id,
                welcome_email_sent_at__isnull=False,
                access_granted_at__isnull=False,
                instructors_notified_at__isnull=False,
                receipt__emailed_at__isnull=False,
            ).exists()
            and len(mails_to(inbox, "mail-me@example.com")) >= 2
        ),
        worker,
        log_path,
        "the enrollment's four jobs",
    )
    mails = mails_to(inbox, "mail-me@example.com")
    subjects = sorted(message["Subject"] for message in mails)
    number = Receipt.objects.get(enrollment_id=enrollment_id).number
    assert subjects == ["Welcome to Queue Theory", f"Your receipt {number} for Queue Theory"]
    receipt = next(m for m in mails if m["Subject"].startswith("Your receipt"))
    plain = next(
        part.get_payload(decode=True).decode()
        for part in receipt.walk()
        if part.get_content_type() == "text/plain"
    )
    assert number in plain and f"49.00 {course.currency.upper()}" in plain
    welcome = [m for m in mails if m["Subject"].startswith("Welcome")]
    message = welcome[0]
    assert message["Subject"] == "Welcome to Queue Theory"
    assert message.get_content_type() == "multipart/alternative"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert (
        "Queue Theory" in parts["text/plain"]
        and "<strong>Queue Theory</strong>" in parts["text/html"]
    )
    # All of its jobs consumed. (Only its own: another module's real worker may share this
    # broker while a test of it runs in between on this xdist worker.)
    assert [
        (queue, name)
        for queue, messages in queued(broker).items()
        for name, args in messages
        if args == [enrollment_id]
    ] == []


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_an_announcement_in_batches_and_its_link_unsubscribes(
    broker, mail_worker
):
    """Queued on `notifications`, one job per batch (each queues the next), delivered over
    SMTP; the mail's link opts the student out, and the next announcement skips them."""
    inbox, worker, log_path = mail_worker
    teacher = make_instructor()
    course = make_course(title="Batch Theory", instructor=teacher)
    students = [make_student(email=f"batch{n}@example.test") for n in range(3)]
    for student in students:
        make_enrollment(course, student=student)
    body = {"subject": "Office hours", "body": "Thursday at five."}

    answer = client_for(teacher).post(
        f"/api/courses/{course.slug}/announcements", body, format="json"
    )
    assert answer.status_code == 202, answer.content
    announcement_id = answer.json()["id"]
    wait_for(
        lambda: Announcement.objects.filter(pk=announcement_id, status="sent").exists(),
        worker,
        log_path,
        "the announcement",
    )
    assert Announcement.objects.get(pk=announcement_id).sent == 3
    runs = JobRun.objects.filter(key__startswith=f"announcement:{announcement_id}:")
    assert runs.count() == 2  # the worker's batch size, not this process's
    first = mails_to(inbox, "batch0@example.test")
    assert [m["Subject"] for m in first] == ["[Batch Theory] Office hours"]
    assert all(len(mails_to(inbox, s.email)) == 1 for s in students)
    link = re.search(r"http://\S+/unsubscribe/(\S+)", first[0].get_payload(decode=True).decode())
    unfolded = " ".join(str(first[0]["List-Unsubscribe"]).split())  # SMTP folds long headers
    assert link and unfolded == f"<{link.group(0)}>"

    assert Client().post(f"/unsubscribe/{link.group(1)}").status_code == 200
    assert AnnouncementOptOut.objects.filter(course=course, student=students[0]).exists()

    second = client_for(teacher).post(
        f"/api/courses/{course.slug}/announcements", {**body, "subject": "Moved"}, format="json"
    )
    assert second.status_code == 202 and second.json()["recipients"] == 2
    wait_for(
        lambda: Announcement.objects.filter(pk=second.json()["id"], status="sent").exists(),
        worker,
        log_path,
        "the second announcement",
    )
    assert [m["Subject"] for m in mails_to(inbox, "batch0@example.test")] == [
        "[Batch Theory] Office hours"
    ]
    assert [m["Subject"] for m in mails_to(inbox, "batch1@example.test")][-1] == (
        "[Batch Theory] Moved"
    )
    # Every batch consumed (another module's jobs may share the broker meanwhile).
    assert not [
        name
        for messages in queued(broker).values()
        for name, _args in messages
        if name == "instructor.tasks.send_announcement_batch"
    ]
