"""The catalogue of websocket frames: one class per `type` of the /ws/ contract.

Three kinds, told apart by their base class:

- `ClientFrame`: client → server (`search`, `resume`, `watch`, `unwatch`, `ping`).
  `client_frame_decode` and `client_frame_class` + `ClientFrame.parse` turn text into one,
  raising `FrameError` (answered with an `error` frame, the socket stays open).
- `Event`: server → client, addressed to one user, numbered with that user's `seq` and kept
  in the event log (`enrollment.status`, `enrollment.created`, `progress.updated`, …).
  Only these go through `portal.events.publish.publish_to_user`.
- `Frame` (and not `Event`): server → client without a `seq` of their own: replies to the
  asker (`hello`, `search.results`, `pong`, `error`, `resume.done`, `resume.gap`) and state
  (`course.seats`, `course.presence`): the latest value, not a change to replay.

Every class gives its JSON schema (`schema()`), derived from its fields: the frame's keys
exactly, with their types. Contract shapes defined elsewhere (Enrollment, User, search Hit)
are `$ref`s into `$defs`, open objects unless the caller passes stricter definitions.
"""

import dataclasses
import types as pytypes
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import (
    Annotated,
    Any,
    ClassVar,
    Self,
    TypedDict,
    TypeGuard,
    cast,
    get_args,
    get_origin,
)

from portal.parsers import JSONInputError, json_input_loads


class FrameError(Exception):
    """A client frame the server refuses: answered with `error` {code, message}."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Shape:
    """A contract shape defined outside this module (the API's), referenced by name."""

    name: str


# Shapes the frames embed; the HTTP API defines them (its OpenAPI components).
Enrollment = Annotated[Mapping[str, Any], Shape("Enrollment")]
User = Annotated[Mapping[str, Any], Shape("User")]
Hit = Annotated[Mapping[str, Any], Shape("Hit")]
SHAPES = ("Enrollment", "User", "Hit")


class CourseSummary(TypedDict):
    """The course in `enrollment.created`."""

    id: int
    slug: str
    title: str
    seats_taken: int
    capacity: int | None


class ProgressSummary(TypedDict):
    """An enrollment's progress, as the Enrollment's `progress` shows it."""

    completed_lessons: int
    total_lessons: int
    percent: float


class CertificateRef(TypedDict):
    """The certificate in `enrollment.completed` (enrollment.shapes.CertificateRef)."""

    code: str
    url: str


class SearchFiltersBody(TypedDict, total=False):
    category: str | None
    level: str | None
    max_price: float | str | None


# --- server → client -----------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A server → client frame without a `seq` of its own."""

    type: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The frame's fields, without `type` (and, for events, without `seq`)."""
        return _fields_of(self)

    def to_frame(self) -> dict[str, Any]:
        return {"type": self.type, **self.payload()}

    @classmethod
    def schema(cls, defs: dict[str, Any] | None = None) -> dict[str, Any]:
        return _object_schema(cls, defs)


@dataclass(frozen=True)
class Event(Frame):
    """A per-user event: kept in the event log, numbered by the user's `seq`."""

    def to_frame(self, *, seq: int) -> dict[str, Any]:  # type: ignore[override]
        return {"type": self.type, "seq": seq, **self.payload()}


@dataclass(frozen=True)
class Hello(Frame):
    type: ClassVar[str] = "hello"
    user: User | None
    seq: int  # the latest event number for this user (0 for anonymous sockets)


@dataclass(frozen=True)
class SearchResults(Frame):
    type: ClassVar[str] = "search.results"
    id: int | str
    query: str
    hits: list[Hit]
    total: int
    total_is_estimate: bool  # `total` and the facet counts estimated beyond a cap
    facets: dict[str, dict[str, int]]
    took_ms: float
    engine: str
    suggestion: str | None  # the query with its typos corrected, or null


@dataclass(frozen=True)
class CourseSeats(Frame):
    """State of a course's seats, to its watchers: no `seq`."""

    type: ClassVar[str] = "course.seats"
    course: str  # the slug
    seats_taken: int
    capacity: int | None


@dataclass(frozen=True)
class CoursePresence(Frame):
    """How many signed-in learners have the course's pages open, to its watchers."""

    type: ClassVar[str] = "course.presence"
    course: str
    learners: int


@dataclass(frozen=True)
class CourseWaitlist(Frame):
    """How many students wait in the course's line (offers held not counted), to its
    watchers: on `watch` of a course with a capacity, and on every change."""

    type: ClassVar[str] = "course.waitlist"
    course: str
    waiting: int


@dataclass(frozen=True)
class Error(Frame):
    """The answer to a bad client frame; `id` echoes the frame's own when it had one."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    id: int | str | None = field(default=None, metadata={"omit_if_none": True})


@dataclass(frozen=True)
class Pong(Frame):
    type: ClassVar[str] = "pong"


@dataclass(frozen=True)
class Heartbeat(Frame):
    """Sent every WS_HEARTBEAT_SECONDS so proxies keep the socket open."""

    type: ClassVar[str] = "heartbeat"


@dataclass(frozen=True)
class ResumeDone(Frame):
    type: ClassVar[str] = "resume.done"
    seq: int  # the last seq replayed


@dataclass(frozen=True)
class ResumeGap(Frame):
    """Events after `after` were pruned: the client reloads its state instead."""

    type: ClassVar[str] = "resume.gap"
    after: int
    seq: int


@dataclass(frozen=True)
class Resync(Frame):
    """The socket may have missed live events: the client sends `resume`."""

    type: ClassVar[str] = "resync"


@dataclass(frozen=True)
class EnrollmentStatus(Event):
    """To the enrollment's student, every open tab, on every status change."""

    type: ClassVar[str] = "enrollment.status"
    enrollment: Enrollment


@dataclass(frozen=True)
class EnrollmentCreated(Event):
    """To every instructor of the course, when an enrollment becomes active."""

    type: ClassVar[str] = "enrollment.created"
    enrollment: Enrollment
    course: CourseSummary


@dataclass(frozen=True)
class EnrollmentCompleted(Event):
    """To the student and every instructor of the course, when its last lesson is
    completed: the enrollment (status `completed`) and where its certificate is."""

    type: ClassVar[str] = "enrollment.completed"
    enrollment: Enrollment
    certificate: CertificateRef


@dataclass(frozen=True)
class ProgressUpdated(Event):
    """To the enrollment's student, every open tab: `percent` of the whole course, and
    the lesson's own state (`completed`, `position_seconds`)."""

    type: ClassVar[str] = "progress.updated"
    enrollment: int
    lesson: int
    completed: bool
    position_seconds: int
    percent: float
    progress: ProgressSummary


@dataclass(frozen=True)
class WaitlistPosition(Event):
    type: ClassVar[str] = "waitlist.position"
    course: str
    position: int


@dataclass(frozen=True)
class WaitlistOffer(Event):
    type: ClassVar[str] = "waitlist.offer"
    course: str
    offer_expires_at: str


@dataclass(frozen=True)
class WaitlistExpired(Event):
    type: ClassVar[str] = "waitlist.expired"
    course: str


@dataclass(frozen=True)
class WaitlistLeft(Event):
    """The student's place ended without an enrollment (they left, from any tab)."""

    type: ClassVar[str] = "waitlist.left"
    course: str


# --- client → server -----------------------------------------------------------------------

SEARCH_MAX_QUERY = 200
SEARCH_MAX_LIMIT = 50
SEARCH_MAX_SORT = 20
# The HTTP search's bound (catalog.serializers: max_digits=10, decimal_places=2): a larger
# price overflows PostgreSQL's numeric comparison instead of matching everything.
SEARCH_MAX_PRICE = Decimal("99999999.99")
COURSE_SLUG_MAX = 120
# Event numbers are PostgreSQL bigints.
MAX_SEQ = 2**63 - 1


@dataclass(frozen=True)
class ClientFrame:
    """A client → server frame. `parse` validates the decoded JSON object."""

    type: ClassVar[str]
    requires_user: ClassVar[bool] = False  # anonymous sockets get `not_authenticated`

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        return cls()

    def to_frame(self) -> dict[str, Any]:
        return {"type": self.type, **_fields_of(self)}

    @classmethod
    def schema(cls, defs: dict[str, Any] | None = None) -> dict[str, Any]:
        return _object_schema(cls, defs)


@dataclass(frozen=True)
class Search(ClientFrame):
    """Answered with `search.results` of the same `id`; a newer one supersedes it."""

    type: ClassVar[str] = "search"
    id: int | str
    q: str = ""
    filters: SearchFiltersBody | None = None
    limit: int = 10
    sort: str | None = None  # GET /api/search's `sort`; absent: relevance

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        request_id = frame.get("id")
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            raise FrameError("invalid_frame", "search needs an id (a number).")
        query = frame.get("q", "")
        if not isinstance(query, str) or len(query) > SEARCH_MAX_QUERY:
            raise FrameError(
                "invalid_frame", f"q must be a string of at most {SEARCH_MAX_QUERY} characters."
            )
        limit = frame.get("limit", 10)
        if not _is_int(limit) or not 1 <= limit <= SEARCH_MAX_LIMIT:
            raise FrameError(
                "invalid_frame", f"limit must be a number from 1 to {SEARCH_MAX_LIMIT}."
            )
        filters = frame.get("filters")
        if filters is not None and not isinstance(filters, dict):
            raise FrameError("invalid_frame", "filters must be an object.")
        sort = frame.get("sort")
        if sort is not None and (not isinstance(sort, str) or len(sort) > SEARCH_MAX_SORT):
            raise FrameError("invalid_frame", "sort must be a string.")
        # Its keys are checked when read (filter_values).
        body = cast(SearchFiltersBody | None, filters)
        return cls(id=request_id, q=query, filters=body, limit=limit, sort=sort)

    def sort_value(self, *, sorts: typing.Sequence[str]) -> str:
        """The sort checked against the catalog's orders (`sorts`, the first the default),
        which this layer does not know."""
        if not self.sort:  # None or ""
            return sorts[0]
        if self.sort not in sorts:
            raise FrameError("invalid_frame", f"sort must be {_one_of(list(sorts))}.")
        return self.sort

    def filter_values(self, *, levels: typing.Collection[str]) -> dict[str, Any]:
        """The filters checked, as keyword arguments for the catalog's SearchFilters
        (`levels`: the catalog's course levels, which this layer does not know)."""
        raw = self.filters or {}
        category, level, max_price = raw.get("category"), raw.get("level"), raw.get("max_price")
        if category is not None and (not isinstance(category, str) or len(category) > 80):
            raise FrameError("invalid_frame", "filters.category must be a string.")
        if level not in (None, "") and (not isinstance(level, str) or level not in levels):
            raise FrameError("invalid_frame", f"filters.level must be {_one_of(list(levels))}.")
        price = None
        if max_price not in (None, ""):
            if isinstance(max_price, bool) or not isinstance(max_price, int | float | str):
                raise FrameError("invalid_frame", "filters.max_price must be a number.")
            try:
                price = Decimal(str(max_price))
            except InvalidOperation as exc:
                raise FrameError("invalid_frame", "filters.max_price must be a number.") from exc
            if not price.is_finite() or not 0 <= price <= SEARCH_MAX_PRICE:
                raise FrameError(
                    "invalid_frame", f"filters.max_price must be from 0 to {SEARCH_MAX_PRICE}."
                )
            price = price.quantize(Decimal("0.01"))
        return {"category": category or None, "level": level or None, "max_price": price}


@dataclass(frozen=True)
class Resume(ClientFrame):
    """Every event after `after`, in order, then `resume.done` (or `resume.gap`)."""

    type: ClassVar[str] = "resume"
    requires_user: ClassVar[bool] = True
    after: int

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        after = frame.get("after")
        if not _is_int(after) or not 0 <= after <= MAX_SEQ:
            raise FrameError("invalid_frame", "resume needs after (the last seq seen, >= 0).")
        return cls(after=after)


@dataclass(frozen=True)
class Watch(ClientFrame):
    """`course.seats` and `course.presence` now and on every change of them.

    `present`: this tab has the course's own pages open (the course page, a lesson page);
    a signed-in learner's tab watching with it counts in `course.presence`. A later
    `watch` of the same course on the socket replaces the earlier one's `present`."""

    type: ClassVar[str] = "watch"
    course: str
    present: bool = False

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        present = frame.get("present", False)
        if not isinstance(present, bool):
            raise FrameError("invalid_frame", "present must be true or false.")
        return cls(course=_course_slug(frame), present=present)


@dataclass(frozen=True)
class Unwatch(ClientFrame):
    type: ClassVar[str] = "unwatch"
    course: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        return cls(course=_course_slug(frame))


@dataclass(frozen=True)
class Ping(ClientFrame):
    type: ClassVar[str] = "ping"


# --- the catalogue ---------------------------------------------------------------------------

CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    cls.type: cls for cls in (Search, Resume, Watch, Unwatch, Ping)
}
SERVER_FRAMES: dict[str, type[Frame]] = {
    cls.type: cls
    for cls in (
        Hello,
        SearchResults,
        EnrollmentStatus,
        EnrollmentCreated,
        EnrollmentCompleted,
        ProgressUpdated,
        CourseSeats,
        CoursePresence,
        CourseWaitlist,
        WaitlistPosition,
        WaitlistOffer,
        WaitlistExpired,
        WaitlistLeft,
        Error,
        Pong,
        Heartbeat,
        ResumeDone,
        ResumeGap,
        Resync,
    )
}
EVENTS: dict[str, type[Event]] = {
    name: cls for name, cls in SERVER_FRAMES.items() if issubclass(cls, Event)
}


def client_frame_decode(raw: str | bytes, *, max_bytes: int) -> dict[str, Any]:
    """Text to a JSON object with a string `type`, or FrameError."""
    if len(raw) > max_bytes:
        raise FrameError("too_large", f"Frames are limited to {max_bytes} bytes.")
    try:
        frame = json_input_loads(raw)
    except JSONInputError as exc:  # nested too deep, NUL, lone surrogate (portal.parsers)
        raise FrameError("invalid_frame", str(exc)) from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise FrameError("invalid_json", "The frame is not valid JSON.") from exc
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("invalid_frame", 'A frame is a JSON object with a "type".')
    return frame


def client_frame_class(frame: dict[str, Any]) -> type[ClientFrame]:
    """The catalogue's class for a decoded frame, or FrameError `unknown_type`."""
    cls = CLIENT_FRAMES.get(frame["type"])
    if cls is None:
        raise FrameError("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
    return cls


def catalogue_schema(defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every frame's schema by type, for documentation and tests."""
    return {
        "client": {name: cls.schema(defs) for name, cls in CLIENT_FRAMES.items()},
        "server": {name: cls.schema(defs) for name, cls in SERVER_FRAMES.items()},
    }


def _one_of(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _fields_of(obj: Any) -> dict[str, Any]:
    values = {}
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if value is None and item.metadata.get("omit_if_none"):
            continue
        values[item.name] = value
    return values


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _course_slug(frame: dict[str, Any]) -> str:
    slug = frame.get("course")
    if not isinstance(slug, str) or not 0 < len(slug) <= COURSE_SLUG_MAX:
        raise FrameError("invalid_frame", "course must be a course slug.")
    return slug


# --- JSON schemas from the classes' fields ---------------------------------------------------

_PRIMITIVES: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    Decimal: {"type": ["number", "string"]},
    Any: {},
}


def _object_schema(cls: type[Frame | ClientFrame], defs: dict[str, Any] | None) -> dict[str, Any]:
    # What the server sends is exact (no extra key); what it reads tolerates extra keys.
    closed = not issubclass(cls, ClientFrame)
    hints = typing.get_type_hints(cls, include_extras=True)
    properties: dict[str, Any] = {"type": {"const": cls.type}}
    required = ["type"]
    if issubclass(cls, Event):
        properties["seq"] = {"type": "integer", "minimum": 1}
        required.append("seq")
    for item in dataclasses.fields(cls):
        properties[item.name] = _annotation_schema(hints[item.name], closed=closed)
        has_default = item.default is not dataclasses.MISSING
        # A client may leave out a field with a default; a server frame always has its
        # fields, except those dropped when empty (Error.id).
        optional = item.metadata.get("omit_if_none") or (
            issubclass(cls, ClientFrame) and has_default
        )
        if not optional:
            required.append(item.name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": cls.type,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": not closed,
        "$defs": {name: {"type": "object"} for name in SHAPES} | (defs or {}),
    }


def _annotation_schema(annotation: Any, *, closed: bool) -> dict[str, Any]:
    if annotation in _PRIMITIVES:
        return dict(_PRIMITIVES[annotation])
    origin = get_origin(annotation)
    if origin is Annotated:
        _, *extras = get_args(annotation)
        shape = next(extra for extra in extras if isinstance(extra, Shape))
        return {"$ref": f"#/$defs/{shape.name}"}
    if origin in (typing.Union, pytypes.UnionType):
        return {"anyOf": [_annotation_schema(arg, closed=closed) for arg in get_args(annotation)]}
    if origin is list:
        (item,) = get_args(annotation)
        return {"type": "array", "items": _annotation_schema(item, closed=closed)}
    if origin is dict:
        _, value = get_args(annotation)
        return {"type": "object", "additionalProperties": _annotation_schema(value, closed=closed)}
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation)
        return {
            "type": "object",
            "properties": {
                name: _annotation_schema(hint, closed=closed) for name, hint in hints.items()
            },
            "required": sorted(annotation.__required_keys__),
            "additionalProperties": not closed,
        }
    raise TypeError(f"No JSON schema for {annotation!r}")
