"""Administration of staff users and the audit log, mounted at ``/manage/``."""

from django.urls import path

from portal.manage import views

app_name = "manage"

urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.users, name="users"),
    path("users/invite/", views.invite, name="invite"),
    path("users/<str:username>/", views.user_page, name="user"),
    path("users/<str:username>/action/", views.user_action, name="user_action"),
    path("audit/", views.audit_log, name="audit"),
]
