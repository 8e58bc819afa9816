"""SQLite FTS5 search for the embedded default (catalog.search.ddl: an FTS5 table over
title, summary, description and the rest — category, level, instructors' names, module and
lesson titles — kept in step by triggers).

The same rules as the PostgreSQL backend where SQLite allows:
- every term must match, the last as a prefix (`"pyth"*`); a last term shorter than three
  characters matches titles only; each term is quoted, so no FTS5 syntax gets through;
- tiers by the columns that hold every term: (1) the title, (2) title and summary,
  (3) … and description, (4) anywhere; within a tier by popularity (enrollments, rating),
  then id;
- typos: when fewer than FEW_HITS courses match, each unknown term of four or more letters
  is corrected to the closest word (one edit, two from eight letters, a swap of neighbours
  counting as one) among the indexed words (but descriptions') that start with the same
  letter (read from the fts5vocab table), and the query runs again with
  "term OR correction". SQLite has no trigram similarity, so there is no third tier;
  a typo in the first letter is not corrected.
- highlights from FTS5's highlight() with sentinels, escaped like every backend's.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection, connections, transaction
from django.db.migrations.recorder import MigrationRecorder

from catalog.search import ddl, text
from catalog.search.hits import (
    POPULAR_ORDER,
    Marked,
    facet_dict,
    filter_sql,
    hydrate,
    popular_page,
    sort_order,
)
from catalog.search.query import Position
from catalog.search.query import positions as query_positions
from catalog.search.synonyms import synonym_expansions
from catalog.search.types import RELEVANCE, Progress, SearchBackend, SearchFilters, SearchResult

FEW_HITS = 5
# Ranking tiers (as on PostgreSQL): every term within these columns; 4 is anywhere.
TIER_COLUMNS = {1: "title", 2: "title summary", 3: "title summary description"}
ORDER = f"tier, {POPULAR_ORDER}"
FTS = ddl.SQLITE_FTS


def _quoted(term: str, *, prefix: bool) -> str:
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def _match(positions: Sequence[Position], *, titles_only: bool = True) -> str:
    """An FTS5 expression: positions ANDed, their alternatives ORed, the words of an
    alternative ANDed; a short prefix in titles only (unless `titles_only` is off)."""
    parts = []
    for position in positions:
        alternatives = []
        for option in position:
            quoted = [
                _quoted(word, prefix=option.prefix and number == len(option.words))
                for number, word in enumerate(option.words, start=1)
            ]
            expression = quoted[0] if len(quoted) == 1 else "(" + " AND ".join(quoted) + ")"
            if titles_only and option.titles_only:
                expression = "{title} : " + expression
            alternatives.append(expression)
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    return " AND ".join(parts)


class SqliteBackend(SearchBackend):
    engine = "sqlite"

    def search(
        self, *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
    ) -> SearchResult:
        words = text.terms(query)
        corrected: tuple[str, ...] = ()
        suggestion = None
        page = (filters, limit, offset, sort)
        with connection.cursor() as cursor:
            if not words:
                total, facets, ids = self._popular(cursor, *page)
                marked: dict[int, Marked] = {}
            else:
                synonyms = synonym_expansions(words)
                positions = query_positions(words, synonyms=synonyms)
                total, facets, ids, marked = self._run(cursor, positions, *page)
                if total < FEW_HITS and any(fixes := self.corrections(cursor, words)):
                    positions = query_positions(words, fixes=fixes, synonyms=synonyms)
                    corrected = text.corrections_made(words, fixes)
                    suggestion = text.suggested_query(words, fixes)
                    total, facets, ids, marked = self._run(cursor, positions, *page)
        return SearchResult(
            query=query,
            hits=hydrate(ids, marked),
            total=total,
            facets=facets,
            took_ms=0.0,
            engine=self.engine,
            suggestion=suggestion,
            corrected=corrected,
        )

    def _run(
        self,
        cursor,
        positions: tuple[Position, ...],
        filters: SearchFilters,
        limit: int,
        offset: int,
        sort: str,
    ) -> tuple[int, dict[str, dict[str, int]], list[int], dict[int, Marked]]:
        where, params = filter_sql(filters)
        order = sort_order(sort, relevance=ORDER)
        match = _match(positions)
        params.update(
            {"q": match, "limit": limit, "offset": offset}
            | {f"q{tier}": f"{{{columns}}} : ({match})" for tier, columns in TIER_COLUMNS.items()}
        )
        tiers = " ".join(
            f"WHEN m.id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %(q{tier})s) THEN {tier}"  # noqa: S608
            for tier in TIER_COLUMNS
        )
        cursor.execute(
            f"""
            WITH m AS MATERIALIZED (
                SELECT c.id, c.category, c.level, c.enrollment_count, c.rating, c.price,
                       c.published_at
                -- CROSS JOIN keeps the FTS index the outer loop (SQLite's hint).
                FROM {FTS} CROSS JOIN catalog_course c ON c.id = {FTS}.rowid
                WHERE {FTS} MATCH %(q)s AND {where}
            ),
            ranked AS MATERIALIZED (
                SELECT m.*, CASE {tiers} ELSE 4 END AS tier FROM m
            )
            SELECT 'category', category, count(*) FROM m GROUP BY category
            UNION ALL
            SELECT 'level', level, count(*) FROM m GROUP BY level
            UNION ALL
            SELECT 'hit', id, position FROM (
                SELECT id, row_number() OVER (ORDER BY {order}) AS position
                FROM ranked ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
            )
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            params,
        )
        facet_rows: list[tuple[str, Any, int]] = []
        hits: list[tuple[str, Any, int]] = []
        for kind, value, count in cursor.fetchall():
            (hits if kind == "hit" else facet_rows).append((kind, value, count))
        ids = [int(value) for _, value, _ in sorted(hits, key=lambda hit: hit[2])]
        total = sum(count for kind, _, count in facet_rows if kind == "category")
        return total, facet_dict(facet_rows), ids, self._highlights(cursor, positions, ids)

    @staticmethod
    def _highlights(cursor, positions: tuple[Position, ...], ids: list[int]) -> dict[int, Marked]:
        if not ids:
            return {}
        start, end = text.MARK_START, text.MARK_END
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"""
            SELECT rowid, highlight({FTS}, 0, %s, %s), highlight({FTS}, 1, %s, %s)
            FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({placeholders})
            """,  # noqa: S608
            [start, end, start, end, _match(positions, titles_only=False), *ids],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}

    def corrections(self, cursor, words: list[str]) -> list[str | None]:
        """Each term's correction to a known word, None for a known or unfixable term."""
        fixes: list[str | None] = []
        for position, word in enumerate(words):
            fix = None
            if text.allowed_typos(word):
                first = word[0]
                cursor.execute(
                    f"""
                    SELECT DISTINCT term FROM {ddl.SQLITE_VOCAB}
                    WHERE col IN ('title', 'summary', 'extra') AND term >= %s AND term < %s
                    """,  # noqa: S608
                    [first, chr(ord(first) + 1)],
                )
                candidates = [row[0] for row in cursor.fetchall()]
                fix = text.best_correction(word, candidates, prefix=position == len(words) - 1)
            fixes.append(fix)
        return fixes

    def _popular(
        self, cursor, filters: SearchFilters, limit: int, offset: int, sort: str
    ) -> tuple[int, dict[str, dict[str, int]], list[int]]:
        where, params = filter_sql(filters)
        popular = sort_order(sort, relevance=POPULAR_ORDER)
        cursor.execute(
            f"""
            SELECT 'category', category, count(*) FROM catalog_course c WHERE {where}
            GROUP BY category
            UNION ALL
            SELECT 'level', level, count(*) FROM catalog_course c WHERE {where}
            GROUP BY level
            UNION ALL
            SELECT 'hit', id, position FROM (
                SELECT c.id, row_number() OVER (ORDER BY {popular}) AS position
                FROM catalog_course c WHERE {where}
                ORDER BY {popular} LIMIT %(limit)s OFFSET %(offset)s
            )
            """,  # noqa: S608
            {**params, "limit": limit, "offset": offset},
        )
        return popular_page(cursor.fetchall())

    def suggest(self, query: str) -> str | None:
        words = text.terms(query)
        if not any(text.allowed_typos(word) for word in words):
            return None
        with connection.cursor() as cursor:
            return text.suggested_query(words, self.corrections(cursor, words))

    # --- maintenance -------------------------------------------------------------------

    def index(self, course_ids: Sequence[int]) -> None:
        """Nothing to do: the triggers update the FTS index in the writing transaction."""

    def remove(self, course_ids: Sequence[int]) -> None:
        """Nothing to do: the delete trigger removes a course; unpublished ones are
        filtered out when searching."""

    def rebuild(self, *, progress: Progress | None = None) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            ensure_schema(cursor, rebuild=True)
            cursor.execute("SELECT count(*) FROM catalog_course")
            total = cursor.fetchone()[0]
        if progress:
            progress(total, total)
        return total

    def health(self) -> bool:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH 'health' LIMIT 1")  # noqa: S608
                cursor.fetchall()
        except Exception:
            return False
        return True


def ensure_schema(cursor, *, rebuild: bool = False) -> bool:
    """Create whatever FTS object is missing (a later migration that rebuilds the course
    table drops its triggers) and rebuild the index if anything was. True if repaired."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
    present = {row[0] for row in cursor.fetchall()}
    wanted = {ddl.SQLITE_FTS, ddl.SQLITE_VOCAB, *ddl.SQLITE_TRIGGERS}
    missing = wanted - present
    for statement in [*ddl.SQLITE_TABLES, *ddl.SQLITE_TRIGGERS.values()]:
        cursor.execute(statement)
    if missing or rebuild:
        for statement in ddl.SQLITE_REBUILD:
            cursor.execute(statement)
    return bool(missing)


# The migration that created the objects ensure_schema() keeps.
SCHEMA_MIGRATION = ("catalog", "0010_search_wider")


def _schema_applied(db) -> bool:
    return SCHEMA_MIGRATION in MigrationRecorder(db).applied_migrations()


def drop_before_migrate(*, using: str = "default", plan=None, **kwargs: Any) -> None:
    """pre_migrate: drop the FTS triggers before migrations run. They read other tables,
    and SQLite refuses to rename a table (the last step of Django's table rebuilds) while
    a trigger names a table that is gone at that moment; repair_after_migrate creates them
    again and rebuilds the index."""
    db = connections[using]
    if db.vendor != "sqlite" or not plan or not _schema_applied(db):
        return
    with transaction.atomic(using=using), db.cursor() as cursor:
        for name in ddl.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def repair_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: keep the FTS objects in place on SQLite once they exist."""
    db = connections[using]
    if db.vendor != "sqlite" or not _schema_applied(db):
        return
    with transaction.atomic(using=using), db.cursor() as cursor:
        ensure_schema(cursor)
