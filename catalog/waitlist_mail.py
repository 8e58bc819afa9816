"""The email of a waitlist offer (the `emails` queue): sent once per offer, and only
while the offer stands (an offer used or expired before the job ran needs none)."""

import structlog
from django.conf import settings
from django.utils import timezone

from catalog.models import WaitlistEntry, WaitlistStatus
from portal.jobs.once import job_run_once
from portal.mail import templated_mail_send

log = structlog.get_logger(__name__)


def offer_email_send(*, entry_id: int) -> str:
    entry = (
        WaitlistEntry.objects.select_related("user", "course")
        .filter(pk=entry_id, status=WaitlistStatus.OFFERED, offer_email_sent_at__isnull=True)
        .first()
    )
    if entry is None:
        return "skipped"

    def work() -> str:
        templated_mail_send(
            to=[entry.user.email],
            subject=f"A seat in {entry.course.title} is yours for now",
            template="catalog/email/waitlist_offer",
            context={
                "entry": entry,
                "expires": entry.offer_expires_at,
                "minutes": round(settings.WAITLIST_OFFER_MINUTES),
                "site_url": settings.SITE_URL,
            },
        )
        WaitlistEntry.objects.filter(pk=entry_id).update(offer_email_sent_at=timezone.now())
        log.info("email.waitlist_offer_sent", entry=entry_id)
        return "sent"

    return job_run_once(f"catalog.waitlist_offer_email:{entry_id}", work)
