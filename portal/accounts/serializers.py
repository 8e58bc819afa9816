from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.accounts.models import User
from portal.api import BodyInput


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    email_verified = serializers.BooleanField(read_only=True)
    pending_email = serializers.SerializerMethodField(
        help_text="A new email waiting for its link to be followed; `email` stays in use."
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "roles", "email_verified", "pending_email"]

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_pending_email(self, user: User) -> str | None:
        return user.pending_email or None


class RegisterSerializer(BodyInput):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150)

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = User(email=attrs["email"], name=attrs["name"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:  # → a field error
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class TokenRequestSerializer(BodyInput):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AuthAnswerSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField()


class ProfileInput(BodyInput):
    """PATCH /api/me: either or both."""

    name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(max_length=254, required=False)
