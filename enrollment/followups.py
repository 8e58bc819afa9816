"""What an activation owes once it has committed: the welcome email, access to the
course's lessons, the instructors' email, and the receipt's email when it sold something.
The activation queues one job (`queue_activation_followups`), which queues these, each on
its own queue: the request publishes one message, the worker the rest. Each is done once
per enrollment in effect (portal.jobs.once: leased, marked done only after it succeeded,
the enrollment's `*_at` column set for the record). Run by the jobs in enrollment.tasks."""

from collections.abc import Callable

import structlog
from django.conf import settings
from django.utils import timezone

from catalog.models import CourseInstructor, Lesson
from enrollment.models import ACCESS_STATUSES, LIVE_STATUSES, Enrollment, LessonProgress, Receipt
from enrollment.transitions import AFTER_ACTIVATION_JOBS
from portal.accounts.tokens import claim_token_make
from portal.enqueue import job_send
from portal.jobs.once import job_run_once
from portal.mail import templated_mail_send

log = structlog.get_logger(__name__)


def _claimed(enrollment_id: int, field: str, work: Callable[[], str]) -> str:
    """Run `work` once per enrollment, and only while it gives access (active or completed):
    "skipped" if it was done before (or the enrollment ended). Done is marked only after `work` succeeded
    (portal.jobs.once), so a run killed mid-way is done again by the redelivery."""
    owed = Enrollment.objects.filter(
        pk=enrollment_id, status__in=ACCESS_STATUSES, **{f"{field}__isnull": True}
    )
    if not owed.exists():
        return "skipped"

    def then() -> str:
        result = work()
        Enrollment.objects.filter(pk=enrollment_id).update(**{field: timezone.now()})
        return result

    return job_run_once(f"enrollment.{field}:{enrollment_id}", then)


def activation_followups_queue(*, enrollment_id: int) -> list[str]:
    """Queue the activation's follow-up jobs. A failure raises (the job is retried, and
    what was queued before it is queued again: each follow-up does its work once)."""
    names = list(AFTER_ACTIVATION_JOBS)
    if Receipt.objects.filter(enrollment_id=enrollment_id).exists():
        names.append("enrollment.tasks.send_receipt_email")
    for name in names:
        job_send(name, enrollment_id)
    return names


def _send(*, to: list[str], subject: str, template: str, context: dict) -> None:
    templated_mail_send(
        to=to, subject=subject, template=f"enrollment/email/{template}", context=context
    )


def welcome_email_send(*, enrollment_id: int) -> str:
    def work() -> str:
        enrollment = Enrollment.objects.select_related("student", "course").get(pk=enrollment_id)
        context = {"enrollment": enrollment, "site_url": settings.SITE_URL, "claim_url": ""}
        if enrollment.student.user_id is None:  # a guest: the way to the course is an account
            token = claim_token_make(email=enrollment.student.email)
            context["claim_url"] = f"{settings.SITE_URL}/claim?token={token}"
        _send(
            to=[enrollment.student.email],
            subject=f"Welcome to {enrollment.course.title}",
            template="welcome",
            context=context,
        )
        log.info("email.welcome_sent", enrollment=enrollment.number)
        return "sent"

    return _claimed(enrollment_id, "welcome_email_sent_at", work)


def course_access_grant(*, enrollment_id: int) -> str:
    """Open the course to the student: a progress row per lesson, ready to be resumed."""

    def work() -> str:
        course_id = Enrollment.objects.values_list("course_id", flat=True).get(pk=enrollment_id)
        lesson_ids = Lesson.objects.filter(module__course_id=course_id).values_list("id", flat=True)
        LessonProgress.objects.bulk_create(
            [
                LessonProgress(enrollment_id=enrollment_id, lesson_id=lesson)
                for lesson in lesson_ids
            ],
            ignore_conflicts=True,
        )
        return "granted"

    return _claimed(enrollment_id, "access_granted_at", work)


def instructors_notify(*, enrollment_id: int) -> str:
    """Email each instructor of the course (their live feed got `enrollment.created`)."""

    def work() -> str:
        enrollment = Enrollment.objects.select_related("student", "course").get(pk=enrollment_id)
        recipients = list(
            CourseInstructor.objects.filter(course_id=enrollment.course_id).values_list(
                "user__email", flat=True
            )
        )
        if recipients:
            _send(
                to=recipients,
                subject=f"New enrollment in {enrollment.course.title}",
                template="instructor_notice",
                context={"enrollment": enrollment, "site_url": settings.SITE_URL},
            )
        return "notified"

    return _claimed(enrollment_id, "instructors_notified_at", work)


def receipt_email_send(*, enrollment_id: int) -> str:
    """The buyer's copy of the receipt, once (also after the enrollment ended: a refund
    does not unmake the sale)."""
    receipt = Receipt.objects.filter(enrollment_id=enrollment_id, emailed_at__isnull=True).first()
    if receipt is None:
        return "skipped"

    def work() -> str:
        _send(
            to=[receipt.student_email],
            subject=f"Your receipt {receipt.number} for {receipt.course_title}",
            template="receipt",
            context={"receipt": receipt, "site_url": settings.SITE_URL},
        )
        Receipt.objects.filter(pk=receipt.pk).update(emailed_at=timezone.now())
        log.info("email.receipt_sent", receipt=receipt.number)
        return "sent"

    return job_run_once(f"enrollment.receipt_emailed_at:{enrollment_id}", work)


def payment_reminder_send(*, enrollment_id: int) -> str:
    """One reminder to a buyer whose checkout expired, with a link back to the course;
    none if they have enrolled in it again meanwhile (the reminder is then moot)."""
    enrollment = (
        Enrollment.objects.select_related("student", "course")
        .filter(pk=enrollment_id, end_reason="expired", reminder_sent_at__isnull=True)
        .first()
    )
    if enrollment is None:
        return "skipped"
    back = Enrollment.objects.filter(
        student_id=enrollment.student_id, course_id=enrollment.course_id, status__in=LIVE_STATUSES
    ).exists()

    def work() -> str:
        if not back:
            _send(
                to=[enrollment.student.email],
                subject=f"Your seat in {enrollment.course.title} is waiting",
                template="payment_reminder",
                context={"enrollment": enrollment, "site_url": settings.SITE_URL},
            )
            log.info("email.payment_reminder_sent", enrollment=enrollment.number)
        Enrollment.objects.filter(pk=enrollment_id).update(reminder_sent_at=timezone.now())
        return "enrolled_again" if back else "sent"

    return job_run_once(f"enrollment.reminder_sent_at:{enrollment_id}", work)
