"""Coupons (catalog.coupons): created and listed by a course's authors, quoted by anyone,
redeemed and released by checkouts, never past max_redemptions; the admin keeps the rules."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.utils import timezone

from catalog.coupons import (
    CouponExhausted,
    CouponInvalid,
    coupon_create,
    coupon_quote,
    coupon_redeem,
    coupon_release,
)
from catalog.models import Coupon, Course
from tests.conftest import client_for
from tests.factories import PASSWORD, make_course, make_instructor, make_user

COUPON_KEYS = {"code", "percent_off", "amount_off", "max_redemptions", "redeemed", "expires_at"}
QUOTE_KEYS = {"code", "price", "amount", "currency", "percent_off", "amount_off"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def coupons_url(course: Course) -> str:
    return f"/api/courses/{course.slug}/coupons"


def quote_url(course: Course, code: str) -> str:
    return f"/api/courses/{course.slug}/coupons/{code}/quote"


def make_coupon(course: Course | None, code: str, **terms) -> Coupon:
    terms.setdefault("percent_off", None if "amount_off" in terms else 20)
    return Coupon.objects.create(code=code, course=course, **terms)


@pytest.fixture
def course(instructor) -> Course:
    return make_course(
        title="Paid Course", slug="paid-course", price="49.00", instructor=instructor
    )


# --- POST /api/courses/{slug}/coupons -----------------------------------------------------


@pytest.mark.django_db
def test_the_courses_instructor_creates_a_coupon(instructor, instructor_api, course):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    response = instructor_api.post(
        coupons_url(course),
        {
            "code": " launch20 ",
            "percent_off": 20,
            "max_redemptions": 100,
            "expires_at": expires.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert set(body) == COUPON_KEYS | {"course"}
    assert body == {
        "code": "LAUNCH20",
        "percent_off": 20,
        "amount_off": None,
        "max_redemptions": 100,
        "redeemed": 0,
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
        "course": "paid-course",
    }
    coupon = Coupon.objects.get()
    assert (coupon.code, coupon.course, coupon.created_by) == ("LAUNCH20", course, instructor)
    assert coupon.expires_at == expires


@pytest.mark.django_db
def test_an_amount_off_coupon_without_limits(instructor_api, course):
    response = instructor_api.post(
        coupons_url(course), {"code": "TEN-OFF_1", "amount_off": "10.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount_off"], body["percent_off"]) == ("10.00", None)
    assert (body["max_redemptions"], body["expires_at"]) == (None, None)


@pytest.mark.django_db
def test_an_amount_at_or_above_the_price_is_allowed(instructor_api, course):
    response = instructor_api.post(
        coupons_url(course), {"code": "FREEBIE", "amount_off": "500.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Coupon.objects.get(code="FREEBIE").amount_off == Decimal("500.00")


@pytest.mark.django_db
def test_staff_create_coupons_for_any_course(staff_api, course):
    response = staff_api.post(
        coupons_url(course), {"code": "STAFF5", "percent_off": 5}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Coupon.objects.get(code="STAFF5").course == course


@pytest.mark.django_db
def test_only_the_courses_authors_create_coupons(api, student_api, course):
    body = {"code": "NOPE10", "percent_off": 10}
    other_instructor = client_for(make_instructor(name="Other Instructor"))

    # Another instructor's course does not exist for them (the studio's rule).
    assert_error(other_instructor.post(coupons_url(course), body, format="json"), 404, "not_found")
    assert_error(student_api.post(coupons_url(course), body, format="json"), 403, "forbidden")
    assert_error(api.post(coupons_url(course), body, format="json"), 401, "not_authenticated")
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_a_course_that_does_not_exist_is_404(instructor_api):
    response = instructor_api.post(
        "/api/courses/no-such-course/coupons", {"code": "ABC", "percent_off": 5}, format="json"
    )
    assert_error(response, 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"code": "BOTH", "percent_off": 10, "amount_off": "5.00"}, {"percent_off", "amount_off"}),
        ({"code": "NEITHER"}, {"percent_off", "amount_off"}),
        ({"code": "NULLS", "percent_off": None, "amount_off": None}, {"percent_off", "amount_off"}),
        ({"code": "ZERO", "percent_off": 0}, {"percent_off"}),
        ({"code": "TOOMUCH", "percent_off": 101}, {"percent_off"}),
        ({"code": "NOAMOUNT", "amount_off": "0.00"}, {"amount_off"}),
        ({"code": "NEGATIVE", "amount_off": "-5.00"}, {"amount_off"}),
        ({"code": "PAST", "percent_off": 10, "expires_at": "2020-01-01T00:00:00Z"}, {"expires_at"}),
        ({"code": "NOUSES", "percent_off": 10, "max_redemptions": 0}, {"max_redemptions"}),
        ({"code": "no spaces", "percent_off": 10}, {"code"}),
        ({"code": "SALE!", "percent_off": 10}, {"code"}),
        ({"code": "AB", "percent_off": 10}, {"code"}),
        ({"code": "A" * 33, "percent_off": 10}, {"code"}),
        ({"code": "STRAßE", "percent_off": 10}, {"code"}),  # upper-cased, "SS" would pass
        ({"percent_off": 10}, {"code"}),
        ({"code": 12345, "percent_off": 10}, {"code"}),
        ({"code": "TEXTPCT", "percent_off": "10"}, {"percent_off"}),
    ],
)
def test_invalid_coupons_are_refused_naming_the_field(instructor_api, course, body, fields):
    response = instructor_api.post(coupons_url(course), body, format="json")

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields, error
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_a_code_taken_in_any_case_is_409(instructor_api, course):
    make_coupon(make_course(), "LAUNCH20")  # another course's: codes are unique everywhere

    response = instructor_api.post(
        coupons_url(course), {"code": "Launch20", "percent_off": 50}, format="json"
    )

    error = assert_error(response, 409, "coupon_exists")
    assert "LAUNCH20" in error["message"]
    assert set(error["fields"]) == {"code"}
    assert Coupon.objects.count() == 1


# --- GET /api/courses/{slug}/coupons ------------------------------------------------------


@pytest.mark.django_db
def test_the_list_has_the_courses_coupons_newest_first_with_live_counts(
    instructor_api, course, student_api, api, django_assert_max_num_queries
):
    first = make_coupon(course, "FIRST", max_redemptions=3)
    second = make_coupon(course, "SECOND", amount_off=Decimal("5.00"))
    make_coupon(make_course(), "ELSEWHERE")
    make_coupon(None, "EVERYWHERE")  # a staff coupon for every course: not this course's own
    coupon_redeem(course=course, code="first")
    Coupon.objects.filter(pk=second.pk).update(created_at=first.created_at + timedelta(seconds=1))
    instructor_api.get("/api/me")  # the token's first use is noted once (accounts.last_use)

    with django_assert_max_num_queries(4):  # token, role check, course, coupons
        response = instructor_api.get(coupons_url(course))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    results = response.json()["results"]
    assert [c["code"] for c in results] == ["SECOND", "FIRST"]
    assert results[1] == {
        "code": "FIRST",
        "percent_off": 20,
        "amount_off": None,
        "max_redemptions": 3,
        "redeemed": 1,
        "expires_at": None,
        "course": "paid-course",
    }
    assert results[0]["amount_off"] == "5.00"
    assert_error(student_api.get(coupons_url(course)), 403, "forbidden")
    assert_error(api.get(coupons_url(course)), 401, "not_authenticated")
    other_instructor = client_for(make_instructor(name="Other Instructor"))
    assert_error(other_instructor.get(coupons_url(course)), 404, "not_found")


# --- GET /api/courses/{slug}/coupons/{code}/quote -----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("price", "terms", "amount"),
    [
        ("49.00", {"percent_off": 20}, "39.20"),
        ("49.00", {"percent_off": 100}, "0.00"),
        ("49.00", {"amount_off": Decimal("10.00")}, "39.00"),
        ("49.00", {"amount_off": Decimal("49.00")}, "0.00"),
        ("49.00", {"amount_off": Decimal("75.50")}, "0.00"),  # never below 0.00
        ("10.05", {"percent_off": 50}, "5.03"),  # 5.025 rounds half up
        ("9.99", {"percent_off": 15}, "8.49"),  # 8.4915
    ],
)
def test_a_quote_is_the_price_less_the_discount(api, price, terms, amount):
    course = make_course(slug="priced", price=price, currency="eur")
    make_coupon(course, "SAVE", **terms)

    response = api.get(quote_url(course, "SAVE"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == QUOTE_KEYS
    assert body["price"] == price
    assert body["amount"] == amount
    assert body["currency"] == "eur"
    assert body["percent_off"] == terms.get("percent_off")
    amount_off = terms.get("amount_off")
    assert body["amount_off"] == (f"{amount_off:.2f}" if amount_off is not None else None)


@pytest.mark.django_db
def test_codes_are_matched_whatever_the_case(api, course, django_assert_max_num_queries):
    make_coupon(course, "LAUNCH20")

    for typed in ("launch20", "Launch20", "%20launch20%20"):
        with django_assert_max_num_queries(2):  # the course, the coupon
            response = api.get(quote_url(course, typed))
        assert response.status_code == 200, (typed, response.content)
        assert response.json()["code"] == "LAUNCH20"
        assert response.json()["amount"] == "39.20"


@pytest.mark.django_db
def test_a_staff_coupon_without_a_course_applies_to_every_course(api, course):
    make_coupon(None, "ALLCOURSES", percent_off=50)

    assert api.get(quote_url(course, "allcourses")).json()["amount"] == "24.50"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda course: None, "not valid for this course"),  # unknown
        (
            lambda course: make_coupon(make_course(price="49.00"), "SAVE"),
            "not valid for this course",
        ),
        (
            lambda course: make_coupon(
                course, "SAVE", expires_at=timezone.now() - timedelta(seconds=1)
            ),
            "expired",
        ),
    ],
    ids=["unknown", "another-course", "expired"],
)
def test_codes_that_cannot_be_used_are_coupon_invalid(api, course, setup, message):
    setup(course)

    error = assert_error(api.get(quote_url(course, "SAVE")), 400, "coupon_invalid")

    assert message in error["message"]
    assert error["fields"] == {"coupon": [error["message"]]}


@pytest.mark.django_db
def test_a_free_course_takes_no_coupon(api):
    free = make_course(slug="free-course", price="0.00")
    make_coupon(free, "SAVE")

    error = assert_error(api.get(quote_url(free, "SAVE")), 400, "coupon_invalid")
    assert "free" in error["message"]


@pytest.mark.django_db
def test_a_used_up_coupon_is_coupon_exhausted(api, course):
    make_coupon(course, "TWICE", max_redemptions=2, redeemed=2)

    assert_error(api.get(quote_url(course, "twice")), 409, "coupon_exhausted")


@pytest.mark.django_db
def test_a_drafts_coupons_are_not_quoted_to_strangers(api, instructor):
    draft = make_course(slug="draft", price="49.00", published=False, instructor=instructor)
    make_coupon(draft, "EARLY")

    assert_error(api.get(quote_url(draft, "EARLY")), 404, "not_found")
    assert client_for(instructor).get(quote_url(draft, "EARLY")).status_code == 200


@pytest.mark.django_db
def test_quotes_are_rate_limited_per_address(api, course, rate_limits, settings):
    assert rate_limits["coupon_quote"][0] > 0  # on by default
    settings.RATE_LIMITS = {**rate_limits, "coupon_quote": (3, 60)}

    statuses = [api.get(quote_url(course, f"GUESS{i}")).status_code for i in range(4)]

    assert statuses == [400, 400, 400, 429]
    assert api.get(quote_url(course, "ANOTHER"))["Retry-After"]


# --- coupon_redeem and coupon_release ---------------------------------------------------------


@pytest.mark.django_db
def test_redeem_counts_a_use_and_answers_the_quote(course):
    coupon = make_coupon(course, "SAVE10", amount_off=Decimal("10.00"), max_redemptions=2)

    with transaction.atomic():
        quote = coupon_redeem(course=course, code=" save10")

    assert (quote.coupon_id, quote.code, quote.currency) == (coupon.pk, "SAVE10", "usd")
    assert (quote.price, quote.amount) == (Decimal("49.00"), Decimal("39.00"))
    assert (quote.percent_off, quote.amount_off) == (None, Decimal("10.00"))
    coupon_redeem(course=course, code="SAVE10")
    with pytest.raises(CouponExhausted):
        coupon_redeem(course=course, code="SAVE10")
    coupon.refresh_from_db()
    assert coupon.redeemed == 2
    with pytest.raises(CouponExhausted):
        coupon_quote(course=course, code="SAVE10")


@pytest.mark.django_db
def test_redeem_refuses_what_the_quote_refuses(course):
    make_coupon(course, "OLD", expires_at=timezone.now() - timedelta(minutes=1))
    make_coupon(make_course(price="10.00"), "OTHER")

    for code in ("OLD", "OTHER", "MISSING", "not a code!"):
        with pytest.raises(CouponInvalid) as refused:
            coupon_redeem(course=course, code=code)
        assert refused.value.status_code == 400
        assert refused.value.body()["error"]["code"] == "coupon_invalid"
    assert Coupon.objects.filter(redeemed__gt=0).count() == 0


@pytest.mark.django_db
def test_a_rolled_back_checkout_gives_its_use_back(course):
    coupon = make_coupon(course, "ONCE", max_redemptions=1)

    with pytest.raises(RuntimeError), transaction.atomic():
        coupon_redeem(course=course, code="ONCE")
        raise RuntimeError("the checkout failed")

    coupon.refresh_from_db()
    assert coupon.redeemed == 0
    assert coupon_redeem(course=course, code="ONCE").coupon_id == coupon.pk


@pytest.mark.django_db
def test_release_gives_one_use_back_and_never_goes_below_zero(course):
    coupon = make_coupon(course, "BACK", max_redemptions=1)
    coupon_redeem(course=course, code="BACK")

    with transaction.atomic():
        coupon_release(coupon_id=coupon.pk)
    coupon.refresh_from_db()
    assert coupon.redeemed == 0
    coupon_release(coupon_id=coupon.pk)
    coupon.refresh_from_db()
    assert coupon.redeemed == 0
    # The use given back can be taken again.
    coupon_redeem(course=course, code="BACK")
    coupon.refresh_from_db()
    assert coupon.redeemed == 1
    coupon_release(coupon_id=coupon.pk + 1000)  # gone: nothing to give back to


@pytest.mark.django_db(transaction=True)
def test_redeem_refuses_to_run_outside_a_transaction():
    course = make_course(price="49.00")
    coupon = make_coupon(course, "LOOSE")

    with pytest.raises(RuntimeError, match="inside the checkout's transaction"):
        coupon_redeem(course=course, code="LOOSE")

    coupon.refresh_from_db()
    assert coupon.redeemed == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_racing_for_a_five_use_coupon_get_five():
    """Real threads, each with its own PostgreSQL connection and transaction, released
    together: the conditional UPDATE lets exactly max_redemptions through."""
    course = make_course(price="49.00")
    coupon = make_coupon(course, "RACE5", max_redemptions=5)
    count = 20
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def checkout(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                outcomes[index] = coupon_redeem(course=course, code="race5").amount
        except Exception as exc:  # judged below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    succeeded = [outcome for outcome in outcomes if isinstance(outcome, Decimal)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, CouponExhausted)]
    assert (len(succeeded), len(refused)) == (5, 15), outcomes
    assert set(succeeded) == {Decimal("39.20")}
    coupon.refresh_from_db()
    assert coupon.redeemed == 5


# --- the model's constraints and the services' own checks ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"code": "lower", "percent_off": 10},
        {"code": "BOTH", "percent_off": 10, "amount_off": Decimal("1.00")},
        {"code": "NEITHER"},
        {"code": "PCT", "percent_off": 101},
        {"code": "AMT", "amount_off": Decimal("0.00")},
        {"code": "OVER", "percent_off": 10, "max_redemptions": 2, "redeemed": 3},
        {"code": "MAXZERO", "percent_off": 10, "max_redemptions": 0},
    ],
)
def test_the_database_refuses_broken_coupons(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(course=make_course(), **fields)


@pytest.mark.django_db
def test_the_database_keeps_redeemed_within_max(course):
    coupon = make_coupon(course, "FULL", max_redemptions=1, redeemed=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.filter(pk=coupon.pk).update(redeemed=2)


@pytest.mark.django_db
def test_coupon_create_for_every_course(staff):
    coupon = coupon_create(
        course=None,
        user=staff,
        code="welcome",
        percent_off=None,
        amount_off=Decimal("5.00"),
        max_redemptions=None,
        expires_at=None,
    )

    assert (coupon.code, coupon.course_id, coupon.created_by) == ("WELCOME", None, staff)
    other = make_course(price="20.00")
    assert coupon_quote(course=other, code="Welcome").amount == Decimal("15.00")


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client() -> Client:
    staff = make_user(is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(email=staff.email, password=PASSWORD)
    return client


def admin_form(**fields) -> dict:
    data = {
        "code": "",
        "course": "",
        "percent_off": "",
        "amount_off": "",
        "max_redemptions": "",
        "expires_at_0": "",
        "expires_at_1": "",
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_staff_make_and_edit_coupons_in_the_admin(admin_client, course):
    assert admin_client.get("/admin/catalog/coupon/").status_code == 200
    assert admin_client.get("/admin/catalog/coupon/add/").status_code == 200

    response = admin_client.post(
        "/admin/catalog/coupon/add/", admin_form(code="site-wide", percent_off="15")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    coupon = Coupon.objects.get()
    assert (coupon.code, coupon.course, coupon.percent_off) == ("SITE-WIDE", None, 15)
    assert coupon.created_by.is_superuser
    # A use counted while the page is open is not written over by the edit.
    Coupon.objects.filter(pk=coupon.pk).update(redeemed=4)
    response = admin_client.post(
        f"/admin/catalog/coupon/{coupon.pk}/change/",
        admin_form(code="SITE-WIDE", course=str(course.pk), percent_off="25"),
    )
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.course, coupon.percent_off, coupon.redeemed) == (course, 25, 4)


@pytest.mark.django_db
def test_the_admin_keeps_the_apis_rules(admin_client):
    make_coupon(None, "TAKEN")

    response = admin_client.post(
        "/admin/catalog/coupon/add/", admin_form(code="taken", percent_off="10", amount_off="5")
    )

    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"code", "percent_off", "amount_off"}
    assert Coupon.objects.count() == 1
