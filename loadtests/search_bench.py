"""Search benchmark on PostgreSQL: a fixed query mix through search(), GET /api/search,
the SQL statements it runs (replayed alone), and a naive `icontains` search for comparison.

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_search_bench \\
        .venv/bin/python loadtests/search_bench.py --courses 100000

Loads the demo catalog (manage.py load_demo_data --courses N --reset) only when the
database holds fewer courses than asked. Times are server-side, in milliseconds, measured
in this process; p50/p95 are over every run of every query of a group. Not a test: it
prints a table and exits 0.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "false")  # no query log in the timings

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalog.models import Course  # noqa: E402
from catalog.search import SearchFilters, search, text  # noqa: E402

# group → (query, filters). Fixed, so runs compare like with like.
MIX: dict[str, list[tuple[str, dict]]] = {
    "prefix 2": [
        ("py", {}),
        ("ja", {}),
        ("re", {}),
        ("do", {}),
        ("ku", {}),
        ("da", {}),
        ("in", {}),
        ("ma", {}),
    ],
    "prefix 3-4": [
        ("pyt", {}),
        ("jav", {}),
        ("reac", {}),
        ("kube", {}),
        ("post", {}),
        ("data", {}),
        ("lin", {}),
    ],
    "prefix 5-6": [
        ("pytho", {}),
        ("javas", {}),
        ("kubern", {}),
        ("postgr", {}),
        ("statis", {}),
        ("typesc", {}),
    ],
    "typo": [
        ("pyhton", {}),
        ("javscript", {}),
        ("pandsa", {}),
        ("kubernets", {}),
        ("dokcer", {}),
        ("postgress", {}),
        ("djnago", {}),
    ],
    "multi-word": [
        ("data v", {}),
        ("deep learning", {}),
        ("intro to py", {}),
        ("python data", {}),
        ("web sec", {}),
        ("rest api", {}),
        ("linear alg", {}),
    ],
    "filtered": [
        ("py", {"level": "beginner"}),
        ("data", {"category": "Data Science"}),
        ("java", {"max_price": Decimal("50")}),
        ("learn", {"level": "advanced", "max_price": Decimal("30")}),
        ("kube", {"category": "DevOps"}),
        ("pyhton", {"level": "intermediate"}),
    ],
    # Category, level, instructor, outline words and synonyms (catalog.search.synonyms).
    "wider": [
        ("machine learning", {}),
        ("devops", {}),
        ("hopper", {}),
        ("ai", {}),
        ("k8s", {}),
        ("js", {}),
        ("walkthrough", {}),
        ("beginner", {}),
    ],
    # The orders of `sort` other than relevance, alone and with filters.
    "sorted": [
        ("python", {"sort": "price"}),
        ("data", {"sort": "rating"}),
        ("in", {"sort": "newest"}),
        ("learn", {"sort": "popular"}),
        ("java", {"sort": "-price", "max_price": Decimal("100")}),
        ("devops", {"sort": "rating", "level": "advanced"}),
        ("", {"sort": "newest", "category": "Design"}),
    ],
}


NAIVE_ORDERS = {
    "relevance": ("-enrollment_count", "id"),
    "popular": ("-enrollment_count", "id"),
    "rating": ("-rating", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "newest": ("-published_at", "id"),
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def split(filters: dict) -> tuple[SearchFilters, str]:
    """A MIX entry's filters and its sort (relevance unless it names one)."""
    rest = dict(filters)
    return SearchFilters(**{k: v for k, v in rest.items() if k != "sort"}), rest.get(
        "sort", "relevance"
    )


def naive(query: str, filters: dict) -> None:
    """What a quick Django search would be: icontains on title and summary per word."""
    queryset = Course.objects.filter(published_at__isnull=False)
    for word in text.terms(query):
        queryset = queryset.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    if filters.get("category"):
        queryset = queryset.filter(category=filters["category"])
    if filters.get("level"):
        queryset = queryset.filter(level=filters["level"])
    if filters.get("max_price") is not None:
        queryset = queryset.filter(price__lte=filters["max_price"])
    queryset.count()
    list(queryset.order_by(*NAIVE_ORDERS[filters.get("sort", "relevance")])[:20])


def statements(query: str, filters: dict) -> list[str]:
    """Every statement search() runs for this query, as it sent them (parameters bound)."""
    search_filters, sort = split(filters)
    with CaptureQueriesContext(connection) as captured:
        search(query=query, filters=search_filters, limit=20, offset=0, sort=sort)
    return [captured_query["sql"] for captured_query in captured.captured_queries]


def run_raw(sqls: list[str]) -> None:
    """The statements again, one after the other, results read and dropped."""
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute(sql)
            while True:
                if cursor.description:
                    cursor.fetchall()
                if not cursor.nextset():
                    break


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per query.")
    parser.add_argument("--no-api", action="store_true", help="Skip GET /api/search.")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("search_bench needs PostgreSQL: set DATABASE_URL (a database of its own).")
    call_command("migrate", verbosity=0)
    have = Course.objects.count()
    if have < args.courses:
        print(f"The catalog has {have} courses; loading {args.courses}…", flush=True)
        call_command("load_demo_data", courses=args.courses, reset=True, no_progress=True)
    with connection.cursor() as cursor:
        # What autovacuum does on a live database (it may be off, as on the test machines):
        # fresh statistics, and a visibility map that lets index scans skip the heap.
        cursor.execute(
            "VACUUM (ANALYZE) catalog_course, catalog_search_term, catalog_courseinstructor,"
            " catalog_module, catalog_lesson, accounts_user"
        )
    total = Course.objects.count()
    print(
        f"PostgreSQL {connection.pg_version / 10000:.0f}, {total} courses, {args.repeat} runs per query.\n"
    )

    client = Client()
    columns = ["search()", "raw SQL", "icontains", "API cold", "API warm"]
    results: dict[str, dict[str, list[float]]] = {}
    for group, queries in MIX.items():
        times: dict[str, list[float]] = {column: [] for column in columns}
        for query, filters in queries:
            search_filters, sort = split(filters)
            run = lambda q=query, f=search_filters, s=sort: search(  # noqa: E731
                query=q, filters=f, limit=20, offset=0, sort=s
            )
            run()  # warm the plan and buffer caches once
            sqls = statements(query, filters)
            params = {"q": query, **{k: str(v) for k, v in filters.items()}}
            for _ in range(args.repeat):
                times["search()"].append(timed(run))
                times["raw SQL"].append(timed(lambda s=sqls: run_raw(s)))
                times["icontains"].append(timed(lambda q=query, f=filters: naive(q, f)))
                if not args.no_api:
                    cache.clear()
                    times["API cold"].append(timed(lambda p=params: client.get("/api/search", p)))
                    times["API warm"].append(timed(lambda p=params: client.get("/api/search", p)))
        results[group] = times

    everything = {
        column: [t for times in results.values() for t in times[column]] for column in columns
    }
    header = f"{'group':<12}" + "".join(f"{c + ' p50':>15}{c + ' p95':>15}" for c in columns)
    header += f"{'icontains/search':>18}{'search/raw SQL':>16}"
    print(header)
    print("-" * len(header))
    for group, times in [*results.items(), ("all", everything)]:
        line = f"{group:<12}"
        for column in columns:
            values = times[column]
            if values:
                line += f"{percentile(values, 0.5):>15.1f}{percentile(values, 0.95):>15.1f}"
            else:
                line += f"{'-':>15}{'-':>15}"
        naive_p50 = statistics.median(times["icontains"])
        search_p50 = statistics.median(times["search()"])
        raw_p50 = statistics.median(times["raw SQL"])
        line += f"{naive_p50 / search_p50:>17.1f}x{search_p50 / raw_p50:>15.2f}x"
        print(line)
    print(
        "\nsearch(): the facade as the API and the websocket call it (SQL, hydration, highlights)."
        "\nraw SQL: the statements search() ran, replayed as captured (the rest of search() is"
        " Python: building the query, reading rows into hits, highlights)."
        "\nicontains: count + first page of a naive title/summary icontains search (no facets,"
        " no ranking, no typos).\nAPI cold/warm: GET /api/search through Django's test Client,"
        " cache cleared before the cold request."
    )
    slowest = sorted(
        (
            (
                timed(
                    lambda q=q, f=f: search(
                        query=q, filters=split(f)[0], limit=20, offset=0, sort=split(f)[1]
                    )
                ),
                q,
                f,
            )
            for queries in MIX.values()
            for q, f in queries
        ),
        reverse=True,
    )[:5]
    print(
        "\nSlowest queries (one more run each): "
        + ", ".join(f"{q!r} {f or ''} {ms:.1f} ms" for ms, q, f in slowest)
    )


if __name__ == "__main__":
    main()
