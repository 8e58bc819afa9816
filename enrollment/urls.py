from django.urls import path

from enrollment import views, waitlist_views

urlpatterns = [
    path("enrollments", views.EnrollmentListCreateView.as_view(), name="enrollment-list"),
    path(
        "enrollments/<int:enrollment_id>",
        views.EnrollmentDetailView.as_view(),
        name="enrollment-detail",
    ),
    path(
        "enrollments/<int:enrollment_id>/cancel",
        views.EnrollmentCancelView.as_view(),
        name="enrollment-cancel",
    ),
    path(
        "enrollments/<int:enrollment_id>/pay",
        views.EnrollmentPayView.as_view(),
        name="enrollment-pay",
    ),
    path(
        "enrollments/<int:enrollment_id>/confirm",
        views.EnrollmentConfirmView.as_view(),
        name="enrollment-confirm",
    ),
    path(
        "enrollments/<int:enrollment_id>/progress",
        views.EnrollmentProgressView.as_view(),
        name="enrollment-progress",
    ),
    path(
        "enrollments/<int:enrollment_id>/receipt",
        views.EnrollmentReceiptView.as_view(),
        name="enrollment-receipt",
    ),
    path(
        "enrollments/<int:enrollment_id>/certificate",
        views.EnrollmentCertificateView.as_view(),
        name="enrollment-certificate",
    ),
    path(
        "certificates/<str:code>",
        views.CertificateVerifyView.as_view(),
        name="certificate-verify",
    ),
    path(
        "courses/<slug:slug>/waitlist",
        waitlist_views.CourseWaitlistView.as_view(),
        name="course-waitlist",
    ),
    path("me/waitlist", waitlist_views.MyWaitlistView.as_view(), name="me-waitlist"),
    path("payments/stripe/webhook", views.StripeWebhookView.as_view(), name="stripe-webhook"),
]
