from django.urls import path

from grants.views import api, applications, apply, lodges, pay, queue, refunds, webhook
from portal.lib import converters  # noqa: F401 - registers <dbid:…>

app_name = "grants"

urlpatterns = [
    # Public: the lodges' doors.
    path("apply/", apply.apply, name="apply"),
    path("apply/lodge/", apply.lodge_lookup, name="lodge_lookup"),
    path("status/<str:token>/", apply.status, name="status"),
    path("api/v1/applications", api.applications, name="api_applications"),
    path("api/v1/applications/<str:reference>", api.application_detail, name="api_application"),
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
    path("pay/<str:token>/", pay.pay, name="pay"),
    path("pay/<str:token>/dev/", pay.pay_dev, name="pay_dev"),
    path("webhooks/stripe/", webhook.stripe_webhook, name="stripe_webhook"),
    # Staff.
    path("queue/", queue.queue, name="queue"),
    path("dashboard/counters/", queue.dashboard_counters_view, name="dashboard_counters"),
    path("queue/bulk/", queue.bulk, name="bulk"),
    path("applications/<str:reference>/", applications.application_page, name="application"),
    path("applications/<str:reference>/decide/", queue.decide, name="decide"),
    path("applications/<str:reference>/undo/", queue.decision_undo, name="decision_undo"),
    path(
        "applications/<str:reference>/emails/<dbid:email_id>/resend/",
        applications.email_resend_view,
        name="email_resend",
    ),
    path(
        "applications/<str:reference>/resend-link/",
        applications.payment_link_resend_view,
        name="resend_link",
    ),
    path("applications/<str:reference>/cancel/", refunds.cancel, name="cancel"),
    path("applications/<str:reference>/refund/", refunds.refund, name="refund"),
    path("lodges/", lodges.lodge_list, name="lodges"),
    path("lodges/<int:number>/", lodges.lodge_page, name="lodge"),
]
