"""The instructor tools' answers, each defined once (see portal.shapes)."""

from typing import Annotated, TypedDict

from catalog.shapes import MONEY_HELP
from portal.shapes import Field


class RevenueTotal(TypedDict):
    currency: str
    gross: Annotated[str, Field(help_text="Succeeded and refunded payments. " + MONEY_HELP)]
    refunds: Annotated[str, Field(help_text=MONEY_HELP)]
    net: Annotated[str, Field(help_text="gross - refunds. " + MONEY_HELP)]
    enrollments: Annotated[int, Field(help_text="Enrollments that went through (activated).")]


class CourseRevenue(RevenueTotal):
    slug: Annotated[str, Field(format="slug")]
    title: str
    active: int
    completed: int


class Revenue(TypedDict):
    totals: list[RevenueTotal]
    courses: list[CourseRevenue]


class HourBucket(TypedDict):
    hour: Annotated[str, Field(format="date-time", help_text="The hour's start, UTC.")]
    count: int


class EnrollmentsPerHour(TypedDict):
    hours: int
    course: Annotated[str | None, Field(help_text="The course asked for; null: all yours.")]
    buckets: list[HourBucket]


class AnnouncementQueued(TypedDict):
    id: int
    recipients: Annotated[int, Field(help_text="Students it will be sent to (not opted out).")]
    status: Annotated[str, Field(choices=["queued", "sending", "sent"])]


class CourseSeats(TypedDict):
    slug: Annotated[str, Field(format="slug")]
    title: str
    version: Annotated[int, Field(help_text="For PATCH /api/courses/{slug} (capacity).")]
    capacity: Annotated[int | None, Field(help_text="null: unlimited.")]
    seats_taken: Annotated[int, Field(help_text="Enrollments holding a seat, and offers held.")]
    waiting: Annotated[int, Field(help_text="Students in the waitlist's line.")]
    offered: Annotated[int, Field(help_text="Seats held for waitlist offers.")]


class SeatsBoard(TypedDict):
    courses: list[CourseSeats]
