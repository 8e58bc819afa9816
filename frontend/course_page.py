"""The course page's first paint, rendered on the server: the header, the description, the
outline, the price, the seats and the refund terms, in the markup and words that
static/js/pages/course.js renders from `GET /api/courses/{slug}` (the same answer,
catalog.answers.course_detail_get). Search engines and link previews read the course from
the HTML, the page shows it before any script runs, and the script's render (it still
fetches the course and re-renders it) replaces it without moving anything.

Kept beside the script's helpers it mirrors (ui.js minutesLabel, money, seatsText,
LESSON_KIND_LABELS; pages/course.js header, curriculum): a wording changed in one changes
in the other.
"""

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from catalog.shapes import Level

# ui.js LESSON_KIND_LABELS: what the outline calls each kind of lesson.
LESSON_KIND_LABELS = {"video": "Video", "text": "Reading"}
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
LEVEL_LABELS = dict(Level.choices)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def minutes_label(seconds: float) -> str:
    """ui.js minutesLabel: "45 s", "12 min", "1 h 5 min", "2 h"."""
    total = float(seconds or 0)
    if 0 < total < 60:
        return f"{math.floor(total + 0.5)} s"
    minutes = math.floor(total / 60 + 0.5)  # JavaScript's Math.round: halves up
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def money(amount: str | Decimal, currency: str) -> str:
    """ui.js money as an en-US browser shows it: "Free", "$49.00", "€1,299.00"."""
    value = Decimal(str(amount))
    if value == 0:
        return "Free"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{symbol}{value:,.2f}" if symbol else f"{value:.2f} {currency.upper()}"


def seats_text(seats_taken: int, capacity: int | None) -> str:
    """ui.js seatsText."""
    if capacity is None:
        return "Open enrollment · unlimited seats"
    left = max(0, capacity - seats_taken)
    if left == 0:
        return "Full · no seats left"
    return f"{left} of {plural(capacity, 'seat')} left"


def refund_terms(course: Mapping[str, Any]) -> str:
    """pages/course.js: the refund rule a buyer reads before paying."""
    days = course["refund_days"]
    if not days:
        return "No refunds once paid."
    return (
        f"Full refund if you cancel within {plural(days, 'day')}, having completed at most "
        f"{course['refund_max_percent']}% of the lessons."
    )


def _rating(value: float) -> tuple[str, str]:
    """(the aria-label's number as JavaScript prints it, the one-decimal figure shown)."""
    return f"{value:g}", f"{value:.1f}"


def course_page(course: Mapping[str, Any], *, draft: bool = False) -> dict[str, Any]:
    """What course.html renders from a course's detail answer (`draft`: its author sees the
    draft's seats line instead of the public one)."""
    modules = []
    for index, module in enumerate(course["modules"]):
        seconds = sum(lesson["duration_seconds"] for lesson in module["lessons"])
        lessons = [
            {
                **lesson,
                "meta": " · ".join(
                    part
                    for part in (
                        LESSON_KIND_LABELS.get(lesson["kind"], ""),
                        minutes_label(lesson["duration_seconds"]),
                    )
                    if part
                ),
            }
            for lesson in module["lessons"]
        ]
        modules.append(
            {
                "title": module["title"],
                "open": index == 0,
                "meta": f"{plural(len(lessons), 'lesson')} · {minutes_label(seconds)}",
                "lessons": lessons,
            }
        )
    lesson_count = sum(len(module["lessons"]) for module in modules)
    seconds = sum(
        lesson["duration_seconds"] for module in course["modules"] for lesson in module["lessons"]
    )
    capacity, taken = course["capacity"], course["seats_taken"]
    full = capacity is not None and taken >= capacity
    paid = Decimal(str(course["price"])) > 0
    price = money(course["price"], course["currency"])
    if draft:
        limit = "unlimited seats" if capacity is None else plural(capacity, "seat")
        seats = f"Draft · enrollment opens when you publish ({limit})"
    else:
        seats = seats_text(taken, capacity)
    rating = course["rating"]
    description = course["description"] or course["summary"]
    return {
        "level_label": LEVEL_LABELS.get(course["level"], course["level"]),
        "rating": _rating(rating) if rating is not None else None,
        "lessons_label": plural(lesson_count, "lesson"),
        "duration_label": minutes_label(seconds) if seconds else "",
        "paragraphs": re.split(r"\n{2,}", description),
        "outline_label": f"{plural(len(modules), 'module')} · {plural(lesson_count, 'lesson')}",
        "modules": modules,
        "price": price,
        "paid": paid,
        "seats": seats,
        # pages/course.js renderSeats: the seats line's classes.
        "seats_class": " ".join(
            name
            for name, on in (
                ("seats", True),
                ("draft", draft),
                ("full", full),
                ("low", not full and capacity is not None and capacity - taken <= 5),
            )
            if on
        ),
        "full": full,
        "refund_terms": refund_terms(course) if paid else "",
        "submit_label": (
            "Course full" if full else f"Enroll · {price}" if paid else "Enroll for free"
        ),
    }
