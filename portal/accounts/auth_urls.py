from django.urls import path

from portal.accounts import auth_views

urlpatterns = [
    path("auth/password-reset", auth_views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/verify-email", auth_views.VerifyEmailView.as_view(), name="verify-email"),
    path(
        "auth/verify-email/resend",
        auth_views.VerifyEmailResendView.as_view(),
        name="verify-email-resend",
    ),
    path("auth/claim", auth_views.ClaimView.as_view(), name="guest-claim"),
    path("auth/claim/check", auth_views.ClaimCheckView.as_view(), name="guest-claim-check"),
]
