"""The SQLite FTS5 backend, run on the embedded configuration (DATABASE_URL unset).

Not collected by the main test run (it uses PostgreSQL): scripts/test runs this module in
a second pytest run with the server variables unset, so the real migrations, triggers and
backend code run on a real SQLite database:

    env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL PORTAL_VAR_DIR="$(mktemp -d)" \
        .venv/bin/python -m pytest tests/catalog/sqlite_search_check.py
"""

import pytest
from django.db import connection

from catalog import search as search_facade
from catalog.models import Course, Lesson, Module
from catalog.search import SearchFilters, ddl
from catalog.search.query import positions
from catalog.search.sqlite import (
    SqliteBackend,
    _match,
    drop_before_migrate,
    repair_after_migrate,
)
from tests.catalog import search_checks
from tests.catalog.search_relevance import CASES, Case, check, load_catalog
from tests.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend() -> SqliteBackend:
    return SqliteBackend()


def test_this_run_is_on_sqlite():
    assert connection.vendor == "sqlite"


@pytest.mark.parametrize(
    "case", [case for case in CASES if "sqlite" in case.engines], ids=lambda case: case.id
)
def test_relevance(backend, case: Case):
    load_catalog()
    body = backend.search(
        query=case.query, filters=SearchFilters(**case.filters), limit=case.limit, offset=0
    ).to_dict()
    check(case, body)
    if case.db_total is not None:
        assert body["total"] == case.db_total, [hit["title"] for hit in body["hits"]]
    assert body["engine"] == "sqlite"


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


# Real commits and rollbacks are what the check is about. One SQLite file has one writer:
# a second connection cannot read beside it here.
@pytest.mark.django_db(transaction=True)
def test_changes_show_once_committed(backend):
    search_checks.check_changes_show_once_committed(backend, concurrent_reader=False)


def test_fts5_syntax_is_quoted():
    assert _match(positions(["data", "v"])) == '"data" AND {title} : "v"*'
    assert _match(positions(["a"]), titles_only=False) == '"a"*'
    assert _match(positions(['x"y'])) == '"x""y"*'
    ai = positions(["ai"], synonyms={"ai": [("machine", "learning")]})
    assert _match(ai) == '({title} : "ai"* OR ("machine" AND "learning"))'


def test_the_facade_answers_from_sqlite():
    make_course(title="Intro to Python")
    result = search_facade.search(query="pyth", filters=SearchFilters(), limit=5, offset=0)
    assert result.engine == "sqlite"
    assert [hit["title"] for hit in result.hits] == ["Intro to Python"]
    assert search_facade.health() is True


def test_lost_triggers_are_restored_after_migrate(backend):
    """A later migration that rebuilds catalog_course on SQLite drops its triggers."""
    make_course(title="Before the rebuild")
    with connection.cursor() as cursor:
        for name in ddl.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    make_course(title="Written while the triggers were gone")
    assert search_checks.search(backend, "written")["total"] == 0

    repair_after_migrate(using="default")

    assert search_checks.titles(search_checks.search(backend, "written")) == [
        "Written while the triggers were gone"
    ]
    make_course(title="Written after the repair")
    assert search_checks.search(backend, "written")["total"] == 2


@pytest.mark.django_db(transaction=True)
def test_table_rebuilds_pass_while_the_triggers_are_off(backend):
    """Triggers that read other tables make SQLite refuse Django's table rebuilds (the
    rename at their end): migrate drops them first and restores them after."""
    make_course(title="Kept Course", modules=1, lessons_per_module=1)
    drop_before_migrate(using="default", plan=[("catalog", "0099_future", False)])
    with connection.schema_editor() as editor:
        editor._remake_table(Module)  # what an AlterField on a module does
        editor._remake_table(Course)
    make_course(title="Kept While Migrating")
    repair_after_migrate(using="default")

    assert set(search_checks.titles(search_checks.search(backend, "kept"))) == {
        "Kept Course",
        "Kept While Migrating",
    }
    Lesson.objects.filter(module__course__title="Kept Course").update(title="Renamed lesson")
    assert search_checks.titles(search_checks.search(backend, "renamed")) == ["Kept Course"]


def test_rebuild_reindexes_everything(backend):
    make_course(title="Rebuilt Course")
    assert backend.rebuild() >= 1
    assert search_checks.titles(search_checks.search(backend, "rebuilt")) == ["Rebuilt Course"]
