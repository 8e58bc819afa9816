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


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


# --- answers -------------------------------------------------------------------------------


class InstructorRef(TypedDict):
    id: int
    name: str


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


class Lesson(TypedDict):
    id: int
    title: str
    position: int
    duration_seconds: int


class Module(TypedDict):
    id: int
    title: str
    position: int
    lessons: list[Lesson]


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


COURSE_KEYS = keys_of(Course)
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


# The course columns a document is built from ("published" is computed from published_at).
COURSE_DOCUMENT_COLUMNS = tuple(key for key in keys_of(CourseDocument) if key != "published")
