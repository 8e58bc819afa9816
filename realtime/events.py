"""Socket concerns of the event plumbing. Publishing itself lives in portal.events."""

from portal.events.publish import group_send_raw


def close_sockets(group: str) -> None:
    """Close every socket in a group (a revoked token's, an ended session's)."""
    group_send_raw(group, {"type": "portal.close"})
