"""Email jobs build one-line subjects whatever a course title holds (titles written before
authoring refused line breaks, or through the admin)."""

import pytest
from django.core import mail
from django.test import Client

from portal.jobs.models import FailedJob
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_a_title_with_line_breaks_still_gets_its_emails_sent():
    course = make_course(title="Python\r\nBcc: everyone@example.com\nfor all")

    response = enroll(Client(), guest_body(course, "learner@example.com", None))

    assert response.status_code == 201, response.json()
    assert FailedJob.objects.count() == 0
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        "New enrollment in Python Bcc: everyone@example.com for all",
        "Welcome to Python Bcc: everyone@example.com for all",
    ]
    # Nothing in the title became a header of its own.
    assert all(message.recipients() == message.to for message in mail.outbox)
    assert not any("everyone@example.com" in message.recipients() for message in mail.outbox)
