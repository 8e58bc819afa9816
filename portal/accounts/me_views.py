"""The account page's API about signing in: where the account is signed in
(GET /api/me/sessions), ending one (DELETE /api/me/sessions/{id}) or all but this one
(DELETE /api/me/sessions), and a new password (POST /api/me/password)."""

from typing import cast

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts import profile, services, signins
from portal.accounts.serializers import UserSerializer
from portal.accounts.shapes import SignIn, SignInsEnded
from portal.accounts.signins import Credentials
from portal.api import BodyInput, rate_limited, require_user, validated
from portal.openapi import serializer_for

SignInSchema = serializer_for(SignIn)
SignInsEndedSchema = serializer_for(SignInsEnded)
SIGNIN_ID = OpenApiParameter(
    "signin_id", str, OpenApiParameter.PATH, description='"s<n>" (a session) or "t<n>" (a token)'
)


def request_credentials(request: Request) -> Credentials:
    """The request's own credentials: the bearer token it authenticated with, else its
    browser session."""
    if isinstance(request.auth, str):
        return Credentials(token=request.auth)
    return Credentials(session_key=request._request.session.session_key)


class SignInsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="me_sessions_list", responses={200: SignInSchema(many=True)})
    def get(self, request: Request) -> Response:
        items = signins.signins_list(
            user=require_user(request), caller=request_credentials(request)
        )
        return Response(items)

    @extend_schema(
        operation_id="me_sessions_end_others", request=None, responses={200: SignInsEndedSchema}
    )
    def delete(self, request: Request) -> Response:
        """Sign out everywhere else: every session and token but this request's own."""
        ended = signins.signins_end_others(
            user=require_user(request), caller=request_credentials(request)
        )
        return Response(SignInsEnded(ended=ended))


class SignInView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="me_sessions_end", parameters=[SIGNIN_ID], request=None, responses={204: None}
    )
    def delete(self, request: Request, signin_id: str) -> Response:
        caller = request_credentials(request)
        if caller.kept_session_key and signins.signin_is_current(
            signin_id=signin_id, caller=caller
        ):
            services.session_end(request=request._request)  # signs this browser out
        else:
            signins.signin_end(user=require_user(request), signin_id=signin_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordInput(BodyInput):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="me_password_change",
        request=PasswordInput,
        responses={
            200: inline_serializer(
                "PasswordChanged",
                {"user": UserSerializer(), "ended": serializers.IntegerField()},
            )
        },
    )
    @rate_limited("password_change", per_user=True)
    def post(self, request: Request) -> Response:
        data = validated(PasswordInput, request.data)
        user = require_user(request)
        caller = request_credentials(request)
        ended = profile.password_change(user=user, caller=caller, **data)
        if caller.kept_session_key:
            # The new password changed the session's auth hash: re-sign this session in
            # (under a new key), so only the others are signed out.
            update_session_auth_hash(request._request, user)
            # Saved under its new key just now, so it has one.
            new_key = cast(str, request._request.session.session_key)
            signins.session_rekeyed(old_key=caller.kept_session_key, new_key=new_key)
        return Response({"user": UserSerializer(user).data, "ended": ended})
