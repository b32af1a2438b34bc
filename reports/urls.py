from rest_framework.routers import SimpleRouter

from reports.api import ReportsViewSet

router = SimpleRouter()
router.register("reports", ReportsViewSet, basename="reports")

urlpatterns = router.urls
