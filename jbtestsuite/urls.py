from django.contrib import admin
from django.urls import path

from jbtestsuite import health

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
]
