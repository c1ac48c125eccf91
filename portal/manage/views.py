"""Staff users and the audit log, for admins."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal import roles
from portal.audit_text import audit_lines
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, form_error_status, results_or_page
from portal.lib.views import require
from portal.manage import manage_sections, manage_tabs
from portal.manage.audit import PER_PAGE, action_names, audit_csv_lines, audit_filters
from portal.manage.confirm import confirm_step
from portal.services.users import (
    user_deactivate,
    user_invite,
    user_reactivate,
    user_roles_set,
    user_second_factor_reset,
)

User = get_user_model()
ROLE_CHOICES = [(name, f"{name}: {roles.ROLE_DESCRIPTIONS[name]}") for name in roles.ALL_ROLES]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    username = forms.CharField(label="Username", max_length=150)
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )


def _apply_errors(form: forms.Form, exc: PortalError) -> None:
    """The service's errors on their fields. The form names the field before each error,
    so a leading "Label: " the service wrote is dropped (else "Roles: Roles: …")."""
    for name, problems in exc.errors.items():
        field = form.fields.get(name)
        for problem in problems:
            if field is not None and field.label and problem.startswith(f"{field.label}: "):
                problem = problem[len(field.label) + 2 :]
            form.add_error(name if field is not None else None, problem)
    if not exc.errors:
        form.add_error(None, exc.message)


def _user_or_404(username: str) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise Http404("No such user.")
    return user


@require_safe
@require("portal.manage.users")
def index(request: HtmxHttpRequest) -> HttpResponse:
    """``/manage/``: the administration sections, each with what it is for."""
    return render(
        request,
        "portal/manage/index.html",
        {"title": "Administration", "sections": manage_sections()},
    )


@require_safe
@require("portal.manage.users")
def users(request: HtmxHttpRequest) -> HttpResponse:
    people = User.objects.prefetch_related("groups").order_by("-is_active", "username")
    return render(
        request,
        "portal/manage/users.html",
        {"title": "Users", "people": people, "tabs": manage_tabs("manage:users")},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require("portal.manage.users")
def invite(request: HtmxHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_invite(
                email=form.cleaned_data["email"],
                username=form.cleaned_data["username"],
                first_name=form.cleaned_data["first_name"],
                role_names=form.cleaned_data["roles"],
                actor=request.user,
            )
        except PortalError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, f"Invited {user.username}: an email with a link went to {user.email}."
            )
            return redirect("manage:user", username=user.username)
    status = form_error_status(bool(form.errors))
    return render(
        request,
        "portal/manage/invite.html",
        {"title": "Invite a user", "form": form},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require("portal.manage.users")
def user_page(request: HtmxHttpRequest, username: str) -> HttpResponse:
    person = _user_or_404(username)
    held = sorted(person.groups.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True))
    form = RolesForm(request.POST or None, initial={"roles": held})
    if request.method == "POST" and form.is_valid():
        try:
            user_roles_set(user=person, role_names=form.cleaned_data["roles"], actor=request.user)
        except PortalError as exc:
            # Keep the other choices as ticked, and a role that may not go (one's own
            # Admin) ticked again: the page shows what would be saved.
            kept = set(form.cleaned_data["roles"])
            if person.pk == request.user.pk and roles.ADMIN in held:
                kept.add(roles.ADMIN)
            data = request.POST.copy()
            data.setlist("roles", [name for name in roles.ALL_ROLES if name in kept])
            form = RolesForm(data)
            form.is_valid()
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Roles of {person.username} saved.")
            return redirect("manage:user", username=person.username)
    from django_otp import devices_for_user

    status = form_error_status(bool(form.errors))
    return render(
        request,
        "portal/manage/user.html",
        {
            "title": f"User {person.username}",
            "person": person,
            "form": form,
            "devices": len(list(devices_for_user(person, confirmed=None))),
        },
        status=status,
    )


def _user_action_confirm(request: HtmxHttpRequest, person: Any, action: str) -> HttpResponse | None:
    """The confirmation page for deactivating or resetting the second factor, or None."""
    name = person.get_full_name() or person.username
    back = reverse("manage:user", kwargs={"username": person.username})
    if action == "deactivate" and person.pk == request.user.pk:
        return None  # refused at once below: nothing to confirm
    if action == "deactivate":
        return confirm_step(
            request,
            question=f"Deactivate {name}?",
            consequences=[
                f"{person.username} is signed out everywhere at once and cannot sign in again.",
                "Their decisions and the audit log stay. You can reactivate the account later.",
            ],
            button=f"Deactivate {person.username}",
            cancel=back,
            back_label=person.username,
            fields={"action": action},
        )
    if action == "reset_second_factor":
        return confirm_step(
            request,
            question=f"Reset the second factor of {name}?",
            consequences=[
                "Their authenticator app and backup codes stop working at once.",
                f"At their next sign-in {person.username} sets up a new authenticator "
                "before they can do anything else.",
            ],
            button="Reset second factor",
            cancel=back,
            back_label=person.username,
            fields={"action": action},
        )
    return None


@require_POST
@require("portal.manage.users")
def user_action(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """Deactivate, reactivate or reset the second factor (each a button on the user's page).

    Deactivating and resetting ask to confirm first (a page saying what follows)."""
    person = _user_or_404(username)
    action = request.POST.get("action", "")
    if request.POST.get("confirm") != "yes":
        page = _user_action_confirm(request, person, action)
        if page is not None:
            return page
    try:
        if action == "deactivate":
            ended = user_deactivate(user=person, actor=request.user)
            messages.success(
                request, f"{person.username} is deactivated; {ended} open session(s) ended."
            )
        elif action == "reactivate":
            user_reactivate(user=person, actor=request.user)
            messages.success(request, f"{person.username} is active again.")
        elif action == "reset_second_factor":
            removed = user_second_factor_reset(user=person, actor=request.user)
            messages.success(
                request,
                f"Second factor of {person.username} reset ({removed} device(s) removed).",
            )
        else:
            messages.error(request, "Unknown action.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect("manage:user", username=person.username)


@require_safe
@require("portal.manage.audit")
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    filters = audit_filters(request.GET)
    rows = filters.qs
    errors = filters.problems
    if request.GET.get("format") == "csv" and not errors:
        response = StreamingHttpResponse(
            audit_csv_lines(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return cast(HttpResponse, response)  # a streamed reply; ``require`` types HttpResponse
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        results_or_page(request, "portal/manage/audit.html"),
        {
            "title": "Audit log",
            "tabs": manage_tabs("manage:audit"),
            "filters": filters.values,
            "errors": errors,
            "page": page,
            "lines": audit_lines(page.object_list),
            "actions": action_names(),
            "query": query.urlencode(),
        },
        status=form_error_status(bool(errors)),
    )
