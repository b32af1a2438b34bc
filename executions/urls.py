from rest_framework.routers import SimpleRouter

from executions.api import ExecutionViewSet, ScheduleViewSet, SuiteRunViewSet

router = SimpleRouter()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("suite-runs", SuiteRunViewSet, basename="suite-run")
router.register("schedules", ScheduleViewSet, basename="schedule")

urlpatterns = router.urls
