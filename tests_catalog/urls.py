from django.urls import path
from rest_framework.routers import SimpleRouter

from tests_catalog.api import auth, side, views

router = SimpleRouter()
router.register("tests", views.TestCaseViewSet, basename="test-case")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("environments", views.EnvironmentViewSet, basename="environment")
router.register("suites", views.SuiteViewSet, basename="suite")

urlpatterns = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", auth.TokenVerifyView.as_view(), name="token-verify"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("imports/side/", side.SideImportView.as_view(), name="side-import"),
    path("projects/<uuid:project_id>/side/", side.SideExportView.as_view(), name="side-export"),
    *router.urls,
]
