"""The buttons on the grants' health panels (sync now, drift check, retry the outbox), for admins.

What the panels show is in ``grants.selectors.health``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from grants.services.operations import drift_check_request, ninox_sync_request, outbox_retry
from portal.lib.http import HtmxHttpRequest
from portal.lib.views import require


@require_POST
@require("portal.health.act")
def ninox_sync(request: HtmxHttpRequest) -> HttpResponse:
    ninox_sync_request(actor=request.user)
    messages.success(request, "A Ninox sync is queued; the worker runs it in a moment.")
    return redirect("health")


@require_POST
@require("portal.health.act")
def ninox_drift_check(request: HtmxHttpRequest) -> HttpResponse:
    drift_check_request(actor=request.user)
    messages.success(request, "A drift check is queued; the worker runs it in a moment.")
    return redirect("health")


@require_POST
@require("portal.health.act")
def outbox_retry_one(request: HtmxHttpRequest, outbox_id: int) -> HttpResponse:
    changed = outbox_retry(outbox_ids=[outbox_id], actor=request.user)
    if changed:
        messages.success(
            request, f"Email or write-back number {outbox_id} will be tried again now."
        )
    else:
        messages.info(request, f"Email or write-back number {outbox_id} has not failed (any more).")
    return redirect("health")


@require_POST
@require("portal.health.act")
def outbox_retry_failed(request: HtmxHttpRequest) -> HttpResponse:
    changed = outbox_retry(outbox_ids=None, actor=request.user)
    messages.success(
        request, f"{changed} failed email(s) and write-back(s) will be tried again now."
    )
    return redirect("health")
