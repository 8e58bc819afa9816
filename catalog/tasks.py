"""Catalog jobs: keeping an external search index (Meilisearch) in step with the catalog,
and the waitlist's offers, emails and position announcements."""

from celery import shared_task

from catalog import cache as catalog_cache
from catalog import search, waitlist, waitlist_mail
from catalog.search import SearchUnavailable
from portal.jobs.base import TRANSIENT_ERRORS, PortalTask


@shared_task(base=PortalTask, autoretry_for=(*TRANSIENT_ERRORS, SearchUnavailable))
def search_index_courses(course_ids: list[int]) -> int:
    """Push these courses to the search index (queued after the change commits). The
    courses are re-read, so a late or repeated run pushes their current state."""
    search.index(course_ids)
    # Answers cached between the commit and now may have come from the older index.
    catalog_cache.invalidate_now([])
    return len(course_ids)


@shared_task(base=PortalTask, autoretry_for=(*TRANSIENT_ERRORS, SearchUnavailable))
def search_synonyms_push() -> int:
    """Give Meilisearch the synonyms table (queued after an edit commits; the table is
    re-read, so a late or repeated run pushes the current one)."""
    search.synonyms_push()
    # Answers cached between the commit and now may have used the older synonyms.
    catalog_cache.invalidate_now([])
    return 1


@shared_task(base=PortalTask)
def send_waitlist_offer_email(entry_id: int) -> str:
    return waitlist_mail.offer_email_send(entry_id=entry_id)


@shared_task(base=PortalTask)
def announce_waitlist_positions(course_id: int) -> int:
    """Queued by every change to a course's line."""
    return waitlist.positions_announce(course_id=course_id)


@shared_task(base=PortalTask)
def expire_waitlist_offers() -> int:
    return waitlist.offers_expire()
