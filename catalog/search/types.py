"""The search facade's vocabulary: filters, results and the one interface every backend
implements."""

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from catalog.shapes import SearchHit

MAX_LIMIT = 50
MAX_OFFSET = 1000
FACETS = ("category", "level")
# Totals are exact up to this many matches; beyond, estimates (`total_is_estimate`).
EXACT_COUNT_CAP = 300
# `sort` values (catalog.shapes.SearchSort); relevance is the default.
RELEVANCE = "relevance"

# progress(done, total): called as a rebuild advances (the command drives a tqdm bar).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    level: str | None = None
    max_price: Decimal | None = None

    def as_params(self) -> dict[str, str | None]:
        return {
            "category": self.category,
            "level": self.level,
            "max_price": None if self.max_price is None else str(self.max_price),
        }


@dataclass(frozen=True)
class SearchResult:
    """One page of hits. `hits` are the contract's Course plus a "highlight" object."""

    query: str
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]
    took_ms: float
    engine: str
    # The query with its typos corrected ("Did you mean …"), when a correction was used.
    suggestion: str | None = None
    # True when `total` (and the facet counts) are estimated beyond an exact-count cap.
    total_is_estimate: bool = False
    # Extra detail for logs and the benchmark, not part of the answer.
    corrected: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The contract's GET /api/search body (and the `search.results` fields)."""
        return {
            "query": self.query,
            "hits": self.hits,
            "total": self.total,
            "total_is_estimate": self.total_is_estimate,
            "facets": self.facets,
            "took_ms": self.took_ms,
            "engine": self.engine,
            "suggestion": self.suggestion,
        }


class SearchUnavailable(Exception):
    """The backend could not answer (down, too slow, misconfigured)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class SearchBackend(abc.ABC):
    """What the router needs of an engine. Implementations answer published courses only."""

    engine: ClassVar[str]

    @abc.abstractmethod
    def search(
        self, *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
    ) -> SearchResult:
        """`sort`: a catalog.shapes.SearchSort value (relevance: the ranking rules)."""

    def suggest(self, query: str) -> str | None:
        """The query with its unknown words corrected to known ones, if any is (the database
        backends: for an engine whose typo tolerance does not say what it corrected)."""
        return None

    @abc.abstractmethod
    def index(self, course_ids: Sequence[int]) -> None:
        """Bring these courses up to date in the index (unpublished or deleted ones leave it)."""

    @abc.abstractmethod
    def remove(self, course_ids: Sequence[int]) -> None:
        """Drop these courses from the index."""

    @abc.abstractmethod
    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Recompute the whole index; returns the number of courses indexed."""

    @abc.abstractmethod
    def health(self) -> bool: ...
