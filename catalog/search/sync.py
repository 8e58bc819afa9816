"""Keeping the search index in step with catalog writes, after they commit."""

from collections.abc import Iterable

from django.conf import settings

from portal.enqueue import job_enqueue_on_commit


def index_on_commit(course_ids: Iterable[int]) -> None:
    """Queue a search index update for these courses once the transaction commits.

    The database backends need nothing: their generated column (PostgreSQL) and triggers
    (SQLite) change with the rows, visible at commit. Meilisearch is fed by a job, owed through
    the outbox; a rolled-back transaction queues none.
    """
    if not settings.MEILI_URL:
        return
    job_enqueue_on_commit("catalog.tasks.search_index_courses", sorted(set(course_ids)))
