"""Turning matched course ids into the contract's hits, shared by every backend.

Engines return ids (and highlighted copies of title and summary); the courses themselves
are read from the database, so a hit always shows current seats and prices, and a course
unpublished a moment ago never appears even if an external index still lists it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from catalog import presenters, selectors, shapes
from catalog.search.text import render_highlight
from catalog.search.types import FACETS, SearchFilters

# (title, summary) with highlight sentinels; None where the engine marked nothing.
Marked = tuple[str | None, str | None]


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


def facet_dict(rows: Sequence[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """[(facet, value, count)] → {"category": {...}, "level": {...}}, largest count first."""
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for facet, value, count in sorted(rows, key=lambda row: (row[0], -row[2], row[1])):
        facets[facet][value] = count
    return facets


def popular_page(rows: Sequence[tuple[str, Any, int]]) -> tuple[int, dict, list[int]]:
    """Split the rows of a popular-courses query — ('category'|'level', value, count) facet
    rows and ('hit', id, position) rows — into (total, facets, ids in order)."""
    facet_rows, hits = [], []
    for kind, value, count in rows:
        (hits if kind == "hit" else facet_rows).append((kind, value, count))
    ids = [int(value) for _, value, _ in sorted(hits, key=lambda hit: hit[2])]
    total = sum(count for kind, _, count in facet_rows if kind == "category")
    return total, facet_dict(facet_rows), ids


def filter_sql(filters: SearchFilters, *, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """WHERE conditions (named parameters) for the published courses matching `filters`."""
    conditions = [f"{alias}.published_at IS NOT NULL"]
    params: dict[str, Any] = {}
    if filters.category:
        conditions.append(f"{alias}.category = %(f_category)s")
        params["f_category"] = filters.category
    if filters.level:
        conditions.append(f"{alias}.level = %(f_level)s")
        params["f_level"] = filters.level
    if filters.max_price is not None:
        conditions.append(f"{alias}.price <= %(f_max_price)s")
        params["f_max_price"] = filters.max_price
    return " AND ".join(conditions), params
