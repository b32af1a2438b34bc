from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from jbtestsuite import health

api_v1 = [
    path("", include("tests_catalog.urls")),
    path("", include("executions.urls")),
    path("", include("notifications.urls")),
    path("", include("artifacts.urls")),
    path("", include("assistant.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # The reports' dashboard is the admin's landing page; the rest of the admin follows.
    path("admin/", include("reports.admin_urls")),
    path("admin/", admin.site.urls),
    path("demo/", include("demo.urls")),
]

# Under /api/ these answer the JSON error envelope; elsewhere Django's usual pages.
handler400 = "jbtestsuite.errors.bad_request"
handler403 = "jbtestsuite.errors.permission_denied"
handler404 = "jbtestsuite.errors.page_not_found"
handler500 = "jbtestsuite.errors.server_error"
