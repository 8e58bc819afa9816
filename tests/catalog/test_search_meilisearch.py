"""What the Meilisearch backend sends, checked against a local HTTP stand-in that records
every request (tests/catalog/meili_stub.py): settings as code, filter syntax, batches, the
create/swap/delete rebuild, highlights, and index updates queued only after commit."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from catalog import curriculum, services
from catalog import search as search_facade
from catalog.models import Course, Synonym
from catalog.search import SearchFilters, router, text
from catalog.search.meili import (
    DOCUMENT_FIELDS,
    INDEX_SETTINGS,
    SORTS,
    MeilisearchBackend,
    document,
    filter_expression,
)
from catalog.search.synonyms import meilisearch_synonyms, synonym_save
from catalog.shapes import CourseDocument, SearchSort
from catalog.tasks import search_index_courses, search_synonyms_push
from portal.shapes import keys_of
from tests.catalog.meili_stub import MeiliStub
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db


@pytest.fixture
def stub(settings):
    with MeiliStub(api_key="test-master-key") as server:
        settings.MEILI_URL = server.url
        settings.MEILI_MASTER_KEY = "test-master-key"
        settings.MEILI_INDEX = "courses"
        yield server
    router.reset_breakers()


@pytest.fixture
def meili(stub) -> MeilisearchBackend:
    return MeilisearchBackend.from_settings()


def writes(stub: MeiliStub) -> list[tuple[str, str]]:
    """The requests that change something, in order (task polling and reads left out)."""
    return [(r.method, r.path) for r in stub.requests if r.method != "GET"]


# --- settings and requests ------------------------------------------------------------


def test_clients_use_the_configured_timeouts_not_the_library_default(settings, meili):
    assert meili.client.config.timeout == settings.MEILI_TIMEOUT_SECONDS == 0.3
    assert meili.writer.config.timeout == settings.MEILI_WRITE_TIMEOUT_SECONDS


def test_index_settings_are_code():
    # Ranking order for the "attribute" rule: title > summary > description > the rest.
    assert INDEX_SETTINGS["searchableAttributes"] == [
        "title",
        "summary",
        "description",
        "category",
        "level",
        "instructors",
        "outline",
    ]
    assert set(INDEX_SETTINGS["filterableAttributes"]) >= {
        "category",
        "level",
        "price",
        "published",
    }
    assert {"enrollment_count", "rating", "price"} <= set(INDEX_SETTINGS["sortableAttributes"])
    assert INDEX_SETTINGS["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 4, "twoTypos": 8}


def test_documents_have_the_shapes_keys_and_settings_name_only_those():
    course = make_course(price="12.50", rating=Decimal("4.5"))
    row = Course.objects.values(*DOCUMENT_FIELDS).get(pk=course.pk)

    built = document(row, instructors=["Ivy Instructor"], outline=["Intro", "Welcome"])

    assert list(built) == list(keys_of(CourseDocument))
    assert built["published"] is True and built["price"] == 12.5 and built["rating"] == 4.5
    named = {
        attribute
        for setting in (
            "searchableAttributes",
            "displayedAttributes",
            "filterableAttributes",
            "sortableAttributes",
        )
        for attribute in INDEX_SETTINGS[setting]
    }
    assert named <= set(built)
    assert INDEX_SETTINGS["pagination"]["maxTotalHits"] >= 1050
    assert INDEX_SETTINGS["searchCutoffMs"] > 0


def test_filters_use_meilisearch_syntax_with_escaped_strings():
    filters = SearchFilters(
        category='Data "Science" \\ Co', level="beginner", max_price=Decimal("49.5")
    )
    assert filter_expression(filters) == [
        "published = true",
        'category = "Data \\"Science\\" \\\\ Co"',
        'level = "beginner"',
        "price <= 49.5",
    ]
    assert filter_expression(SearchFilters(max_price=Decimal("1E+2"))) == [
        "published = true",
        "price <= 100",
    ]


def test_a_search_sends_terms_filters_facets_and_highlight_sentinels(stub, meili):
    course = make_course(title="Intro to Python", category="Programming", price="20.00")
    meili.index([course.id])
    stub.requests.clear()

    result = meili.search(
        query='py"th & !(on',
        filters=SearchFilters(category="Programming", max_price=Decimal("30")),
        limit=7,
        offset=3,
    )

    (request,) = stub.requests
    assert (request.method, request.path) == ("POST", "/indexes/courses/search")
    assert request.headers["authorization"] == "Bearer test-master-key"
    assert request.body == {
        "q": "py th on",
        "limit": 7,
        "offset": 3,
        "filter": ["published = true", 'category = "Programming"', "price <= 30"],
        "facets": ["category", "level"],
        "attributesToRetrieve": ["id", "title", "summary"],
        "attributesToHighlight": ["title", "summary"],
        "highlightPreTag": text.MARK_START,
        "highlightPostTag": text.MARK_END,
    }
    assert result.engine == "meilisearch"


def test_a_sort_is_sent_as_meilisearch_sort_rules_ahead_of_relevance(stub, meili):
    cheap = make_course(title="Python Cheap", price="10.00")
    dear = make_course(title="Python Dear", price="90.00")
    middle = make_course(title="Python Middle", price="50.00")
    meili.index([cheap.id, dear.id, middle.id])
    stub.requests.clear()

    result = meili.search(query="python", filters=SearchFilters(), limit=5, offset=0, sort="-price")

    assert stub.requests[0].body["sort"] == ["price:desc", "enrollment_count:desc"]
    assert [hit["id"] for hit in result.hits] == [dear.id, middle.id, cheap.id]
    assert set(SORTS) | {"relevance"} == set(SearchSort.values)
    assert INDEX_SETTINGS["rankingRules"][0] == "sort"
    assert {rule.split(":")[0] for rules in SORTS.values() for rule in rules} <= set(
        INDEX_SETTINGS["sortableAttributes"]
    )
    meili.search(query="python", filters=SearchFilters(), limit=5, offset=0)
    assert "sort" not in stub.requests[-1].body  # relevance: Meilisearch's ranking rules


def test_meilisearch_answers_carry_the_databases_correction(stub, meili):
    course = make_course(title="Intro to Python", summary="Learn Python.")
    meili.index([course.id])
    typo = search_facade.search(query="pyhton", filters=SearchFilters(), limit=5, offset=0)
    assert (typo.engine, typo.suggestion) == ("meilisearch", "python")
    assert [hit["id"] for hit in typo.hits] == [course.id]
    exact = search_facade.search(query="python", filters=SearchFilters(), limit=5, offset=0)
    assert (exact.engine, exact.suggestion) == ("meilisearch", None)


def test_hits_are_read_from_the_database_with_escaped_highlights(stub, meili):
    shown = make_course(title="<b>Python</b> & co", summary="Learn python")
    hidden = make_course(title="Python draft", published=False)
    meili.index([shown.id, hidden.id])
    # The index still lists a course the database no longer publishes.
    stub.indexes["courses"].documents[hidden.id]["published"] = True

    result = meili.search(query="python", filters=SearchFilters(), limit=10, offset=0)

    assert [hit["id"] for hit in result.hits] == [shown.id]
    assert result.hits[0]["highlight"] == {
        "title": "&lt;b&gt;<mark>Python</mark>&lt;/b&gt; &amp; co",
        "summary": "Learn <mark>python</mark>",
    }
    assert result.hits[0]["seats_taken"] == 0 and result.hits[0]["price"] == "0.00"
    assert result.facets["category"] == {"Programming": 2}


# --- writes ---------------------------------------------------------------------------


def test_index_pushes_documents_in_batches_and_deletes_missing_ids(settings, stub):
    settings.MEILI_BATCH_SIZE = 3
    meili = MeilisearchBackend.from_settings()
    courses = [make_course(title=f"Course {n}") for n in range(8)]

    meili.index([course.id for course in courses] + [999_999])

    pushes = [r for r in stub.requests if r.path == "/indexes/courses/documents"]
    assert [len(r.body) for r in pushes] == [3, 3, 2]
    assert all(r.query == {"primaryKey": "id"} for r in pushes)
    assert pushes[0].body[0] == {
        "id": courses[0].id,
        "title": "Course 0",
        "summary": "Summary of Course 0",
        "description": "",
        "category": "Programming",
        "level": "beginner",
        "price": 0.0,
        "published": True,
        "published_at": int(courses[0].published_at.timestamp()),
        "enrollment_count": 0,
        "rating": None,
        "instructors": ["Ivy Instructor"],
        "outline": [],
    }
    (delete,) = [r for r in stub.requests if r.path == "/indexes/courses/documents/delete"]
    assert delete.body == {"filter": "id IN [999999]"}


def test_rebuild_fills_a_fresh_index_then_swaps_and_deletes_the_old_one(settings, stub):
    settings.MEILI_BATCH_SIZE = 2
    for number in range(5):
        make_course(title=f"Course {number}")
    meili = MeilisearchBackend.from_settings()
    meili.rebuild()  # first build: "courses" does not exist yet
    stub.requests.clear()
    progress: list[tuple[int, int]] = []

    assert meili.rebuild(progress=lambda done, total: progress.append((done, total))) == 5

    fresh = stub.requests[0].body["uid"]
    assert fresh.startswith("courses_")
    assert stub.requests[0].body == {"uid": fresh, "primaryKey": "id"}
    assert writes(stub) == [
        ("POST", "/indexes"),
        ("PATCH", f"/indexes/{fresh}/settings"),
        ("POST", f"/indexes/{fresh}/documents"),
        ("POST", f"/indexes/{fresh}/documents"),
        ("POST", f"/indexes/{fresh}/documents"),
        ("POST", "/swap-indexes"),
        ("DELETE", f"/indexes/{fresh}"),
    ]
    settings_request = next(r for r in stub.requests if r.method == "PATCH")
    assert settings_request.body == {**INDEX_SETTINGS, "synonyms": meilisearch_synonyms()}
    swap = next(r for r in stub.requests if r.path == "/swap-indexes")
    assert swap.body == [{"indexes": ["courses", fresh]}]
    assert progress == [(2, 5), (4, 5), (5, 5), (5, 5)]
    assert set(stub.indexes) == {"courses"}
    assert len(stub.indexes["courses"].documents) == 5
    assert stub.indexes["courses"].settings == settings_request.body


def test_the_first_rebuild_creates_the_live_index_before_swapping(stub, meili):
    make_course(title="Only course")
    meili.rebuild()
    live_creation = [
        r.body["uid"] for r in stub.requests if (r.method, r.path) == ("POST", "/indexes")
    ]
    assert live_creation[1] == "courses"
    assert ("POST", "/swap-indexes") in writes(stub)
    assert set(stub.indexes) == {"courses"}


def test_the_rebuild_command_drives_both_indexes(stub):
    make_course(title="Commanded")
    call_command("search_rebuild", "--no-progress")
    assert ("POST", "/swap-indexes") in writes(stub)
    assert [d["title"] for d in stub.indexes["courses"].documents.values()] == ["Commanded"]


# --- freshness: queued after commit ---------------------------------------------------

NEW_COURSE = {"title": "Quantum Basics", "summary": "Qubits.", "category": "Science"}


def test_changes_are_pushed_after_commit_and_never_on_rollback(
    stub, django_capture_on_commit_callbacks
):
    author = make_instructor()

    class RolledBack(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.course_create(author=author, data=NEW_COURSE)
                assert stub.requests == []  # nothing before the commit
                raise RolledBack
        except RolledBack:
            pass
    assert callbacks == []
    assert stub.requests == []  # no task queued for a rolled-back change

    with django_capture_on_commit_callbacks(execute=True):
        course = services.course_create(author=author, data=NEW_COURSE)
    pushed = [r.body for r in stub.requests if r.path == "/indexes/courses/documents"]
    assert [[d["id"], d["title"], d["published"]] for d in pushed[0]] == [
        [course.id, "Quantum Basics", True]
    ]

    with django_capture_on_commit_callbacks(execute=True):
        services.course_update(course=course, data={"title": "Quantum Computing"})
    with django_capture_on_commit_callbacks(execute=True):
        services.course_unpublish(course=Course.objects.get(pk=course.pk))
    pushed = [r.body[0] for r in stub.requests if r.path == "/indexes/courses/documents"]
    assert [(d["title"], d["published"]) for d in pushed] == [
        ("Quantum Basics", True),
        ("Quantum Computing", True),
        ("Quantum Computing", False),
    ]


def test_the_index_job_retires_cached_answers(stub, meili):
    meili.rebuild()  # an empty live index
    course = make_course(title="Cached")
    filters = SearchFilters()
    stale = search_facade.cached_search(query="cached", filters=filters, limit=5, offset=0)
    assert (stale["engine"], stale["total"]) == ("meilisearch", 0)  # not indexed yet

    assert search_index_courses.delay([course.id]).get() == 1

    fresh = search_facade.cached_search(query="cached", filters=filters, limit=5, offset=0)
    assert [hit["id"] for hit in fresh["hits"]] == [course.id]


def test_no_meilisearch_no_job(settings, django_capture_on_commit_callbacks):
    settings.MEILI_URL = ""
    with django_capture_on_commit_callbacks() as callbacks:
        services.course_create(author=make_instructor(), data=NEW_COURSE)
    # Only the cache invalidation: the database indexes follow the rows by themselves.
    assert len(callbacks) == 1


# --- synonyms -------------------------------------------------------------------------


def test_synonyms_are_meilisearch_settings_pushed_after_an_edit(
    stub, meili, django_capture_on_commit_callbacks
):
    Synonym.objects.all().delete()
    Synonym.objects.create(term="k8s", expansion="Kubernetes")
    course = make_course(title="Kubernetes in Production")
    meili.rebuild()
    assert stub.indexes["courses"].settings["synonyms"] == {"k8s": ["kubernetes"]}
    found = search_facade.search(query="k8s", filters=SearchFilters(), limit=5, offset=0)
    assert (found.engine, [hit["id"] for hit in found.hits]) == ("meilisearch", [course.id])

    stub.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        synonym_save(synonym=Synonym(term=" ML ", expansion="Machine   Learning"))
    (push,) = [r for r in stub.requests if r.method == "PUT"]
    assert push.path == "/indexes/courses/settings/synonyms"
    assert push.body == {"k8s": ["kubernetes"], "ml": ["machine learning"]}
    assert Synonym.objects.filter(term="ml", expansion="Machine Learning").exists()


def test_the_synonyms_job_retires_cached_answers(stub, meili):
    Synonym.objects.all().delete()
    course = make_course(title="Kubernetes in Production")
    meili.rebuild()
    filters = SearchFilters()
    assert (
        search_facade.cached_search(query="k8s", filters=filters, limit=5, offset=0)["total"] == 0
    )
    Synonym.objects.create(term="k8s", expansion="kubernetes")  # bypasses the service

    assert search_synonyms_push.delay().get() == 1

    fresh = search_facade.cached_search(query="k8s", filters=filters, limit=5, offset=0)
    assert [hit["id"] for hit in fresh["hits"]] == [course.id]


def test_documents_carry_instructors_and_outline_and_follow_curriculum_edits(
    stub, meili, django_capture_on_commit_callbacks
):
    course = make_course(title="Compilers", instructor=make_instructor(name="Grace Hopper"))
    module = curriculum.module_create(course=course, title="Parsing")
    curriculum.lesson_create(module=module, data={"title": "Recursive descent"})
    meili.rebuild()
    (pushed,) = stub.indexes["courses"].documents.values()
    assert (pushed["instructors"], pushed["outline"]) == (
        ["Grace Hopper"],
        ["Parsing", "Recursive descent"],
    )
    for query in ("hopper", "recursive", "programming"):
        found = search_facade.search(query=query, filters=SearchFilters(), limit=5, offset=0)
        assert (found.engine, [hit["id"] for hit in found.hits]) == ("meilisearch", [course.id])

    with django_capture_on_commit_callbacks(execute=True):
        curriculum.lesson_create(module=module, data={"title": "Pratt parsers"})
    assert stub.indexes["courses"].documents[course.id]["outline"][-1] == "Pratt parsers"
