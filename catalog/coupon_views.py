"""Coupons over HTTP: POST|GET /api/courses/{slug}/coupons (the course's instructors and
staff, as the studio: 401 to the anonymous, 403 to students, 404 to other instructors) and
GET /api/courses/{slug}/coupons/{code}/quote (anyone who may see the course; rate limited
per client address, so codes cannot be tried fast). The rules are catalog.coupons."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import answers, coupons, selectors
from catalog.coupons import CouponExhausted, CouponExists, CouponInvalid
from catalog.models import Course
from catalog.schema import CouponListSchema, CouponQuoteSchema, CouponSchema
from catalog.serializers import CouponCreateInput
from catalog.studio_views import SLUG
from portal.api import rate_limited, require_user, signed_in_user, validated
from portal.errors import Forbidden, NotFound
from portal.openapi import documented_error

CODE = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, description="The coupon's code, in either case."
)
# Live counts (`redeemed`): no cache may keep an answer.
NO_STORE = {"Cache-Control": "private, no-store"}


def _coupon_course(request: Request, slug: str) -> Course:
    user = require_user(request)
    if not (user.is_instructor or user.is_staff):
        raise Forbidden("Only instructors and staff can manage coupons.")
    return answers.studio_course_row_editable(slug=slug, user=user)


class CourseCouponsView(APIView):
    @extend_schema(
        operation_id="courses_coupons_list",
        parameters=[SLUG],
        responses={200: CouponListSchema, 403: documented_error(403)},
    )
    def get(self, request: Request, slug: str) -> Response:
        course = _coupon_course(request, slug)
        body = {"results": [coupons.coupon_body(c) for c in coupons.coupon_list(course=course)]}
        return Response(body, headers=NO_STORE)

    @extend_schema(
        operation_id="courses_coupons_create",
        parameters=[SLUG],
        request=CouponCreateInput,
        responses={
            201: CouponSchema,
            403: documented_error(403),
            409: documented_error(409, CouponExists),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        course = _coupon_course(request, slug)
        data = validated(CouponCreateInput, request.data)
        coupon = coupons.coupon_create(course=course, user=require_user(request), **data)
        return Response(
            coupons.coupon_body(coupon), status=status.HTTP_201_CREATED, headers=NO_STORE
        )


class CouponQuoteView(APIView):
    @extend_schema(
        operation_id="courses_coupons_quote",
        parameters=[SLUG, CODE],
        responses={
            200: CouponQuoteSchema,
            400: documented_error(400, CouponInvalid),
            409: documented_error(409, CouponExhausted),
        },
    )
    @rate_limited("coupon_quote")
    def get(self, request: Request, slug: str, code: str) -> Response:
        course = selectors.course_visible_get(slug=slug, viewer=signed_in_user(request))
        if course is None:
            raise NotFound("No such course.")
        quote = coupons.coupon_quote(course=course, code=code)
        return Response(coupons.coupon_quote_body(quote), headers=NO_STORE)
