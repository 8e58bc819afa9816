"""Jobs are queued after commit, never before, on their own queues — checked in the real
Redis broker, and once end to end with a real Celery worker and a local SMTP server."""

import base64
import json
import os
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
from enrollment.models import Enrollment
from portal.celery import app
from portal.events.models import UserEvent
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course
from tests.faults.stack import QUEUES, WORKER_COMMAND

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


def test_a_committed_enrollment_queues_exactly_three_jobs_on_three_queues(broker):
    course = make_course(price="0.00")
    response = enroll(Client(), guest_body(course, "q@example.com", None))
    assert response.status_code == 201
    enrollment_id = response.json()["id"]
    assert queued(broker) == {
        "emails": [("enrollment.tasks.send_welcome_email", [enrollment_id])],
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


# The worker is another process: it reads the enrollment only once it is committed.
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_welcome_email_over_smtp(broker):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
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
    }
    worker = subprocess.Popen(
        WORKER_COMMAND,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        course = make_course(price="49.00", title="Queue Theory")
        response = enroll(Client(), guest_body(course, "mail-me@example.com"))
        assert response.status_code == 201
        enrollment_id = response.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = Enrollment.objects.filter(
                pk=enrollment_id,
                welcome_email_sent_at__isnull=False,
                access_granted_at__isnull=False,
                instructors_notified_at__isnull=False,
            ).exists()
            if done and len(inbox.messages) >= 2:
                break
            time.sleep(0.2)
        assert worker.poll() is None, worker.stdout.read().decode()
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode()
        smtp.stop()
    welcome = [m for rcpt, m in inbox.messages if rcpt == ["mail-me@example.com"]]
    assert len(welcome) == 1, (inbox.messages, output)
    message = message_from_bytes(welcome[0])
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
    assert queued(broker) == {queue: [] for queue in QUEUES}  # all consumed
