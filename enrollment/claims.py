"""Guest purchases join an account once its owner has verified the address they were
made with (registered as an accounts hook: it runs in the transaction that verifies the
address, by the verification link, a password reset or a guest's claim link).

Each guest record with that address hands its enrollments to the account's own record,
and each live one is announced to the account's open tabs (`enrollment.status`, which
the dashboard adds live). A course the account already holds would be held twice: that
duplicate purchase stays behind and is ended by a job after commit (a paid one refunded
through the gateway, outside any transaction), then joins as ended."""

import structlog
from django.db import transaction

from enrollment import notify, services
from enrollment.models import LIVE_STATUSES, Enrollment, Student
from portal.accounts.models import User
from portal.enqueue import job_enqueue_on_commit

log = structlog.get_logger(__name__)


def own_record(user: User) -> Student:
    record, _ = Student.objects.get_or_create(
        user=user, defaults={"email": user.email.lower(), "name": user.name}
    )
    return record


def guest_enrollments_join(*, user_id: int) -> int:
    """Join the guest purchases made with the account's (now verified) address; returns
    how many joined now."""
    user = User.objects.get(pk=user_id)
    # The account's own record follows its (perhaps just changed) verified address.
    Student.objects.filter(user=user).update(email=user.email.lower())
    guests = list(Student.objects.filter(user__isnull=True, email__iexact=user.email))
    if not guests:
        return 0
    own = own_record(user)
    held = set(
        Enrollment.objects.filter(student=own, status__in=LIVE_STATUSES).values_list(
            "course_id", flat=True
        )
    )
    joined = 0
    for enrollment in Enrollment.objects.filter(student__in=guests).order_by("created_at", "id"):
        live = enrollment.status in LIVE_STATUSES
        if live and enrollment.course_id in held:
            job_enqueue_on_commit("enrollment.tasks.end_duplicate_purchase", enrollment.pk, user.pk)
            continue
        Enrollment.objects.filter(pk=enrollment.pk).update(student=own)
        if live:
            held.add(enrollment.course_id)
            enrollment.student = own
            notify.publish_status(enrollment)
        joined += 1
    Student.objects.filter(pk__in=[g.pk for g in guests], enrollments__isnull=True).delete()
    log.info("claims.guest_purchases_joined", user=user.pk, joined=joined)
    return joined


def duplicate_purchase_end(*, enrollment_id: int, user_id: int) -> str:
    """A guest purchase of a course the account already held: ended (refunded if paid,
    whatever the refund rule: it was bought twice by mistake), then joined as ended."""
    enrollment = Enrollment.objects.select_related("student").get(pk=enrollment_id)
    if enrollment.student.user_id is not None:
        return "already_joined"
    if enrollment.status in LIVE_STATUSES:
        services.enrollment_cancel(enrollment=enrollment, outside_policy=True)
    with transaction.atomic():
        own = own_record(User.objects.get(pk=user_id))
        Enrollment.objects.filter(pk=enrollment_id).update(student=own)
    return "ended"
