"""Jobs queued after an enrollment commits. Each takes ids, re-reads state and claims its
work with a conditional UPDATE, so running it twice does the work once."""

from datetime import timedelta

import structlog
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.models import CourseInstructor, Lesson
from enrollment import transitions
from enrollment.models import Enrollment, EnrollmentStatus, LessonProgress
from portal.jobs.base import PortalTask

log = structlog.get_logger(__name__)


def _claim(enrollment_id: int, field: str) -> bool:
    """Mark the job's work as started; False if another run got there first."""
    return bool(
        Enrollment.objects.filter(
            pk=enrollment_id, status=EnrollmentStatus.ACTIVE, **{f"{field}__isnull": True}
        ).update(**{field: timezone.now()})
    )


def _unclaim(enrollment_id: int, field: str) -> None:
    Enrollment.objects.filter(pk=enrollment_id).update(**{field: None})


def _send(*, to: list[str], subject: str, template: str, context: dict) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"enrollment/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(
        render_to_string(f"enrollment/email/{template}.html", context), "text/html"
    )
    message.send()


@shared_task(base=PortalTask)
def send_welcome_email(enrollment_id: int) -> str:
    if not _claim(enrollment_id, "welcome_email_sent_at"):
        return "skipped"
    enrollment = Enrollment.objects.select_related("student", "course").get(pk=enrollment_id)
    try:
        _send(
            to=[enrollment.student.email],
            subject=f"Welcome to {enrollment.course.title}",
            template="welcome",
            context={"enrollment": enrollment, "site_url": settings.SITE_URL},
        )
    except Exception:
        _unclaim(enrollment_id, "welcome_email_sent_at")  # let the retry send it
        raise
    log.info("email.welcome_sent", enrollment=enrollment.number)
    return "sent"


@shared_task(base=PortalTask)
def process_course_access(enrollment_id: int) -> str:
    """Open the course to the student: a progress row per lesson, ready to be resumed."""
    if not _claim(enrollment_id, "access_granted_at"):
        return "skipped"
    try:
        enrollment = Enrollment.objects.get(pk=enrollment_id)
        lesson_ids = Lesson.objects.filter(module__course_id=enrollment.course_id).values_list(
            "id", flat=True
        )
        LessonProgress.objects.bulk_create(
            [
                LessonProgress(enrollment_id=enrollment_id, lesson_id=lesson)
                for lesson in lesson_ids
            ],
            ignore_conflicts=True,
        )
    except Exception:
        _unclaim(enrollment_id, "access_granted_at")  # let the retry grant it
        raise
    return "granted"


@shared_task(base=PortalTask)
def notify_instructors(enrollment_id: int) -> str:
    """Email each instructor of the course (their live feed got `enrollment.created`)."""
    if not _claim(enrollment_id, "instructors_notified_at"):
        return "skipped"
    enrollment = Enrollment.objects.select_related("student", "course").get(pk=enrollment_id)
    recipients = list(
        CourseInstructor.objects.filter(course_id=enrollment.course_id).values_list(
            "user__email", flat=True
        )
    )
    try:
        if recipients:
            _send(
                to=recipients,
                subject=f"New enrollment in {enrollment.course.title}",
                template="instructor_notice",
                context={"enrollment": enrollment, "site_url": settings.SITE_URL},
            )
    except Exception:
        _unclaim(enrollment_id, "instructors_notified_at")
        raise
    return "notified"


@shared_task(base=PortalTask)
def refund_orphan_payment(payment_id: int) -> str:
    """Refund money that arrived for an enrollment that could not be kept."""
    return transitions.refund_orphan(payment_id=payment_id)


@shared_task(base=PortalTask)
def reconcile_payments() -> dict[str, int]:
    from enrollment.reconcile import payments_reconcile

    return payments_reconcile(
        older_than=timedelta(seconds=settings.RECONCILE_AFTER_SECONDS),
        abandon_after=timedelta(hours=settings.RECONCILE_ABANDON_HOURS),
    )


@shared_task(base=PortalTask)
def prune_idempotency_keys() -> int:
    from enrollment.idempotency import idempotency_prune

    return idempotency_prune()
