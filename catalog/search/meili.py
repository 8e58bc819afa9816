"""Meilisearch backend: index settings as code, batched document pushes, blue/green
rebuilds, searches with facets and highlights.

Searches use a short request timeout (MEILI_TIMEOUT_SECONDS): a slow Meilisearch must not
hold a request, the router falls back to the database instead. Writes (documents, settings,
task polling) run in jobs and use MEILI_WRITE_TIMEOUT_SECONDS. Both are always passed to the
client; its own default would wait indefinitely.

Documents carry every course with a `published` flag; searches filter on it, and hits are
read back from the database (current seats and prices; a course unpublished a moment ago
never shows even if the index still lists it). `total` is Meilisearch's estimatedTotalHits.
"""

import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import meilisearch
import structlog
from django.conf import settings
from django.utils import timezone
from meilisearch.errors import MeilisearchApiError, MeilisearchError, MeilisearchTimeoutError

from catalog.models import Course, CourseInstructor, Lesson, Module
from catalog.search import text
from catalog.search.hits import Marked, facet_dict, hydrate
from catalog.search.synonyms import meilisearch_synonyms
from catalog.search.types import (
    EXACT_COUNT_CAP,
    FACETS,
    MAX_LIMIT,
    MAX_OFFSET,
    RELEVANCE,
    Progress,
    SearchBackend,
    SearchFilters,
    SearchResult,
    SearchUnavailable,
)
from catalog.shapes import COURSE_DOCUMENT_COLUMNS, HIGHLIGHT_KEYS, CourseDocument

log = structlog.get_logger(__name__)

# Settings as code: applied to every freshly built index (see rebuild()).
INDEX_SETTINGS: dict[str, Any] = {
    # Order is ranking order for the "attribute" rule: title, then summary, then description,
    # then the rest (the database backends' weight D).
    "searchableAttributes": [
        "title",
        "summary",
        "description",
        "category",
        "level",
        "instructors",
        "outline",
    ],
    "displayedAttributes": ["id", *HIGHLIGHT_KEYS],
    # id: documents are deleted by filter (deleting by a list of ids is deprecated).
    "filterableAttributes": ["id", "category", "level", "price", "published"],
    "sortableAttributes": ["enrollment_count", "rating", "price", "published_at"],
    # "sort" first: an asked order (price, rating, …) is the order, relevance breaks its
    # ties; without one the rule does nothing.
    "rankingRules": [
        "sort",
        "words",
        "typo",
        "proximity",
        "attribute",
        "exactness",
        "enrollment_count:desc",
    ],
    "typoTolerance": {
        "enabled": True,
        # The database backends' rule: one typo from 4 letters, two from 8.
        "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8},
        "disableOnWords": [],
        "disableOnAttributes": [],
    },
    "pagination": {"maxTotalHits": MAX_OFFSET + MAX_LIMIT},
    "faceting": {"maxValuesPerFacet": 100},
    # A broad query answers with what it found by then rather than late.
    "searchCutoffMs": 150,
}
PRIMARY_KEY = "id"


def index_settings() -> dict[str, Any]:
    """INDEX_SETTINGS with the synonyms table (catalog.search.synonyms)."""
    return {**INDEX_SETTINGS, "synonyms": meilisearch_synonyms()}


# `sort` values (catalog.shapes.SearchSort) as Meilisearch sort rules; relevance sends none.
SORTS: dict[str, list[str]] = {
    "popular": ["enrollment_count:desc", "rating:desc"],
    "rating": ["rating:desc", "enrollment_count:desc"],
    "price": ["price:asc", "enrollment_count:desc"],
    "-price": ["price:desc", "enrollment_count:desc"],
    "newest": ["published_at:desc"],
}


def filter_value(value: str) -> str:
    """A string literal in Meilisearch's filter syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(filters: SearchFilters) -> list[str]:
    """Filter conditions (a list is ANDed by Meilisearch)."""
    conditions = ["published = true"]
    if filters.category:
        conditions.append(f"category = {filter_value(filters.category)}")
    if filters.level:
        conditions.append(f"level = {filter_value(filters.level)}")
    if filters.max_price is not None:
        price = Decimal(filters.max_price)
        if not price.is_finite():
            raise ValueError("max_price must be a finite number")
        conditions.append(f"price <= {price:f}")
    return conditions


def document(
    course: dict[str, Any], *, instructors: list[str], outline: list[str]
) -> CourseDocument:
    """A course's index document, from its DOCUMENT_FIELDS (a `.values()` row), its
    instructors' names and its outline's titles (document_extras())."""
    published_at = course["published_at"]
    return {
        "id": course["id"],
        "title": course["title"],
        "summary": course["summary"],
        "description": course["description"],
        "category": course["category"],
        "level": course["level"],
        "price": float(course["price"]),
        "published": published_at is not None,
        "published_at": int(published_at.timestamp()) if published_at else None,
        "enrollment_count": course["enrollment_count"],
        "rating": float(course["rating"]) if course["rating"] is not None else None,
        "instructors": instructors,
        "outline": outline,
    }


def document_extras(course_ids: Sequence[int]) -> dict[int, tuple[list[str], list[str]]]:
    """course id → (instructors' names, module titles then lesson titles), in the order
    the course shows them: three queries for a whole batch."""
    extras: dict[int, tuple[list[str], list[str]]] = {pk: ([], []) for pk in course_ids}
    for course_id, name in (
        CourseInstructor.objects.filter(course_id__in=course_ids)
        .order_by("course_id", "position", "id")
        .values_list("course_id", "user__name")
    ):
        extras[course_id][0].append(name)
    for course_id, title in (
        Module.objects.filter(course_id__in=course_ids)
        .order_by("course_id", "position", "id")
        .values_list("course_id", "title")
    ):
        extras[course_id][1].append(title)
    for course_id, title in (
        Lesson.objects.filter(module__course_id__in=course_ids)
        .order_by("module__course_id", "module__position", "position", "id")
        .values_list("module__course_id", "title")
    ):
        extras[course_id][1].append(title)
    return extras


# The course columns document() reads: catalog.shapes.CourseDocument's.
DOCUMENT_FIELDS = COURSE_DOCUMENT_COLUMNS


class MeilisearchBackend(SearchBackend):
    engine = "meilisearch"

    def __init__(
        self,
        *,
        url: str,
        api_key: str | None,
        index_name: str,
        timeout: float,
        write_timeout: float,
        batch_size: int,
        task_wait_seconds: float,
    ) -> None:
        self.index_name = index_name
        self.batch_size = batch_size
        self.task_wait_ms = int(task_wait_seconds * 1000)
        # meilisearch annotates `timeout` as int; it hands it to requests, which takes float
        # seconds.
        self.client = meilisearch.Client(url, api_key, timeout=timeout)  # type: ignore[arg-type]
        self.writer = meilisearch.Client(url, api_key, timeout=write_timeout)  # type: ignore[arg-type]

    @classmethod
    def from_settings(cls) -> "MeilisearchBackend":
        return cls(
            url=settings.MEILI_URL,
            api_key=settings.MEILI_API_KEY or settings.MEILI_MASTER_KEY or None,
            index_name=settings.MEILI_INDEX,
            timeout=settings.MEILI_TIMEOUT_SECONDS,
            write_timeout=settings.MEILI_WRITE_TIMEOUT_SECONDS,
            batch_size=settings.MEILI_BATCH_SIZE,
            task_wait_seconds=settings.MEILI_TASK_WAIT_SECONDS,
        )

    # --- search ------------------------------------------------------------------------

    def search(
        self, *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
    ) -> SearchResult:
        params: dict[str, Any] = {
            "limit": limit,
            "offset": offset,
            "filter": filter_expression(filters),
            "facets": list(FACETS),
            "attributesToRetrieve": ["id", *HIGHLIGHT_KEYS],
            "attributesToHighlight": list(HIGHLIGHT_KEYS),
            "highlightPreTag": text.MARK_START,
            "highlightPostTag": text.MARK_END,
        }
        if sort != RELEVANCE:
            params["sort"] = SORTS[sort]
        try:
            # Only the terms travel: Meilisearch's own syntax (quotes, -negation) is not ours.
            response = self.client.index(self.index_name).search(text.normalized(query), params)
        except MeilisearchError as exc:
            timeout = isinstance(exc, MeilisearchTimeoutError)
            raise SearchUnavailable(str(exc), timeout=timeout) from exc
        ids: list[int] = []
        marked: dict[int, Marked] = {}
        for hit in response.get("hits", []):
            formatted = hit.get("_formatted") or {}
            ids.append(int(hit["id"]))
            marked[int(hit["id"])] = (formatted.get("title"), formatted.get("summary"))
        distribution = response.get("facetDistribution") or {}
        facet_rows = [
            (facet, value, count)
            for facet in FACETS
            for value, count in (distribution.get(facet) or {}).items()
        ]
        total = int(response.get("estimatedTotalHits", response.get("totalHits", 0)))
        return SearchResult(
            query=query,
            hits=hydrate(ids, marked),
            total=total,
            # Meilisearch estimates its totals; past the database backends' cap, so do they.
            total_is_estimate=total > EXACT_COUNT_CAP,
            facets=facet_dict(facet_rows),
            took_ms=0.0,
            engine=self.engine,
        )

    def health(self) -> bool:
        try:
            return self.client.health().get("status") == "available"
        except MeilisearchError:
            return False

    # --- writes ------------------------------------------------------------------------

    def index(self, course_ids: Sequence[int]) -> None:
        """Push these courses (deleting ids that no longer exist) and wait for Meilisearch
        to apply them, so whoever called knows the index is current."""
        ids = sorted(set(course_ids))
        rows = list(Course.objects.filter(id__in=ids).order_by("id").values(*DOCUMENT_FIELDS))
        self._wait(self._push(self.index_name, rows))
        gone = sorted(set(ids) - {row["id"] for row in rows})
        if gone:
            self.remove(gone)

    def remove(self, course_ids: Sequence[int]) -> None:
        ids = sorted(set(course_ids))
        tasks = []
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            expression = "id IN [" + ", ".join(str(int(i)) for i in chunk) + "]"
            tasks.append(
                self._write(
                    lambda expression=expression: self.writer.index(
                        self.index_name
                    ).delete_documents(filter=expression)
                )
            )
        self._wait(tasks)

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Build a fresh index under a new name, then swap it with the live one in one
        atomic step and delete the old one. Searches keep answering from the live index
        throughout; changes made during the build are re-pushed after the swap."""
        started = timezone.now()
        fresh = f"{self.index_name}_{time.time_ns()}"
        self._wait(
            [self._write(lambda: self.writer.create_index(fresh, {"primaryKey": PRIMARY_KEY}))]
        )
        self._wait(
            [self._write(lambda: self.writer.index(fresh).update_settings(index_settings()))]
        )
        total = Course.objects.count()
        done = 0
        tasks: list[int] = []
        for rows in self._course_batches():
            tasks += self._push(fresh, rows)
            done += len(rows)
            if progress:
                progress(done, total)
        self._wait(tasks)
        self._ensure_index(self.index_name)
        self._wait(
            [self._write(lambda: self.writer.swap_indexes([{"indexes": [self.index_name, fresh]}]))]
        )
        # After the swap the fresh name holds the old documents.
        self._wait([self._write(lambda: self.writer.delete_index(fresh))])
        since = Course.objects.filter(updated_at__gte=started).values_list("id", flat=True)
        if changed := list(since):
            self.index(changed)
        if progress:
            progress(total, total)
        return done

    def synonyms_push(self) -> None:
        """Replace the live index's synonyms with the table's (after an admin edit)."""
        self._ensure_index(self.index_name)
        table = meilisearch_synonyms()
        self._wait([self._write(lambda: self.writer.index(self.index_name).update_synonyms(table))])

    def _course_batches(self) -> Iterator[list[dict[str, Any]]]:
        last_id = 0
        while True:
            rows = list(
                Course.objects.filter(id__gt=last_id)
                .order_by("id")
                .values(*DOCUMENT_FIELDS)[: self.batch_size]
            )
            if not rows:
                return
            yield rows
            last_id = rows[-1]["id"]

    def _push(self, index_name: str, rows: list[dict[str, Any]]) -> list[int]:
        tasks = []
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            extras = document_extras([row["id"] for row in chunk])
            documents = [
                document(row, instructors=extras[row["id"]][0], outline=extras[row["id"]][1])
                for row in chunk
            ]
            tasks.append(
                self._write(
                    lambda documents=documents: self.writer.index(index_name).add_documents(
                        documents, primary_key=PRIMARY_KEY
                    )
                )
            )
        return tasks

    def _ensure_index(self, name: str) -> None:
        try:
            self.writer.get_index(name)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found" and exc.status_code != 404:
                raise SearchUnavailable(str(exc)) from exc
            self._wait(
                [self._write(lambda: self.writer.create_index(name, {"primaryKey": PRIMARY_KEY}))]
            )
        except MeilisearchError as exc:
            raise SearchUnavailable(str(exc)) from exc

    @staticmethod
    def _write(call) -> int:
        try:
            return call().task_uid
        except MeilisearchError as exc:
            raise SearchUnavailable(str(exc)) from exc

    def _wait(self, task_uids: Sequence[int]) -> None:
        for uid in task_uids:
            try:
                task = self.writer.wait_for_task(uid, timeout_in_ms=self.task_wait_ms)
            except MeilisearchError as exc:
                raise SearchUnavailable(f"task {uid}: {exc}") from exc
            if task.status != "succeeded":
                raise SearchUnavailable(f"task {uid} {task.status}: {task.error}")
