"""Second factor: TOTP enrolment with a server-rendered QR code, verification, backup codes."""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import audit_record
from portal.lib.http import client_ip, form_error_status
from portal.manage.confirm import confirm_step
from portal.tasks import two_factor_device_added_email_task

BACKUP_CODE_COUNT = 10


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit_record(actor=user, action="auth.2fa_verified", obj=user, ip=client_ip(request))
            return redirect(_safe_next(request))
        form.add_error(
            "token", "That code is not valid. Check your app's clock, or use a backup code."
        )
        audit_record(actor=user, action="auth.2fa_failed", obj=user, ip=client_ip(request))
    return render(
        request,
        "portal/two_factor_verify.html",
        {"form": form, "title": "Two-factor verification", "next": _safe_next(request)},
        status=form_error_status(bool(form.errors)),
    )


def _unverified_with_device(request: HttpRequest) -> bool:
    """True when the user has a second factor but this session has not passed it.

    Such a session knows only the password: it must not see or change anything that
    would let it pass the second factor later (backup codes, a new authenticator).
    """
    user: Any = request.user
    return not user.is_verified() and user_has_device(user, confirmed=True)


def _to_verification(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.path})}")


def _backup_codes(user: object) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app; on success show ten backup codes, once.

    The first one is enrolled right after the password (the role may require it); any
    further one only from a session that passed the second factor.
    """
    user = request.user
    if _unverified_with_device(request):
        return _to_verification(request)
    enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if enrolled and request.method != "POST" and request.GET.get("add") != "1":
        return render(
            request,
            "portal/two_factor_setup.html",
            {"title": "Two-factor authentication", "enrolled": True},
        )
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _backup_codes(user)
                audit_record(
                    actor=user,
                    action="auth.2fa_enrolled",
                    obj=user,
                    after={"device": device.persistent_id, "devices": _authenticator_count(user)},
                    ip=client_ip(request),
                )
                user_id = device.user_id
                transaction.on_commit(lambda: two_factor_device_added_email_task.delay(user_id))
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on.")
            return render(
                request,
                "portal/two_factor_backup_codes.html",
                {"title": "Your backup codes", "codes": codes},
            )
        form.add_error(
            "token", "That code is not valid. Scan the code again and enter the newest code."
        )
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return render(
        request,
        "portal/two_factor_setup.html",
        {
            "title": "Two-factor authentication",
            "form": form,
            "qr_svg": qr_svg,
            "secret": _base32_secret(device),
            "enrolled": False,
            "adding": enrolled,
        },
        status=form_error_status(bool(form.errors)),
    )


def _authenticator_count(user: Any) -> int:
    return TOTPDevice.objects.filter(user=user, confirmed=True).count()


def _base32_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["POST"])
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """Replace the backup codes with new ones (the old ones stop working)."""
    if _unverified_with_device(request):
        return _to_verification(request)
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("two_factor_setup")
    if request.POST.get("confirm") != "yes":
        return confirm_step(
            request,
            question="Make new backup codes?",
            consequences=[
                "Your current backup codes stop working at once, including any you have "
                "printed or saved.",
                "The new ones are shown once, on the next page: keep them somewhere safe.",
            ],
            button="Make new backup codes",
            cancel=reverse("two_factor_setup"),
            back_label="Two-factor authentication",
            in_manage=False,
        )
    with transaction.atomic():
        codes = _backup_codes(request.user)
        audit_record(
            actor=request.user,
            action="auth.backup_codes_renewed",
            obj=request.user,
            ip=client_ip(request),
        )
    return render(
        request,
        "portal/two_factor_backup_codes.html",
        {"title": "Your backup codes", "codes": codes},
    )
