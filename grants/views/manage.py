"""Grant rules and the website's API tokens, for admins (under ``/manage/``)."""

from __future__ import annotations

import calendar
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from grants.fiscal_year import long_date
from grants.rules import current_fiscal_year, rules_for_fiscal_year, rules_in_force
from grants.selectors.api_tokens import api_token_by_prefix, api_tokens
from grants.services.api_tokens import api_token_create, api_token_revoke
from grants.services.rules import (
    EDITABLE,
    PROGRAMME,
    fiscal_year_choices,
    grant_rules_change,
    pending_start_change,
    rules_change_preview,
    rules_history,
)
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, form_error_status
from portal.lib.views import require
from portal.manage import manage_tabs
from portal.manage.confirm import confirm_step

MONTHS = [(number, calendar.month_name[number]) for number in range(1, 13)]
YEAR_START = ("fiscal_year_start_month", "fiscal_year_start_day")


class RulesForm(forms.Form):
    """The programme rules (for a fiscal year) and the settings (at once), and why."""

    fiscal_year_from = forms.TypedChoiceField(
        label="Programme changes start in", coerce=int, choices=()
    )
    annual_cap = forms.DecimalField(
        label=EDITABLE["annual_cap"], max_digits=12, decimal_places=2, min_value=0
    )
    match_ratio = forms.DecimalField(
        label=EDITABLE["match_ratio"],
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0.01"),
        help_text="The match per dollar raised: 1 is one to one.",
    )
    auto_approve_limit = forms.DecimalField(
        label=EDITABLE["auto_approve_limit"],
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Empty: no limit beyond the cap.",
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label=EDITABLE["fiscal_year_start_month"], coerce=int, choices=MONTHS
    )
    fiscal_year_start_day = forms.IntegerField(
        label=EDITABLE["fiscal_year_start_day"], min_value=1, max_value=31
    )
    payment_link_days = forms.IntegerField(
        label=EDITABLE["payment_link_days"], min_value=1, max_value=365
    )
    vendor_email = forms.EmailField(label=EDITABLE["vendor_email"])
    finance_email = forms.EmailField(label=EDITABLE["finance_email"])
    show_remaining_on_apply = forms.BooleanField(
        label=EDITABLE["show_remaining_on_apply"],
        required=False,
        help_text="As the lodge number is typed (“$… left in FY …”); limited per address.",
    )
    digest_hour = forms.IntegerField(
        label=EDITABLE["digest_hour"], min_value=0, max_value=23, help_text="Local time, 0 to 23."
    )
    reason = forms.CharField(
        label="Why",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the change in the history and the audit log.",
    )

    PROGRAMME_FIELDS = ("fiscal_year_from", *PROGRAMME)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this, following = fiscal_year_choices()
        self.fields["fiscal_year_from"].choices = [  # type: ignore[attr-defined]
            (this.key, f"{this.label}, this fiscal year (from now)"),
            (following.key, f"{following.label}, the next (from {long_date(following.start)})"),
        ]

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EDITABLE}

    def programme(self) -> list[Any]:
        return [self[name] for name in self.PROGRAMME_FIELDS]

    def year_start(self) -> list[Any]:
        return [self[name] for name in YEAR_START]

    def settings(self) -> list[Any]:
        return [self[name] for name in EDITABLE if name not in (*PROGRAMME, *YEAR_START)]


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="Who uses it, e.g. “Website”.")


@require_http_methods(["GET", "HEAD", "POST"])
@require("grants.manage.rules")
def rules(request: HtmxHttpRequest) -> HttpResponse:
    """Change the rules in two steps: **Preview** shows what the change would do to which
    lodges; only **Confirm** (the same values, posted again) saves it."""
    current = rules_in_force()
    initial: dict[str, Any] = {name: getattr(current, name) for name in EDITABLE}
    initial["fiscal_year_from"] = current_fiscal_year().key
    form = RulesForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        confirmed = request.POST.get("confirm") == "yes"
        try:
            if confirmed:
                changed = grant_rules_change(
                    changes=form.changes(),
                    actor=request.user,
                    fiscal_year_from=form.cleaned_data["fiscal_year_from"],
                    reason=form.cleaned_data["reason"],
                )
            else:
                preview = rules_change_preview(
                    changes=form.changes(), fiscal_year_from=form.cleaned_data["fiscal_year_from"]
                )
        except PortalError as exc:
            for name, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
            if not exc.errors:
                form.add_error(None, exc.message)
            preview = None
        else:
            if preview is not None and not preview.changes:
                messages.info(request, "Nothing changed.")
                return redirect("grants_manage:rules")
            if confirmed:
                if changed is None:
                    messages.info(request, "Nothing changed.")
                else:
                    messages.success(
                        request,
                        f"Grant rules version {changed.version} saved. Earlier fiscal years "
                        "and decisions already made keep the rules they used.",
                    )
                return redirect("grants_manage:rules")
    this, following = fiscal_year_choices()
    context: dict[str, Any] = {
        "title": "Grant rules",
        "tabs": manage_tabs("grants_manage:rules"),
        "form": form,
        "preview": preview,
        "current": current,
        "this_year": this,
        "next_year": following,
        "next_rules": rules_for_fiscal_year(following.key),
        "start_change": pending_start_change(),
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
    """Revoke a token, after a page saying what stops working."""
    token = api_token_by_prefix(prefix)
    if token is None:
        raise Http404("No such token.")
    if request.POST.get("confirm") != "yes":
        return confirm_step(
            request,
            question=f"Revoke the token {token.name} (gp_{token.prefix}_…)?",
            consequences=[
                "Whatever sends applications with this token stops at once: if it is the "
                "foundation's website, the website will stop sending applications until it "
                "is given a new token.",
                "A revoked token cannot be turned back on; create a new one for the website "
                "first if it still needs one.",
            ],
            button=f"Revoke {token.name}",
            cancel=reverse("grants_manage:tokens"),
            back_label="API tokens",
        )
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token {token.name} ({token.prefix}…) is revoked.")
    return redirect("grants_manage:tokens")
