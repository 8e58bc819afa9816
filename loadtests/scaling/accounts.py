"""The accounts and courses a load run needs, written to a fixtures file for Locust.

    python -m loadtests.scaling.accounts --out fixtures.json --students 2000

Run with the environment of the portal under test (DATABASE_URL, DJANGO_SETTINGS_MODULE,
...), after `manage.py load_demo_data`. It makes, under a run label of its own so that
runs never share an account or a course:

- verified students with a bearer token each (no password sign-in: hashing is deliberately
  slow, and a run measures the portal, not PBKDF2);
- a bearer token for each of the load instructors: the demo catalog's instructors that
  teach both a paid and a free course without a capacity (enrollments never fill them);
- free courses with a small capacity whose seats the waiting students pass around
  through the waitlist;
- a coupon valid on every course.

Tokens are stored hashed (AuthToken); the raw values exist only in the fixtures file.
"""

import argparse
import json
import os
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FREE_COURSE = "python-foundations-free"  # the demo's free course with video lessons


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def _tokens_issue(users: list[Any]) -> dict[int, str]:
    """One bearer token per user, in one statement."""
    from django.conf import settings
    from django.utils import timezone

    from portal.accounts.models import AuthToken, hash_token

    expires = timezone.now() + timedelta(days=settings.AUTH_TOKEN_TTL_DAYS)
    raw = {user.pk: secrets.token_urlsafe(32) for user in users}
    AuthToken.objects.bulk_create(
        AuthToken(
            user=user,
            key_hash=hash_token(raw[user.pk]),
            prefix=raw[user.pk][:8],
            expires_at=expires,
            user_agent="loadtest",
        )
        for user in users
    )
    return raw


def students_make(*, label: str, count: int) -> list[dict[str, str]]:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portal.accounts.models import User

    # Nobody signs in with it: one unusable hash for all, computed once.
    password = make_password(None)
    now = timezone.now()
    emails = [f"load-{label}-{index:06d}@load.example.com" for index in range(count)]
    User.objects.bulk_create(
        (
            User(email=email, name=f"Load Student {index}", password=password,
                 email_verified_at=now)
            for index, email in enumerate(emails)
        ),
        batch_size=1000,
    )  # fmt: skip
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    tokens = _tokens_issue(users)
    return [{"email": user.email, "token": tokens[user.pk]} for user in users]


def _unlimited(user: Any) -> tuple[list[str], list[str]]:
    """The paid and the free published courses without a capacity that `user` teaches."""
    from catalog.models import Course

    rows = Course.objects.filter(
        instructors=user, published_at__isnull=False, capacity__isnull=True
    ).values_list("slug", "price")
    paid = sorted(slug for slug, price in rows if price > 0)
    free = sorted(slug for slug, price in rows if price == 0)
    return paid, free


def instructors_pick(*, count: int) -> list[dict[str, Any]]:
    """The first `count` demo instructors (in email order) that teach a paid and a free
    course without a capacity, with a token each."""
    from portal.accounts.models import User

    picked: list[tuple[Any, list[str], list[str]]] = []
    candidates = User.objects.filter(
        is_instructor=True, email__endswith="@demo.example.com"
    ).order_by("email")
    for user in candidates.iterator():
        paid, free = _unlimited(user)
        if paid and free:
            picked.append((user, paid, free))
        if len(picked) == count:
            break
    if not picked:
        raise SystemExit("no demo instructor teaches both a paid and a free unlimited course")
    tokens = _tokens_issue([user for user, _, _ in picked])
    return [
        {"email": user.email, "token": tokens[user.pk], "paid": paid, "free": free}
        for user, paid, free in picked
    ]


def waitlist_courses_make(*, label: str, count: int, capacity: int) -> list[str]:
    """Free courses of `capacity` seats by the demo instructor, published."""
    from catalog.demo import DEMO_INSTRUCTOR_EMAIL
    from catalog.services import course_create
    from portal.accounts.models import User

    author = User.objects.get(email=DEMO_INSTRUCTOR_EMAIL)
    slugs = []
    for index in range(count):
        course = course_create(
            author=author,
            data={
                "title": f"Waitlist drill {label} {index + 1}",
                "summary": "A small free course whose seats pass along its waitlist.",
                "category": "Programming",
                "level": "beginner",
                "price": 0,
                "currency": "usd",
                "capacity": capacity,
                "modules": [
                    {
                        "title": "1. Start",
                        "lessons": [
                            {"title": "Welcome", "duration_seconds": 120, "body": "Hello."},
                            {"title": "Next steps", "duration_seconds": 300, "body": "More."},
                        ],
                    }
                ],
            },
        )
        slugs.append(course.slug)
    return slugs


def coupon_make(*, label: str, percent_off: int) -> str:
    """A coupon for every course, made by the demo staff account, never exhausted."""
    from catalog.coupons import coupon_create
    from portal.accounts.models import User

    staff = User.objects.filter(is_staff=True).order_by("id").first()
    coupon = coupon_create(
        course=None,
        user=staff,
        code=f"LOAD-{label}"[:32],
        percent_off=percent_off,
        amount_off=None,
        max_redemptions=None,
        expires_at=None,
    )
    return coupon.code


def learning_lessons() -> list[dict[str, Any]]:
    """The free demo course's lessons, for the learning students."""
    from catalog.models import Lesson

    lessons = Lesson.objects.filter(module__course__slug=FREE_COURSE).order_by(
        "module__position", "position"
    )
    return [{"id": lesson.pk, "kind": lesson.kind} for lesson in lessons]


def fixtures_make(
    *,
    students: int,
    instructors: int,
    waitlist_courses: int,
    waitlist_capacity: int,
    coupon_percent_off: int,
) -> dict[str, Any]:
    from django.conf import settings

    label = f"{int(time.time()):x}{secrets.token_hex(2)}"
    return {
        "label": label,
        "students": students_make(label=label, count=students),
        "instructors": instructors_pick(count=instructors),
        "waitlist_courses": waitlist_courses_make(
            label=label, count=waitlist_courses, capacity=waitlist_capacity
        ),
        "waitlist_capacity": waitlist_capacity,
        "coupon": coupon_make(label=label, percent_off=coupon_percent_off),
        "learning_course": FREE_COURSE,
        "learning_lessons": learning_lessons(),
        "waitlist_offer_minutes": settings.WAITLIST_OFFER_MINUTES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Where to write the JSON.")
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--instructors", type=int, default=8)
    parser.add_argument("--waitlist-courses", type=int, default=4)
    parser.add_argument("--waitlist-capacity", type=int, default=2)
    parser.add_argument("--coupon-percent-off", type=int, default=20)
    args = parser.parse_args(argv)
    _setup_django()
    started = time.monotonic()
    fixtures = fixtures_make(
        students=args.students,
        instructors=args.instructors,
        waitlist_courses=args.waitlist_courses,
        waitlist_capacity=args.waitlist_capacity,
        coupon_percent_off=args.coupon_percent_off,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixtures, indent=1))
    print(
        f"fixtures {fixtures['label']}: {len(fixtures['students'])} students, "
        f"{len(fixtures['instructors'])} instructors, "
        f"{len(fixtures['waitlist_courses'])} waitlist courses, coupon {fixtures['coupon']} "
        f"({time.monotonic() - started:.1f}s) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
