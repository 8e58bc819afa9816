from django.urls import path

from frontend import account_links

urlpatterns = [
    path("forgot-password", account_links.forgot_password, name="forgot-password"),
    path("reset-password", account_links.reset_password, name="reset-password"),
    path("verify-email", account_links.verify_email, name="verify-email-page"),
    path("claim", account_links.claim, name="claim-page"),
]
