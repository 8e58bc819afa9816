"""The state of a search as the results page's URL spells it
(`/search?q=&category=&level=&max_price=&sort=&page=`), read the way
frontend/static/js/searchstate.js reads it: every field checked, anything unknown or
malformed ignored (its default used), never an error. The page renders its heading,
title, description and form from it; the script then loads the results.
"""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from catalog.shapes import Level, SearchSort

# The sort options of GET /api/search, in the order the page lists them; the page's
# select is the list its script reads.
SORT_OPTIONS = tuple(SearchSort.choices)
DEFAULT_SORT = SearchSort.RELEVANCE.value
# The price select's steps (max_price); another value from a URL is listed as well.
PRICE_STEPS = ("0", "25", "50", "100")

MAX_QUERY = 200
MAX_CATEGORY = 80
# The API's deepest offset (catalog.search.types.MAX_OFFSET) in pages of the script's size.
PAGE_SIZE = 24
MAX_OFFSET = 1000
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PRICE = re.compile(r"\d{1,8}(\.\d{1,2})?", re.ASCII)
PAGE = re.compile(r"\d{1,4}", re.ASCII)


@dataclass(frozen=True)
class SearchState:
    q: str = ""
    category: str = ""
    level: str = ""
    max_price: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


def _text(params: Mapping[str, str], name: str, limit: int) -> str:
    # A repeated name counts once, by its first value (as URLSearchParams.get reads it).
    getlist = getattr(params, "getlist", None)
    value = (getlist(name) or [""])[0] if getlist else params.get(name, "")
    if not isinstance(value, str):
        return ""
    value = CONTROL.sub(" ", value).strip()
    return value[:limit].strip()


def _price(text: str) -> str:
    if not PRICE.fullmatch(text):
        return ""
    whole, _, cents = text.partition(".")
    whole = whole.lstrip("0") or "0"
    return whole if not cents or not cents.strip("0") else f"{whole}.{cents}"


def search_state(params: Mapping[str, str]) -> SearchState:
    """The state of a query string (a QueryDict or a plain mapping)."""
    level = _text(params, "level", 40)
    sort = _text(params, "sort", 20)
    page = _text(params, "page", 10)
    return SearchState(
        q=_text(params, "q", MAX_QUERY),
        category=_text(params, "category", MAX_CATEGORY),
        level=level if level in Level.values else "",
        max_price=_price(_text(params, "max_price", 20)),
        sort=sort if sort in SearchSort.values else DEFAULT_SORT,
        page=min(max(1, int(page)), MAX_PAGE) if PAGE.fullmatch(page) else 1,
    )


def price_label(value: str) -> str:
    return "Free" if value in ("0", "0.00") else f"Up to ${value}"


def price_options(state: SearchState) -> list[tuple[str, str]]:
    """The price select's options: the steps, and the state's price if it is another."""
    values = list(PRICE_STEPS)
    if state.max_price and state.max_price not in values:
        values.append(state.max_price)
        values.sort(key=float)
    return [(value, price_label(value)) for value in values]


def search_title(state: SearchState) -> str:
    return f"Search: {state.q}" if state.q else "Search courses"


def search_description(state: SearchState) -> str:
    if state.q:
        return (
            f"Courses matching “{state.q}” on the Learning Portal: filter by category, "
            "level and price, sort by rating, popularity, price or date."
        )
    return (
        "Search every course of the Learning Portal: filter by category, level and price, "
        "sort by rating, popularity, price or date."
    )
