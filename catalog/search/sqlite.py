"""SQLite FTS5 search for the embedded default (catalog.search.ddl: an external-content
FTS5 table over title, summary and description, kept in step by triggers).

The same rules as the PostgreSQL backend where SQLite allows:
- every term must match, the last as a prefix (`"pyth"*`); a last term shorter than three
  characters matches titles only; each term is quoted, so no FTS5 syntax gets through;
- tier 1 is courses whose title holds every term, tier 2 the other matches; within a tier
  by bm25 with column weights title 10, summary 4, description 1, then popularity;
- typos: when fewer than FEW_HITS courses match, each unknown term of four or more letters
  is corrected to the closest word (one edit, two from eight letters, a swap of neighbours
  counting as one) among the indexed title and summary words that start with the same
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
from catalog.search.hits import Marked, facet_dict, filter_sql, hydrate, popular_page
from catalog.search.types import Progress, SearchBackend, SearchFilters, SearchResult

SHORT_PREFIX = 3
FEW_HITS = 5
BM25 = f"bm25({ddl.SQLITE_FTS}, 10.0, 4.0, 1.0)"  # lower is better
ORDER = "tier, score, enrollment_count DESC, rating IS NULL, rating DESC, id"
FTS = ddl.SQLITE_FTS


def _quoted(term: str, *, prefix: bool) -> str:
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def _match(alternatives: Sequence[Sequence[str]], *, titles_only_last: bool) -> str:
    """An FTS5 expression: terms ANDed, alternatives ORed, the last term a prefix."""
    parts = []
    for position, options in enumerate(alternatives):
        last = position == len(alternatives) - 1
        quoted = [_quoted(term, prefix=last) for term in options]
        part = quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
        if last and titles_only_last:
            part = "{title} : " + part
        parts.append(part)
    return " AND ".join(parts)


class SqliteBackend(SearchBackend):
    engine = "sqlite"

    def search(
        self, *, query: str, filters: SearchFilters, limit: int, offset: int
    ) -> SearchResult:
        words = text.terms(query)
        corrected: tuple[str, ...] = ()
        with connection.cursor() as cursor:
            if not words:
                total, facets, ids = self._popular(cursor, filters, limit, offset)
                marked: dict[int, Marked] = {}
            else:
                alternatives = tuple((word,) for word in words)
                total, facets, ids, marked = self._run(cursor, alternatives, filters, limit, offset)
                if total < FEW_HITS:
                    alternatives, corrected = self._with_typos(cursor, words)
                    if corrected:
                        total, facets, ids, marked = self._run(
                            cursor, alternatives, filters, limit, offset
                        )
        return SearchResult(
            query=query,
            hits=hydrate(ids, marked),
            total=total,
            facets=facets,
            took_ms=0.0,
            engine=self.engine,
            corrected=corrected,
        )

    def _run(
        self,
        cursor,
        alternatives: tuple[tuple[str, ...], ...],
        filters: SearchFilters,
        limit: int,
        offset: int,
    ) -> tuple[int, dict[str, dict[str, int]], list[int], dict[int, Marked]]:
        short = all(len(term) < SHORT_PREFIX for term in alternatives[-1])
        where, params = filter_sql(filters)
        params.update(
            {
                "q": _match(alternatives, titles_only_last=short),
                "q_title": "{title} : (" + _match(alternatives, titles_only_last=False) + ")",
                "limit": limit,
                "offset": offset,
            }
        )
        cursor.execute(
            f"""
            WITH m AS MATERIALIZED (
                SELECT c.id, c.category, c.level, c.enrollment_count, c.rating,
                       {BM25} AS score
                -- CROSS JOIN keeps the FTS index the outer loop (SQLite's hint).
                FROM {FTS} CROSS JOIN catalog_course c ON c.id = {FTS}.rowid
                WHERE {FTS} MATCH %(q)s AND {where}
            ),
            ranked AS MATERIALIZED (
                SELECT m.*, CASE WHEN m.id IN (
                    SELECT rowid FROM {FTS} WHERE {FTS} MATCH %(q_title)s
                ) THEN 1 ELSE 2 END AS tier
                FROM m
            )
            SELECT 'category', category, count(*) FROM m GROUP BY category
            UNION ALL
            SELECT 'level', level, count(*) FROM m GROUP BY level
            UNION ALL
            SELECT 'hit', id, position FROM (
                SELECT id, row_number() OVER (ORDER BY {ORDER}) AS position
                FROM ranked ORDER BY {ORDER} LIMIT %(limit)s OFFSET %(offset)s
            )
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            params,
        )
        facet_rows, hits = [], []
        for kind, value, count in cursor.fetchall():
            (hits if kind == "hit" else facet_rows).append((kind, value, count))
        ids = [int(value) for _, value, _ in sorted(hits, key=lambda hit: hit[2])]
        total = sum(count for kind, _, count in facet_rows if kind == "category")
        return total, facet_dict(facet_rows), ids, self._highlights(cursor, alternatives, ids)

    @staticmethod
    def _highlights(
        cursor, alternatives: tuple[tuple[str, ...], ...], ids: list[int]
    ) -> dict[int, Marked]:
        if not ids:
            return {}
        start, end = text.MARK_START, text.MARK_END
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"""
            SELECT rowid, highlight({FTS}, 0, %s, %s), highlight({FTS}, 1, %s, %s)
            FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({placeholders})
            """,  # noqa: S608
            [start, end, start, end, _match(alternatives, titles_only_last=False), *ids],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}

    def _with_typos(
        self, cursor, words: list[str]
    ) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        alternatives, corrected = [], []
        for position, word in enumerate(words):
            fix = None
            if text.allowed_typos(word):
                first = word[0]
                cursor.execute(
                    f"""
                    SELECT DISTINCT term FROM {ddl.SQLITE_VOCAB}
                    WHERE col IN ('title', 'summary') AND term >= %s AND term < %s
                    """,  # noqa: S608
                    [first, chr(ord(first) + 1)],
                )
                candidates = [row[0] for row in cursor.fetchall()]
                fix = text.best_correction(word, candidates, prefix=position == len(words) - 1)
            alternatives.append((word, fix) if fix else (word,))
            if fix:
                corrected.append(f"{word}→{fix}")
        return tuple(alternatives), tuple(corrected)

    def _popular(
        self, cursor, filters: SearchFilters, limit: int, offset: int
    ) -> tuple[int, dict[str, dict[str, int]], list[int]]:
        where, params = filter_sql(filters)
        popular = "enrollment_count DESC, rating IS NULL, rating DESC, id"
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
        cursor.execute(ddl.SQLITE_REBUILD)
    return bool(missing)


def repair_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: keep the FTS objects in place on SQLite once migration 0002 ran."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    applied = MigrationRecorder(db).applied_migrations()
    if ("catalog", "0002_course_search") not in applied:
        return
    with transaction.atomic(using=using), db.cursor() as cursor:
        ensure_schema(cursor)
