"""Password rules beyond Django's: a password must have something besides white space
(eight spaces pass the length check)."""

from django.core.exceptions import ValidationError


class NotOnlyWhitespaceValidator:
    def validate(self, password: str, user: object = None) -> None:
        if not password.strip():
            raise ValidationError(
                "Your password cannot be only spaces.", code="password_only_whitespace"
            )

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."
