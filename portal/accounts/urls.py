from django.urls import path

from portal.accounts import me_views, views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/login", views.SessionLoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me/sessions", me_views.SignInsView.as_view(), name="me-sessions"),
    path("me/sessions/<str:signin_id>", me_views.SignInView.as_view(), name="me-session"),
    path("me/password", me_views.PasswordView.as_view(), name="me-password"),
]
