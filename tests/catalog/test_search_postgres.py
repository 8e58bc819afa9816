"""The PostgreSQL backend: escaping, facets, paging, freshness at commit, typo support."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog import search as search_facade
from catalog.search import SearchFilters, postgres
from catalog.search.ddl import PG_ORDER_INDEXES
from catalog.search.hits import SORT_ORDERS
from catalog.search.postgres import PostgresBackend, _tsquery
from catalog.search.query import positions
from catalog.shapes import SearchSort
from tests.catalog import search_checks
from tests.catalog.search_checks import ANSWER_KEYS
from tests.catalog.search_relevance import load_catalog
from tests.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_engine(settings):
    settings.MEILI_URL = ""  # about the database backend, even where MEILI_URL is set


@pytest.fixture
def backend() -> PostgresBackend:
    return PostgresBackend()


def test_hostile_queries_never_crash(backend):
    search_checks.check_hostile_queries_never_crash(backend)


def test_hostile_titles_are_escaped(backend):
    search_checks.check_hostile_titles_are_escaped(backend)


def test_facets_equal_sql_counts(backend):
    search_checks.check_facets_equal_sql_counts(backend)


def test_pages_are_disjoint_and_complete(backend):
    search_checks.check_pages_are_disjoint_and_complete(backend)


def test_sorts_order_every_match(backend):
    search_checks.check_sorts_order_every_match(backend)


def test_suggestions_name_the_corrections(backend):
    search_checks.check_suggestions_name_the_corrections(backend)


def test_synonyms_apply_as_soon_as_they_change(backend):
    search_checks.check_synonyms_apply_as_soon_as_they_change(backend)


def test_the_rest_follows_every_edit(backend):
    search_checks.check_the_rest_follows_every_edit(backend)


# A second connection reads beside the writer: it sees only committed rows.
@pytest.mark.django_db(transaction=True)
def test_changes_show_once_committed_and_never_before(backend):
    search_checks.check_changes_show_once_committed(backend, concurrent_reader=True)


def test_tsquery_quotes_every_term_tags_its_fields_and_refuses_unsafe_ones():
    # The last term a short prefix: titles only (field 1).
    assert _tsquery(positions(["data", "v"])) == "('1data' | '2data' | '3data' | '4data') & '1v':*"
    assert _tsquery(positions(["data", "v"]), fields="12") == "('1data' | '2data') & '1v':*"
    assert _tsquery(positions(["pyhton"], fixes=["python"]), fields="1") == (
        "('1pyhton':* | '1python':*)"
    )
    ml = positions(["ml", "intro"], synonyms={"ml": [("machine", "learning")]})
    assert _tsquery(ml, fields="1") == "('1ml' | ('1machine' & '1learning')) & '1intro':*"
    assert _tsquery(ml, fields=None) == "('ml' | ('machine' & 'learning')) & 'intro':*"
    with pytest.raises(ValueError):
        _tsquery(positions(["it's"]))


def test_operators_in_the_query_are_plain_separators(backend):
    make_course(title="Alpha Beta Gamma")
    body = search_checks.search(backend, "alpha & !beta | (gam:*")
    assert search_checks.titles(body) == ["Alpha Beta Gamma"]


def test_the_generated_column_and_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attgenerated FROM pg_attribute WHERE attrelid ="
            " 'catalog_course'::regclass AND attname LIKE 'search%%' AND NOT attisdropped"
        )
        assert dict(cursor.fetchall()) == {"search_tags": "s", "search_extra": ""}
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_course'"
        )
        indexes = dict(cursor.fetchall())
    assert "USING gin (search_tags, category, level)" in indexes["course_search_idx"]
    assert "WHERE (published_at IS NOT NULL)" in indexes["course_search_idx"]
    assert "gin_trgm_ops" in indexes["course_title_trgm_idx"]
    for name in PG_ORDER_INDEXES:
        assert "WHERE (published_at IS NOT NULL)" in indexes[name]


def test_every_word_is_tagged_with_its_field():
    course = make_course(
        title="Compilers", summary="Parsing text.", description="Code generation.", level="advanced"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_tags FROM catalog_course WHERE id = %s", [course.pk])
        tags = cursor.fetchone()[0]
    for lexeme in [
        "1compilers",
        "2parsing",
        "2text",
        "3code",
        "3generation",
        "4advanced",
        "4programming",
        "4ivy",
        "4instructor",
        # Every word once more, whatever its field.
        "0compilers",
        "0parsing",
        "0generation",
        "0advanced",
        "0ivy",
    ]:
        assert f"'{lexeme}'" in tags, tags


def test_new_title_words_become_known_for_typo_correction(backend):
    make_course(title="Xylography Workshop", summary="Carving woodblocks.")
    body = backend.search(query="xylogarphy", filters=SearchFilters(), limit=5, offset=0)
    assert [hit["title"] for hit in body.hits] == ["Xylography Workshop"]
    assert body.corrected == ("xylogarphy→xylography",)
    assert body.hits[0]["highlight"]["title"] == "<mark>Xylography</mark> Workshop"


def test_trigram_matches_are_highlighted_by_word(backend):
    make_course(title="JavaScript Basics", summary="The javascript language.")
    body = backend.search(query="java script", filters=SearchFilters(), limit=5, offset=0)
    assert [hit["title"] for hit in body.hits] == ["JavaScript Basics"]
    assert body.hits[0]["highlight"]["title"] == "<mark>JavaScript</mark> Basics"


def test_rebuild_recomputes_the_term_list(backend):
    course = make_course(title="Quokka Care", summary="Marsupials.")
    course.title = "Wombat Care"
    course.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_search_term WHERE term = 'quokka'")
        assert cursor.fetchone()[0] == 1  # words only ever get added by the triggers
    assert backend.rebuild() >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT term FROM catalog_search_term WHERE term IN ('quokka', 'wombat')")
        assert [row[0] for row in cursor.fetchall()] == ["wombat"]


def test_the_facade_answers_from_postgres_and_reports_its_time():
    make_course(title="Intro to Python")
    result = search_facade.search(query="pyth", filters=SearchFilters(), limit=5, offset=0)
    assert result.engine == "postgres"
    assert isinstance(result.took_ms, float) and result.took_ms > 0
    assert set(result.to_dict()) == ANSWER_KEYS
    assert search_facade.health() is True


def test_the_facade_clamps_what_it_is_given():
    for number in range(3):
        make_course(title=f"Python {number}")
    result = search_facade.search(
        query="python " * 100, filters=SearchFilters(), limit=10_000, offset=-5
    )
    assert result.total == 3 and len(result.hits) == 3
    assert len(result.query) == 200


BROAD = [
    ("", {}),
    ("a", {}),
    ("e", {"level": "beginner"}),
    ("data", {}),
    ("data", {"category": "Data Science"}),
    ("pyth", {}),
    ("java", {"max_price": Decimal("100")}),
    ("learn", {}),
    ("ai", {}),
]


@pytest.mark.parametrize(
    ("walk_cost", "walk_margin"),
    [(1e-9, 4), (1e-9, 0), (1e9, 4)],
    ids=["walking", "walks-cut-short", "bitmaps"],
)
def test_broad_queries_page_in_the_exact_order_with_estimated_counts(
    backend, monkeypatch, walk_cost, walk_margin
):
    """Beyond EXACT_CAP matches the page is read tier by tier from the order indexes; it
    must be the page the exact path gives, for every sort and offset."""
    load_catalog()
    asked = [
        (query, filters, sort, offset)
        for query, filters in BROAD
        for sort in SearchSort.values
        for offset in (0, 4)
    ]

    def run(query, filters, sort, offset):
        return backend.search(
            query=query, filters=SearchFilters(**filters), limit=5, offset=offset, sort=sort
        )

    exact = [run(*case) for case in asked]
    assert not any(result.total_is_estimate for result in exact)
    monkeypatch.setattr(postgres, "EXACT_CAP", 3)
    monkeypatch.setattr(postgres, "WALK_COST", walk_cost)
    monkeypatch.setattr(postgres, "WALK_MARGIN", walk_margin)
    monkeypatch.setattr(postgres, "WALK_MIN_ROWS", 1)  # a walk cut short: read the bitmap
    for case, expected in zip(asked, exact, strict=True):
        broad = run(*case)
        assert broad.hits == expected.hits, case
        if expected.total > 3:
            assert broad.total_is_estimate and broad.total > 3, case
            assert set(broad.facets["category"]) <= set(expected.facets["category"]), case
        else:
            assert (broad.total, broad.facets) == (expected.total, expected.facets), case
            assert not broad.total_is_estimate


@pytest.mark.parametrize("sample", ["SCAN", "BITMAP", "SAMPLE"])
def test_every_way_of_reading_the_first_matches_gives_the_same_answer(backend, monkeypatch, sample):
    """The estimate only picks the plan (a sequential scan that stops early, or the GIN
    bitmap); the answer is the same whichever runs."""
    load_catalog()
    expected = {
        (query, str(filters)): search_checks.search(backend, query, **filters)
        for query, filters in BROAD
    }
    monkeypatch.setattr(postgres.Estimate, "plan", property(lambda self: getattr(postgres, sample)))
    for query, filters in BROAD:
        got = search_checks.search(backend, query, **filters)
        want = expected[(query, str(filters))]
        assert {k: v for k, v in got.items() if k != "took_ms"} == {
            k: v for k, v in want.items() if k != "took_ms"
        }, (query, filters)


def test_every_sort_has_one_order_and_one_index():
    assert set(SORT_ORDERS) | {"relevance"} == set(SearchSort.values)
    assert sorted(SORT_ORDERS.values()) == sorted(PG_ORDER_INDEXES.values())
