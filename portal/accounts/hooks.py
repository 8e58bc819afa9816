"""What other apps do when credentials stop being valid: hooks registered at start-up.

Accounts sit below the real-time layer and never import it; `realtime` registers here
(RealtimeConfig.ready) the function that closes the websockets opened with a revoked token
or an ended session."""

from typing import Literal, Protocol

CredentialKind = Literal["token", "session"]


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
