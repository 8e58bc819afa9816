"""PostgreSQL full-text search over catalog.search.ddl's tagged vector (`search_tags`: every
word of a course prefixed with its field, 1 title, 2 summary, 3 description, 4 the rest,
and with 0, any field).

Matching (catalog.search.query): every term must match (AND), each in any field; the last
one as a prefix; a last term shorter than three characters in titles only ("py" would
otherwise match every course with some "py…" word anywhere); a synonym's expansion as
another way to match a term.

Ranking (sort=relevance), in tiers by the fields that hold the terms: (1) every term in the
title, (2) in the title and summary, (3) … and description, (4) anywhere, including the
rest (category, level, instructors' names, module and lesson titles); then by popularity
(enrollments, rating), then id. Every tier is an index condition ("these words in these
fields"), so a page is found without scoring each match. Only when nothing else matches,
(5) titles trigram-similar to the whole query (`title %> query`, word_similarity of at least
0.6, pg_trgm's default): split or merged words ("java script"), by similarity. The other
sorts order every match by their field (catalog.search.hits.SORT_ORDERS).

Typos, only when fewer than FEW_HITS courses match: each term of four letters or more
that is no known word is corrected against catalog_search_term (candidates by trigram
similarity, the closest within one edit, two from eight letters, a swap of neighbours
counting as one) and the query runs again with "term | correction"; the answer's
`suggestion` is the corrected query.

What a search reads is bounded, whatever the catalog's size:
- the first statement reads at most EXACT_CAP + 1 matches (a bitmap scan of the GIN index,
  with the category and level filters inside it). With no more, the total and the facets
  are exact and the page comes from the same statement. With more, the total is the
  planner's estimate for the query (`total_is_estimate`), the facets are those of the rows
  read, scaled to it;
- the page of such a broad query is then read tier by tier (or in the asked order) from
  the btree of its order: walking it and checking each row until the page is full when the
  tier is large (few rows to read), or collecting the tier from the GIN index and sorting
  it when it is small — whichever reads fewer rows, as the rows read first tell.
"""

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from catalog.search import text
from catalog.search.ddl import PG_TAGGED_TERMS_FILL
from catalog.search.hits import (
    INSTRUCTOR_LATERAL,
    POPULAR_ORDER,
    SORT_ORDERS,
    Marked,
    facet_dict,
    filter_sql,
    hit_from_json,
    hit_json_sql,
)
from catalog.search.query import Phrase, Position, typed
from catalog.search.query import positions as query_positions
from catalog.search.synonyms import expansions_from_rows
from catalog.search.types import (
    EXACT_COUNT_CAP,
    RELEVANCE,
    Progress,
    SearchBackend,
    SearchFilters,
    SearchResult,
)
from catalog.shapes import SearchHit
from portal import db_router

FEW_HITS = 5
# Matches counted exactly; beyond, the total is an estimate and facets come from a sample.
EXACT_CAP = EXACT_COUNT_CAP
FIELDS = "1234"  # title, summary, description, the rest (catalog.search.ddl)
ANYWHERE = "0"  # the tag of every word, whatever its field
TIERS = (1, 2, 3, 4)
TRIGRAM_TIER = 5
# Reading a row by walking an order's btree costs about this much more than reading it
# from a bitmap (random rather than sequential pages); measured on the demo catalog.
WALK_COST = 1.2
# A walk only for a tier this many times the size where both ways cost the same (near it
# they hardly differ, and a bitmap's cost does not depend on the estimate being right).
WALK_PREFERENCE = 1.25
# A walk reads at most WALK_MARGIN times the rows it expects to (and WALK_MIN_ROWS).
WALK_MARGIN = 4
WALK_MIN_ROWS = 2000
TERM_SIMILARITY = 0.2  # trigram prefilter of correction candidates (swaps score ~0.27)
TERM_CANDIDATES = 30
# The planner's estimate for a word its statistics do not know (a typo, most likely):
# PostgreSQL's default selectivity of a text match, 0.005, with a margin.
UNKNOWN_WORD_SHARE = 0.006
# Correction candidates of %(typo_words)s, as JSON [[word, term], …] (pg_trgm's `%`
# under pg_trgm.similarity_threshold = TERM_SIMILARITY).
CANDIDATES_JSON = """
    SELECT coalesce(json_agg(json_build_array(w.word, t.term) ORDER BY w.n, t.rank), '[]')
    FROM unnest(%(typo_words)s::text[]) WITH ORDINALITY AS w(word, n)
    CROSS JOIN LATERAL (
        SELECT term, row_number() OVER (ORDER BY similarity(term, w.word) DESC, term) AS rank
        FROM catalog_search_term
        WHERE term %% w.word
        ORDER BY rank
        LIMIT %(candidates)s
    ) t
"""


def candidates_from_rows(rows: list[list[str]]) -> dict[str, list[str]]:
    """CANDIDATES_JSON's pairs as {word: [term, …]}, best first."""
    found: dict[str, list[str]] = {}
    for word, term in rows:
        found.setdefault(word, []).append(term)
    return found


HEADLINE = f"HighlightAll=true, StartSel={text.MARK_START}, StopSel={text.MARK_END}"
HEADLINE_SQL = "ts_headline('simple', {field}, %(q_text)s::tsquery, %(headline)s)"
RELEVANCE_ORDER = f"tier, similarity DESC, {POPULAR_ORDER}"
# Plans. Reading the first matches (no order): a bitmap scan of the GIN index, or for a
# broad query a sequential scan that stops early (Plan.match(indexed=False) keeps the GIN
# index out of it, so the statement's other reads, by primary key, keep their bitmaps);
# never a btree walk in an order nobody asked for. Reading a page: a bitmap scan and a
# sort, or a walk of the order's btree.
SAMPLE = {"enable_indexscan": "off"}
SCAN = "scan"  # SAMPLE's settings, the words checked on each row read in table order
BITMAP = {"enable_seqscan": "off", "enable_indexscan": "off"}
WALK = {"enable_seqscan": "off", "enable_bitmapscan": "off"}
# Relative costs of reading the first matches (microseconds on the demo catalog): a GIN
# bitmap per row the words match, a heap row fetched through it, a row of a sequential
# scan, and looking up one lexeme of the words' check on it.
SAMPLE_INDEX_COST = 0.4
SAMPLE_HEAP_COST = 3.0
SAMPLE_ROW_COST = 0.3
SAMPLE_WORDS_COST = 0.7


def _tsquery(positions: Sequence[Position], *, fields: str | None = FIELDS) -> str:
    """A tsquery literal: positions ANDed, their alternatives ORed, the words of an
    alternative ANDed, each word a quoted lexeme (`:*` on a prefix) tagged with the fields
    it may stand in (a titles-only alternative: the title's). fields=None: untagged, for
    ts_headline over the text."""
    parts = []
    for position in positions:
        alternatives = []
        for option in position:
            quoted = []
            for number, word in enumerate(option.words, start=1):
                # text.terms() lets no quote or backslash through; refuse rather than trust it.
                if "'" in word or "\\" in word:
                    raise ValueError(f"unsafe search term {word!r}")
                suffix = ":*" if option.prefix and number == len(option.words) else ""
                tags = [""] if fields is None else ("1" if option.titles_only else fields)
                lexemes = [f"'{tag}{word}'{suffix}" for tag in tags]
                quoted.append(lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")")
            alternatives.append(quoted[0] if len(quoted) == 1 else "(" + " & ".join(quoted) + ")")
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"
        )
    return " & ".join(parts)


def _execute(cursor, sql: str, params: dict[str, Any], *, settings: dict | None = None) -> None:
    """Run one statement with settings local to it, in a single round trip: the SET LOCALs
    and the statement travel as one simple query, which PostgreSQL runs as one transaction
    (so the settings end with it, or with the caller's transaction if one is open)."""
    # Search plans never gain from JIT compiling or parallel workers (which would also
    # interleave a UNION's branches); a broad match set stays in memory.
    values = {
        "jit": "off",
        "max_parallel_workers_per_gather": "0",
        # A sequential scan starts at the first page (not where another scan is), so
        # the first matches are those of the first pages (Estimate.total counts on it).
        "synchronize_seqscans": "off",
        "work_mem": "'32MB'",
        **(settings or {}),
    }
    prefix = "".join(f"SET LOCAL {name} = {value}; " for name, value in values.items())
    cursor.execute(prefix + sql, params)
    for _ in values:
        cursor.nextset()


@dataclasses.dataclass(frozen=True)
class Plan:
    """The SQL pieces of one query. positions=(): no query (every published course)."""

    positions: tuple[Position, ...] = ()
    trigram: str | None = None  # the normalized query, when the trigram pass joins in

    def tier_query(self, tier: int) -> str:
        """Every term within the first `tier` fields (all four: the words' "any field"
        lexemes, one per word)."""
        return _tsquery(self.positions, fields=ANYWHERE if tier == TIERS[-1] else FIELDS[:tier])

    def only_tier(self, tier: int) -> str:
        """The matches of this tier and of no better one."""
        if tier == 1:
            return self.tier_query(1)
        return f"({self.tier_query(tier)}) & !({self.tier_query(tier - 1)})"

    def params(self) -> dict[str, Any]:
        if not self.positions:
            return {"q": None}
        params = {f"q{tier}": self.tier_query(tier) for tier in TIERS}
        params.update(q=params["q4"], q_text=_tsquery(self.positions, fields=None))
        params["headline"] = HEADLINE
        if self.trigram:
            params["trigram"] = self.trigram
        return params

    def match(self, *, indexed: bool = True) -> str:
        """The match condition; indexed=False hides the words' check from the GIN index
        (ts_match_vq is the function behind @@: the planner matches indexes to operators)."""
        if not self.positions:
            return "true"
        if indexed:
            fts = "c.search_tags @@ %(q)s::tsquery"
        else:
            fts = "ts_match_vq(c.search_tags, %(q)s::tsquery)"
        return f"({fts} OR c.title %%> %(trigram)s)" if self.trigram else fts

    @property
    def tier(self) -> str:
        if not self.positions:
            return "4"
        cases = " ".join(
            f"WHEN c.search_tags @@ %(q{tier})s::tsquery THEN {tier}" for tier in TIERS
        )
        return f"CASE {cases} ELSE {TRIGRAM_TIER} END"

    @property
    def similarity(self) -> str:
        return "word_similarity(%(trigram)s, c.title)" if self.trigram else "0::real"

    def marks_sql(self, tier: str) -> dict[str, str]:
        """The hit's highlighted title and summary (ts_headline cannot mark trigram-only
        hits: _typo_marks does, in Python)."""
        if not self.positions:
            return {}
        return {
            f"{field}_marked": f"CASE WHEN {tier} < {TRIGRAM_TIER} THEN "
            f"{HEADLINE_SQL.format(field='c.' + field)} END"
            for field in ("title", "summary")
        }


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What the planner expects of a query, and how to read its first matches from it."""

    matches: int  # with the filters
    words_alone: int  # without them
    courses: int
    pages: int  # of the course table
    words: bool  # a full-text condition (not an empty query, not the trigram pass)
    lexemes: int = 1  # the tagged lexemes the words' check may look up on each row
    positions: int = 1  # the query's terms

    def total(self, *, found: int, blocks: int) -> int:
        """A broad query's total, from where its first matches were found: both plans
        read the table in its physical order, so `found` matches in the first `blocks`
        pages of `pages` extrapolate to the whole table (the planner's own estimate
        multiplies the words' frequencies as if they were unrelated, far below the truth
        for "machine learning", whose words come together)."""
        if blocks <= 0:
            return max(found, self.matches)
        return max(found, min(self.courses, round(found * self.pages / blocks)))

    @property
    def plan(self) -> dict[str, str] | str:
        """The settings of the statement that reads the first EXACT_CAP + 1 matches.

        The GIN index builds its whole bitmap: its cost follows the rows the words match
        (SAMPLE_INDEX_COST each), whatever the filters. A sequential scan stops at the
        first matches: it reads about (cap / share of matching courses) rows, each costing
        SAMPLE_ROW_COST, plus SAMPLE_WORDS_COST per lexeme of the words' check for those
        the filters let through to it. The planner, which thinks that check nearly free,
        would scan a whole table for a rare word; this asks for the cheaper one."""
        if not self.words:
            return SAMPLE
        wanted = EXACT_CAP + 1
        # A scan that finds fewer matches than it hoped reads the whole table: trusted only
        # with one word (the planner's statistics are per word) or a margin for error.
        if self.positions > 1 and self.matches < 10 * wanted:
            return BITMAP
        share = max(self.matches, 1) / max(self.courses, 1)
        passing = min(1.0, max(self.matches, 1) / max(self.words_alone, 1))
        check = SAMPLE_ROW_COST + SAMPLE_WORDS_COST * self.lexemes * passing
        scan = min(self.courses, wanted / share) * check
        index = SAMPLE_INDEX_COST * self.words_alone + SAMPLE_HEAP_COST * min(self.matches, wanted)
        return SCAN if scan < index else BITMAP


@dataclasses.dataclass(frozen=True)
class Step:
    """One read of a broad query's page: its rows (`tsquery`; None: every course), their
    order, their tier (SQL), their estimated number, and whether to walk the btree."""

    tsquery: str | None
    order: str
    tier: str
    size: float
    walk: bool


@dataclasses.dataclass
class Answer:
    total: int
    estimate: bool
    facets: dict[str, dict[str, int]]
    hits: list[SearchHit]


class PostgresBackend(SearchBackend):
    engine = "postgres"

    def search(
        self, *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
    ) -> SearchResult:
        words = text.terms(query)
        corrected: tuple[str, ...] = ()
        suggestion = None
        page = (filters, limit, offset, sort)
        # The read replica when one serves this request (portal.db_router), else the primary.
        with db_router.read_connection().cursor() as cursor:
            if not words:
                answer = self._run(cursor, Plan(), *page)
            else:
                # The words' synonyms come with the estimate of the words alone: most
                # queries have none, and then need no second look.
                plan = Plan(positions=query_positions(words))
                estimate, synonyms, candidates = self._estimate(
                    cursor, plan, filters, synonyms_of=words
                )
                if synonyms:
                    plan = Plan(positions=query_positions(words, synonyms=synonyms))
                answer = self._run(cursor, plan, *page, estimate=None if synonyms else estimate)
                if answer.total < FEW_HITS and any(
                    fixes := self.corrections(cursor, words, candidates=candidates)
                ):
                    plan = Plan(positions=query_positions(words, fixes=fixes, synonyms=synonyms))
                    corrected = text.corrections_made(words, fixes)
                    suggestion = text.suggested_query(words, fixes)
                    answer = self._run(cursor, plan, *page)
                if answer.total == 0:
                    plan = dataclasses.replace(plan, trigram=" ".join(words))
                    answer = self._run(cursor, plan, *page)
        return SearchResult(
            query=query,
            hits=answer.hits,
            total=answer.total,
            total_is_estimate=answer.estimate,
            facets=answer.facets,
            took_ms=0.0,
            engine=self.engine,
            suggestion=suggestion,
            corrected=corrected,
        )

    # --- matching ----------------------------------------------------------------------

    def _run(
        self,
        cursor,
        plan: Plan,
        filters: SearchFilters,
        limit: int,
        offset: int,
        sort: str,
        *,
        estimate: "Estimate | None" = None,
    ) -> Answer:
        """The planner's estimates first (which way to read the first matches), then one
        statement reads at most EXACT_CAP + 1 matches: facets, count and, when that was all
        of them, the page. A broader query's page is read in its order after."""
        where, params = filter_sql(filters, price_index=False)
        relevance = RELEVANCE_ORDER if plan.positions else POPULAR_ORDER
        order = relevance if sort == RELEVANCE else SORT_ORDERS[sort]
        if estimate is None:
            estimate, _, _ = self._estimate(cursor, plan, filters)
        # A trigram pass (nothing matched the words) is small, or ranked from its sample.
        whole = "true" if plan.trigram else f"(SELECT n FROM counted) <= {EXACT_CAP}"  # noqa: S608
        marks = plan.marks_sql("p.tier")
        _execute(
            cursor,
            f"""
            WITH m AS MATERIALIZED (
                SELECT c.id, c.category, c.level, c.enrollment_count, c.rating, c.price,
                       c.published_at, {plan.tier} AS tier, {plan.similarity} AS similarity,
                       (c.ctid::text::point)[0]::bigint AS block
                FROM catalog_course c
                WHERE {where} AND {plan.match(indexed=estimate.plan != SCAN)}
                LIMIT {EXACT_CAP + 1}
            ),
            counted AS MATERIALIZED (SELECT count(*) AS n, max(block) AS last FROM m),
            page AS (
                SELECT m.id, m.tier, row_number() OVER (ORDER BY {order}) AS position
                FROM m WHERE {whole}
                ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT 'category', category, count(*), NULL::json FROM m GROUP BY category
            UNION ALL
            SELECT 'level', level, count(*), NULL FROM m GROUP BY level
            UNION ALL
            SELECT 'tier', tier::text, count(*), NULL FROM m GROUP BY tier
            UNION ALL
            SELECT 'blocks', NULL, last + 1, NULL FROM counted WHERE n > {EXACT_CAP}
            UNION ALL
            SELECT 'hit', NULL, p.position, {hit_json_sql(extra={"tier": "p.tier", **marks})}
            FROM page p JOIN catalog_course c ON c.id = p.id
            {INSTRUCTOR_LATERAL}
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            {**params, **plan.params(), "limit": limit, "offset": offset},
            settings=estimate.plan if isinstance(estimate.plan, dict) else SAMPLE,  # SCAN: SAMPLE's
        )
        facet_rows: list[tuple[str, str, int]] = []
        tiers: Counter[int] = Counter()
        hit_rows: list[tuple[int, dict[str, Any]]] = []
        blocks = 0
        for kind, value, count, hit in cursor.fetchall():
            if kind == "hit":
                hit_rows.append((count, hit))
            elif kind == "tier":
                tiers[int(value)] = count
            elif kind == "blocks":
                blocks = count
            else:
                facet_rows.append((kind, value, count))
        found = sum(tiers.values())
        total = found if found <= EXACT_CAP else estimate.total(found=found, blocks=blocks)
        if found <= EXACT_CAP or plan.trigram:
            hit_rows.sort(key=lambda row: row[0])  # the page's order (UNION ALL keeps none)
            return Answer(
                total=total,
                estimate=found > EXACT_CAP,
                facets=facet_dict(facet_rows),
                hits=[self._hit(plan, hit) for _, hit in hit_rows],
            )
        scale = total / found
        facets = facet_dict(
            [(kind, value, round(count * scale)) for kind, value, count in facet_rows]
        )
        hits = self._broad_page(
            cursor,
            plan,
            where,
            params,
            sort,
            limit,
            offset,
            sizes={tier: count * scale for tier, count in tiers.items()},
            courses=max(estimate.courses, total),
        )
        return Answer(total=total, estimate=True, facets=facets, hits=hits)

    def _estimate(
        self,
        cursor,
        plan: Plan,
        filters: SearchFilters,
        *,
        synonyms_of: Sequence[str] = (),
    ) -> tuple["Estimate", dict[str, list[Phrase]], dict[str, list[str]] | None]:
        """The planner's estimates (EXPLAIN, nothing run): matches with the filters, with
        the words alone, and the catalog's size, from which Estimate picks the cheaper way
        to read the first EXACT_CAP + 1 matches; and, in the same round trip, the
        synonyms of `synonyms_of` and, when the planner expects few matches (a typo, most
        likely), the correction candidates of its words (None when not looked up)."""
        query = plan.params().get("q")
        filtered = filters.as_params() != SearchFilters().as_params()
        words_alone = (
            "catalog_search_estimate(%(q)s::tsquery, NULL, NULL, NULL)" if filtered else "NULL"
        )
        typo_words = [word for word in synonyms_of if text.allowed_typos(word)]
        _execute(
            cursor,
            f"""
            WITH e AS (
                SELECT catalog_search_estimate(%(q)s::tsquery, %(category)s::text,
                                               %(level)s::text, %(max_price)s::numeric)
                       AS matches,
                       {words_alone}::bigint AS words_alone,
                       greatest(reltuples, 0)::bigint AS courses,
                       greatest(relpages, 1) AS pages
                FROM pg_class WHERE oid = 'catalog_course'::regclass
            )
            SELECT e.*,
                   (SELECT coalesce(json_agg(json_build_array(term, expansion)
                                             ORDER BY term, expansion), '[]')
                    FROM catalog_synonym WHERE term = ANY(%(words)s::text[])),
                   CASE WHEN e.matches <= greatest(%(few)s, e.courses * %(unknown)s)
                        THEN ({CANDIDATES_JSON}) END
            FROM e
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            {
                "q": query,
                "category": filters.category,
                "level": filters.level,
                "max_price": filters.max_price,
                "words": list(synonyms_of),
                "typo_words": typo_words,
                "candidates": TERM_CANDIDATES,
                "few": FEW_HITS if typo_words else -1,
                "unknown": UNKNOWN_WORD_SHARE if typo_words else 0,
            },
            settings={"pg_trgm.similarity_threshold": TERM_SIMILARITY},
        )
        matches, words_alone, courses, pages, synonym_rows, candidate_rows = cursor.fetchone()
        estimate = Estimate(
            matches=matches,
            words_alone=matches if words_alone is None else words_alone,
            courses=max(courses, matches),
            pages=pages,
            words=query is not None and not plan.trigram,
            lexemes=query.count("'") // 2 if query else 0,
            positions=len(plan.positions),
        )
        candidates = None if candidate_rows is None else candidates_from_rows(candidate_rows)
        return estimate, expansions_from_rows(synonym_rows), candidates

    def _broad_page(
        self,
        cursor,
        plan: Plan,
        where: str,
        params: dict[str, Any],
        sort: str,
        limit: int,
        offset: int,
        *,
        sizes: dict[int, float],
        courses: int,
    ) -> list[SearchHit]:
        """The page of a broad query: its rows read in order (tier by tier for relevance,
        each tier the cheaper way for its estimated size) until offset + limit are found;
        the statement that reads the page's own rows also builds their hits."""
        wanted = offset + limit
        # Walking reads about wanted * courses / size rows, a bitmap about size rows.
        walk_from = math.sqrt(WALK_COST * wanted * courses)
        found, hits = 0, []
        for step in self._steps(plan, sort, sizes, wanted=wanted, walk_from=walk_from):
            rows = None
            values = {
                **params,
                **plan.params(),
                "step_q": step.tsquery,
                "wanted": wanted - found,
                "skip": offset - found,
            }
            if step.walk:
                # Read at most a few times the rows the estimate promises (it may be wrong):
                # a tier found thinner than that is small, and read from its bitmap instead.
                expected = values["wanted"] * courses / max(step.size, 1)
                values["bound"] = max(WALK_MIN_ROWS, int(WALK_MARGIN * expected))
                rows = self._read(cursor, plan, step, where, values, walk=True)
                if len(rows) < values["wanted"]:
                    rows = None
            if rows is None:
                rows = self._read(cursor, plan, step, where, values, walk=False)
            found += len(rows)
            hits += [self._hit(plan, hit) for hit in rows if hit is not None]
            if found >= wanted:
                break
        return hits

    def _steps(
        self, plan: Plan, sort: str, sizes: dict[int, float], *, wanted: int, walk_from: float
    ) -> list["Step"]:
        """How to read a broad query's rows: one step in an asked order; for relevance a
        step per tier, consecutive small tiers (a bitmap each, together fewer rows than
        the page) read together."""
        order = POPULAR_ORDER if sort == RELEVANCE else SORT_ORDERS[sort]
        if sort != RELEVANCE or not plan.positions:
            size = sum(sizes.values())
            walk = size > WALK_PREFERENCE * walk_from
            return [Step(plan.params().get("q"), order, "4", size, walk=walk)]
        steps: list[Step] = []
        first = 1
        for tier in TIERS:
            size = sum(sizes.get(t, 0) for t in range(first, tier + 1))
            walk = sizes.get(tier, 0) > WALK_PREFERENCE * walk_from
            if walk and tier > first:  # a large tier after small ones: those first
                steps.append(self._bitmap_step(plan, first, tier - 1, order, sizes))
                first, size = tier, sizes.get(tier, 0)
            if walk or size >= wanted or tier == TIERS[-1]:
                if walk:
                    steps.append(Step(plan.only_tier(tier), order, str(tier), size, walk=True))
                else:
                    steps.append(self._bitmap_step(plan, first, tier, order, sizes))
                first = tier + 1
        return steps

    @staticmethod
    def _bitmap_step(
        plan: Plan, first: int, last: int, order: str, sizes: dict[int, float]
    ) -> "Step":
        """Tiers first..last from one bitmap, ranked by tier then `order`."""
        tsquery = plan.tier_query(last)
        if first > 1:
            tsquery = f"({tsquery}) & !({plan.tier_query(first - 1)})"
        if first == last:
            tier = str(first)
        else:
            cases = " ".join(
                f"WHEN c.search_tags @@ %(q{t})s::tsquery THEN {t}" for t in range(first, last)
            )
            tier = f"CASE {cases} ELSE {last} END"
        size = sum(sizes.get(t, 0) for t in range(first, last + 1))
        ordered = order if first == last else f"{tier}, {order}"
        return Step(tsquery, ordered, tier, size, walk=False)

    def _read(
        self, cursor, plan: Plan, step: "Step", where: str, values: dict[str, Any], *, walk: bool
    ) -> list[dict[str, Any] | None]:
        """One step's rows in order: a hit for those on the page (past `skip`), None for
        those before it."""
        condition = "true" if step.tsquery is None else "c.search_tags @@ %(step_q)s::tsquery"
        if walk:
            source = f"""(
                SELECT * FROM catalog_course c WHERE c.published_at IS NOT NULL
                ORDER BY {step.order} LIMIT %(bound)s
            ) c"""  # noqa: S608 - fragments are ours
        else:
            source = "catalog_course c"
        marks = plan.marks_sql("s.tier")
        _execute(
            cursor,
            f"""
            SELECT s.n, CASE WHEN s.n > %(skip)s THEN
                {hit_json_sql(extra={"tier": "s.tier", **marks})} END
            FROM (
                SELECT c.id, {step.tier} AS tier, row_number() OVER (ORDER BY {step.order}) AS n
                FROM {source}
                WHERE {where} AND {condition}
                ORDER BY {step.order} LIMIT %(wanted)s
            ) s
            JOIN catalog_course c ON c.id = s.id
            {INSTRUCTOR_LATERAL}
            """,  # noqa: S608 - fragments are ours; user text travels as parameters
            values,
            settings=WALK if walk else BITMAP,
        )
        return [hit for _, hit in sorted(cursor.fetchall(), key=lambda row: row[0])]

    def _hit(self, plan: Plan, row: dict[str, Any]) -> SearchHit:
        if row.get("tier") == TRIGRAM_TIER:
            marked = self._typo_marks(plan, row["title"], row["summary"])
        else:
            marked = (row.get("title_marked"), row.get("summary_marked"))
        return hit_from_json(row, marked)

    @staticmethod
    def _typo_marks(plan: Plan, title: str, summary: str) -> Marked:
        """Highlights for a trigram-only hit, which ts_headline cannot mark: the words
        close to a query term."""
        joined = "".join(typed(position) for position in plan.positions)  # "java script"

        def close(word: str) -> bool:
            return text.similar(joined, word, prefix=True) or any(
                text.similar(term, word, prefix=option.prefix)
                for position in plan.positions
                for option in position
                for term in option.words
            )

        return text.mark_words(title, close), text.mark_words(summary, close)

    # --- typos -------------------------------------------------------------------------

    def corrections(
        self, cursor, words: list[str], *, candidates: dict[str, list[str]] | None = None
    ) -> list[str | None]:
        """Each term's correction to a known word, None for a known or unfixable term
        (`candidates`: already looked up)."""
        if candidates is None:
            candidates = self._candidates(
                cursor, [word for word in words if text.allowed_typos(word)]
            )
        return [
            text.best_correction(word, candidates.get(word, []), prefix=position == len(words) - 1)
            for position, word in enumerate(words)
        ]

    @staticmethod
    def _candidates(cursor, words: list[str]) -> dict[str, list[str]]:
        if not words:
            return {}
        _execute(
            cursor,
            CANDIDATES_JSON,
            {"typo_words": words, "candidates": TERM_CANDIDATES},
            settings={"pg_trgm.similarity_threshold": TERM_SIMILARITY},
        )
        return candidates_from_rows(cursor.fetchone()[0])

    def suggest(self, query: str) -> str | None:
        words = text.terms(query)
        if not any(text.allowed_typos(word) for word in words):
            return None
        with db_router.read_connection().cursor() as cursor:
            return text.suggested_query(words, self.corrections(cursor, words))

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
            cursor.execute(PG_TAGGED_TERMS_FILL.format(source="catalog_course"))
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
                    " WHERE search_tags @@ '1health'::tsquery LIMIT 1) probe"
                )
                cursor.fetchone()
        except Exception:
            return False
        return True
