"""URLs of the whole site. Apps add theirs with ``include``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.views import auth, errors, home, two_factor

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", home.health_page, name="health"),
    path("healthz", home.healthz, name="healthz"),
    # Sign-in, second factor and passwords.
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", two_factor.two_factor_setup, name="two_factor_setup"),
    path(
        "account/two-factor/backup-codes/",
        two_factor.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(template_name="portal/password_form.html"),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="portal/password_change_done.html"),
        name="password_change_done",
    ),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="portal/password_form.html"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("", include("grants.urls")),
    path("reports/", include("grants.report_urls")),
    path("manage/", include("portal.manage.urls")),
    path("manage/", include("grants.manage_urls")),
    # The Django admin stays for superusers; staff never need it.
    path("django-admin/", admin.site.urls),
]

handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
