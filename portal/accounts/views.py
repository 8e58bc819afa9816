"""POST /api/auth/register, POST /api/auth/token, POST /api/auth/logout, GET and PATCH
/api/me, and the rate-limited /admin/login/. The account page's other endpoints (sessions,
password) are portal.accounts.me_views."""

from django.contrib import admin
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts import profile, services
from portal.accounts.models import AuthToken, User
from portal.accounts.serializers import (
    AuthAnswerSerializer,
    ProfileInput,
    RegisterSerializer,
    TokenRequestSerializer,
    UserSerializer,
)
from portal.api import require_user, validated
from portal.errors import NotAuthenticated, Unavailable
from portal.openapi import documented_error
from portal.ratelimit import rate_limit, subject_hit


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: AuthAnswerSerializer, 429: documented_error(429)},
    )
    def post(self, request: Request) -> Response:
        rate_limit(request._request, "register")
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, token = services.user_register(**serializer.validated_data)
        body = {"user": UserSerializer(user).data, "token": token}
        return Response(body, status=status.HTTP_201_CREATED)


def _signed_in_user(request: Request) -> User:
    """Validate email + password (rate-limited per address and per email); 401 if wrong."""
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    rate_limit(request._request, "login_ip")
    rate_limit(request._request, "login", ident=serializer.validated_data["email"])
    user = services.credentials_check(request=request._request, **serializer.validated_data)
    if user is None:
        raise NotAuthenticated("Invalid email or password.")
    return user


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Django's admin sign-in behind the API sign-in's limits, on the same counters (per
    address, and per address + username), so neither door adds attempts to the other."""
    if request.method == "POST":
        try:
            rate_limit(request, "login_ip")
            rate_limit(request, "login", ident=request.POST.get("username", ""))
        except Throttled as exc:
            response = HttpResponse(
                "Too many sign-in attempts; retry later.\n", status=429, content_type="text/plain"
            )
            # The stubs leave out Throttled.wait, which its __init__ sets.
            response["Retry-After"] = str(int(exc.wait or 1))  # type: ignore[attr-defined]
            return response
        except Unavailable as exc:
            return HttpResponse(exc.message + "\n", status=503, content_type="text/plain")
    return admin.site.login(request, extra_context)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: AuthAnswerSerializer,
            401: documented_error(401),
            429: documented_error(429),
        },
    )
    def post(self, request: Request) -> Response:
        user = _signed_in_user(request)
        _, token = AuthToken.objects.issue(user)
        return Response({"user": UserSerializer(user).data, "token": token})


@method_decorator(csrf_protect, name="dispatch")
class SessionLoginView(APIView):
    """Browser sign-in: starts a Django session (CSRF-protected, so no login CSRF)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("SessionLoginAnswer", {"user": UserSerializer()}),
            401: documented_error(401),
            403: documented_error(403),  # the CSRF check
            429: documented_error(429),
        },
    )
    def post(self, request: Request) -> Response:
        user = _signed_in_user(request)
        login(request._request, user)
        return Response({"user": UserSerializer(user).data})


class LogoutView(APIView):
    """Revoke the bearer token used for this request, or end the browser session."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, str):
            services.token_revoke(raw=request.auth)
        else:
            services.session_end(request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """GET /api/me and PATCH /api/me (the name at once; a new email waits for its link).
    DELETE /api/me is portal.privacy.views.MeView, this view plus erasure."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        request=ProfileInput,
        responses={200: UserSerializer, 429: documented_error(429)},  # a new email's links
    )
    def patch(self, request: Request) -> Response:
        data = validated(ProfileInput, request.data)
        user = require_user(request)
        if data.get("email") and data["email"].strip().lower() != user.email:
            # Each new address is mailed a link: a budget per account, not per request.
            subject_hit("email_change", f"user:{user.pk}")
        user = profile.profile_update(user=user, name=data.get("name"), email=data.get("email"))
        return Response(UserSerializer(user).data)
