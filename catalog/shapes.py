"""The catalog's shapes and enums, each defined once (see portal.shapes).

Derived from here: the model's `level` choices (catalog.models), the presenters' return types
(catalog.presenters), the OpenAPI components (catalog.schema), the columns the presenters
read (catalog.selectors), the writable fields of the authoring service and its input
serializer (catalog.services, catalog.serializers), the Meilisearch documents
(catalog.search.meili), the search hits (catalog.search.hits), the pages' level options
(frontend) and the tests' contract keys (tests/contract.py).
"""

from decimal import Decimal
from typing import Annotated, TypedDict

from django.db import models

from portal.shapes import Field, keys_of

MONEY_HELP = 'Two decimals, e.g. "49.00".'
HIGHLIGHT_HELP = "HTML: escaped text, matches in <mark>…</mark>."
PREVIEW_HELP = "Readable by anyone, enrolled or not."
MEDIA_URL_HELP = (
    "Time-limited (MEDIA_URL_EXPIRY_SECONDS) and bound to this one file; answers HTTP "
    "Range requests with 206. Fetch the lesson again for a fresh one."
)


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class SearchSort(models.TextChoices):
    """The orders GET /api/search and the websocket `search` frame accept (`sort`)."""

    RELEVANCE = "relevance", "Best match"
    POPULAR = "popular", "Most popular"
    RATING = "rating", "Highest rated"
    PRICE = "price", "Price: low to high"
    PRICE_DESC = "-price", "Price: high to low"
    NEWEST = "newest", "Newest"


# A search term (catalog.search.text.terms): a run of letters and digits, optionally joined
# by "." "-" "/" inside a word ("node.js", "e-commerce", "ci/cd"). A synonym's term is one.
SEARCH_TERM = r"[^\W_]+(?:[.\-/][^\W_]+)*"
SEARCH_TERM_MAX = 64


class LessonKind(models.TextChoices):
    """What a lesson mainly is: Markdown text, or a video (with captions). Either may have
    a body and downloadable resources."""

    TEXT = "text", "Text"
    VIDEO = "video", "Video"


# The video types a lesson's media may have (checked against the file's first bytes).
VIDEO_CONTENT_TYPES = ("video/mp4", "video/webm")
CAPTION_CONTENT_TYPE = "text/vtt"


# --- answers -------------------------------------------------------------------------------


class InstructorRef(TypedDict):
    id: int
    name: str


REFUND_DAYS_MAX = 365
REFUND_DAYS_HELP = "A paid enrollment is refunded on cancel within this many days of the purchase."
REFUND_PERCENT_HELP = (
    "… and while at most this share (%) of the course's lessons is completed; beyond either, "
    "cancel answers 409 refund_not_allowed."
)


class Course(TypedDict):
    """The contract's `Course`."""

    id: int
    slug: Annotated[str, Field(format="slug")]
    title: str
    summary: str
    category: str
    level: Annotated[str, Field(choices=Level)]
    price: Annotated[str, Field(help_text=MONEY_HELP)]
    currency: str
    instructor: InstructorRef | None
    capacity: Annotated[int | None, Field(help_text="null: unlimited")]
    seats_taken: int
    rating: float | None
    published_at: Annotated[str | None, Field(format="date-time")]
    refund_days: Annotated[int, Field(help_text=REFUND_DAYS_HELP)]
    refund_max_percent: Annotated[int, Field(help_text=REFUND_PERCENT_HELP)]


class LessonOutline(TypedDict):
    """A lesson as the course outline lists it (GET /api/courses/{slug})."""

    id: int
    title: str
    position: int
    duration_seconds: int
    kind: Annotated[str, Field(choices=LessonKind)]
    preview: Annotated[bool, Field(help_text=PREVIEW_HELP)]


class Module(TypedDict):
    id: int
    title: str
    position: int
    lessons: list[LessonOutline]


class CourseDetail(Course):
    """`Course` plus its description, every instructor and the outline."""

    description: str
    instructors: list[InstructorRef]
    modules: list[Module]


class Highlight(TypedDict):
    title: Annotated[str, Field(help_text=HIGHLIGHT_HELP)]
    summary: Annotated[str, Field(help_text=HIGHLIGHT_HELP)]


class SearchHit(Course):
    """The contract's `Hit`: `Course` plus highlighted copies of title and summary."""

    highlight: Highlight


class CourseRef(TypedDict):
    slug: Annotated[str, Field(format="slug")]
    title: str


class ModuleRef(TypedDict):
    id: int
    title: str


class Caption(TypedDict):
    lang: Annotated[str, Field(help_text="BCP 47 language tag, e.g. en, pt-BR.")]
    label: str
    url: Annotated[str, Field(format="uri", help_text=MEDIA_URL_HELP)]


class Media(TypedDict):
    url: Annotated[str, Field(format="uri", help_text=MEDIA_URL_HELP)]
    content_type: Annotated[str, Field(choices=VIDEO_CONTENT_TYPES)]
    captions: list[Caption]


class Resource(TypedDict):
    title: str
    url: Annotated[str, Field(format="uri", help_text=MEDIA_URL_HELP)]
    size: Annotated[int, Field(help_text="Bytes.")]


class Lesson(LessonOutline):
    """The contract's `Lesson` (GET /api/lessons/{id}): the outline's entry plus its
    content. Built per reader and never cached whole: its media links are signed for
    this answer."""

    course: CourseRef
    module: ModuleRef
    body_html: Annotated[
        str, Field(help_text="Sanitised HTML rendered from the instructor's Markdown.")
    ]
    media: Media | None
    resources: list[Resource]
    previous: Annotated[int | None, Field(help_text="The lesson before, in course order.")]
    next: Annotated[int | None, Field(help_text="The lesson after, in course order.")]


# --- the studio (authoring API: GET /api/studio/…, module and lesson writes) ---------------

VERSION_HELP = (
    "+1 on every saved change. Send it back with a PATCH (or as If-Match): if it is no "
    "longer the stored one, nothing is written and the answer is 409 edit_conflict."
)


class StudioCourseSummary(Course):
    """A course on the author's list: `Course` plus its state and counts."""

    published: bool
    version: Annotated[int, Field(help_text=VERSION_HELP)]
    enrollment_count: int
    modules_count: int
    lessons_count: int
    updated_at: Annotated[str, Field(format="date-time")]


class StudioLessonSummary(TypedDict):
    """A lesson in the studio's curriculum."""

    id: int
    title: str
    position: Annotated[int, Field(help_text="1-based, contiguous within its module.")]
    kind: Annotated[str, Field(choices=LessonKind)]
    preview: Annotated[bool, Field(help_text=PREVIEW_HELP)]
    duration_seconds: int
    version: Annotated[int, Field(help_text=VERSION_HELP)]
    has_media: bool
    captions_count: int
    resources_count: int


class StudioModule(TypedDict):
    id: int
    title: str
    position: Annotated[int, Field(help_text="1-based, contiguous within its course.")]
    version: Annotated[int, Field(help_text=VERSION_HELP)]
    lessons: list[StudioLessonSummary]


class StudioCourse(Course):
    """A course as its authors edit it (drafts included): every field they write, its
    version, and the curriculum with each lesson's media and file counts."""

    description: str
    refund_policy: str
    instructors: list[InstructorRef]
    published: bool
    version: Annotated[int, Field(help_text=VERSION_HELP)]
    updated_at: Annotated[str, Field(format="date-time")]
    modules: list[StudioModule]


class StudioCaption(Caption):
    id: Annotated[int, Field(help_text="DELETE /api/captions/{id} removes it.")]


class StudioMedia(TypedDict):
    url: Annotated[str, Field(format="uri", help_text=MEDIA_URL_HELP)]
    content_type: Annotated[str, Field(choices=VIDEO_CONTENT_TYPES)]
    size: Annotated[int | None, Field(help_text="Bytes; null when the storage cannot say.")]
    captions: list[StudioCaption]


class StudioResource(Resource):
    id: Annotated[int, Field(help_text="DELETE /api/resources/{id} removes it.")]
    content_type: str


class StudioLesson(StudioLessonSummary):
    """A lesson as its authors edit it: the Markdown source beside its rendering."""

    module: ModuleRef
    course: CourseRef
    body: Annotated[str, Field(help_text="Markdown.")]
    body_html: Annotated[str, Field(help_text="Sanitised HTML rendered from `body`.")]
    media: StudioMedia | None
    resources: list[StudioResource]


class LessonPreview(TypedDict):
    body_html: Annotated[str, Field(help_text="Sanitised HTML, as saving would render it.")]


COURSE_KEYS = keys_of(Course)
LESSON_KEYS = keys_of(Lesson)
LESSON_OUTLINE_KEYS = keys_of(LessonOutline)
HIGHLIGHT_KEYS = keys_of(Highlight)
# Course keys that are the model's own columns (the instructor comes from a relation).
COURSE_COLUMNS = tuple(key for key in COURSE_KEYS if key != "instructor")


# --- writes --------------------------------------------------------------------------------


class CourseWrite(TypedDict, total=False):
    """The course columns authors set (POST and PATCH /api/courses); "published" and the
    outline travel beside them."""

    title: str
    summary: str
    description: str
    category: str
    level: str
    price: Decimal
    currency: str
    capacity: int | None
    refund_policy: str
    refund_days: int
    refund_max_percent: int


COURSE_WRITABLE_FIELDS = keys_of(CourseWrite)


# --- the search index ----------------------------------------------------------------------


class CourseDocument(TypedDict):
    """A course as an external search index (Meilisearch) stores it. Every course has one;
    searches filter on `published`."""

    id: int
    title: str
    summary: str
    description: str
    category: str
    level: str
    price: float
    published: bool
    published_at: int | None  # a Unix timestamp: sortable
    enrollment_count: int
    rating: float | None
    instructors: list[str]  # their names, in the course's order
    outline: list[str]  # module titles, then lesson titles, in outline order


# Keys a document computes: "published" from published_at, the rest from related rows.
COURSE_DOCUMENT_COMPUTED = ("published", "instructors", "outline")
# The course columns a document is built from.
COURSE_DOCUMENT_COLUMNS = tuple(
    key for key in keys_of(CourseDocument) if key not in COURSE_DOCUMENT_COMPUTED
)


# --- coupons (catalog.coupons) ---------------------------------------------------------------

COUPON_CODE_MIN = 3
COUPON_CODE_MAX = 32
# A code as stored: upper-case, so one unique index makes codes unique whatever the case.
COUPON_CODE_STORED = rf"^[A-Z0-9_-]{{{COUPON_CODE_MIN},{COUPON_CODE_MAX}}}$"
# A code as typed: either case; the ASCII white space around it is dropped.
COUPON_CODE_TYPED = rf"^[ \t\n\r]*[A-Za-z0-9_-]{{{COUPON_CODE_MIN},{COUPON_CODE_MAX}}}[ \t\n\r]*$"
COUPON_CODE_HELP = (
    f"{COUPON_CODE_MIN} to {COUPON_CODE_MAX} letters, digits, - or _; matched whatever the case "
    "and stored upper-case."
)
COUPON_AMOUNT_HELP = "Money off in the course's currency, two decimals; null for a percentage."


class Coupon(TypedDict):
    """A course's coupon as its authors see it (POST/GET /api/courses/{slug}/coupons)."""

    code: Annotated[str, Field(help_text=COUPON_CODE_HELP)]
    percent_off: Annotated[int | None, Field(help_text="1 to 100; null for an amount off.")]
    amount_off: Annotated[str | None, Field(help_text=COUPON_AMOUNT_HELP)]
    max_redemptions: Annotated[int | None, Field(help_text="null: unlimited.")]
    redeemed: Annotated[
        int, Field(help_text="Checkouts that used it (an unpaid one that ended gives it back).")
    ]
    expires_at: Annotated[str | None, Field(format="date-time", help_text="null: never.")]
    course: Annotated[
        str | None, Field(format="slug", help_text="null: a staff coupon for every course.")
    ]


class CouponQuote(TypedDict):
    """What a course costs with a coupon (GET /api/courses/{slug}/coupons/{code}/quote)."""

    code: str
    price: Annotated[str, Field(help_text="The course's price. " + MONEY_HELP)]
    amount: Annotated[
        str, Field(help_text="What the buyer pays with the coupon, never below 0.00. " + MONEY_HELP)
    ]
    currency: str
    percent_off: int | None
    amount_off: Annotated[str | None, Field(help_text=COUPON_AMOUNT_HELP)]
