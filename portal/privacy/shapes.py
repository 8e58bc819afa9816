"""GET /api/me/export: everything the portal holds on an account, defined once (see
portal.shapes). No secret is in it: tokens by their prefix, never a hash."""

from typing import Annotated, Any, TypedDict

from catalog.shapes import MONEY_HELP, CourseRef
from portal.shapes import Field

WHEN = Field(format="date-time")


class ExportAccount(TypedDict):
    id: int
    email: Annotated[str, Field(format="email")]
    name: str
    roles: list[str]
    email_verified: bool
    email_verified_at: Annotated[str | None, WHEN]
    pending_email: Annotated[str | None, Field(help_text="A new email not confirmed yet.")]
    date_joined: Annotated[str, WHEN]
    last_login: Annotated[str | None, WHEN]


class ExportSession(TypedDict):
    id: Annotated[str, Field(help_text="As GET /api/me/sessions names it.")]
    created_at: Annotated[str, WHEN]
    last_used_at: Annotated[str | None, WHEN]
    user_agent: str


class ExportToken(TypedDict):
    id: str
    prefix: Annotated[str, Field(help_text="The token's first characters; never the token.")]
    created_at: Annotated[str, WHEN]
    expires_at: Annotated[str, WHEN]
    revoked_at: Annotated[str | None, WHEN]
    last_used_at: Annotated[str | None, WHEN]
    user_agent: str


class ExportStudent(TypedDict):
    id: int
    email: str
    name: str
    created_at: Annotated[str, WHEN]


class ExportPaymentCall(TypedDict):
    kind: str
    outcome: str
    created_at: Annotated[str, WHEN]


class ExportPayment(TypedDict):
    amount: Annotated[str, Field(help_text=MONEY_HELP)]
    currency: str
    status: str
    list_price: Annotated[str | None, Field(help_text="Before the coupon. " + MONEY_HELP)]
    coupon: str | None
    attempts: int
    provider: str
    failure_reason: str | None
    created_at: Annotated[str, WHEN]
    calls: Annotated[list[ExportPaymentCall], Field(help_text="The payment ledger.")]


class ExportReceipt(TypedDict):
    number: str
    issued_at: Annotated[str, WHEN]
    amount: Annotated[str, Field(help_text=MONEY_HELP)]
    currency: str
    coupon: str | None
    course_title: str
    student_name: str
    student_email: str
    emailed_at: Annotated[str | None, WHEN]


class ExportCertificate(TypedDict):
    code: str
    issued_at: Annotated[str, WHEN]
    student_name: str
    course_title: str
    instructor_names: list[str]


class ExportLessonRef(TypedDict):
    id: int
    title: str


class ExportProgress(TypedDict):
    lesson: ExportLessonRef
    completed: bool
    completed_at: Annotated[str | None, WHEN]
    position_seconds: int
    updated_at: Annotated[str, WHEN]


class ExportEnrollment(TypedDict):
    id: int
    number: str
    student: Annotated[int, Field(help_text="The student record (`students`) it belongs to.")]
    course: CourseRef
    status: str
    created_at: Annotated[str, WHEN]
    activated_at: Annotated[str | None, WHEN]
    completed_at: Annotated[str | None, WHEN]
    ended_at: Annotated[str | None, WHEN]
    end_reason: str | None
    payment: ExportPayment | None
    receipt: ExportReceipt | None
    certificate: ExportCertificate | None
    progress: list[ExportProgress]


class ExportOptOut(TypedDict):
    course: CourseRef
    created_at: Annotated[str, WHEN]


class ExportEvent(TypedDict):
    seq: int
    type: str
    created_at: Annotated[str, WHEN]
    payload: Annotated[
        dict[str, Any] | None,
        Field(help_text="As delivered; null for an event about another person's enrollment."),
    ]


class ExportCourseTaught(TypedDict):
    course: CourseRef
    position: Annotated[int, Field(help_text="0: the course's named instructor.")]
    published_at: Annotated[str | None, WHEN]


class ExportAnnouncement(TypedDict):
    id: int
    course: CourseRef
    subject: str
    body: str
    status: str
    recipients: int
    sent: int
    created_at: Annotated[str, WHEN]
    finished_at: Annotated[str | None, WHEN]


class ExportCoupon(TypedDict):
    code: str
    course: CourseRef | None
    percent_off: int | None
    amount_off: Annotated[str | None, Field(help_text=MONEY_HELP)]
    max_redemptions: int | None
    redeemed: int
    expires_at: Annotated[str | None, WHEN]
    created_at: Annotated[str, WHEN]


class ExportIdempotencyKey(TypedDict):
    key: str
    state: str
    created_at: Annotated[str, WHEN]
    expires_at: Annotated[str, WHEN]


class ExportWaitlistEntry(TypedDict):
    course: CourseRef
    status: Annotated[str, Field(help_text="waiting, offered, enrolled, left or expired.")]
    joined_at: Annotated[str, WHEN]
    offered_at: Annotated[str | None, WHEN]
    offer_expires_at: Annotated[str | None, WHEN]
    ended_at: Annotated[str | None, WHEN]


class AccountExport(TypedDict):
    exported_at: Annotated[str, WHEN]
    account: ExportAccount
    sessions: list[ExportSession]
    tokens: list[ExportToken]
    students: Annotated[list[ExportStudent], Field(help_text="Who enrolls: this account.")]
    enrollments: list[ExportEnrollment]
    announcement_opt_outs: list[ExportOptOut]
    events: Annotated[list[ExportEvent], Field(help_text="The live-update log still kept.")]
    courses_taught: list[ExportCourseTaught]
    announcements: Annotated[list[ExportAnnouncement], Field(help_text="Sent by this account.")]
    coupons_created: list[ExportCoupon]
    waitlist: Annotated[list[ExportWaitlistEntry], Field(help_text="Places in waitlists.")]
    idempotency_keys: list[ExportIdempotencyKey]
