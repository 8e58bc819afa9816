"""Refusals of the enrollment pipeline: `ApplicationError`s naming their contract status
and code, turned into answers by the one exception handler (portal.errors)."""

from portal.errors import ApplicationError, Conflict, Unavailable


class InvalidEnrollment(ApplicationError):
    """Bad input found beyond the serializer (an unknown course, a bad payment method)."""


class CourseFull(Conflict):
    code = "course_full"


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"


class EnrollmentNotActive(Conflict):
    code = "not_active"


class RefundNotAllowed(Conflict):
    """A paid enrollment whose course was completed is not refunded (every lesson used)."""

    code = "refund_not_allowed"


class AlreadyCompleted(Conflict):
    """A completed enrollment is not cancelled: its completion and certificate stand."""

    code = "already_completed"


class PaymentDeclined(ApplicationError):
    status_code = 402
    code = "payment_declined"

    def __init__(self, message: str, enrollment_id: int, decline_code: str = "") -> None:
        extra: dict[str, object] = {"enrollment": enrollment_id}
        if decline_code:
            extra["decline_code"] = decline_code
        super().__init__(message, extra=extra)
        self.enrollment_id = enrollment_id
        self.decline_code = decline_code


class PaymentUnavailable(Unavailable):
    """The gateway could not be reached for a step that cannot be left pending (refunds)."""


class NotPending(Conflict):
    """Only a checkout still open (pending) is paid again or confirmed."""

    code = "not_pending"


class HoldExpired(Conflict):
    """The checkout's seat hold ran out: the enrollment was (or is being) cancelled."""

    code = "hold_expired"


class PaymentInProgress(Conflict):
    """A charge of this checkout is still being decided: another card cannot be tried
    until it is (trying one could charge twice)."""

    code = "payment_in_progress"
