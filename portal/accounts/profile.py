"""What an account's owner changes from the account page: the name and email
(PATCH /api/me) and the password (POST /api/me/password)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from portal.accounts.models import User
from portal.accounts.sessions import credentials_end_all
from portal.accounts.signins import Credentials
from portal.accounts.verification import email_verification_owed
from portal.errors import ApplicationError

# Registration's message (RegisterSerializer), so both forms say the same.
EMAIL_TAKEN = "A user with this email already exists."
WRONG_PASSWORD = "That is not your current password."  # noqa: S105 - a message


@transaction.atomic
def profile_update(*, user: User, name: str | None = None, email: str | None = None) -> User:
    """A new name applies at once. A new email does not: it waits in `pending_email`
    until the link mailed to it is followed (portal.accounts.verification), so a typo or
    someone else's address never becomes the sign-in. Asking for the address in use
    again calls a pending change off."""
    user = User.objects.select_for_update().get(pk=user.pk)
    changed: list[str] = []
    owes_verification = False
    if name is not None and name != user.name:
        user.name = name
        changed.append("name")
    if email is not None:
        email = email.strip().lower()
        if email == user.email:
            if user.pending_email:
                user.pending_email = ""
                changed.append("pending_email")
        elif email != user.pending_email:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ApplicationError("Invalid input: email.", {"email": [EMAIL_TAKEN]})
            user.pending_email = email
            changed.append("pending_email")
            owes_verification = True
    if changed:
        user.save(update_fields=changed)
    if owes_verification:
        email_verification_owed(user=user)  # to `pending_email`, once committed
    return user


def password_change(
    *, user: User, current_password: str, new_password: str, caller: Credentials
) -> int:
    """Set a new password once the current one is proven; every other session and token
    of the account ends (their sockets close), the caller's own stays. Returns how many
    ended. The caller's browser session is kept signed in by the view
    (update_session_auth_hash), which alone holds the request."""
    if not user.check_password(current_password):
        raise ApplicationError(WRONG_PASSWORD, {"current_password": [WRONG_PASSWORD]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ApplicationError(
            "Choose another password.", {"new_password": list(exc.messages)}
        ) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
    return credentials_end_all(
        user=user, keep_session_key=caller.kept_session_key, keep_token=caller.token
    )
