"""Turning matched course ids into the contract's hits, shared by every backend.

Engines return ids (and highlighted copies of title and summary); the courses themselves
are read from the database, so a hit always shows current seats and prices, and a course
unpublished a moment ago never appears even if an external index still lists it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalog import presenters, selectors, shapes
from catalog.models import Course, CourseInstructor
from catalog.search.text import render_highlight
from catalog.search.types import FACETS, RELEVANCE, SearchFilters
from catalog.shapes import COURSE_COLUMNS
from portal.accounts.models import User

# (title, summary) with highlight sentinels; None where the engine marked nothing.
Marked = tuple[str | None, str | None]

# Popularity: enrollments, then rating (unrated last). Every order ends with the id, so
# pages never overlap or skip.
POPULAR_ORDER = "enrollment_count DESC, rating DESC NULLS LAST, id"
# ORDER BY of each `sort` but relevance (whose ranking each backend writes), over columns
# of the course table (or of a row set carrying them).
SORT_ORDERS = {
    "popular": POPULAR_ORDER,
    "rating": "rating DESC NULLS LAST, enrollment_count DESC, id",
    "price": f"price, {POPULAR_ORDER}",
    "-price": f"price DESC, {POPULAR_ORDER}",
    "newest": "published_at DESC, id",
}


def sort_order(sort: str, *, relevance: str) -> str:
    """The ORDER BY for `sort`; `relevance` is the backend's own ranking."""
    return relevance if sort == RELEVANCE else SORT_ORDERS[sort]


def hydrate(ids: Sequence[int], marked: Mapping[int, Marked]) -> list[shapes.SearchHit]:
    """Published courses for `ids`, in that order, each with its "highlight"."""
    courses = selectors.published_courses_by_ids(ids)
    hits: list[shapes.SearchHit] = []
    for course_id in ids:
        course = courses.get(course_id)
        if course is None:
            continue
        title, summary = marked.get(course_id, (None, None))
        highlight: shapes.Highlight = {
            "title": render_highlight(title, course.title),
            "summary": render_highlight(summary, course.summary),
        }
        hits.append({**presenters.course_summary(course), "highlight": highlight})
    return hits


def hit_json_sql(
    *, course: str = "c", instructor: str = "i", extra: Mapping[str, str] | None = None
) -> str:
    """SQL building one hit's columns as a JSON object (hit_from_json() reads it back):
    the course's summary columns and its first instructor (a LATERAL `instructor` row with
    id and name), plus `extra` (key → SQL). Money and ratings travel as text, exactly."""
    pairs = [f"'{key}', {value}" for key, value in (extra or {}).items()]
    for column in COURSE_COLUMNS:
        value = f"{course}.{column}"
        if column in ("price", "rating"):
            value += "::text"
        pairs.append(f"'{column}', {value}")
    pairs += [f"'instructor_id', {instructor}.id", f"'instructor_name', {instructor}.name"]
    return "json_build_object(" + ", ".join(pairs) + ")"


# The first instructor of course `c`, for hit_json_sql().
INSTRUCTOR_LATERAL = """
    LEFT JOIN LATERAL (
        SELECT u.id, u.name FROM catalog_courseinstructor ci
        JOIN accounts_user u ON u.id = ci.user_id
        WHERE ci.course_id = c.id ORDER BY ci.position, ci.id LIMIT 1
    ) i ON true
"""


def hit_from_json(row: dict[str, Any], marked: Marked) -> shapes.SearchHit:
    """A hit from hit_json_sql()'s object: the same presenter as every course answer, on
    a course read in the search's own statement (no query per page)."""
    fields = {column: row[column] for column in COURSE_COLUMNS}
    fields["price"] = Decimal(fields["price"])
    fields["rating"] = Decimal(fields["rating"]) if fields["rating"] is not None else None
    if fields["published_at"] is not None:
        fields["published_at"] = datetime.fromisoformat(fields["published_at"])
    course = Course(**fields)
    links = []
    if row["instructor_id"] is not None:
        teacher = User(id=row["instructor_id"], name=row["instructor_name"])
        links.append(CourseInstructor(course=course, user=teacher))
    title, summary = marked
    highlight: shapes.Highlight = {
        "title": render_highlight(title, course.title),
        "summary": render_highlight(summary, course.summary),
    }
    return {**presenters.course_summary(course, links), "highlight": highlight}


def facet_dict(rows: Sequence[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """[(facet, value, count)] → {"category": {...}, "level": {...}}, largest count first."""
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for facet, value, count in sorted(rows, key=lambda row: (row[0], -row[2], row[1])):
        facets[facet][value] = count
    return facets


def popular_page(rows: Sequence[tuple[str, Any, int]]) -> tuple[int, dict, list[int]]:
    """Split the rows of a popular-courses query — ('category'|'level', value, count) facet
    rows and ('hit', id, position) rows — into (total, facets, ids in order)."""
    facet_rows: list[tuple[str, Any, int]] = []
    hits: list[tuple[str, Any, int]] = []
    for kind, value, count in rows:
        (hits if kind == "hit" else facet_rows).append((kind, value, count))
    ids = [int(value) for _, value, _ in sorted(hits, key=lambda hit: hit[2])]
    total = sum(count for kind, _, count in facet_rows if kind == "category")
    return total, facet_dict(facet_rows), ids


def filter_sql(
    filters: SearchFilters, *, alias: str = "c", price_index: bool = True
) -> tuple[str, dict[str, Any]]:
    """WHERE conditions (named parameters) for the published courses matching `filters`.
    price_index=False keeps the planner off the price index (`price + 0`): a ceiling spans
    most of the catalog, and merging its bitmap costs more than checking the price of the
    rows the text index already chose."""
    conditions = [f"{alias}.published_at IS NOT NULL"]
    params: dict[str, Any] = {}
    if filters.category:
        conditions.append(f"{alias}.category = %(f_category)s")
        params["f_category"] = filters.category
    if filters.level:
        conditions.append(f"{alias}.level = %(f_level)s")
        params["f_level"] = filters.level
    if filters.max_price is not None:
        price = f"{alias}.price" if price_index else f"({alias}.price + 0)"
        conditions.append(f"{price} <= %(f_max_price)s")
        params["f_max_price"] = filters.max_price
    return " AND ".join(conditions), params
