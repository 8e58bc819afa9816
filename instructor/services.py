"""Announcements: queued by the instructor's request, sent by jobs in batches.

`announcement_create` writes the row and owes the first batch's job through the outbox (a
rolled-back request queues nothing, a broker outage delays it). Each batch job
(`announcement_batch_send`) mails up to ANNOUNCEMENT_BATCH_SIZE recipients after its
cursor and then owes the next batch, so a course of 50,000 students is many short jobs on
the `notifications` queue, not one long one. A batch is done once (portal.jobs.once); a
retried batch resumes after the last student it mailed (the announcement's cursor)."""

import structlog
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.models import Course
from instructor import selectors
from instructor.models import Announcement, AnnouncementStatus
from instructor.unsubscribe import unsubscribe_url
from portal.accounts.models import User
from portal.enqueue import job_enqueue_on_commit
from portal.jobs.once import job_run_once
from portal.mail import header_safe

log = structlog.get_logger(__name__)
BATCH_JOB = "instructor.tasks.send_announcement_batch"


@transaction.atomic
def announcement_create(*, course: Course, author: User, subject: str, body: str) -> Announcement:
    recipients = selectors.announcement_recipients(course_id=course.id).count()
    announcement = Announcement.objects.create(
        course=course, author=author, subject=subject, body=body, recipients=recipients
    )
    job_enqueue_on_commit(BATCH_JOB, announcement.pk, 0)
    log.info("announcement.queued", announcement=announcement.pk, recipients=recipients)
    return announcement


def _message(announcement: Announcement, *, student_id: int, email: str, name: str):
    link = unsubscribe_url(student_id=student_id, course_id=announcement.course_id)
    text = render_to_string(
        "instructor/email/announcement.txt",
        {"announcement": announcement, "name": name, "unsubscribe_url": link},
    )
    return EmailMessage(
        subject=header_safe(f"[{announcement.course.title}] {announcement.subject}"),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        # RFC 2369 and RFC 8058: mail clients show "Unsubscribe" and POST to the link.
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def announcement_batch_send(*, announcement_id: int, after_student_id: int) -> str:
    """Mail the batch of recipients after `after_student_id`, then owe the next batch (or
    mark the announcement sent). Done once per (announcement, batch)."""
    size = settings.ANNOUNCEMENT_BATCH_SIZE

    def work() -> str:
        announcement = Announcement.objects.select_related("course", "author").get(
            pk=announcement_id
        )
        batch = list(
            selectors.announcement_recipients(
                course_id=announcement.course_id, after_student_id=after_student_id
            )[:size]
        )
        Announcement.objects.filter(pk=announcement_id, status=AnnouncementStatus.QUEUED).update(
            status=AnnouncementStatus.SENDING
        )
        todo = [row for row in batch if row[0] > announcement.cursor]
        if todo:
            with get_connection() as connection:
                for student_id, email, name in todo:
                    message = _message(announcement, student_id=student_id, email=email, name=name)
                    connection.send_messages([message])
                    # A retry after a failure further on starts after this student.
                    Announcement.objects.filter(pk=announcement_id).update(
                        cursor=student_id, sent=F("sent") + 1
                    )
        if len(batch) == size:
            job_enqueue_on_commit(BATCH_JOB, announcement_id, batch[-1][0])
            return f"sent {len(todo)}, more to come"
        Announcement.objects.filter(pk=announcement_id).update(
            status=AnnouncementStatus.SENT, finished_at=timezone.now()
        )
        log.info("announcement.sent", announcement=announcement_id)
        return f"sent {len(todo)}, done"

    return job_run_once(f"announcement:{announcement_id}:{after_student_id}", work)
