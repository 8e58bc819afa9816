"""What other apps do when credentials stop being valid: hooks registered at start-up.

Accounts sit below the real-time layer and never import it; `realtime` registers here
(RealtimeConfig.ready) the function that closes the websockets opened with a revoked token
or an ended session."""

from typing import Literal, Protocol

# "token_hash": a token named by its stored SHA-256 (revoked from the account page, where
# the raw value is not known).
CredentialKind = Literal["token", "token_hash", "session"]


class CredentialsRevokedHook(Protocol):
    def __call__(self, *, kind: CredentialKind, secret: str) -> None: ...


_credentials_revoked_hooks: list[CredentialsRevokedHook] = []


def credentials_revoked_register(fn: CredentialsRevokedHook) -> CredentialsRevokedHook:
    """Call `fn(kind=..., secret=...)` whenever a token is revoked or a session ends.

    Registering the same function again does nothing (ready() may run more than once)."""
    if fn not in _credentials_revoked_hooks:
        _credentials_revoked_hooks.append(fn)
    return fn


def credentials_revoked(*, kind: CredentialKind, secret: str) -> None:
    """Tell every registered hook that these credentials no longer hold."""
    for fn in list(_credentials_revoked_hooks):
        fn(kind=kind, secret=secret)


class EmailVerifiedHook(Protocol):
    def __call__(self, *, user_id: int) -> object: ...  # a result is ignored


_email_verified_hooks: list[EmailVerifiedHook] = []


def email_verified_register(fn: EmailVerifiedHook) -> EmailVerifiedHook:
    """Call `fn(user_id=...)` in the transaction that marks an account's email verified
    (enrollment joins the guest purchases made with that email to the account)."""
    if fn not in _email_verified_hooks:
        _email_verified_hooks.append(fn)
    return fn


def email_verified(*, user_id: int) -> None:
    for fn in list(_email_verified_hooks):
        fn(user_id=user_id)
