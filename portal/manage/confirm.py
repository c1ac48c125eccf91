"""The step before an action that is hard to undo: a page saying what follows, and a button."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def confirm_step(
    request: HttpRequest,
    *,
    question: str,
    consequences: list[str],
    button: str,
    cancel: str,
    fields: dict[str, str] | None = None,
    danger: bool = True,
    back_label: str = "",
    in_manage: bool = True,
) -> HttpResponse:
    """The page asking to confirm an action: what it does, a button posting it again with
    ``confirm=yes`` to the same address, and a way back. Works without JavaScript.
    ``in_manage``: the breadcrumbs pass through Manage (not for one's own account)."""
    return render(
        request,
        "portal/manage/confirm.html",
        {
            "title": question,
            "confirm": {
                "question": question,
                "consequences": consequences,
                "button": button,
                "cancel": cancel,
                "action": request.path,
                "fields": fields or {},
                "danger": danger,
                "back_label": back_label,
                "in_manage": in_manage,
            },
        },
    )
