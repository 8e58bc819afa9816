"""Checks every database search backend must pass, written once: test_search_postgres.py
runs them against PostgreSQL, sqlite_search_check.py against SQLite."""

import re
import threading
from collections import Counter
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import F, Q

from catalog import curriculum, services
from catalog.models import Course, CourseInstructor, Lesson, Module, Synonym
from catalog.search import SearchFilters
from catalog.search.types import SearchBackend
from portal.accounts.profile import profile_update
from tests.catalog.search_relevance import load_catalog
from tests.factories import make_course, make_instructor

# GET /api/search's answer: the contract's keys, then the additions (total_is_estimate,
# suggestion).
ANSWER_KEYS = frozenset(
    {"query", "hits", "total", "facets", "took_ms", "engine", "total_is_estimate", "suggestion"}
)

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


def search(backend: SearchBackend, query: str, *, sort: str = "relevance", **filters) -> dict:
    return backend.search(
        query=query, filters=SearchFilters(**filters), limit=20, offset=0, sort=sort
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
        fields = [
            "title",
            "summary",
            "description",
            "category",
            "level",
            "course_instructors__user__name",
            "modules__title",
            "modules__lessons__title",
        ]
        matching = Q()
        for field in fields:
            matching |= Q(**{f"{field}__icontains": word})
        return Q(id__in=Course.objects.filter(matching).values("id"))

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


POPULAR = ("-enrollment_count", F("rating").desc(nulls_last=True), "id")
# GET /api/search's `sort` values (but relevance) as Django orderings of the same rules.
SORTS = {
    "popular": POPULAR,
    "rating": (F("rating").desc(nulls_last=True), "-enrollment_count", "id"),
    "price": ("price", *POPULAR),
    "-price": ("-price", *POPULAR),
    "newest": ("-published_at", "id"),
}


def check_sorts_order_every_match(backend: SearchBackend) -> None:
    """Each sort orders the same matches (totals and facets unchanged) by its field."""
    load_catalog()
    published = Course.objects.filter(published_at__isnull=False)
    for query, filters in [("", {}), ("pyth", {}), ("java", {"max_price": Decimal("100")})]:
        relevance = backend.search(
            query=query, filters=SearchFilters(**filters), limit=50, offset=0
        ).to_dict()
        ids = {hit["id"] for hit in relevance["hits"]}
        for sort, ordering in SORTS.items():
            body = backend.search(
                query=query, filters=SearchFilters(**filters), limit=50, offset=0, sort=sort
            ).to_dict()
            got = [hit["id"] for hit in body["hits"]]
            expected = list(
                published.filter(id__in=ids).order_by(*ordering).values_list("id", flat=True)
            )
            assert got == expected, (query, sort)
            assert (body["total"], body["facets"]) == (relevance["total"], relevance["facets"])
            # Paging follows the same order.
            second = backend.search(
                query=query, filters=SearchFilters(**filters), limit=3, offset=3, sort=sort
            )
            assert [hit["id"] for hit in second.hits] == expected[3:6], (query, sort)


def check_suggestions_name_the_corrections(backend: SearchBackend) -> None:
    load_catalog()
    for query, suggestion in [
        ("pyhton", "python"),
        ("machin lerning", "machine learning"),
        ("Data Sciense", "data science"),
        ("javscript", "javascript"),
        ("python", None),  # matched as typed
        ("pyth", None),  # a prefix of a known word
        ("zzzzqqq", None),  # nothing close
        ("", None),
    ]:
        assert search(backend, query)["suggestion"] == suggestion, query


def check_synonyms_apply_as_soon_as_they_change(backend: SearchBackend) -> None:
    load_catalog()
    assert search(backend, "frontend")["total"] == 0
    Synonym.objects.create(term="frontend", expansion="React")
    assert titles(search(backend, "frontend")) == ["React from Scratch"]
    # An expansion's words are all required; a term may have several expansions.
    Synonym.objects.create(term="frontend", expansion="Visual Design")
    assert set(titles(search(backend, "frontend"))) == {
        "React from Scratch",
        "Visual Design Basics",
    }
    # The typed word keeps matching as itself, a prefix when it is the last.
    Synonym.objects.create(term="pand", expansion="numpy")
    assert set(titles(search(backend, "pand"))) >= {
        "Pandas in Practice",
        "Scientific Computing with NumPy",
    }
    Synonym.objects.filter(term="frontend").delete()
    assert search(backend, "frontend")["total"] == 0
    # Expansions are highlighted like typed words.
    body = search(backend, "k8s")
    assert body["hits"][0]["highlight"]["title"] == "<mark>Kubernetes</mark> in Production"


def check_the_rest_follows_every_edit(backend: SearchBackend) -> None:
    """Category, level, instructors' names, module and lesson titles are searchable and
    current after every kind of edit (the database keeps them: no job, no delay)."""
    grace = make_instructor(name="Grace Hopper")
    course = make_course(title="Compilers", instructor=grace, category="Programming")
    assert titles(search(backend, "hopper")) == ["Compilers"]

    profile_update(user=grace, name="Grace Brewster")  # the instructor renamed
    assert search(backend, "hopper")["total"] == 0
    assert titles(search(backend, "brewster")) == ["Compilers"]

    ada = make_instructor(name="Ada Lovelace")
    link = CourseInstructor.objects.create(course=course, user=ada, position=1)
    assert titles(search(backend, "lovelace")) == ["Compilers"]
    link.delete()
    assert search(backend, "lovelace")["total"] == 0

    module = curriculum.module_create(course=course, title="Parsing")
    lesson = curriculum.lesson_create(module=module, data={"title": "Recursive descent"})
    assert titles(search(backend, "parsing")) == ["Compilers"]
    assert titles(search(backend, "recursive desc")) == ["Compilers"]
    curriculum.lesson_update(lesson=lesson, data={"title": "Pratt parsers"}, expected=[])
    assert search(backend, "recursive")["total"] == 0
    assert titles(search(backend, "pratt")) == ["Compilers"]
    curriculum.module_update(module=module, data={"title": "Front end"}, expected=[])
    assert search(backend, "parsing")["total"] == 0
    assert search(backend, "pars")["total"] == 1  # the lesson still says "parsers"
    assert titles(search(backend, "front end")) == ["Compilers"]
    curriculum.lesson_delete(lesson=Lesson.objects.get(pk=lesson.pk))
    assert search(backend, "pratt")["total"] == 0

    other = make_course(title="Linkers", category="Systems")
    lesson = curriculum.lesson_create(
        module=curriculum.module_create(course=other, title="Symbols"),
        data={"title": "Relocations"},
    )
    assert titles(search(backend, "relocations")) == ["Linkers"]
    Lesson.objects.filter(pk=lesson.pk).update(module=Module.objects.get(title="Front end"))
    assert titles(search(backend, "relocations")) == ["Compilers"]  # moved to another course

    services.course_update(course=course, data={"category": "Language Design", "level": "advanced"})
    assert titles(search(backend, "language design")) == ["Compilers"]
    body = search(backend, "compilers advanced")
    assert titles(body) == ["Compilers"]
    assert body["facets"]["level"] == {"advanced": 1}

    Course.objects.filter(pk=other.pk).delete()
    assert search(backend, "symbols")["total"] == 0
