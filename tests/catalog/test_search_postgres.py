"""The PostgreSQL backend: escaping, facets, paging, freshness at commit, typo support."""

import pytest
from django.db import connection

from catalog import search as search_facade
from catalog.search import SearchFilters
from catalog.search.postgres import PostgresBackend, _tsquery
from tests.catalog import search_checks
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


# A second connection reads beside the writer: it sees only committed rows.
@pytest.mark.django_db(transaction=True)
def test_changes_show_once_committed_and_never_before(backend):
    search_checks.check_changes_show_once_committed(backend, concurrent_reader=True)


def test_tsquery_quotes_every_term_and_refuses_unsafe_ones():
    assert _tsquery([("data",), ("v",)], prefix_last=True) == "'data' & 'v':*"
    assert _tsquery([("pyhton", "python")], prefix_last=True) == "('pyhton':* | 'python':*)"
    with pytest.raises(ValueError):
        _tsquery([("it's",)], prefix_last=True)


def test_operators_in_the_query_are_plain_separators(backend):
    make_course(title="Alpha Beta Gamma")
    body = search_checks.search(backend, "alpha & !beta | (gam:*")
    assert search_checks.titles(body) == ["Alpha Beta Gamma"]


def test_the_generated_columns_and_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attgenerated FROM pg_attribute"
            " WHERE attrelid = 'catalog_course'::regclass AND attname LIKE '%%_vector'"
        )
        assert dict(cursor.fetchall()) == {"search_vector": "s", "title_vector": "s"}
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_course'"
            " AND indexdef ILIKE '%%USING gin%%'"
        )
        assert {row[0] for row in cursor.fetchall()} == {
            "course_search_vector_idx",
            "course_title_vector_idx",
            "course_title_trgm_idx",
        }


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
    assert set(result.to_dict()) == {"query", "hits", "total", "facets", "took_ms", "engine"}
    assert search_facade.health() is True


def test_the_facade_clamps_what_it_is_given():
    for number in range(3):
        make_course(title=f"Python {number}")
    result = search_facade.search(
        query="python " * 100, filters=SearchFilters(), limit=10_000, offset=-5
    )
    assert result.total == 3 and len(result.hits) == 3
    assert len(result.query) == 200
