"""The websocket `search` path answers what GET /api/search answers, and a newer
keystroke supersedes the search in flight."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.factories import make_course
from tests.realtime.helpers import connected

# The consumer reads through database_sync_to_async in pool threads, each with a
# connection of its own: they see committed rows only.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

QUERIES = [
    ("pyth", {}),
    ("pyhton", {}),
    ("data vis", {}),
    ("py", {"level": "advanced"}),
    ("", {"category": "Programming"}),
]


@pytest.fixture
def catalog(db):
    for title, category, level, price in [
        ("Python for Data Science", "Data Science", "beginner", "49.00"),
        ("Intro to Python", "Programming", "beginner", "0.00"),
        ("Advanced Python Patterns", "Programming", "advanced", "99.00"),
        ("Data Visualization with Python", "Data Science", "intermediate", "29.00"),
        ("JavaScript Essentials", "Programming", "beginner", "19.00"),
    ]:
        make_course(title=title, category=category, level=level, price=price)


def http_search(query: str, filters: dict) -> dict:
    response = Client().get("/api/search", {"q": query, "limit": 10, **filters})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("query", "filters"), QUERIES)
async def test_websocket_search_returns_the_same_hits_as_http(catalog, query, filters):
    expected = await database_sync_to_async(http_search)(query, filters)
    socket, _ = await connected()
    await socket.send_json_to(
        {"type": "search", "id": 1, "q": query, "filters": filters, "limit": 10}
    )
    answer = await socket.receive_json_from(timeout=10)
    assert answer["type"] == "search.results" and answer["id"] == 1
    assert [hit["id"] for hit in answer["hits"]] == [hit["id"] for hit in expected["hits"]]
    assert answer["hits"] == expected["hits"]
    for key in ("query", "total", "facets", "engine"):
        assert answer[key] == expected[key]
    await socket.disconnect()


async def test_a_newer_search_supersedes_the_ones_in_flight(catalog):
    socket, _ = await connected()
    typed = "python for data"
    for index in range(2, len(typed) + 1):
        await socket.send_json_to({"type": "search", "id": index, "q": typed[:index]})
    last_id = len(typed)
    seen = []
    while not seen or seen[-1] != last_id:
        answer = await socket.receive_json_from(timeout=10)
        assert answer["type"] == "search.results"
        seen.append(answer["id"])
    # Answers never go back in time, and nothing older arrives after the newest.
    assert seen == sorted(seen)
    assert await socket.receive_nothing(timeout=0.5)
    assert answer["query"] == typed and answer["hits"][0]["title"] == "Python for Data Science"
    await socket.disconnect()


async def test_a_search_frame_may_ask_for_a_sort(catalog):
    expected = await database_sync_to_async(http_search)("py", {"sort": "-price"})
    socket, _ = await connected()
    await socket.send_json_to({"type": "search", "id": 3, "q": "py", "sort": "-price"})
    answer = await socket.receive_json_from(timeout=10)
    assert answer["type"] == "search.results" and answer["id"] == 3
    assert [hit["id"] for hit in answer["hits"]] == [hit["id"] for hit in expected["hits"]]
    prices = [float(hit["price"]) for hit in answer["hits"]]
    assert prices == sorted(prices, reverse=True)
    assert answer["suggestion"] is None and answer["total_is_estimate"] is False
    await socket.send_json_to({"type": "search", "id": 4, "q": "py", "sort": "cheapest"})
    error = await socket.receive_json_from(timeout=10)
    assert (error["type"], error["code"], error["id"]) == ("error", "invalid_frame", 4)
    assert "relevance" in error["message"]
    await socket.disconnect()
