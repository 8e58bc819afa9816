"""Domain failures of the enrollment pipeline, each carrying its contract status and code."""


class EnrollmentError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class InvalidEnrollment(EnrollmentError):
    """Bad input found beyond the serializer (an unknown course, a bad payment method)."""


class CourseFull(EnrollmentError):
    status_code = 409
    code = "course_full"


class AlreadyEnrolled(EnrollmentError):
    status_code = 409
    code = "already_enrolled"


class EnrollmentNotActive(EnrollmentError):
    status_code = 409
    code = "not_active"


class PaymentDeclined(EnrollmentError):
    status_code = 402
    code = "payment_declined"

    def __init__(self, message: str, enrollment_id: int, decline_code: str = "") -> None:
        super().__init__(message)
        self.enrollment_id = enrollment_id
        self.decline_code = decline_code


class PaymentUnavailable(EnrollmentError):
    """The gateway could not be reached for a step that cannot be left pending (refunds)."""

    status_code = 503
    code = "unavailable"
