"""The reports' admin pages, mounted under /admin/ ahead of the admin itself (see jbtestsuite/urls.py)."""

from django.contrib import admin
from django.urls import path

from reports import views

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="reports-dashboard"),
    path("reports/case/<str:case_id>/", admin.site.admin_view(views.case_report), name="reports-case"),
    path("reports/suite/<str:suite_id>/", admin.site.admin_view(views.suite_report), name="reports-suite"),
]
