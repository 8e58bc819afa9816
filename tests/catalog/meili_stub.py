"""A local HTTP stand-in for the part of Meilisearch's API the portal uses.

    with MeiliStub() as stub:
        settings.MEILI_URL = stub.url
        ...
        assert [r.path for r in stub.requests] == [...]

It serves on 127.0.0.1 (ephemeral port) from background threads and records every request
(method, path, query, JSON body, headers). Writes are tasks that succeed at once, as a
real server's would a moment later; GET /tasks/{uid} reports them. Searches are a naive
model of Meilisearch: each query word must begin a word of title, summary or description
(the last may also be a one-edit typo of one, four letters and up), the filter syntax the
portal sends is evaluated, title matches rank first, a `sort` orders before relevance,
`_formatted` carries the highlight tags.

Fault injection: `delay` seconds are slept before answering anything but /health (or
everything with `delay_health`); `healthy = False` makes /health answer 503; `fail_next(n)`
answers the next n requests with 503 before doing anything.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WORD = re.compile(r"[^\W_]+")
FILTER = re.compile(r'^(\w+) (=|<=) (?:"((?:[^"\\]|\\.)*)"|(true|false)|([0-9.]+))$')


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class StubIndex:
    primary_key: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    documents: dict[Any, dict[str, Any]] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class MeiliStub:
    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.indexes: dict[str, StubIndex] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.delay = 0.0
        self.delay_health = False
        self.healthy = True
        self._fail = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = (
            False  # a handler sleeping through `delay` must not hold stop()
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "MeiliStub":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail = count

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    # --- the API ---------------------------------------------------------------------

    def _task(self, index_uid: str | None, kind: str, error: dict | None = None) -> dict:
        uid = len(self.tasks)
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index_uid,
            "status": "failed" if error else "succeeded",
            "type": kind,
            "details": {},
            "error": error,
            "duration": "PT0.001S",
            "enqueuedAt": _now(),
            "startedAt": _now(),
            "finishedAt": _now(),
        }
        return {
            "taskUid": uid,
            "indexUid": index_uid,
            "status": "enqueued",
            "type": kind,
            "enqueuedAt": _now(),
        }

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts == ["health"]:
            return (200, {"status": "available"}) if self.healthy else (503, {"message": "down"})
        if parts[0] == "tasks" and len(parts) == 2:
            task = self.tasks.get(int(parts[1]))
            return (200, task) if task else (404, {"code": "task_not_found", "message": "no"})
        if parts == ["swap-indexes"] and method == "POST":
            for pair in body:
                first, second = pair["indexes"]
                missing = [name for name in (first, second) if name not in self.indexes]
                if missing:
                    error = {"code": "index_not_found", "message": f"{missing} not found"}
                    return 202, self._task(None, "indexSwap", error)
                self.indexes[first], self.indexes[second] = (
                    self.indexes[second],
                    self.indexes[first],
                )
            return 202, self._task(None, "indexSwap")
        if parts == ["indexes"] and method == "POST":
            uid = body["uid"]
            if uid in self.indexes:
                error = {"code": "index_already_exists", "message": f"{uid} exists"}
                return 202, self._task(uid, "indexCreation", error)
            self.indexes[uid] = StubIndex(primary_key=body.get("primaryKey"))
            return 202, self._task(uid, "indexCreation")
        if parts[0] == "indexes" and len(parts) >= 2:
            return self._index_route(method, parts[1], parts[2:], body)
        return 404, {"code": "not_found", "message": path}

    def _index_route(self, method: str, uid: str, rest: list[str], body: Any) -> tuple[int, Any]:
        index = self.indexes.get(uid)
        if rest == [] and method == "DELETE":
            if index is None:
                error = {"code": "index_not_found", "message": uid}
                return 202, self._task(uid, "indexDeletion", error)
            del self.indexes[uid]
            return 202, self._task(uid, "indexDeletion")
        if rest == [] and method == "GET":
            if index is None:
                return 404, {"code": "index_not_found", "message": uid, "type": "invalid_request"}
            return 200, {
                "uid": uid,
                "primaryKey": index.primary_key,
                "createdAt": _now(),
                "updatedAt": _now(),
            }
        if rest == ["settings"] and method == "PATCH":
            index = self.indexes.setdefault(uid, StubIndex(primary_key=None))
            index.settings.update(body)
            return 202, self._task(uid, "settingsUpdate")
        if rest == ["settings", "synonyms"] and method == "PUT":
            index = self.indexes.setdefault(uid, StubIndex(primary_key=None))
            index.settings["synonyms"] = body or {}
            return 202, self._task(uid, "settingsUpdate")
        if rest == ["documents"] and method in ("POST", "PUT"):
            index = self.indexes.setdefault(uid, StubIndex(primary_key="id"))
            for document in body:
                index.documents[document[index.primary_key or "id"]] = document
            return 202, self._task(uid, "documentAdditionOrUpdate")
        if rest == ["documents", "delete"] and method == "POST":
            ids = {int(i) for i in re.findall(r"\d+", body["filter"])}
            if index is not None:
                for document_id in ids:
                    index.documents.pop(document_id, None)
            return 202, self._task(uid, "documentDeletion")
        if rest == ["search"] and method == "POST":
            if index is None:
                return 404, {"code": "index_not_found", "message": uid}
            return 200, self._search(index, body)
        return 404, {"code": "not_found", "message": "/".join(rest)}

    def _search(self, index: StubIndex, body: dict[str, Any]) -> dict[str, Any]:
        words = [word.lower() for word in WORD.findall(body.get("q") or "")]
        conditions = body.get("filter") or []
        matched = []
        for document in index.documents.values():
            if not all(self._passes(document, condition) for condition in conditions):
                continue
            rank = self._rank(document, words, index.settings)
            if rank is not None:
                matched.append((rank, document))
        matched.sort(key=lambda pair: (pair[0], -pair[1].get("enrollment_count", 0), pair[1]["id"]))
        if body.get("sort"):
            # Meilisearch's "sort" rule comes first (INDEX_SETTINGS): relevance breaks ties.
            matched.sort(key=lambda pair: self._sort_key(pair[1], body["sort"]))
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        pre, post = body.get("highlightPreTag", "<em>"), body.get("highlightPostTag", "</em>")
        hits = []
        for _, document in matched[offset : offset + limit]:
            retrieved = {k: document[k] for k in body.get("attributesToRetrieve", document)}
            formatted = dict(retrieved)
            for attribute in body.get("attributesToHighlight", []):
                formatted[attribute] = WORD.sub(
                    lambda m: (
                        f"{pre}{m.group()}{post}"
                        if self._word_matches(m.group().lower(), words)
                        else m.group()
                    ),
                    document[attribute],
                )
            hits.append({**retrieved, "_formatted": formatted})
        facets = {}
        for facet in body.get("facets", []):
            counts: dict[str, int] = {}
            for _, document in matched:
                counts[document[facet]] = counts.get(document[facet], 0) + 1
            facets[facet] = counts
        return {
            "hits": hits,
            "query": body.get("q"),
            "processingTimeMs": 1,
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": len(matched),
            "facetDistribution": facets,
        }

    @staticmethod
    def _sort_key(document: dict[str, Any], rules: list[str]) -> tuple:
        """Numbers only (every sortable attribute is one); null values last either way."""
        key: list[Any] = []
        for rule in rules:
            name, direction = rule.split(":")
            value = document.get(name)
            key += [
                value is None,
                0 if value is None else (-value if direction == "desc" else value),
            ]
        return tuple(key)

    @staticmethod
    def _passes(document: dict[str, Any], condition: str) -> bool:
        match = FILTER.match(condition)
        if not match:
            raise ValueError(f"stub cannot parse filter {condition!r}")
        name, operator, text, boolean, number = match.groups()
        value = document.get(name)
        if text is not None:
            return value == re.sub(r"\\(.)", r"\1", text)
        if boolean is not None:
            return value == (boolean == "true")
        return value <= float(number) if operator == "<=" else value == float(number)

    @staticmethod
    def _word_matches(word: str, words: list[str]) -> bool:
        for query in words:
            if word.startswith(query) or _one_edit(query, word):
                return True
            if len(query) >= 4 and _one_edit(query, word[: len(query)]):
                return True
        return False

    def _rank(
        self, document: dict[str, Any], words: list[str], settings: dict[str, Any]
    ) -> int | None:
        """The first searchable attribute holding every word (or one of its synonyms'
        expansions, all of its words), else after them all when the words are spread over
        several; None when some word matches nowhere."""
        if not words:
            return 0
        attributes = settings.get("searchableAttributes") or ["title", "summary", "description"]
        synonyms = settings.get("synonyms") or {}
        alternatives = [
            [[word]] + [expansion.split() for expansion in synonyms.get(word, [])] for word in words
        ]

        def tokens_of(*names: str) -> list[str]:
            found = []
            for name in names:
                value = document.get(name)
                values = value if isinstance(value, list) else [value]
                found += [t.lower() for v in values if v for t in WORD.findall(str(v))]
            return found

        def holds(tokens: list[str]) -> bool:
            return all(
                any(
                    all(
                        any(self._word_matches(token, [part]) for token in tokens)
                        for part in option
                    )
                    for option in options
                )
                for options in alternatives
            )

        for rank, attribute in enumerate(attributes):
            if holds(tokens_of(attribute)):
                return rank
        # Words spread over several attributes still match, after single-attribute ones.
        return len(attributes) if holds(tokens_of(*attributes)) else None

    # --- HTTP plumbing -------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                with stub._lock:
                    stub.requests.append(
                        RecordedRequest(
                            method=self.command,
                            path=parts.path,
                            query=dict(parse_qsl(parts.query)),
                            body=body,
                            headers=headers,
                        )
                    )
                    failing = stub._fail > 0
                    if failing:
                        stub._fail -= 1
                slow = stub.delay and (parts.path != "/health" or stub.delay_health)
                if slow and stub._stopping.wait(stub.delay):
                    return  # stopping: drop the request
                if failing:
                    status, answer = 503, {"message": "injected failure", "code": "internal"}
                elif stub.api_key and headers.get("authorization") != f"Bearer {stub.api_key}":
                    status, answer = 401, {"message": "bad key", "code": "invalid_api_key"}
                else:
                    with stub._lock:
                        status, answer = stub.handle(self.command, parts.path, body)
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
