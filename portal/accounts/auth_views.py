"""The emailed links' API: password reset (request, confirm), email verification (follow,
resend) and a guest buyer's claim. Every answer that could tell whether an account
exists for an email is the same for all (the reset request); the others answer only
to whoever holds a link sent to that mailbox."""

from django.contrib.auth import login
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts import claims, verification
from portal.accounts.claims import AccountExists
from portal.accounts.serializers import UserSerializer
from portal.accounts.verification import EmailTaken
from portal.api import BodyInput, rate_limited, require_user, signed_in_user, validated
from portal.errors import ApplicationError
from portal.openapi import documented_error
from portal.ratelimit import rate_limit, subject_hit

RESET_SENT = "If an account uses that email, we have sent it a link to choose a new password."


class EmailInput(BodyInput):
    email = serializers.EmailField(max_length=254)


class TokenInput(BodyInput):
    token = serializers.CharField(max_length=500)


class ResetConfirmInput(BodyInput):
    token = serializers.CharField(max_length=500)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ClaimInput(BodyInput):
    token = serializers.CharField(max_length=500)
    name = serializers.CharField(max_length=150, required=False)
    password = serializers.CharField(max_length=128, trim_whitespace=False, required=False)


DetailAnswer = inline_serializer("DetailAnswer", {"detail": serializers.CharField()})
UserAnswer = inline_serializer("UserAnswer", {"user": UserSerializer()})
ClaimStateAnswer = inline_serializer(
    "ClaimStateAnswer", {"email": serializers.EmailField(), "account": serializers.BooleanField()}
)


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=EmailInput, responses={202: DetailAnswer, 429: documented_error(429)})
    def post(self, request: Request) -> Response:
        rate_limit(request._request, "password_reset_ip")
        data = validated(EmailInput, request.data)
        # Per email whatever the address, so nobody floods a mailbox from many addresses.
        subject_hit("password_reset", f"email:{data['email'].strip().lower()}")
        verification.password_reset_request(email=data["email"])
        return Response({"detail": RESET_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=ResetConfirmInput, responses={200: UserAnswer})
    @rate_limited("account_link")
    def post(self, request: Request) -> Response:
        data = validated(ResetConfirmInput, request.data)
        user = verification.password_reset_confirm(token=data["token"], password=data["password"])
        return Response({"user": UserSerializer(user).data})


class VerifyEmailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenInput,
        responses={200: UserAnswer, 409: documented_error(409, EmailTaken)},
    )
    @rate_limited("account_link")
    def post(self, request: Request) -> Response:
        data = validated(TokenInput, request.data)
        user = verification.email_verify(token=data["token"])
        return Response({"user": UserSerializer(user).data})


class VerifyEmailResendView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: DetailAnswer, 202: DetailAnswer})
    @rate_limited("verify_resend", per_user=True)
    def post(self, request: Request) -> Response:
        user = require_user(request)
        if user.email_verified and not user.pending_email:
            return Response({"detail": "Your email address is already verified."})
        verification.email_verification_owed(user=user)
        to = user.pending_email or user.email
        return Response({"detail": f"We have sent a new link to {to}."}, status=202)


class ClaimCheckView(APIView):
    """A guest buyer's link, opened: whether an account uses its address (told only to
    whoever holds the link, sent to that mailbox)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=TokenInput, responses={200: ClaimStateAnswer})
    @rate_limited("account_link")
    def post(self, request: Request) -> Response:
        data = validated(TokenInput, request.data)
        state = claims.claim_state(token=data["token"])
        return Response({"email": state.email, "account": state.account})


class ClaimView(APIView):
    """Claim a guest buyer's purchases: with `name` and `password`, as a new account
    (signed in at once); without, into the signed-in account of that address."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=ClaimInput,
        responses={200: UserAnswer, 201: UserAnswer, 409: documented_error(409, AccountExists)},
    )
    @rate_limited("account_link")
    def post(self, request: Request) -> Response:
        data = validated(ClaimInput, request.data)
        if "password" in data:
            if not (data.get("name") or "").strip():
                raise ApplicationError("Invalid input: name.", {"name": ["Give your name."]})
            user = claims.claim_with_new_account(
                token=data["token"], name=data["name"].strip(), password=data["password"]
            )
            login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
            return Response({"user": UserSerializer(user).data}, status=status.HTTP_201_CREATED)
        user = claims.claim_signed_in(token=data["token"], user=signed_in_user(request))
        return Response({"user": UserSerializer(user).data})
