"""The router: Meilisearch when configured and healthy, the database otherwise, with a
short timeout and a circuit breaker. Meilisearch is played by a local stub server."""

import socket
import time

import pytest

from catalog.search import SearchFilters, router
from catalog.search import search as facade_search
from catalog.search.meili import MeilisearchBackend
from tests.catalog.meili_stub import MeiliStub
from tests.factories import make_course

pytestmark = pytest.mark.django_db

# A correctness bound, not a benchmark: the stub sleeps 5 s, the router must not.
GIVE_UP_WITHIN = 2.0


@pytest.fixture(autouse=True)
def _fresh_breakers():
    router.reset_breakers()
    yield
    router.reset_breakers()


@pytest.fixture
def stub(settings):
    with MeiliStub() as server:
        settings.MEILI_URL = server.url
        settings.MEILI_MASTER_KEY = ""
        settings.MEILI_INDEX = "courses"
        settings.SEARCH_BREAKER_FAILURES = 3
        settings.SEARCH_BREAKER_COOLDOWN_SECONDS = 0.5
        yield server


@pytest.fixture
def course():
    course = make_course(title="Intro to Python")
    return course


def search(query: str = "python"):
    return facade_search(query=query, filters=SearchFilters(), limit=10, offset=0)


def searches(stub: MeiliStub) -> int:
    return sum(1 for r in stub.requests if r.path.endswith("/search"))


def health_probes(stub: MeiliStub) -> int:
    return sum(1 for r in stub.requests if r.path == "/health")


def test_without_meili_url_the_database_answers(settings, course):
    settings.MEILI_URL = ""
    assert search().engine == "postgres"


def test_a_healthy_meilisearch_answers(stub, course):
    MeilisearchBackend.from_settings().index([course.id])
    result = search()
    assert result.engine == "meilisearch"
    assert [hit["id"] for hit in result.hits] == [course.id]


def test_the_empty_query_is_answered_by_the_database(stub, course):
    assert search("").engine == "postgres"
    assert searches(stub) == 0


def test_nothing_listening_falls_back_and_opens_after_repeated_failures(settings, course):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing answers there
    settings.MEILI_URL = f"http://127.0.0.1:{port}"
    settings.SEARCH_BREAKER_FAILURES = 3
    breaker = router.breaker_for(settings.MEILI_URL)
    for attempt in range(3):
        started = time.monotonic()
        assert search().engine == "postgres"
        assert time.monotonic() - started < GIVE_UP_WITHIN
        assert breaker.is_open == (attempt == 2)


def test_a_slow_meilisearch_is_abandoned_then_skipped_until_healthy_again(stub, course):
    MeilisearchBackend.from_settings().index([course.id])
    stub.requests.clear()
    stub.delay = 5.0  # every answer but /health comes after 5 s

    started = time.monotonic()
    result = search()
    elapsed = time.monotonic() - started
    assert result.engine == "postgres"
    assert [hit["title"] for hit in result.hits] == ["Intro to Python"]
    assert elapsed < GIVE_UP_WITHIN
    assert searches(stub) == 1

    # One timeout opened the breaker: Meilisearch is not asked during the cool-down.
    for _ in range(3):
        assert search().engine == "postgres"
    assert searches(stub) == 1 and health_probes(stub) == 0

    # After the cool-down a health probe decides; healthy again, Meilisearch answers.
    stub.delay = 0
    time.sleep(0.6)
    result = search()
    assert result.engine == "meilisearch"
    assert health_probes(stub) == 1 and searches(stub) == 2


def test_a_failing_health_probe_keeps_the_breaker_open(stub, course):
    MeilisearchBackend.from_settings().index([course.id])
    stub.requests.clear()
    stub.fail_next(3)
    for _ in range(3):
        assert search().engine == "postgres"
    assert searches(stub) == 3

    stub.healthy = False
    time.sleep(0.6)
    assert search().engine == "postgres"
    assert health_probes(stub) == 1 and searches(stub) == 3
    assert search().engine == "postgres"  # a fresh cool-down: not even a probe
    assert health_probes(stub) == 1

    stub.healthy = True
    time.sleep(0.6)
    assert search().engine == "meilisearch"
    assert health_probes(stub) == 2 and searches(stub) == 4


def test_a_single_error_does_not_open_the_breaker(stub, course):
    MeilisearchBackend.from_settings().index([course.id])
    stub.fail_next(1)
    assert search().engine == "postgres"
    assert search().engine == "meilisearch"


def test_a_hanging_health_probe_is_bounded_too(stub, course):
    MeilisearchBackend.from_settings().index([course.id])
    stub.delay = 5.0
    search()  # opens the breaker
    stub.delay_health = True
    time.sleep(0.6)
    started = time.monotonic()
    assert search().engine == "postgres"
    assert time.monotonic() - started < GIVE_UP_WITHIN


def test_readiness_stays_up_while_the_database_can_answer(stub, client):
    stub.healthy = False
    assert router.health() is True
    response = client.get("/readyz")
    assert response.json()["search"] == "ok"
