"""Catalog jobs: keeping an external search index (Meilisearch) in step with the catalog."""

from celery import shared_task

from catalog import cache as catalog_cache
from catalog import search
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
