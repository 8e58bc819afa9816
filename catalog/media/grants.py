"""The token in a local media link: which file, served as what, until when.

Signed with the project's SECRET_KEY (django.core.signing, salted for this use only), so
changing any part of it (another file's name, a later expiry, another content type) breaks
the signature. The expiry is in the token itself rather than checked against one
`max_age`: each link keeps the lifetime it was issued with.
"""

from dataclasses import dataclass

from django.core import signing

SALT = "catalog.media.grant"


class GrantInvalid(Exception):
    """The token was not signed by this portal, or was altered."""


class GrantExpired(Exception):
    """The token is genuine but its time is up."""


@dataclass(frozen=True)
class MediaGrant:
    name: str  # the storage name
    content_type: str
    disposition: str  # a Content-Disposition value, "" for inline
    expires_at: int  # Unix time


def grant_token(grant: MediaGrant) -> str:
    payload = {
        "n": grant.name,
        "t": grant.content_type,
        "d": grant.disposition,
        "e": grant.expires_at,
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def grant_read(token: str, *, now: float) -> MediaGrant:
    """The grant a token carries; GrantInvalid or GrantExpired otherwise."""
    try:
        payload = signing.loads(token, salt=SALT)
        grant = MediaGrant(
            name=str(payload["n"]),
            content_type=str(payload["t"]),
            disposition=str(payload["d"]),
            expires_at=int(payload["e"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise GrantInvalid from exc
    if grant.expires_at <= now:
        raise GrantExpired
    return grant
