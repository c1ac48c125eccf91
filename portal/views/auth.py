"""Sign-in, sign-out and password views: Django's own, with our templates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect

from portal.tasks import password_reset_email_task


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = "Sign in"
        context["two_factor_off"] = not settings.PORTAL_REQUIRE_2FA
        return context


class PasswordResetView(auth_views.PasswordResetView):
    """Queues the email and answers at once, the same for every address.

    Django's own view sends inside the request, and only for known addresses: with a
    real mail server the reply time tells who has an account. The task carries only the
    user's id; its link comes from ``PORTAL_BASE_URL``, not the request's Host header.
    """

    template_name = "portal/password_form.html"
    title = "Reset your password"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        user_ids: list[int | None] = [
            user.pk for user in form.get_users(form.cleaned_data["email"])
        ]
        for user_id in user_ids or [None]:
            password_reset_email_task.delay(user_id)
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        return context
