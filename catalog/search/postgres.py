"""PostgreSQL full-text search over the generated columns of catalog.search.ddl.

Matching: every term must match (AND); the last one as a prefix. A last term shorter than
SHORT_PREFIX characters matches titles only ("py" would otherwise match every course with
some "py…" word in its description, at the cost of reading all of them).

Ranking in tiers: (1) courses whose title holds every term, (2) the other full-text
matches, (3) trigram matches (below). Within tiers 1 and 2 by ts_rank_cd with weights
title 1.0, summary 0.4, description 0.2; within tier 3 by word similarity; then by
popularity (enrollments, rating), then id. A lone one- or two-letter prefix ranks its
(title) matches by popularity alone.

Typos, only when fewer than FEW_HITS courses match: each term of four letters or more
that is no known word is corrected against catalog_search_term (candidates by trigram
similarity, the closest within one edit, two from eight letters, a swap of neighbours
counting as one) and the query runs again with "term | correction". If still nothing
matches, titles trigram-similar to the whole query (`title %> query`, word_similarity of
at least 0.6, pg_trgm's default) are the answer: split or merged words ("java script").

Totals and facets are exact and come with the page from one statement that reads the
matching rows once.
"""

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from catalog.search import text
from catalog.search.ddl import PG_TERMS_FILL
from catalog.search.hits import Marked, facet_dict, filter_sql, hydrate, popular_page
from catalog.search.types import Progress, SearchBackend, SearchFilters, SearchResult

SHORT_PREFIX = 3
FEW_HITS = 5
# ts_rank_cd weights for D, C, B, A: description 0.2, summary 0.4, title 1.0.
WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
TERM_SIMILARITY = 0.2  # trigram prefilter of correction candidates (swaps score ~0.27)
TERM_CANDIDATES = 30
HEADLINE = f"HighlightAll=true, StartSel={text.MARK_START}, StopSel={text.MARK_END}"
ORDER = "tier, score DESC, enrollment_count DESC, rating DESC NULLS LAST, id"
POPULAR_ORDER = "enrollment_count DESC, rating DESC NULLS LAST, id"
HEADLINE_SQL = "ts_headline('simple', {field}, to_tsquery('simple', %(q_all)s), %(headline)s)"


def _tsquery(alternatives: Sequence[Sequence[str]], *, prefix_last: bool) -> str:
    """A to_tsquery string: terms ANDed, alternatives ORed, each quoted as a literal."""
    parts = []
    for position, options in enumerate(alternatives):
        suffix = ":*" if prefix_last and position == len(alternatives) - 1 else ""
        quoted = []
        for term in options:
            # text.terms() lets no quote or backslash through; refuse rather than trust it.
            if "'" in term or "\\" in term:
                raise ValueError(f"unsafe search term {term!r}")
            quoted.append(f"'{term}'{suffix}")
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " | ".join(quoted) + ")")
    return " & ".join(parts)


def _execute(cursor, sql: str, params: dict[str, Any], *, settings: dict | None = None) -> None:
    """Run one statement with settings local to it, in a single round trip: the SET LOCALs
    and the statement travel as one simple query, which PostgreSQL runs as one transaction
    (so the settings end with it, or with the caller's transaction if one is open)."""
    # Search plans never gain from JIT compiling; a broad match set stays in memory.
    values = {"jit": "off", "work_mem": "'32MB'", **(settings or {})}
    prefix = "".join(f"SET LOCAL {name} = {value}; " for name, value in values.items())
    cursor.execute(prefix + sql, params)
    for _ in values:
        cursor.nextset()


@dataclasses.dataclass(frozen=True)
class Plan:
    """The SQL pieces of one query: a match condition, a tier-1 condition and scores."""

    alternatives: tuple[tuple[str, ...], ...]
    trigram: str | None = None  # the normalized query, when the trigram pass joins in

    @property
    def short_last(self) -> bool:
        return all(len(term) < SHORT_PREFIX for term in self.alternatives[-1])

    def params(self) -> dict[str, Any]:
        params = {
            "q_all": _tsquery(self.alternatives, prefix_last=True),
            "q_last": _tsquery(self.alternatives[-1:], prefix_last=True),
            "q_rest": _tsquery(self.alternatives[:-1], prefix_last=False),
            "headline": HEADLINE,
        }
        if self.trigram:
            params["trigram"] = self.trigram
        return params

    @property
    def fts(self) -> str:
        if not self.short_last:
            return "c.search_vector @@ to_tsquery('simple', %(q_all)s)"
        condition = "c.title_vector @@ to_tsquery('simple', %(q_last)s)"
        if len(self.alternatives) > 1:
            condition += " AND c.search_vector @@ to_tsquery('simple', %(q_rest)s)"
        return condition

    @property
    def match(self) -> str:
        if self.trigram:
            return f"(({self.fts}) OR c.title %%> %(trigram)s)"
        return f"({self.fts})"

    title_tier = "c.title_vector @@ to_tsquery('simple', %(q_all)s)"

    @property
    def score(self) -> str:
        if self.short_last and len(self.alternatives) == 1 and not self.trigram:
            # One or two letters, titles only: every match ranks alike, so popularity
            # decides, and the broadest queries skip reading a vector per match.
            return "0::real"
        rank = f"ts_rank_cd('{WEIGHTS}', c.search_vector, to_tsquery('simple', %(q_all)s))"
        if not self.trigram:
            return rank
        return f"CASE WHEN {self.fts} THEN {rank} ELSE word_similarity(%(trigram)s, c.title) END"


class PostgresBackend(SearchBackend):
    engine = "postgres"

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
                plan = Plan(alternatives=tuple((word,) for word in words))
                total, facets, ids, marked = self._run(cursor, plan, filters, limit, offset)
                if total < FEW_HITS:
                    plan, corrected = self._corrected(cursor, words)
                    if corrected:
                        total, facets, ids, marked = self._run(cursor, plan, filters, limit, offset)
                if total == 0:
                    plan = dataclasses.replace(plan, trigram=" ".join(words))
                    total, facets, ids, marked = self._run(cursor, plan, filters, limit, offset)
        return SearchResult(
            query=query,
            hits=hydrate(ids, marked),
            total=total,
            facets=facets,
            took_ms=0.0,
            engine=self.engine,
            corrected=corrected,
        )

    # --- matching ----------------------------------------------------------------------

    def _run(
        self, cursor, plan: Plan, filters: SearchFilters, limit: int, offset: int
    ) -> tuple[int, dict[str, dict[str, int]], list[int], dict[int, Marked]]:
        """Facets and one page in a single statement: the matches are read once (reading
        the rows is what a broad query costs; ranking them is cheap beside it)."""
        where, params = filter_sql(filters)
        _execute(
            cursor,
            f"""
            WITH m AS MATERIALIZED (
                SELECT c.id, c.category, c.level, c.enrollment_count, c.rating,
                       CASE WHEN {plan.title_tier} THEN 1 WHEN {plan.fts} THEN 2 ELSE 3 END
                           AS tier,
                       {plan.score} AS score
                FROM catalog_course c
                WHERE {where} AND {plan.match}
            ),
            page AS (
                SELECT * FROM m ORDER BY {ORDER} LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT 'category', category, count(*), NULL::bigint, NULL::real, NULL::integer,
                   NULL::numeric, NULL::text, NULL::text
            FROM m GROUP BY category
            UNION ALL
            SELECT 'level', level, count(*), NULL, NULL, NULL, NULL, NULL, NULL
            FROM m GROUP BY level
            UNION ALL
            SELECT 'hit', NULL, p.tier::bigint, p.id, p.score, p.enrollment_count, p.rating,
                   CASE WHEN p.tier < 3 THEN {HEADLINE_SQL.format(field="c.title")}
                        ELSE c.title END,
                   CASE WHEN p.tier < 3 THEN {HEADLINE_SQL.format(field="c.summary")}
                        ELSE c.summary END
            FROM page p JOIN catalog_course c ON c.id = p.id
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            {**params, **plan.params(), "limit": limit, "offset": offset},
        )
        facet_rows, hits = [], []
        for kind, value, count, *hit in cursor.fetchall():
            if kind == "hit":
                hits.append((count, *hit))
            else:
                facet_rows.append((kind, value, count))
        # The page's order (UNION ALL keeps none): tier, score, popularity, id.
        hits.sort(key=lambda h: (h[0], -h[2], -h[3], -(h[4] if h[4] is not None else -1), h[1]))
        marked = {
            course_id: (title, summary) if tier < 3 else self._typo_marks(plan, title, summary)
            for tier, course_id, _, _, _, title, summary in hits
        }
        total = sum(count for kind, _, count in facet_rows if kind == "category")
        return total, facet_dict(facet_rows), [hit[1] for hit in hits], marked

    @staticmethod
    def _typo_marks(plan: Plan, title: str, summary: str) -> Marked:
        """Highlights for a trigram-only hit, which ts_headline cannot mark: the words
        close to a query term."""
        last = len(plan.alternatives) - 1
        joined = "".join(options[0] for options in plan.alternatives)  # "java script"

        def close(word: str) -> bool:
            return text.similar(joined, word, prefix=True) or any(
                text.similar(term, word, prefix=position == last)
                for position, options in enumerate(plan.alternatives)
                for term in options
            )

        return text.mark_words(title, close), text.mark_words(summary, close)

    # --- typos -------------------------------------------------------------------------

    def _corrected(self, cursor, words: list[str]) -> tuple[Plan, tuple[str, ...]]:
        """A plan with "term | correction" for each unknown term, and the corrections."""
        candidates = self._candidates(cursor, [word for word in words if text.allowed_typos(word)])
        alternatives, corrected = [], []
        for position, word in enumerate(words):
            fix = text.best_correction(
                word, candidates.get(word, []), prefix=position == len(words) - 1
            )
            alternatives.append((word, fix) if fix else (word,))
            if fix:
                corrected.append(f"{word}→{fix}")
        return Plan(alternatives=tuple(alternatives)), tuple(corrected)

    @staticmethod
    def _candidates(cursor, words: list[str]) -> dict[str, list[str]]:
        if not words:
            return {}
        _execute(
            cursor,
            """
            SELECT w.word, t.term
            FROM unnest(%(words)s::text[]) AS w(word)
            CROSS JOIN LATERAL (
                SELECT term FROM catalog_search_term
                WHERE term %% w.word
                ORDER BY similarity(term, w.word) DESC, term
                LIMIT %(candidates)s
            ) t
            """,
            {"words": words, "candidates": TERM_CANDIDATES},
            settings={"pg_trgm.similarity_threshold": TERM_SIMILARITY},
        )
        found: dict[str, list[str]] = {}
        for word, term in cursor.fetchall():
            found.setdefault(word, []).append(term)
        return found

    # --- no query: popular courses -----------------------------------------------------

    def _popular(
        self, cursor, filters: SearchFilters, limit: int, offset: int
    ) -> tuple[int, dict[str, dict[str, int]], list[int]]:
        where, params = filter_sql(filters)
        _execute(
            cursor,
            f"""
            WITH facets AS (
                SELECT GROUPING(c.category, c.level) AS grouping, c.category, c.level,
                       count(*) AS n
                FROM catalog_course c WHERE {where}
                GROUP BY GROUPING SETS ((c.category), (c.level))
            ),
            page AS (
                SELECT c.id, c.enrollment_count, c.rating FROM catalog_course c WHERE {where}
                ORDER BY {POPULAR_ORDER}
                LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT CASE grouping WHEN 1 THEN 'category' ELSE 'level' END,
                   coalesce(category, level), n
            FROM facets
            UNION ALL
            SELECT 'hit', id::text, row_number() OVER (ORDER BY {POPULAR_ORDER})
            FROM page
            """,  # noqa: S608
            {**params, "limit": limit, "offset": offset},
        )
        return popular_page(cursor.fetchall())

    # --- maintenance -------------------------------------------------------------------

    def index(self, course_ids: Sequence[int]) -> None:
        """Nothing to do: the generated columns change with the rows, at commit."""

    def remove(self, course_ids: Sequence[int]) -> None:
        """Nothing to do: a deleted or unpublished course no longer matches."""

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Recompute the term list (words of retitled courses linger until then) and
        refresh the planner's statistics. The vectors themselves are always current."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_course")
            total = cursor.fetchone()[0]
            cursor.execute("DELETE FROM catalog_search_term")
            cursor.execute(PG_TERMS_FILL.format(source="catalog_course"))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_course, catalog_search_term")
        if progress:
            progress(total, total)
        return total

    def health(self) -> bool:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM catalog_course"
                    " WHERE search_vector @@ to_tsquery('simple', 'health') LIMIT 1) probe"
                )
                cursor.fetchone()
        except Exception:
            return False
        return True
