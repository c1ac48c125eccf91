from django.urls import path

from grants.views import api, apply

app_name = "grants"

urlpatterns = [
    path("apply/", apply.apply, name="apply"),
    path("apply/lodge/", apply.lodge_lookup, name="lodge_lookup"),
    path("status/<str:token>/", apply.status, name="status"),
    path("api/v1/applications", api.applications, name="api_applications"),
    path("api/v1/applications/<str:reference>", api.application_detail, name="api_application"),
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
]
