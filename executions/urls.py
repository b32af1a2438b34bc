from rest_framework.routers import SimpleRouter

from executions.api import ExecutionViewSet, SuiteRunViewSet

router = SimpleRouter()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("suite-runs", SuiteRunViewSet, basename="suite-run")

urlpatterns = router.urls
