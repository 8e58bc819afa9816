"""Checks every database search backend must pass, written once: test_search_postgres.py
runs them against PostgreSQL, sqlite_search_check.py against SQLite."""

import re
import threading
from collections import Counter
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Q

from catalog import services
from catalog.models import Course
from catalog.search import SearchFilters
from catalog.search.types import SearchBackend
from tests.catalog.search_relevance import load_catalog
from tests.factories import make_course, make_instructor

HOSTILE_QUERIES = [
    "a & b | !c:*",
    "'",
    '"',
    "\\",
    "''",
    ":*",
    "!",
    "(",
    ")",
    "<->",
    "a <2> b",
    "python:*A",
    "python:* & !java",
    "NEAR(python data)",
    "{title}: py",
    '"unterminated',
    "*",
    "^py",
    "-python",
    "python OR java",
    "AND",
    'x" OR "1"="1',
    "%",
    "_",
    "a" * 64 + "b" * 136,
    "🐍 pyth",
    "café",
    "\x00python",
    "\x02python\x03",
    "<mark>py</mark>",
]


def search(backend: SearchBackend, query: str, **filters) -> dict:
    return backend.search(
        query=query, filters=SearchFilters(**filters), limit=20, offset=0
    ).to_dict()


def titles(body: dict) -> list[str]:
    return [hit["title"] for hit in body["hits"]]


def _without_marks(html: str) -> str:
    return re.sub(r"</?mark>", "", html)


def check_hostile_queries_never_crash(backend: SearchBackend) -> None:
    make_course(title="Python & Data <Basics>", summary="Quotes ' \" and \\ backslashes")
    for query in HOSTILE_QUERIES:
        body = search(backend, query)
        assert body["engine"] == backend.engine
        assert isinstance(body["total"], int)
        for hit in body["hits"]:
            for field in ("title", "summary"):
                assert "<" not in _without_marks(hit["highlight"][field]), (query, hit)


def check_hostile_titles_are_escaped(backend: SearchBackend) -> None:
    make_course(title="<script>alert(1)</script> Python", summary='Fish & Chips "Python"')
    make_course(title="<mark>Python</mark> inside", summary="Python <b>bold</b> & 'quoted'")
    make_course(title="Python \x02sentinel\x03 data", summary="Plain python summary")
    body = search(backend, "python")
    by_title = {hit["title"]: hit["highlight"] for hit in body["hits"]}
    assert len(by_title) == 3, by_title

    script = by_title["<script>alert(1)</script> Python"]
    assert script["title"] == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Python</mark>"
    assert script["summary"] == "Fish &amp; Chips &quot;<mark>Python</mark>&quot;"

    marked = by_title["<mark>Python</mark> inside"]
    assert marked["title"] == "&lt;mark&gt;<mark>Python</mark>&lt;/mark&gt; inside"
    assert marked["summary"] == (
        "<mark>Python</mark> &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quoted&#x27;"
    )

    # Data holding a highlight sentinel is shown escaped and unmarked, never trusted.
    sentinel = by_title["Python \x02sentinel\x03 data"]
    assert sentinel["title"] == "Python \x02sentinel\x03 data"
    assert "<mark>" in sentinel["summary"]
    for highlight in by_title.values():
        for html in highlight.values():
            assert "<" not in _without_marks(html) and ">" not in _without_marks(html)


def check_facets_equal_sql_counts(backend: SearchBackend) -> None:
    load_catalog()
    published = Course.objects.filter(published_at__isnull=False)

    def containing(word: str) -> Q:
        return (
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word)
        )

    cases = [
        ("", {}, published),
        ("", {"level": "beginner"}, published.filter(level="beginner")),
        ("python", {}, published.filter(containing("python"))),
        (
            "data",
            {"category": "Data Science"},
            published.filter(containing("data"), category="Data Science"),
        ),
        ("java", {"max_price": Decimal("50")}, published.filter(containing("java"), price__lte=50)),
        (
            "pyth",
            {"level": "intermediate", "max_price": Decimal("40")},
            published.filter(containing("pyth"), level="intermediate", price__lte=40),
        ),
    ]
    for query, filters, expected in cases:
        body = search(backend, query, **filters)
        wanted = {
            "category": dict(Counter(expected.values_list("category", flat=True))),
            "level": dict(Counter(expected.values_list("level", flat=True))),
        }
        assert body["facets"] == wanted, (query, filters)
        assert body["total"] == expected.count() == sum(body["facets"]["category"].values())
        assert sum(body["facets"]["level"].values()) == body["total"]


def check_pages_are_disjoint_and_complete(backend: SearchBackend) -> None:
    load_catalog()
    everything = backend.search(query="a", filters=SearchFilters(), limit=50, offset=0)
    seen = []
    for offset in range(0, everything.total, 3):
        page = backend.search(query="a", filters=SearchFilters(), limit=3, offset=offset)
        assert page.total == everything.total
        seen += [hit["id"] for hit in page.hits]
    assert seen == [hit["id"] for hit in everything.hits]
    assert backend.search(query="a", filters=SearchFilters(), limit=5, offset=990).hits == []


def check_changes_show_once_committed(backend: SearchBackend, *, concurrent_reader: bool) -> None:
    """Run in a transactional test (real commits)."""
    author = make_instructor()
    data = {
        "title": "Zymurgy for Brewers",
        "summary": "Fermentation science.",
        "category": "Science",
        "level": "beginner",
    }

    class RolledBack(Exception):
        pass

    try:
        with transaction.atomic():
            services.course_create(author=author, data=data)
            raise RolledBack
    except RolledBack:
        pass
    assert search(backend, "zymurgy")["total"] == 0

    if concurrent_reader:
        seen_before_commit: list[int] = []
        with transaction.atomic():
            services.course_create(author=author, data=data)
            reader = threading.Thread(
                target=lambda: (
                    seen_before_commit.append(search(backend, "zymurgy")["total"]),
                    connections.close_all(),
                )
            )
            reader.start()
            reader.join()
        assert seen_before_commit == [0]
    else:
        services.course_create(author=author, data=data)
    assert titles(search(backend, "zymurgy")) == ["Zymurgy for Brewers"]

    course = Course.objects.get(title="Zymurgy for Brewers")
    services.course_update(course=course, data={"title": "Oenology for Vintners"})
    assert search(backend, "zymurgy")["total"] == 0
    assert titles(search(backend, "oenolog")) == ["Oenology for Vintners"]

    services.course_unpublish(course=course)
    assert search(backend, "oenolog")["total"] == 0
