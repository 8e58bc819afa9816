"""Search synonyms (catalog.models.Synonym): what a typed word also finds.

The database backends expand the query's terms when they search (catalog.search.query:
the term or any of its expansions); Meilisearch gets the whole table as its `synonyms`
setting. A change retires every cached search answer and, with Meilisearch configured,
queues a job that replaces its synonyms, both after commit.
"""

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction

from catalog import cache as catalog_cache
from catalog.models import Synonym
from catalog.search import text
from catalog.search.query import Phrase
from portal.enqueue import job_enqueue_on_commit


def synonym_expansions(words: Sequence[str]) -> dict[str, list[Phrase]]:
    """The expansions of these terms, as the words each one must match."""
    if not words:
        return {}
    # Raw SQL: every search runs this first, and the ORM would cost more than the query.
    terms = sorted(set(words))
    placeholders = ", ".join(["%s"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, expansion FROM {Synonym._meta.db_table}"  # noqa: S608 - placeholders
            f" WHERE term IN ({placeholders}) ORDER BY term, expansion",
            terms,
        )
        rows = cursor.fetchall()
    return expansions_from_rows(rows)


def expansions_from_rows(rows: Iterable[Sequence[str]]) -> dict[str, list[Phrase]]:
    """(term, expansion) rows, ordered, as synonym_expansions() answers them."""
    found: dict[str, list[Phrase]] = {}
    for term, expansion in rows:
        phrase = tuple(text.terms(expansion))
        if phrase:
            found.setdefault(term, []).append(phrase)
    return found


def meilisearch_synonyms() -> dict[str, list[str]]:
    """The table as Meilisearch's `synonyms` setting (one-way: the term finds its
    expansions), each side as the engines read it."""
    found: dict[str, list[str]] = {}
    for term, expansion in Synonym.objects.order_by("term", "expansion").values_list(
        "term", "expansion"
    ):
        phrase = text.normalized(expansion)
        if phrase and phrase != term:
            found.setdefault(term, []).append(phrase)
    return found


def synonyms_changed_on_commit() -> None:
    """What a change of the table owes once it commits: cached answers retired (they were
    searched with the old synonyms), Meilisearch's setting replaced."""
    catalog_cache.invalidate_on_commit([])
    if settings.MEILI_URL:
        job_enqueue_on_commit("catalog.tasks.search_synonyms_push")


@transaction.atomic
def synonym_save(*, synonym: Synonym) -> Synonym:
    synonym.term = synonym.term.strip().lower()
    synonym.expansion = " ".join(synonym.expansion.split())
    synonym.save()
    synonyms_changed_on_commit()
    return synonym


@transaction.atomic
def synonyms_delete(*, synonyms: Iterable[Synonym]) -> int:
    ids = [synonym.pk for synonym in synonyms]
    deleted, _ = Synonym.objects.filter(pk__in=ids).delete()
    synonyms_changed_on_commit()
    return deleted
