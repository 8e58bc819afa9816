"""The enrollment's background jobs: thin wrappers over services. Each takes ids, and
running it twice does its work once (see enrollment.followups)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from enrollment import checkout, claims, followups, services, transitions
from enrollment.reconcile import enrollments_pending_sweep, payments_reconcile
from portal.jobs.base import PortalTask


@shared_task(base=PortalTask)
def queue_activation_followups(enrollment_id: int) -> list[str]:
    """The one job an activation queues (on `emails`: the welcome email waits for it)."""
    return followups.activation_followups_queue(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def send_welcome_email(enrollment_id: int) -> str:
    return followups.welcome_email_send(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def process_course_access(enrollment_id: int) -> str:
    return followups.course_access_grant(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def notify_instructors(enrollment_id: int) -> str:
    return followups.instructors_notify(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def send_receipt_email(enrollment_id: int) -> str:
    return followups.receipt_email_send(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def complete_finished_enrollments(course_id: int) -> int:
    """Queued by the catalog when lessons are deleted."""
    return services.finished_enrollments_complete(course_id=course_id)


@shared_task(base=PortalTask)
def refund_orphan_payment(payment_id: int) -> str:
    """Refund money that arrived for an enrollment that could not be kept."""
    return transitions.refund_orphan(payment_id=payment_id)


@shared_task(base=PortalTask)
def reconcile_payments() -> dict[str, int]:
    return payments_reconcile(
        older_than=timedelta(seconds=settings.RECONCILE_AFTER_SECONDS),
        abandon_after=timedelta(hours=settings.RECONCILE_ABANDON_HOURS),
    )


@shared_task(base=PortalTask)
def sweep_pending_enrollments() -> int:
    return enrollments_pending_sweep(
        older_than=timedelta(seconds=settings.PENDING_SWEEP_AFTER_SECONDS)
    )


@shared_task(base=PortalTask)
def expire_checkout_holds() -> int:
    return checkout.checkout_holds_expire()


@shared_task(base=PortalTask)
def cancel_gateway_charge(payment_id: int) -> str:
    """Queued when a checkout expires or is cancelled with a charge still open."""
    return checkout.gateway_charge_cancel(payment_id=payment_id)


@shared_task(base=PortalTask)
def send_payment_reminder(enrollment_id: int) -> str:
    return followups.payment_reminder_send(enrollment_id=enrollment_id)


@shared_task(base=PortalTask)
def end_duplicate_purchase(enrollment_id: int, user_id: int) -> str:
    """Queued when guest purchases join an account that already held the course."""
    return claims.duplicate_purchase_end(enrollment_id=enrollment_id, user_id=user_id)
