"""What an erased account leaves in the records kept for accounting (enrollments,
payments, receipts, certificates): a placeholder name and an address that can never be
mailed, in the `.invalid` top-level domain reserved for that (RFC 2606). Mail jobs skip
such addresses (portal.mail). The erasure itself is portal.privacy.erasure."""

ERASED_NAME = "Deleted user"


def erased_email(record_id: int) -> str:
    """The placeholder address of an erased record (a student's, by its id)."""
    return f"deleted-{record_id}@invalid"
