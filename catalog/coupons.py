"""Coupons: a code that takes a percentage or an amount off a course's price.

    coupon_quote(course=…, code="launch20")   # the price with the coupon; reads only
    coupon_redeem(course=…, code="launch20")  # counts one use, inside the caller's transaction
    coupon_release(coupon_id=…)               # gives one use back (an unpaid checkout ended)

`redeemed` moves only here. A use is counted by one conditional `UPDATE … SET redeemed =
redeemed + 1 WHERE … AND (max_redemptions IS NULL OR redeemed < max_redemptions) AND (not
expired)`: concurrent checkouts queue on the row lock and PostgreSQL re-checks the condition
against the row the previous one committed, so uses never exceed `max_redemptions` (the
check constraint `coupon_redeemed_within_max` backs it). The lock lasts until the caller
commits, so callers redeem late in their transaction, as they take seats (catalog.seats).

Codes are matched whatever the case, white space around them ignored; they are stored
upper-case. A coupon with no course (made by staff in the admin) applies to every course.
Refusals: 400 `coupon_invalid` (with `fields.coupon`) for an unknown code, one for another
course, an expired one or a free course; 409 `coupon_exhausted` once every use is taken.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from catalog.models import Coupon, Course
from catalog.presenters import money
from catalog.shapes import COUPON_CODE_TYPED
from catalog.shapes import Coupon as CouponBody
from catalog.shapes import CouponQuote as CouponQuoteBody
from portal.accounts.models import User
from portal.errors import ApplicationError, Conflict
from portal.shapes import iso

CENT = Decimal("0.01")
_TYPED_CODE = re.compile(COUPON_CODE_TYPED)
NOT_VALID = "This coupon code is not valid for this course."


class CouponInvalid(ApplicationError):
    """The code cannot be used for this course (unknown, another course's, expired, or
    the course is free)."""

    status_code = 400
    code = "coupon_invalid"

    def __init__(self, message: str = NOT_VALID) -> None:
        super().__init__(message, {"coupon": [message]})


class CouponExhausted(Conflict):
    code = "coupon_exhausted"

    def __init__(self, message: str = "This coupon has been used up.") -> None:
        super().__init__(message)


class CouponExists(Conflict):
    code = "coupon_exists"

    def __init__(self, code: str) -> None:
        message = f"A coupon with the code {code} already exists; choose another code."
        super().__init__(message, {"code": [message]})


@dataclass(frozen=True)
class CouponQuote:
    coupon_id: int
    code: str
    price: Decimal  # the course's price
    amount: Decimal  # what the buyer pays after the discount: 0.00 or more, 2 decimals
    currency: str
    percent_off: int | None
    amount_off: Decimal | None


def coupon_code_normalized(code: str) -> str | None:
    """The stored form of a typed code ("  launch20 " → "LAUNCH20"); None when it cannot
    be a code. Checked before upper-casing: "ß".upper() is "SS"."""
    if not isinstance(code, str) or not _TYPED_CODE.match(code):
        return None
    return code.strip(" \t\n\r").upper()


def coupon_price(*, price: Decimal, percent_off: int | None, amount_off: Decimal | None) -> Decimal:
    """What is paid: the price less the discount, rounded half up to the cent, never
    below 0.00 (an amount larger than the price makes the course free)."""
    if percent_off is not None:
        paid = price * (100 - percent_off) / 100
    else:
        paid = price - (amount_off or Decimal("0"))
    return max(paid, Decimal("0")).quantize(CENT, rounding=ROUND_HALF_UP)


def coupon_terms_problems(
    *,
    percent_off: int | None,
    amount_off: Decimal | None,
    max_redemptions: int | None,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a coupon's terms, by field (the API and the admin both ask)."""
    problems: dict[str, list[str]] = {}
    if (percent_off is None) == (amount_off is None):
        message = "Give either percent_off or amount_off, not both."
        if percent_off is None:
            message = "Give percent_off or amount_off."
        problems = {"percent_off": [message], "amount_off": [message]}
    if percent_off is not None and not 1 <= percent_off <= 100:
        problems["percent_off"] = ["Must be from 1 to 100."]
    if amount_off is not None and amount_off <= 0:
        problems["amount_off"] = ["Must be more than 0."]
    if max_redemptions is not None and max_redemptions < 1:
        problems["max_redemptions"] = ["Must be at least 1 (leave it empty for unlimited)."]
    if expires_at is not None and expires_at <= (now or timezone.now()):
        problems["expires_at"] = ["Must be in the future."]
    return problems


def coupon_create(
    *,
    course: Course | None,
    user: User,
    code: str,
    percent_off: int | None,
    amount_off: Decimal | None,
    max_redemptions: int | None,
    expires_at: datetime | None,
) -> Coupon:
    """A new coupon for `course` (None: every course). An amount off at or above the price
    is allowed: the course becomes free with it."""
    stored = coupon_code_normalized(code)
    problems = coupon_terms_problems(
        percent_off=percent_off,
        amount_off=amount_off,
        max_redemptions=max_redemptions,
        expires_at=expires_at,
    )
    if stored is None:
        problems = {"code": ["Use 3 to 32 letters, digits, - or _."], **problems}
    if stored is None or problems:
        raise ApplicationError("Invalid input: " + ", ".join(sorted(problems)) + ".", problems)
    coupon = Coupon(
        code=stored,
        course=course,
        percent_off=percent_off,
        amount_off=amount_off,
        max_redemptions=max_redemptions,
        expires_at=expires_at,
        created_by=user,
    )
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a clash
            coupon.save(force_insert=True)
    except IntegrityError:
        if Coupon.objects.filter(code=stored).exists():
            raise CouponExists(stored) from None
        raise
    return coupon


def coupon_list(*, course: Course) -> QuerySet[Coupon]:
    """The course's own coupons, newest first (staff coupons for every course are not)."""
    return (
        Coupon.objects.filter(course=course).select_related("course").order_by("-created_at", "-id")
    )


def _usable(*, course: Course, code: str) -> Coupon:
    """The coupon `code` names for `course`; CouponInvalid when there is none, or the course
    is free. Expiry and uses are left to the callers (the redeem checks them in its UPDATE)."""
    if course.is_free:
        raise CouponInvalid("This course is free: no coupon is needed.")
    stored = coupon_code_normalized(code)
    coupon = (
        Coupon.objects.filter(Q(course=course) | Q(course__isnull=True), code=stored).first()
        if stored
        else None
    )
    if coupon is None:
        raise CouponInvalid()
    return coupon


def _refusal(coupon: Coupon, now: datetime) -> ApplicationError | None:
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return CouponInvalid("This coupon has expired.")
    if coupon.max_redemptions is not None and coupon.redeemed >= coupon.max_redemptions:
        return CouponExhausted()
    return None


def _quote(coupon: Coupon, course: Course) -> CouponQuote:
    return CouponQuote(
        coupon_id=coupon.pk,
        code=coupon.code,
        price=course.price,
        amount=coupon_price(
            price=course.price, percent_off=coupon.percent_off, amount_off=coupon.amount_off
        ),
        currency=course.currency,
        percent_off=coupon.percent_off,
        amount_off=coupon.amount_off,
    )


def coupon_quote(*, course: Course, code: str) -> CouponQuote:
    """The course's price with the coupon `code`. Reads only: a later redeem may still
    find it used up."""
    coupon = _usable(course=course, code=code)
    if refusal := _refusal(coupon, timezone.now()):
        raise refusal
    return _quote(coupon, course)


def coupon_redeem(*, course: Course, code: str) -> CouponQuote:
    """Count one use of the coupon `code` for `course`, inside the caller's transaction
    (its rollback gives the use back). Same refusals as coupon_quote."""
    if not transaction.get_connection().in_atomic_block:
        # Counted in a transaction of its own, a use would outlive a checkout that failed.
        raise RuntimeError("coupon_redeem must run inside the checkout's transaction")
    coupon = _usable(course=course, code=code)
    now = timezone.now()
    counted = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_redemptions__isnull=True) | Q(redeemed__lt=F("max_redemptions")))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .update(redeemed=F("redeemed") + 1)
    )
    if not counted:
        # Why not, as committed now (the UPDATE waited for any checkout before it).
        current = Coupon.objects.filter(pk=coupon.pk).first()
        raise (_refusal(current, now) if current else None) or CouponInvalid()
    return _quote(coupon, course)


def coupon_release(*, coupon_id: int) -> None:
    """Give one use back (a checkout that used it ended unpaid: declined, cancelled, its
    hold expired), inside the caller's transaction; never below 0."""
    Coupon.objects.filter(pk=coupon_id, redeemed__gt=0).update(redeemed=F("redeemed") - 1)


def coupon_body(coupon: Coupon) -> CouponBody:
    return {
        "code": coupon.code,
        "percent_off": coupon.percent_off,
        "amount_off": money(coupon.amount_off) if coupon.amount_off is not None else None,
        "max_redemptions": coupon.max_redemptions,
        "redeemed": coupon.redeemed,
        "expires_at": iso(coupon.expires_at),
        "course": coupon.course.slug if coupon.course is not None else None,
    }


def coupon_quote_body(quote: CouponQuote) -> CouponQuoteBody:
    return {
        "code": quote.code,
        "price": money(quote.price),
        "amount": money(quote.amount),
        "currency": quote.currency,
        "percent_off": quote.percent_off,
        "amount_off": money(quote.amount_off) if quote.amount_off is not None else None,
    }
