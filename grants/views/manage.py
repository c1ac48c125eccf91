"""Grant rules and the website's API tokens, for admins (under ``/manage/``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from grants.rules import rules_in_force
from grants.selectors.api_tokens import api_token_by_prefix, api_tokens
from grants.services.rules import EDITABLE, grant_rules_change, rules_history
from grants.tokens import api_token_create, api_token_revoke
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, form_error_status
from portal.lib.views import require
from portal.manage import manage_tabs


class RulesForm(forms.Form):
    annual_cap = forms.DecimalField(
        label=EDITABLE["annual_cap"], max_digits=12, decimal_places=2, min_value=0
    )
    fiscal_year_start_month = forms.IntegerField(
        label=EDITABLE["fiscal_year_start_month"], min_value=1, max_value=12
    )
    fiscal_year_start_day = forms.IntegerField(
        label=EDITABLE["fiscal_year_start_day"], min_value=1, max_value=31
    )
    match_ratio = forms.DecimalField(
        label=EDITABLE["match_ratio"], max_digits=6, decimal_places=3, min_value=0.01
    )
    auto_approve_limit = forms.DecimalField(
        label=EDITABLE["auto_approve_limit"],
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Empty: no limit beyond the cap.",
    )
    payment_link_days = forms.IntegerField(
        label=EDITABLE["payment_link_days"], min_value=1, max_value=365
    )
    vendor_email = forms.EmailField(label=EDITABLE["vendor_email"])
    finance_email = forms.EmailField(label=EDITABLE["finance_email"])
    digest_hour = forms.IntegerField(
        label=EDITABLE["digest_hour"], min_value=0, max_value=23, help_text="Local time, 0 to 23."
    )


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="Who uses it, e.g. “Website”.")


@require_http_methods(["GET", "HEAD", "POST"])
@require("grants.manage.rules")
def rules(request: HtmxHttpRequest) -> HttpResponse:
    current = rules_in_force()
    form = RulesForm(
        request.POST or None, initial={name: getattr(current, name) for name in EDITABLE}
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = grant_rules_change(changes=form.cleaned_data, actor=request.user)
        except PortalError as exc:
            for name, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            if changed is None:
                messages.info(request, "Nothing changed.")
            else:
                messages.success(
                    request,
                    f"Grant rules version {changed.version} is in force from now; "
                    "decisions already made keep the version they used.",
                )
            return redirect("grants_manage:rules")
    context: dict[str, Any] = {
        "title": "Grant rules",
        "tabs": manage_tabs("grants_manage:rules"),
        "form": form,
        "current": current,
        "history": rules_history(),
    }
    return render(
        request,
        "grants/manage/rules.html",
        context,
        status=form_error_status(bool(form.errors)),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require("grants.manage.tokens")
def tokens(request: HtmxHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created = None
    plain = ""
    if request.method == "POST" and form.is_valid():
        created, plain = api_token_create(name=form.cleaned_data["name"], actor=request.user)
        form = TokenForm()
    context = {
        "title": "API tokens",
        "tabs": manage_tabs("grants_manage:tokens"),
        "form": form,
        "tokens": api_tokens(),
        "created": created,
        "plain": plain,  # shown once, in this reply only; only its hash is stored
    }
    # The page showing the new token is signed-in: portal.middleware.NoStoreMiddleware
    # marks it no-store, private like every staff page.
    return render(
        request,
        "grants/manage/tokens.html",
        context,
        status=form_error_status(bool(form.errors)),
    )


@require_POST
@require("grants.manage.tokens")
def token_revoke(request: HtmxHttpRequest, prefix: str) -> HttpResponse:
    token = api_token_by_prefix(prefix)
    if token is None:
        raise Http404("No such token.")
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token {token.name} ({token.prefix}…) is revoked.")
    return redirect("grants_manage:tokens")
