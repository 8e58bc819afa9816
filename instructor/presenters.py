"""The instructor tools' answers (instructor.shapes)."""

from datetime import datetime

from catalog.presenters import money
from instructor import shapes
from instructor.models import Announcement
from instructor.selectors import RevenueReport


def revenue_body(report: RevenueReport) -> shapes.Revenue:
    return {
        "totals": [
            {
                "currency": currency,
                "gross": money(total.gross),
                "refunds": money(total.refunds),
                "net": money(total.net),
                "enrollments": total.enrollments,
            }
            for currency, total in sorted(report.totals.items())
        ],
        "courses": [
            {
                "slug": course.slug,
                "title": course.title,
                "currency": currency,
                "gross": money(revenue.gross),
                "refunds": money(revenue.refunds),
                "net": money(revenue.net),
                "enrollments": revenue.enrollments,
                "active": revenue.active,
                "completed": revenue.completed,
            }
            for course, currency, revenue in report.courses
        ],
    }


def per_hour_body(
    *, hours: int, course: str | None, buckets: list[tuple[datetime, int]]
) -> shapes.EnrollmentsPerHour:
    return {
        "hours": hours,
        "course": course,
        "buckets": [
            {"hour": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": count}
            for start, count in buckets
        ],
    }


def announcement_body(announcement: Announcement) -> shapes.AnnouncementQueued:
    return {
        "id": announcement.pk,
        "recipients": announcement.recipients,
        "status": announcement.status,
    }
